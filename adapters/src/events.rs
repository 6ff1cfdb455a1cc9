//! The wire form of domain events: versioned JSON with a unique `eventId`
//! (see docs/events.md). Built here so the domain stays free of serde.

use frontrow_domain::Timestamp;
use frontrow_domain::events::DomainEvent;
use serde_json::{Value, json};

/// The envelope's `version`; bumped only by a change consumers must
/// handle (see docs/events.md).
pub const SCHEMA_VERSION: i64 = 1;

/// One outbox row's contents.
pub struct OutboxEvent {
    /// 32 random hex characters: consumers deduplicate by it.
    pub event_id: String,
    /// The event's type, e.g. `payment.completed`.
    pub event_type: &'static str,
    /// The partition key (`reservation-<id>` or `user-<id>`).
    pub key: String,
    /// The JSON envelope.
    pub payload: String,
}

/// Fails only when the OS random source does (no event id can be made).
pub fn to_outbox(event: &DomainEvent, occurred_at: Timestamp) -> std::io::Result<OutboxEvent> {
    let event_id = crate::random::hex32()?;
    let data = match event {
        DomainEvent::ReservationHeld {
            reservation,
            user,
            schedule,
            seat,
            hold_expires_at,
        } => json!({
            "reservationId": reservation.get(), "userId": user.get(), "scheduleId": schedule.get(),
            "seatNumber": seat.get(), "holdExpiresAt": hold_expires_at.millis(),
        }),
        DomainEvent::ReservationCancelled {
            reservation,
            user,
            schedule,
            seat,
        }
        | DomainEvent::ReservationExpired {
            reservation,
            user,
            schedule,
            seat,
        } => json!({
            "reservationId": reservation.get(), "userId": user.get(), "scheduleId": schedule.get(),
            "seatNumber": seat.get(),
        }),
        DomainEvent::PaymentCompleted {
            payment,
            reservation,
            user,
            schedule,
            seat,
            amount,
            lines,
        } => json!({
            "paymentId": payment.get(), "reservationId": reservation.get(), "userId": user.get(),
            "scheduleId": schedule.get(), "seatNumber": seat.get(), "amount": amount.get(),
            "lines": lines.iter().map(|line| json!({
                "reservationId": line.reservation.get(), "scheduleId": line.schedule.get(),
                "seatNumber": line.seat.get(), "amount": line.amount.get(),
            })).collect::<Vec<_>>(),
        }),
        DomainEvent::PointsCharged {
            user,
            amount,
            balance,
        } => json!({
            "userId": user.get(), "amount": amount.get(), "balance": balance.get(),
        }),
    };
    let envelope: Value = json!({
        "eventId": event_id,
        "type": event.event_type(),
        "version": SCHEMA_VERSION,
        "occurredAt": occurred_at.millis(),
        "data": data,
    });
    Ok(OutboxEvent {
        event_id,
        event_type: event.event_type(),
        key: event.key(),
        payload: envelope.to_string(),
    })
}
