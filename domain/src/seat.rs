//! Seats of one schedule and their state machine:
//!
//! ```text
//! AVAILABLE --hold--> HELD --pay--> SOLD
//!     ^                 |
//!     +--cancel/expiry--+
//! ```
//!
//! A hold carries its own deadline, so "is this seat free?" is a function of
//! the stored state and the current time: an expired hold frees the seat at
//! once, without waiting for any sweeper.

use crate::{ReservationId, Timestamp};
use thiserror::Error;

/// The largest schedule we accept; keeps seat maps small enough to cache.
pub const MAX_SEATS_PER_SCHEDULE: i64 = 10_000;

/// Why a seat move was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SeatError {
    /// The number is not a seat of this schedule.
    #[error("seat number must be from 1 to the schedule's seat count")]
    OutOfRange,
    /// A hold on a seat that is held (live) or sold.
    #[error("the seat is not available")]
    Unavailable,
    /// A sale or release by a reservation that does not hold the seat now:
    /// someone else's hold, a lapsed hold, or a seat already sold.
    #[error("the seat is not held by this reservation")]
    NotHeldBy,
}

/// A seat number, 1..=seat count of its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeatNumber(i64);

impl SeatNumber {
    /// Parses a seat number against the schedule's seat count.
    pub fn parse(raw: i64, seat_count: i64) -> Result<Self, SeatError> {
        if raw >= 1 && raw <= seat_count {
            Ok(Self(raw))
        } else {
            Err(SeatError::OutOfRange)
        }
    }

    /// For stores, which only hand back numbers that were parsed on the way in.
    pub fn from_store(raw: i64) -> Self {
        Self(raw)
    }

    /// The number, 1-based, for a store or a wire format.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// What a buyer sees: the stored [`SeatState`] read at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatStatus {
    /// Nobody holds or owns it: a hold may take it.
    Available,
    /// A live hold; it may still return to AVAILABLE.
    Held,
    /// Paid for: final.
    Sold,
}

impl SeatStatus {
    /// The wire form (`AVAILABLE`, `HELD`, `SOLD`).
    pub fn as_str(self) -> &'static str {
        match self {
            SeatStatus::Available => "AVAILABLE",
            SeatStatus::Held => "HELD",
            SeatStatus::Sold => "SOLD",
        }
    }
}

/// The stored state of a seat, and the moves between states.
///
/// A hold keeps its deadline, so the status at any instant is a pure
/// function of the state and the time ([`SeatState::status_at`]): a lapsed
/// hold reads AVAILABLE and may be taken by the next hold at once.
///
/// ```
/// use frontrow_domain::seat::{SeatError, SeatState, SeatStatus};
/// use frontrow_domain::{ReservationId, Timestamp};
///
/// let (ada, bob) = (ReservationId::from_store(1), ReservationId::from_store(2));
/// let now = Timestamp(1_000_000);
/// let deadline = now.plus_seconds(300);
///
/// let held = SeatState::Available.hold(ada, now, deadline)?;
/// assert_eq!(held.hold(bob, now, deadline), Err(SeatError::Unavailable));
/// assert_eq!(held.sell(bob, now), Err(SeatError::NotHeldBy));
///
/// // At the deadline the hold has lapsed: Ada can no longer pay, Bob may hold.
/// assert_eq!(held.status_at(deadline), SeatStatus::Available);
/// assert_eq!(held.sell(ada, deadline), Err(SeatError::NotHeldBy));
/// let bobs = held.hold(bob, deadline, deadline.plus_seconds(300))?;
/// assert_eq!(bobs.sell(bob, deadline)?, SeatState::Sold { reservation: bob });
/// # Ok::<(), SeatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatState {
    /// Never held, released, or (as stored) not yet rewritten after a
    /// lapsed hold; see [`SeatState::status_at`].
    Available,
    /// Held by `reservation` until `until` (exclusive).
    Held {
        /// The reservation that holds the seat.
        reservation: ReservationId,
        /// The first instant at which the hold has lapsed.
        until: Timestamp,
    },
    /// Sold to `reservation`: no move leaves this state.
    Sold {
        /// The reservation that paid.
        reservation: ReservationId,
    },
}

