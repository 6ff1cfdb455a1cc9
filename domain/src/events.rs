//! Events that other systems react to. Each is written to the outbox in the
//! same transaction as the state change it describes, so one exists if and
//! only if that change committed.

use crate::points::Points;
use crate::seat::SeatNumber;
use crate::{PaymentId, ReservationId, ScheduleId, Timestamp, UserId};

/// Something that happened to a reservation or a balance, as other systems
/// learn of it.
///
/// The variants are the event types of `docs/events.md`; their wire form
/// (a versioned JSON envelope) is built by the adapters, so this crate stays
/// free of serde. The enum is exhaustive, so a new variant is a breaking
/// change of this crate (see `CHANGELOG.md`), just as a new event type is
/// news for every consumer.
///
/// ```
/// use frontrow_domain::events::DomainEvent;
/// use frontrow_domain::points::Points;
/// use frontrow_domain::UserId;
///
/// let charged = DomainEvent::PointsCharged {
///     user: UserId::from_store(7),
///     amount: Points::new(500).ok_or("negative")?,
///     balance: Points::new(800).ok_or("negative")?,
/// };
/// assert_eq!(charged.event_type(), "points.charged");
/// assert_eq!(charged.key(), "user-7");
/// # Ok::<(), &str>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A seat was held: it is the reservation's until `hold_expires_at`.
    ReservationHeld {
        /// The new reservation.
        reservation: ReservationId,
        /// Who holds the seat.
        user: UserId,
        /// The performance the seat belongs to.
        schedule: ScheduleId,
        /// The seat held.
        seat: SeatNumber,
        /// When the hold lapses unless paid: the seat is free from then on,
        /// whether or not `ReservationExpired` has been written yet.
        hold_expires_at: Timestamp,
    },
    /// The holder released the seat before the hold lapsed.
    ReservationCancelled {
        /// The reservation that ended.
        reservation: ReservationId,
        /// Who held the seat.
        user: UserId,
        /// The performance the seat belongs to.
        schedule: ScheduleId,
        /// The seat that is free again.
        seat: SeatNumber,
    },
    /// A hold lapsed unpaid. Written by the sweeper some time after the
    /// deadline; the seat was free from the deadline on.
    ReservationExpired {
        /// The reservation that ended.
        reservation: ReservationId,
        /// Who held the seat.
        user: UserId,
        /// The performance the seat belongs to.
        schedule: ScheduleId,
        /// The seat that was free from the deadline.
        seat: SeatNumber,
    },
    /// A cart was paid for: its seats are sold for good. One event per
    /// payment, however many seats it sold.
    PaymentCompleted {
        /// The payment.
        payment: PaymentId,
        /// The first (lowest) reservation of the cart: with `schedule` and
        /// `seat`, what a one-seat payment always carried, kept so its
        /// consumers keep working.
        reservation: ReservationId,
        /// Who paid.
        user: UserId,
        /// The first line's performance.
        schedule: ScheduleId,
        /// The first line's seat.
        seat: SeatNumber,
        /// The points taken: the sum of the lines (a one-seat payment's
        /// price, as before).
        amount: Points,
        /// Every seat paid, ascending by reservation.
        lines: Vec<crate::cart::PaymentLine>,
    },
    /// Points were added to a balance.
    PointsCharged {
        /// Whose balance grew.
        user: UserId,
        /// The points added.
        amount: Points,
        /// The balance right after this charge.
        balance: Points,
    },
}

impl DomainEvent {
    /// The event's type on the wire (`type` in the envelope, and the
    /// consumer's dispatch key). Stable: renaming one breaks consumers.
    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::ReservationHeld { .. } => "reservation.held",
            DomainEvent::ReservationCancelled { .. } => "reservation.cancelled",
            DomainEvent::ReservationExpired { .. } => "reservation.expired",
            DomainEvent::PaymentCompleted { .. } => "payment.completed",
            DomainEvent::PointsCharged { .. } => "points.charged",
        }
    }

    /// The partition key: events of one reservation stay in order; points
    /// events are ordered per user.
    pub fn key(&self) -> String {
        match self {
            DomainEvent::ReservationHeld { reservation, .. }
            | DomainEvent::ReservationCancelled { reservation, .. }
            | DomainEvent::ReservationExpired { reservation, .. }
            | DomainEvent::PaymentCompleted { reservation, .. } => {
                format!("reservation-{reservation}")
            }
            DomainEvent::PointsCharged { user, .. } => format!("user-{user}"),
        }
    }
}
