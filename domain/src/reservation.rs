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

use crate::hold_cost::Cover;
use crate::points::Points;
use crate::seat::SeatNumber;
use crate::{ReservationId, ScheduleId, Timestamp, UserId};
use thiserror::Error;

/// Why a reservation could not move: the state it is in instead of HELD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// The deadline passed (whether or not EXPIRED was written down).
    #[error("the hold has expired")]
    HoldExpired,
    /// Paid already. A payment use case answers a retry with the first
    /// receipt instead of this error.
    #[error("the reservation is already confirmed")]
    AlreadyConfirmed,
    /// Cancelled by its holder.
    #[error("the reservation was cancelled")]
    Cancelled,
}

/// Where a reservation stands. Only HELD moves; the other three are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    /// The seat is held until the deadline.
    Held,
    /// Paid: the seat is sold.
    Confirmed,
    /// Released by its holder before the deadline.
    Cancelled,
    /// The deadline passed unpaid.
    Expired,
}

impl ReservationStatus {
    /// The stored and wire form (`HELD`, `CONFIRMED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "HELD",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::Cancelled => "CANCELLED",
            ReservationStatus::Expired => "EXPIRED",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for anything else
    /// (a store row that does not parse is an error, never a default).
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
        self.allows_more(taken, 1)
    }

    /// Whether `more` new seats fit beside the `taken` ones: a group hold
    /// counts every seat it asks for.
    pub fn allows_more(self, taken: u32, more: u32) -> bool {
        taken.saturating_add(more) <= self.0
    }
}

/// Why a group of seats cannot be asked for in one hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SeatGroupError {
    /// No seat, or more than the per-buyer [`SeatLimit`].
    #[error("a hold asks for 1 to {limit} seats", limit = .0)]
    Size(u32),
    /// The same seat named twice.
    #[error("a seat is named twice")]
    Repeated,
}

/// The seats one hold asks for, all or nothing: 1 to [`SeatLimit`]
/// distinct seats of one schedule, in ascending order. The order is the
/// order a store claims them in, so two overlapping groups wait for each
/// other instead of deadlocking.
///
/// ```
/// use frontrow_domain::reservation::{SeatGroup, SeatGroupError, SeatLimit};
/// use frontrow_domain::seat::SeatNumber;
///
/// let seat = SeatNumber::from_store;
/// let group = SeatGroup::new(vec![seat(7), seat(3)], SeatLimit(4))?;
/// assert_eq!(group.seats(), [seat(3), seat(7)]);
/// assert_eq!(SeatGroup::new(vec![seat(3), seat(3)], SeatLimit(4)), Err(SeatGroupError::Repeated));
/// assert_eq!(SeatGroup::new(vec![], SeatLimit(4)), Err(SeatGroupError::Size(4)));
/// # Ok::<(), SeatGroupError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatGroup(Vec<SeatNumber>);

impl SeatGroup {
    /// The group of `seats` (already checked against the schedule), sorted.
    pub fn new(mut seats: Vec<SeatNumber>, limit: SeatLimit) -> Result<Self, SeatGroupError> {
        if seats.is_empty() || seats.len() > limit.0 as usize {
            return Err(SeatGroupError::Size(limit.0));
        }
        seats.sort_unstable();
        if seats.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(SeatGroupError::Repeated);
        }
        Ok(Self(seats))
    }

    /// A group of one seat: the single hold.
    pub fn one(seat: SeatNumber) -> Self {
        Self(vec![seat])
    }

    /// The seats, ascending.
    pub fn seats(&self) -> &[SeatNumber] {
        &self.0
    }

    /// How many seats.
    pub fn len(&self) -> u32 {
        self.0.len() as u32
    }

    /// Never true: a group has at least one seat (for clippy's sake).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A user's claim on one seat, from hold to payment.
///
/// ```
/// use frontrow_domain::hold_cost::Cover;
/// use frontrow_domain::points::Points;
/// use frontrow_domain::reservation::{Reservation, ReservationStatus, TransitionError};
/// use frontrow_domain::seat::SeatNumber;
/// use frontrow_domain::{ReservationId, ScheduleId, Timestamp, UserId};
///
/// let deadline = Timestamp(10_000);
/// let held = Reservation {
///     id: ReservationId::from_store(1),
///     user: UserId::from_store(7),
///     schedule: ScheduleId::from_store(3),
///     seat: SeatNumber::from_store(12),
///     price: Points::new(120).ok_or(TransitionError::HoldExpired)?,
///     stored_status: ReservationStatus::Held,
///     hold_expires_at: deadline,
///     cover: Cover::Covered,
/// };
///
/// // Still HELD as stored, but EXPIRED as read from the deadline on.
/// assert_eq!(held.status_at(deadline), ReservationStatus::Expired);
/// assert_eq!(held.clone().confirm(deadline), Err(TransitionError::HoldExpired));
///
/// let paid = held.confirm(Timestamp(9_999))?;
/// assert_eq!(paid.clone().cancel(Timestamp(9_999)), Err(TransitionError::AlreadyConfirmed));
/// assert_eq!(paid.expire(deadline), None, "a confirmed reservation never expires");
/// # Ok::<(), TransitionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Issued by the store.
    pub id: ReservationId,
    /// The holder; only they may pay or cancel.
    pub user: UserId,
    /// The performance.
    pub schedule: ScheduleId,
    /// The seat held.
    pub seat: SeatNumber,
    /// The schedule's price when the hold was made: what payment takes.
    pub price: Points,
    /// As stored; read it through `status_at`.
    pub stored_status: ReservationStatus,
    /// When the hold lapses unless paid.
    pub hold_expires_at: Timestamp,
    /// Whether the hold reserved its points ([`crate::hold_cost`]).
    pub cover: Cover,
}

impl Reservation {
    /// The status at `now`: a HELD reservation past its deadline is
    /// EXPIRED, whatever is stored.
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

    /// Payment: HELD before the deadline becomes CONFIRMED; otherwise the
    /// [`TransitionError`] that names the state it is in.
    pub fn confirm(mut self, now: Timestamp) -> Result<Reservation, TransitionError> {
        self.require_live_hold(now)?;
        self.stored_status = ReservationStatus::Confirmed;
        Ok(self)
    }

    /// The holder lets go: HELD before the deadline becomes CANCELLED;
    /// otherwise the [`TransitionError`] that names the state it is in.
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
            cover: Cover::Covered,
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

    #[test]
    fn a_group_counts_every_seat_it_asks_for_against_the_limit() {
        let limit = SeatLimit(4);
        assert!(limit.allows_more(1, 3));
        assert!(!limit.allows_more(2, 3));
        let seats = |n: i64| (1..=n).map(SeatNumber::from_store).collect::<Vec<_>>();
        assert!(SeatGroup::new(seats(4), limit).is_ok());
        assert_eq!(
            SeatGroup::new(seats(5), limit),
            Err(SeatGroupError::Size(4))
        );
    }
}
