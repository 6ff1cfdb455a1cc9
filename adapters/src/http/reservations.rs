//! Seat holds: create, read, list, cancel.

use super::catalogue::datetime;
use super::limits::{Int, QueueTokenHeader};
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use chrono::{DateTime, Utc};
use frontrow_application::reservations::MAX_PAGE;
use frontrow_domain::hold_cost::Cover;
use frontrow_domain::reservation::Reservation;
use frontrow_domain::seat::MAX_SEATS_PER_SCHEDULE;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct ReservationsApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Hold {
    schedule_id: i64,
    /// From 1 to the schedule's seat count.
    seat_number: Int<1, MAX_SEATS_PER_SCHEDULE>,
}

/// A reservation as a buyer reads it.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct ReservationBody {
    reservation_id: i64,
    /// HELD, CONFIRMED, CANCELLED or EXPIRED.
    status: String,
    schedule_id: i64,
    seat_number: i64,
    price: i64,
    /// The hold's deadline: short when `covered` is false.
    hold_expires_at: DateTime<Utc>,
    /// Whether your points covered the hold when it was made: its price is
    /// then reserved (`GET /api/v1/points`) until it is paid, released or
    /// lapses. An uncovered hold is short (`--uncovered-hold-seconds`) and
    /// taken once per concert; add points and pay before it lapses.
    covered: bool,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ListedReservation {
    #[oai(flatten)]
    reservation: ReservationBody,
    concert_id: i64,
    /// When the schedule's performance starts.
    starts_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ReservationList {
    /// Newest first.
    reservations: Vec<ListedReservation>,
    /// Pass as `after` for the next (older) page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    next: Option<i64>,
}

#[derive(ApiResponse)]
enum HoldResponse {
    /// The seat is held for you until `holdExpiresAt` (see `covered`).
    #[oai(status = 201)]
    Held(Json<ReservationBody>),
}

pub(super) fn body(reservation: &Reservation, state: &AppState) -> ReservationBody {
    ReservationBody {
        reservation_id: reservation.id.get(),
        status: reservation
            .status_at(state.reservations.now())
            .as_str()
            .to_owned(),
        schedule_id: reservation.schedule.get(),
        seat_number: reservation.seat.get(),
        price: reservation.price.get(),
        hold_expires_at: datetime(reservation.hold_expires_at),
        covered: reservation.cover == Cover::Covered,
    }
}

#[OpenApi(tag = "Tag::Reservations")]
impl ReservationsApi {
    /// Hold a seat (ACTIVE queue token)
    #[oai(path = "/api/v1/reservations", method = "post")]
    async fn hold(
        &self,
        buyer: Buyer,
        request: Json<Hold>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<HoldResponse, ProblemResponse> {
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::HoldPerAccount,
            buyer.0,
        )
        .await?;
        let held = self
            .0
            .reservations
            .hold(
                buyer.0,
                token.as_deref(),
                request.schedule_id,
                request.seat_number.0,
            )
            .await?;
        Ok(HoldResponse::Held(Json(body(&held, &self.0))))
    }

    /// The caller's reservations, newest first, a page at a time
    ///
    /// `limit` is 1 to 100 (default 20); `after` is the `next` of the
    /// previous page. Anything else is 400 `INVALID_PAGE`.
    #[oai(path = "/api/v1/reservations", method = "get")]
    async fn list(
        &self,
        buyer: Buyer,
        limit: Query<Option<Int<1, MAX_PAGE>>>,
        after: Query<Option<Int<1, { i64::MAX }>>>,
    ) -> Result<Json<ReservationList>, ProblemResponse> {
        let (limit, after) = (limit.0.map(|l| l.0), after.0.map(|a| a.0));
        let page = self.0.reservations.mine(buyer.0, limit, after).await?;
        Ok(Json(ReservationList {
            reservations: page
                .reservations
                .iter()
                .map(|(reservation, schedule)| ListedReservation {
                    reservation: body(reservation, &self.0),
                    concert_id: schedule.concert.get(),
                    starts_at: datetime(schedule.starts_at),
                })
                .collect(),
            next: page.next.map(|id| id.get()),
        }))
    }

    /// One of the caller's reservations
    #[oai(path = "/api/v1/reservations/:reservation_id", method = "get")]
    async fn get(
        &self,
        buyer: Buyer,
        reservation_id: Path<i64>,
    ) -> Result<Json<ReservationBody>, ProblemResponse> {
        let found = self.0.reservations.find(buyer.0, reservation_id.0).await?;
        Ok(Json(body(&found, &self.0)))
    }

    /// Cancel one of the caller's holds; the seat is free at once
    ///
    /// With the caller's queue token, the place learns its cart: emptied,
    /// the place lapses with its own turn (at once, if that has ended).
    #[oai(path = "/api/v1/reservations/:reservation_id", method = "delete")]
    async fn cancel(
        &self,
        buyer: Buyer,
        reservation_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<Option<QueueTokenHeader>>,
    ) -> Result<Json<ReservationBody>, ProblemResponse> {
        let token = token.0.as_ref().and_then(|t| t.as_deref());
        let cancelled = self
            .0
            .reservations
            .cancel(buyer.0, reservation_id.0, token)
            .await?;
        Ok(Json(body(&cancelled, &self.0)))
    }
}