impl SeatState {
    /// The status at `now`: a hold past its deadline reads as available.
    pub fn status_at(self, now: Timestamp) -> SeatStatus {
        match self {
            SeatState::Available => SeatStatus::Available,
            SeatState::Held { until, .. } if until > now => SeatStatus::Held,
            SeatState::Held { .. } => SeatStatus::Available,
            SeatState::Sold { .. } => SeatStatus::Sold,
        }
    }

    /// A new hold by `reservation` until `until`, if the seat reads
    /// AVAILABLE at `now`; [`SeatError::Unavailable`] otherwise.
    pub fn hold(
        self,
        reservation: ReservationId,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<SeatState, SeatError> {
        match self.status_at(now) {
            SeatStatus::Available => Ok(SeatState::Held { reservation, until }),
            SeatStatus::Held | SeatStatus::Sold => Err(SeatError::Unavailable),
        }
    }

    /// Payment: only the live hold of this reservation may become a sale.
    pub fn sell(self, by: ReservationId, now: Timestamp) -> Result<SeatState, SeatError> {
        match self {
            SeatState::Held { reservation, until } if reservation == by && until > now => {
                Ok(SeatState::Sold { reservation })
            }
            _ => Err(SeatError::NotHeldBy),
        }
    }

    /// Cancel: only the live hold of this reservation may be released.
    pub fn release(self, by: ReservationId, now: Timestamp) -> Result<SeatState, SeatError> {
        match self {
            SeatState::Held { reservation, until } if reservation == by && until > now => {
                Ok(SeatState::Available)
            }
            _ => Err(SeatError::NotHeldBy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: ReservationId = ReservationId::from_store(1);
    const R2: ReservationId = ReservationId::from_store(2);
    const NOW: Timestamp = Timestamp(1_000);
    const LATER: Timestamp = Timestamp(2_000);

    #[test]
    fn seat_numbers_are_within_the_schedule() {
        assert_eq!(SeatNumber::parse(0, 50), Err(SeatError::OutOfRange));
        assert_eq!(SeatNumber::parse(51, 50), Err(SeatError::OutOfRange));
        assert_eq!(SeatNumber::parse(-1, 50), Err(SeatError::OutOfRange));
        assert_eq!(SeatNumber::parse(50, 50).map(SeatNumber::get), Ok(50));
    }

    #[test]
    fn an_available_seat_can_be_held_once() {
        let held = SeatState::Available.hold(R1, NOW, LATER).unwrap();
        assert_eq!(held.status_at(NOW), SeatStatus::Held);
        assert_eq!(held.hold(R2, NOW, LATER), Err(SeatError::Unavailable));
    }

    #[test]
    fn an_expired_hold_frees_the_seat_without_a_sweeper() {
        let held = SeatState::Available.hold(R1, NOW, LATER).unwrap();
        assert_eq!(held.status_at(LATER), SeatStatus::Available);
        assert!(held.hold(R2, LATER, Timestamp(3_000)).is_ok());
        assert_eq!(held.sell(R1, LATER), Err(SeatError::NotHeldBy));
        assert_eq!(held.release(R1, LATER), Err(SeatError::NotHeldBy));
    }

    #[test]
    fn only_the_holder_can_buy_or_release() {
        let held = SeatState::Available.hold(R1, NOW, LATER).unwrap();
        assert_eq!(held.sell(R2, NOW), Err(SeatError::NotHeldBy));
        assert_eq!(held.release(R2, NOW), Err(SeatError::NotHeldBy));
        assert_eq!(held.release(R1, NOW), Ok(SeatState::Available));
        let sold = held.sell(R1, NOW).unwrap();
        assert_eq!(sold.status_at(Timestamp(i64::MAX)), SeatStatus::Sold);
    }

    #[test]
    fn a_sold_seat_stays_sold() {
        let sold = SeatState::Sold { reservation: R1 };
        assert_eq!(sold.hold(R2, NOW, LATER), Err(SeatError::Unavailable));
        assert_eq!(sold.sell(R1, NOW), Err(SeatError::NotHeldBy));
        assert_eq!(sold.release(R1, NOW), Err(SeatError::NotHeldBy));
    }
}
