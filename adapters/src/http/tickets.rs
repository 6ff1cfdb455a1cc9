//! Tickets: a paid seat's signed code, and the key that checks it.

use super::catalogue::datetime;
use super::problem::{ProblemResponse, qr_failed, ticket_not_issued};
use super::security::Buyer;
use super::{AppState, Tag};
use crate::tickets::{TicketClaims, qr_svg};
use chrono::{DateTime, Utc};
use frontrow_application::reservations::ReservationError;
use frontrow_domain::reservation::ReservationStatus;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

pub struct TicketsApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SeatTicket {
    reservation_id: i64,
    concert_id: i64,
    schedule_id: i64,
    seat_number: i64,
    /// When the performance starts.
    starts_at: DateTime<Utc>,
    /// `FRT1.` + base64url(payload || Ed25519 signature); check it with
    /// the key at `/api/v1/tickets/public-key` (see docs/architecture.md).
    code: String,
    /// The code as a QR code: a standalone SVG document.
    qr_svg: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TicketPublicKey {
    /// Always `Ed25519`.
    algorithm: String,
    /// The 32-byte public key, base64url without padding.
    public_key: String,
    /// What every ticket code starts with.
    prefix: String,
}

#[OpenApi(tag = "Tag::Tickets")]
impl TicketsApi {
    /// The ticket of one of the caller's paid seats
    ///
    /// 404 `RESERVATION_NOT_FOUND` for a missing or someone else's
    /// reservation; 409 `TICKET_NOT_ISSUED` for one not CONFIRMED.
    #[oai(path = "/api/v1/reservations/:reservation_id/ticket", method = "get")]
    async fn ticket(
        &self,
        buyer: Buyer,
        reservation_id: Path<i64>,
    ) -> Result<Json<SeatTicket>, ProblemResponse> {
        let state = &self.0;
        let found = state.reservations.find(buyer.0, reservation_id.0).await?;
        let status = found.status_at(state.reservations.now());
        if status != ReservationStatus::Confirmed {
            return Err(ticket_not_issued(status.as_str()));
        }
        let schedule = state
            .catalogue
            .find_schedule(found.schedule)
            .await
            .map_err(ReservationError::from)?
            .ok_or(ReservationError::ScheduleNotFound)?;
        let code = state.tickets.sign(TicketClaims {
            reservation: found.id.get(),
            schedule: found.schedule.get(),
            seat: found.seat.get(),
            user: found.user.get(),
            starts_at: schedule.starts_at.millis().div_euclid(1000),
        });
        let qr_svg = qr_svg(&code).map_err(|e| qr_failed(&e))?;
        Ok(Json(SeatTicket {
            reservation_id: found.id.get(),
            concert_id: schedule.concert.get(),
            schedule_id: found.schedule.get(),
            seat_number: found.seat.get(),
            starts_at: datetime(schedule.starts_at),
            code,
            qr_svg,
        }))
    }

    /// The key that checks ticket codes, for door scanners
    ///
    /// Public and cacheable: a scanner fetches it once and then checks
    /// codes without calling the service.
    #[oai(path = "/api/v1/tickets/public-key", method = "get")]
    async fn public_key(&self) -> Json<TicketPublicKey> {
        Json(TicketPublicKey {
            algorithm: "Ed25519".to_owned(),
            public_key: self.0.tickets.public_key(),
            prefix: crate::tickets::PREFIX.to_owned(),
        })
    }
}
