//! Reservations and their state machine:
//!
//! ```text
//! HELD --pay (before deadline)----> CONFIRMED
//!   |---cancel (before deadline)--> CANCELLED
//!   '---deadline passes-----------> EXPIRED
//! ```
//!
//! A HELD reservation whose deadline has passed *is* EXPIRED, whether or not a
//! sweeper has written that down yet: `status_at` is the only way to read it.

use crate::points::Points;
use crate::seat::SeatNumber;
use crate::{ReservationId, ScheduleId, Timestamp, UserId};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("the hold has expired")]
    HoldExpired,
    #[error("the reservation is already confirmed")]
    AlreadyConfirmed,
    #[error("the reservation was cancelled")]
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Held,
    Confirmed,
    Cancelled,
    Expired,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "HELD",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::Cancelled => "CANCELLED",
            ReservationStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "HELD" => ReservationStatus::Held,
            "CONFIRMED" => ReservationStatus::Confirmed,
            "CANCELLED" => ReservationStatus::Cancelled,
            "EXPIRED" => ReservationStatus::Expired,
            _ => return None,
        })
    }
}

/// How many seats of one schedule a user may hold or own at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatLimit(pub u32);

impl SeatLimit {
    /// `taken` counts the user's live holds and confirmed seats on the schedule.
    pub fn allows_another(self, taken: u32) -> bool {
        taken < self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub user: UserId,
    pub schedule: ScheduleId,
    pub seat: SeatNumber,
    pub price: Points,
    /// As stored; read it through `status_at`.
    pub stored_status: ReservationStatus,
    pub hold_expires_at: Timestamp,
}

impl Reservation {
    pub fn status_at(&self, now: Timestamp) -> ReservationStatus {
        match self.stored_status {
            ReservationStatus::Held if self.hold_expires_at <= now => ReservationStatus::Expired,
            status => status,
        }
    }

    fn require_live_hold(&self, now: Timestamp) -> Result<(), TransitionError> {
        match self.status_at(now) {
            ReservationStatus::Held => Ok(()),
            ReservationStatus::Confirmed => Err(TransitionError::AlreadyConfirmed),
            ReservationStatus::Cancelled => Err(TransitionError::Cancelled),
            ReservationStatus::Expired => Err(TransitionError::HoldExpired),
        }
    }

    pub fn confirm(mut self, now: Timestamp) -> Result<Reservation, TransitionError> {
        self.require_live_hold(now)?;
        self.stored_status = ReservationStatus::Confirmed;
        Ok(self)
    }

    pub fn cancel(mut self, now: Timestamp) -> Result<Reservation, TransitionError> {
        self.require_live_hold(now)?;
        self.stored_status = ReservationStatus::Cancelled;
        Ok(self)
    }

    /// What a sweeper writes down for a hold whose deadline passed.
    pub fn expire(mut self, now: Timestamp) -> Option<Reservation> {
        (self.stored_status == ReservationStatus::Held && self.hold_expires_at <= now).then(|| {
            self.stored_status = ReservationStatus::Expired;
            self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held() -> Reservation {
        Reservation {
            id: ReservationId::from_store(1),
            user: UserId::from_store(1),
            schedule: ScheduleId::from_store(1),
            seat: SeatNumber::from_store(3),
            price: Points::new(100).unwrap(),
            stored_status: ReservationStatus::Held,
            hold_expires_at: Timestamp(10_000),
        }
    }

    const BEFORE: Timestamp = Timestamp(9_999);
    const AT_DEADLINE: Timestamp = Timestamp(10_000);

    #[test]
    fn a_live_hold_can_be_confirmed_or_cancelled() {
        assert_eq!(
            held().confirm(BEFORE).unwrap().status_at(AT_DEADLINE),
            ReservationStatus::Confirmed
        );
        assert_eq!(
            held().cancel(BEFORE).unwrap().status_at(AT_DEADLINE),
            ReservationStatus::Cancelled
        );
    }

    #[test]
    fn a_hold_reads_expired_from_its_deadline() {
        assert_eq!(held().status_at(BEFORE), ReservationStatus::Held);
        assert_eq!(held().status_at(AT_DEADLINE), ReservationStatus::Expired);
        assert_eq!(
            held().confirm(AT_DEADLINE),
            Err(TransitionError::HoldExpired)
        );
        assert_eq!(
            held().cancel(AT_DEADLINE),
            Err(TransitionError::HoldExpired)
        );
    }

    #[test]
    fn terminal_states_do_not_move() {
        let confirmed = held().confirm(BEFORE).unwrap();
        assert_eq!(
            confirmed.clone().confirm(BEFORE),
            Err(TransitionError::AlreadyConfirmed)
        );
        assert_eq!(
            confirmed.clone().cancel(BEFORE),
            Err(TransitionError::AlreadyConfirmed)
        );
        assert_eq!(confirmed.expire(AT_DEADLINE), None);
        let cancelled = held().cancel(BEFORE).unwrap();
        assert_eq!(
            cancelled.clone().confirm(BEFORE),
            Err(TransitionError::Cancelled)
        );
        assert_eq!(cancelled.expire(AT_DEADLINE), None);
    }

    #[test]
    fn only_a_passed_hold_expires() {
        assert_eq!(held().expire(BEFORE), None);
        let expired = held().expire(AT_DEADLINE).unwrap();
        assert_eq!(expired.stored_status, ReservationStatus::Expired);
        assert_eq!(expired.confirm(BEFORE), Err(TransitionError::HoldExpired));
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for s in [
            ReservationStatus::Held,
            ReservationStatus::Confirmed,
            ReservationStatus::Cancelled,
            ReservationStatus::Expired,
        ] {
            assert_eq!(ReservationStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReservationStatus::parse("held"), None);
    }

    #[test]
    fn the_seat_limit_counts_live_holds_and_sales() {
        let limit = SeatLimit(4);
        assert!(limit.allows_another(3));
        assert!(!limit.allows_another(4));
    }
}
