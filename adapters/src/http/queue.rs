//! The waiting room: join, poll, leave.

use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::queue::Place;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct QueueApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Join {
    concert_id: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Ticket {
    /// Send as `X-Queue-Token` on gated calls.
    token: String,
    #[oai(flatten)]
    place: Status,
}

/// A place in line, as the room sees it now.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct Status {
    /// WAITING, ACTIVE, EXPIRED (paid, left or lapsed: join again) or
    /// SOLD_OUT (every seat is sold: the room is closed).
    status: String,
    /// 1 for the first waiting user; 0 unless WAITING.
    position: i64,
    /// Absent while the room is paused or has nothing to sell.
    estimated_wait_seconds: Option<i64>,
    /// Ask again after this many seconds (0: nothing will change).
    refresh_interval_seconds: i64,
    /// The operator paused admission.
    paused: bool,
    /// No seat is AVAILABLE now; `heldSeats` are held and may still return.
    sold_out: bool,
    held_seats: i64,
}

pub(super) fn status_of(place: &Place) -> Status {
    Status {
        status: place.status.as_str().to_owned(),
        position: place.position,
        estimated_wait_seconds: place.estimated_wait_seconds,
        refresh_interval_seconds: place.refresh_seconds,
        paused: place.paused,
        sold_out: place.sold_out,
        held_seats: place.held_seats,
    }
}

#[derive(ApiResponse)]
enum JoinResponse {
    /// A new place at the back of the line.
    #[oai(status = 201)]
    Created(Json<Ticket>),
    /// The caller's existing place, unchanged.
    #[oai(status = 200)]
    Existing(Json<Ticket>),
}

#[derive(ApiResponse)]
enum LeaveResponse {
    /// The place is given up.
    #[oai(status = 204)]
    Left,
}

fn ticket(place: &Place) -> Ticket {
    Ticket {
        token: place.token.as_str().to_owned(),
        place: status_of(place),
    }
}

#[OpenApi(tag = "Tag::Queue")]
impl QueueApi {
    /// Join a concert's waiting room
    ///
    /// One place per user per concert: asking again returns the same token.
    /// A concert whose every seat is sold takes nobody (409 `SOLD_OUT`).
    #[oai(path = "/api/v1/queue/tokens", method = "post")]
    async fn join(&self, buyer: Buyer, body: Json<Join>) -> Result<JoinResponse, ProblemResponse> {
        let (place, created) = self.0.queue.join(buyer.0, body.concert_id).await?;
        let body = Json(ticket(&place));
        Ok(if created {
            JoinResponse::Created(body)
        } else {
            JoinResponse::Existing(body)
        })
    }

    /// The caller's place in line
    #[oai(path = "/api/v1/queue/status", method = "get")]
    async fn status(
        &self,
        buyer: Buyer,
        #[oai(name = "X-Queue-Token")] token: Header<Option<String>>,
    ) -> Result<Json<Status>, ProblemResponse> {
        let place = self.0.queue.status(buyer.0, token.0.as_deref()).await?;
        Ok(Json(status_of(&place)))
    }

    /// Leave the waiting room (or give up an ACTIVE slot)
    #[oai(path = "/api/v1/queue/tokens", method = "delete")]
    async fn leave(
        &self,
        buyer: Buyer,
        #[oai(name = "X-Queue-Token")] token: Header<Option<String>>,
    ) -> Result<LeaveResponse, ProblemResponse> {
        self.0.queue.leave(buyer.0, token.0.as_deref()).await?;
        Ok(LeaveResponse::Left)
    }
}
