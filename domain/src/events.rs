//! Events that other systems react to. Each is written to the outbox in the
//! same transaction as the state change it describes, so one exists if and
//! only if that change committed.

use crate::points::Points;
use crate::seat::SeatNumber;
use crate::{PaymentId, ReservationId, ScheduleId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    ReservationHeld {
        reservation: ReservationId,
        user: UserId,
        schedule: ScheduleId,
        seat: SeatNumber,
        hold_expires_at: Timestamp,
    },
    ReservationCancelled {
        reservation: ReservationId,
        user: UserId,
        schedule: ScheduleId,
        seat: SeatNumber,
    },
    ReservationExpired {
        reservation: ReservationId,
        user: UserId,
        schedule: ScheduleId,
        seat: SeatNumber,
    },
    PaymentCompleted {
        payment: PaymentId,
        reservation: ReservationId,
        user: UserId,
        schedule: ScheduleId,
        seat: SeatNumber,
        amount: Points,
    },
    PointsCharged {
        user: UserId,
        amount: Points,
        balance: Points,
    },
}

impl DomainEvent {
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
