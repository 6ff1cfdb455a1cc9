//! The waiting room: join, poll (or follow a stream), leave.

use super::limits::QueueTokenHeader;
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::queue::{Place, QueueError};
use frontrow_application::streams::{self, PlaceFollower};
use frontrow_domain::UserId;
use futures_util::stream::{self, BoxStream, StreamExt};
use poem::http::StatusCode;
use poem_openapi::param::Header;
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct QueueApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Join {
    concert_id: i64,
    /// A solved door challenge (`POST /api/v1/concerts/{concertId}/challenge`):
    /// the standard base64 of `{"challenge": ..., "solution": {"counter",
    /// "derivedKey"}}`. Needed only when that call says `required: true`;
    /// without it such a join is 428 `CHALLENGE_REQUIRED`, and a forged,
    /// other account's or concert's, expired or already used one is 403
    /// (`CHALLENGE_INVALID`, `CHALLENGE_EXPIRED`, `CHALLENGE_REPLAYED`).
    proof_of_work: Option<String>,
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
    /// PRE_QUEUE (a scheduled sale's pre-queue: placed in random order at
    /// `opensAt`), WAITING, ACTIVE, EXPIRED (paid, left or lapsed: join
    /// again) or SOLD_OUT (every seat is sold: the room is closed).
    status: String,
    /// 1 for the first waiting user; 0 unless WAITING.
    position: i64,
    /// null while the room is paused or has nothing to sell.
    #[oai(nullable)]
    estimated_wait_seconds: Option<i64>,
    /// Ask again after this many seconds (0: nothing will change).
    refresh_interval_seconds: i64,
    /// The operator paused admission.
    paused: bool,
    /// No seat is AVAILABLE now; `heldSeats` are held and may still return.
    sold_out: bool,
    held_seats: i64,
    /// PRE_QUEUE only (null otherwise): when the sale opens, and whole
    /// seconds until then.
    #[oai(nullable)]
    opens_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    seconds_until_open: Option<i64>,
    /// ACTIVE only (null otherwise): when the turn ends: its hard deadline,
    /// sooner if the holder goes quiet, and sooner still when the pick
    /// window (`--pick-seconds` after admission or after the last cart
    /// ended) ends first; a hold moves the window to after the cart. While
    /// seats are held the place stays ACTIVE past it until they are paid,
    /// released or lapse, but no more seats may be held (403
    /// `QUEUE_TURN_OVER`).
    #[oai(nullable)]
    turn_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    /// EXPIRED only (null otherwise, or when the room no longer knows): why
    /// the place ended: PAID, LEFT, LAPSED (the line reached a place whose
    /// holder had gone quiet for longer than the grace) or TURN_ENDED.
    #[oai(nullable)]
    expired_reason: Option<String>,
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
        opens_at: place.opens_at.map(super::catalogue::datetime),
        seconds_until_open: place.seconds_until_open,
        turn_ends_at: place.turn_ends_at.map(super::catalogue::datetime),
        expired_reason: place.ended.map(|why| why.as_str().to_owned()),
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
enum StreamResponse {
    /// `text/event-stream`: the place now, then again whenever it changes;
    /// ends after EXPIRED or SOLD_OUT. Reconnecting is safe (the first event
    /// is always the current place). A `retry:` field comes first and, when
    /// the instance shuts down, last: reconnect after that many milliseconds.
    #[oai(status = 200)]
    Stream(
        EventStream<BoxStream<'static, super::sse::Frame<Status>>>,
        /// `no`: tells nginx not to buffer the stream.
        #[oai(header = "X-Accel-Buffering")]
        String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// The places of one holder as they change, as `PlaceFollower` decides:
/// the room is asked at its pace and only a change is sent. Each look
/// counts as the holder's presence. A failed look ends the stream (the
/// client reconnects and hears the reason then), logged with the id of the
/// request that opened it.
fn place_changes(
    state: Arc<super::AppState>,
    user: UserId,
    token: String,
    first: Place,
) -> BoxStream<'static, Status> {
    let request = super::request_id::current().unwrap_or_default();
    let follower = PlaceFollower::new(first.clone());
    let later = stream::unfold(Some(follower), move |follower| {
        let (app, token, request) = (state.clone(), token.clone(), request.clone());
        async move {
            let mut follower = follower?;
            loop {
                tokio::time::sleep(follower.pace()).await;
                // A draining instance ends its streams; the client
                // reconnects through the load balancer to another one.
                if app.is_draining() {
                    return None;
                }
                let place = match app.queue.status(user, Some(&token)).await {
                    Ok(place) => place,
                    Err(QueueError::Store(error)) => {
                        tracing::warn!(%error, request = %request, "the queue stream ends: a store failed");
                        return None;
                    }
                    Err(refused) => {
                        tracing::info!(error = %refused, request = %request, "the queue stream ends");
                        return None;
                    }
                };
                if let Some(place) = follower.next(place) {
                    let going_on = (!follower.ended()).then_some(follower);
                    return Some((status_of(&place), going_on));
                }
            }
        }
    });
    let first_ends = streams::ended(first.status);
    let first = stream::once(async move { status_of(&first) });
    if first_ends {
        first.boxed()
    } else {
        first.chain(later).boxed()
    }
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
    async fn join(
        &self,
        buyer: Buyer,
        body: Json<Join>,
        request: &poem::Request,
    ) -> Result<JoinResponse, ProblemResponse> {
        // A token is checked by its signature alone, with no store asked, on
        // every request. Only a token signed with our key names a user who
        // does not exist (a leaked key, or a database restored without the
        // users the key signed for); such a caller could join a room and
        // take a place (an admission) from a real buyer. A charge finds no
        // user in its transaction; holds and payments need a place, so
        // joining is the one place left to look, and a cheap one: one read
        // by primary key per join, against the many polls and holds a place
        // leads to.
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::JoinPerAccount,
            buyer.0,
        )
        .await?;
        if !self.0.users.is_registered(buyer.0).await? {
            return Err(ProblemResponse::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "the access token names no registered user",
            ));
        }
        let address = super::door::client_address(request);
        let concert = frontrow_domain::ConcertId::from_store(body.concert_id);
        let proof = body.proof_of_work.as_deref();
        self.0
            .door
            .pass_join(buyer.0, concert, &address, proof)
            .await?;
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
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<Json<Status>, ProblemResponse> {
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::StatusPerAccount,
            buyer.0,
        )
        .await?;
        let place = self.0.queue.status(buyer.0, token.as_deref()).await?;
        Ok(Json(status_of(&place)))
    }

    /// Follow the caller's place as it changes (Server-Sent Events)
    ///
    /// The same headers as the status call. Sends the status at once, then
    /// every change of position, status, pause or stock, with a heartbeat
    /// comment every 15 s; ends after EXPIRED or SOLD_OUT. An open stream
    /// counts as the holder's presence.
    #[oai(path = "/api/v1/queue/stream", method = "get")]
    async fn stream(
        &self,
        buyer: Buyer,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<StreamResponse, ProblemResponse> {
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::StatusPerAccount,
            buyer.0,
        )
        .await?;
        let first = self.0.queue.status(buyer.0, token.as_deref()).await?;
        let token = token.0.0.unwrap_or_default();
        let changes = place_changes(self.0.clone(), buyer.0, token, first);
        Ok(StreamResponse::Stream(
            super::sse::framed(self.0.clone(), changes),
            "no".to_owned(),
            "no-cache".to_owned(),
        ))
    }

    /// Leave the waiting room (or give up an ACTIVE slot)
    #[oai(path = "/api/v1/queue/tokens", method = "delete")]
    async fn leave(
        &self,
        buyer: Buyer,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<LeaveResponse, ProblemResponse> {
        self.0.queue.leave(buyer.0, token.as_deref()).await?;
        Ok(LeaveResponse::Left)
    }
}
