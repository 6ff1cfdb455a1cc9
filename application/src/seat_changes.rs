//! Committed seat changes, as a per-schedule log that every instance follows.
//!
//! Every hold, cancel and payment that changes a seat row is appended here
//! after its transaction commits: the schedule, the seat, the seat's new
//! stored state and the seat's own version (a counter in the seat row, bumped
//! by the same UPDATE). The log gives each change the schedule's next version
//! (previous + 1), so a reader that knows version `v` and sees a later one
//! asks only for the changes after `v`.
//!
//! Invariants the readers rely on:
//! - a change is appended only after its transaction committed, so the log
//!   never shows a seat state the database did not have;
//! - two changes of one seat may be appended out of commit order (two
//!   instances race after their commits), so readers apply a change only if
//!   its seat version is newer than what they hold: the seat's last state
//!   always wins;
//! - the log keeps a bounded tail; a reader further behind gets `None` and
//!   reloads the map from the database.
//!
//! The same append also tells the concert's waiting room what is left to
//! sell (see `queue::Stock`), atomically with the log in Redis.

use crate::StoreError;
use async_trait::async_trait;
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ScheduleId};

/// One committed change of one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatChange {
    /// The schedule's concert, whose room's stock follows the change.
    pub concert: ConcertId,
    /// The schedule whose log the change goes to.
    pub schedule: ScheduleId,
    /// The seat that changed.
    pub seat: SeatNumber,
    /// The seat's stored state after the change.
    pub state: SeatState,
    /// The seat row's version after the change (see the module doc).
    pub seat_version: u64,
}

/// A seat row as the database holds it, with its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSeat {
    /// The seat's state as stored (a lapsed hold is still `Held` here).
    pub state: SeatState,
    /// Bumped by every UPDATE of the seat row; orders a seat's changes.
    pub version: u64,
}

/// Whether `changes`, read after version `after` from a log now at
/// `version`, are all the changes since `after`: they start right after it,
/// or there are none because nothing happened. Anything else is a gap.
pub fn tail_is_complete(after: u64, version: u64, changes: &[(u64, SeatChange)]) -> bool {
    match changes.first() {
        Some((first, _)) => *first == after + 1,
        None => version == after,
    }
}

/// How many changes per schedule a log keeps; a reader further behind
/// reloads the whole map. At 200 changes/s that is 20 s of history.
pub const LOG_TAIL: u64 = 4_096;

/// The per-schedule log of committed seat changes (see the module doc).
///
/// Contract:
/// - `version` is the number of changes ever appended to the schedule's
///   log (0: none). It never goes back; a store that lost its counter
///   restarts above any version an instance may hold (e.g. from the time),
///   so readers reload rather than trust a reset log.
/// - `append` gives the change the schedule's next version (previous + 1)
///   and returns it; callers append only after the change committed. It
///   also updates the concert's stock in the waiting room, atomically with
///   the log where the two share a store.
/// - `since(schedule, after)` returns the changes with versions `after + 1`
///   to `version`, oldest first, or `None` when the log no longer holds all
///   of them (it keeps at least the last [`LOG_TAIL`]); a reader then
///   reloads the map from the database. [`tail_is_complete`] makes the
///   check.
/// - `open_sale` is called once per concert, when it is created (and, for
///   a room that forgets on restart, at start).
/// - Every method fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatChangeLog: Send + Sync {
    /// The schedule's version: the number of changes ever appended (0: none).
    async fn version(&self, schedule: ScheduleId) -> Result<u64, StoreError>;
    /// `version` of several schedules, in their order (one round trip where
    /// the store allows it).
    async fn versions(&self, schedules: &[ScheduleId]) -> Result<Vec<u64>, StoreError> {
        let mut versions = Vec::with_capacity(schedules.len());
        for &schedule in schedules {
            versions.push(self.version(schedule).await?);
        }
        Ok(versions)
    }
    /// Appends a committed change and returns its version. Also updates the
    /// concert's stock in the waiting room, atomically with the log.
    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError>;
    /// The changes after version `after`, oldest first, each with its
    /// version; `None` when the log no longer holds all of them.
    async fn since(
        &self,
        schedule: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError>;
    /// Once, when a concert is created: starts its schedules' logs and tells
    /// its waiting room how many seats it has. A room that was never told
    /// admits as if seats were endless and never reports a sold-out sale.
    async fn open_sale(
        &self,
        concert: ConcertId,
        schedules: &[ScheduleId],
        total_seats: i64,
    ) -> Result<(), StoreError>;
}
