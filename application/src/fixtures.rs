//! Test fixtures shared by the use-case tests of this crate.

use crate::StoreError;
use crate::clock::MockClock;
use crate::queue::{QueueClaims, QueueTokenSeal};
use crate::seat_changes::{SeatChange, SeatChangeLog, StoredSeat, tail_is_complete};
use async_trait::async_trait;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::points::Points;
use frontrow_domain::queue::QueueToken;
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ReservationId, ScheduleId, Timestamp, UserId};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A token of user 1 for concert 1, as `TrustingSeal` reads it.
pub const TOKEN: &str = "1.1.0.0123456789abcdef.0123456789abcdef0123456789abcdef";

/// A seal that believes what a token says (`concert.user.issued.…`): for
/// tests of everything but the seal itself.
pub struct TrustingSeal;

impl QueueTokenSeal for TrustingSeal {
    fn issue(
        &self,
        concert: ConcertId,
        user: UserId,
        now: Timestamp,
    ) -> Result<QueueToken, StoreError> {
        let claims = QueueClaims {
            concert,
            user,
            issued_at: now,
        };
        let raw = format!(
            "{}.0123456789abcdef.0123456789abcdef0123456789abcdef",
            claims.spelled()
        );
        QueueToken::parse(&raw).ok_or_else(|| StoreError::new("malformed test token"))
    }

    fn open(&self, token: &QueueToken) -> Option<QueueClaims> {
        QueueClaims::read(token)
    }
}

/// Schedule 5 of concert 1, starting at 0, with `seat_count` seats at
/// `price` points each.
pub fn schedule(seat_count: i64, price: i64) -> Schedule {
    Schedule {
        id: ScheduleId::from_store(5),
        concert: ConcertId::from_store(1),
        starts_at: Timestamp(0),
        seat_count,
        price: Points::new(price).expect("a test price"),
    }
}

/// A clock stopped at `ms`.
pub fn clock_at(ms: i64) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || Timestamp(ms));
    clock
}

pub fn stored(state: SeatState, version: u64) -> StoredSeat {
    StoredSeat { state, version }
}

/// Seat `seat` of schedule `schedule` held (until far in the future) at
/// seat version `seat_version`.
pub fn held(schedule: i64, seat: i64, seat_version: u64) -> SeatChange {
    SeatChange {
        concert: ConcertId::from_store(1),
        schedule: ScheduleId::from_store(schedule),
        seat: SeatNumber::from_store(seat),
        state: SeatState::Held {
            reservation: ReservationId::from_store(seat),
            until: Timestamp(i64::MAX),
        },
        seat_version,
    }
}

/// A seat-change log in memory, for one schedule's worth of tests; `slow`
/// makes version reads take 20 ms, to test coalescing.
#[derive(Default)]
pub struct FakeLog {
    pub version: AtomicU64,
    pub version_reads: AtomicUsize,
    /// Appends fail while set: the log's store is down.
    pub down: std::sync::atomic::AtomicBool,
    changes: Mutex<Vec<(u64, SeatChange)>>,
    slow: bool,
}

impl FakeLog {
    pub fn slow() -> Self {
        Self {
            slow: true,
            ..Self::default()
        }
    }

    /// Drops the changes before `version`, as a trimmed log would.
    pub fn forget_before(&self, version: u64) {
        self.version.fetch_max(version - 1, Ordering::SeqCst);
        self.changes.lock().retain(|(at, _)| *at >= version);
    }
}

#[async_trait]
impl SeatChangeLog for FakeLog {
    async fn version(&self, _: ScheduleId) -> Result<u64, StoreError> {
        self.version_reads.fetch_add(1, Ordering::SeqCst);
        let version = self.version.load(Ordering::SeqCst);
        if self.slow {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(version)
    }

    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::new("the log's store is down"));
        }
        let mut changes = self.changes.lock();
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        changes.push((version, *change));
        Ok(version)
    }

    async fn since(
        &self,
        _: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> {
        let changes = self.changes.lock();
        let newer: Vec<_> = changes
            .iter()
            .filter(|(at, _)| *at > after)
            .copied()
            .collect();
        let version = self.version.load(Ordering::SeqCst);
        Ok(tail_is_complete(after, version, &newer).then_some(newer))
    }

    async fn open_sale(&self, _: ConcertId, _: &[ScheduleId], _: i64) -> Result<(), StoreError> {
        Ok(())
    }
}
