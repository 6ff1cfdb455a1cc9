//! Concerts (public), schedules and seat maps (ACTIVE queue token), and a
//! seat map followed live as Server-Sent Events.

use super::limits::QueueTokenHeader;
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use frontrow_application::cache::BoundedMap;
use frontrow_application::catalogue::CatalogueError;
use frontrow_application::queue::QueueError;
use frontrow_application::seating::{FOLLOW_GATE_MS, FOLLOW_TICK_MS, SeatMap, SeatingError};
use frontrow_application::streams::SeatFollower;
use frontrow_domain::seat::{SeatState, SeatStatus};
use frontrow_domain::{ScheduleId, Timestamp, UserId};
use futures_util::stream::{self, BoxStream, StreamExt};
use poem::{IntoResponse, Response};
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Payload;
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::fmt::Write;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// The concerts, schedules and seat-map routes.
pub struct CatalogueApi(pub Arc<AppState>);

pub(super) fn datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.millis()).unwrap_or_default()
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ConcertBody {
    concert_id: i64,
    title: String,
    /// When each of its performances starts, earliest first.
    dates: Vec<DateTime<Utc>>,
    /// Seats over all performances.
    total_seats: i64,
    /// Seats nobody holds or bought now.
    available_seats: i64,
    /// Every seat is sold: the sale is over.
    sold_out: bool,
    /// A scheduled sale: when it opens, and when its pre-queue starts taking
    /// joins. null: the sale is open.
    #[oai(nullable)]
    opens_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pre_queue_from: Option<DateTime<Utc>>,
}

#[derive(Object)]
struct Concerts {
    concerts: Vec<ConcertBody>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ScheduleBody {
    schedule_id: i64,
    starts_at: DateTime<Utc>,
    seat_count: i64,
    /// The lowest price of a seat (with several tiers, see `tiers`).
    price: i64,
    available_seats: i64,
    /// Each price tier of the schedule's layout with its price and free
    /// seats (one tier for a schedule created without a layout).
    tiers: Vec<super::venues::TierAvailability>,
}

#[derive(Object)]
struct Schedules {
    schedules: Vec<ScheduleBody>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SeatBody {
    seat_number: i64,
    price: i64,
    /// AVAILABLE, HELD or SOLD.
    status: String,
}

#[derive(Object)]
struct Seats {
    seats: Vec<SeatBody>,
}

/// One seat's status in a seat event.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
struct SeatStatusBody {
    seat_number: i64,
    /// AVAILABLE, HELD or SOLD.
    status: String,
}

/// An event of the seat stream.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
struct SeatsEvent {
    /// The seat-change log version the map is at after this event.
    version: i64,
    /// true: `seats` holds every seat (the first event); false: only the
    /// seats whose status changed since the previous event.
    snapshot: bool,
    seats: Vec<SeatStatusBody>,
}

#[derive(ApiResponse)]
enum SeatStreamResponse {
    /// `text/event-stream`: every seat at once, then each change of status
    /// (another buyer's hold, cancel or payment on any instance, or a hold
    /// that lapsed). Reconnecting is safe: the first event is a snapshot. A
    /// `retry:` field comes first and, when the instance shuts down, last:
    /// reconnect after that many milliseconds.
    #[oai(status = 200)]
    Stream(
        EventStream<BoxStream<'static, super::sse::Frame<SeatsEvent>>>,
        /// `no`: tells nginx not to buffer the stream.
        #[oai(header = "X-Accel-Buffering")]
        String,
        #[oai(header = "Cache-Control")] String,
    ),
}

fn seat_status(seat: i64, status: SeatStatus) -> SeatStatusBody {
    SeatStatusBody {
        seat_number: seat,
        status: status.as_str().to_owned(),
    }
}

/// The seat map `first` as a snapshot, then its changes: each tick reads
/// the instance's newest map of the schedule (shared by every follower, see
/// `SeatingService::latest`) and sends what `SeatFollower` finds changed.
/// The follower passes the gate again every `FOLLOW_GATE_MS`; when it no
/// longer does, or a store fails, the stream ends (logged with the id of
/// the request that opened it), and a reconnect hears the reason as a
/// problem.
fn seat_changes(
    state: Arc<AppState>,
    user: UserId,
    token: Option<String>,
    first: SeatMap,
) -> BoxStream<'static, SeatsEvent> {
    let snapshot = SeatsEvent {
        version: first.version as i64,
        snapshot: true,
        seats: first
            .statuses()
            .map(|v| seat_status(v.seat.get(), v.status))
            .collect(),
    };
    let request = super::request_id::current().unwrap_or_default();
    let schedule = first.schedule;
    let tick = Duration::from_millis(FOLLOW_TICK_MS);
    let gate_every = Duration::from_millis(FOLLOW_GATE_MS);
    let start = (
        SeatFollower::new(&first),
        tokio::time::Instant::now() + gate_every,
    );
    let later = stream::unfold(Some(start), move |follower| {
        let (state, token, request) = (state.clone(), token.clone(), request.clone());
        async move {
            let (mut follower, mut gate_due) = follower?;
            let ends = |error: SeatingError| {
                match &error {
                    SeatingError::Catalogue(CatalogueError::Store(_))
                    | SeatingError::Queue(QueueError::Store(_)) => {
                        tracing::warn!(%error, request = %request, "the seat stream ends: a store failed")
                    }
                    _ => tracing::info!(%error, request = %request, "the seat stream ends"),
                }
                None
            };
            loop {
                tokio::time::sleep(tick).await;
                // A draining instance ends its streams; the client
                // reconnects through the load balancer to another one.
                if state.is_draining() {
                    return None;
                }
                if tokio::time::Instant::now() >= gate_due {
                    let gate = state
                        .seating
                        .still_admitted(user, token.as_deref(), &schedule);
                    if let Err(error) = gate.await {
                        return ends(error);
                    }
                    gate_due = tokio::time::Instant::now() + gate_every;
                }
                let map = match state.seating.latest(&schedule).await {
                    Ok(map) => map,
                    Err(error) => return ends(error),
                };
                if let Some(changes) = follower.next(&map) {
                    let event = SeatsEvent {
                        version: changes.version as i64,
                        snapshot: false,
                        seats: changes
                            .seats
                            .iter()
                            .map(|v| seat_status(v.seat.get(), v.status))
                            .collect(),
                    };
                    return Some((event, Some((follower, gate_due))));
                }
            }
        }
    });
    stream::once(async move { snapshot }).chain(later).boxed()
}

#[derive(ApiResponse)]
enum SeatsResponse {
    /// Every seat, numbered from 1.
    #[oai(status = 200)]
    Ok(PreRendered<Seats>),
}

/// A JSON body rendered ahead of time, documented as `T`.
pub struct PreRendered<T>(Bytes, PhantomData<fn() -> T>);

impl<T> PreRendered<T> {
    pub(super) fn new(body: Bytes) -> Self {
        Self(body, PhantomData)
    }
}

impl<T: Type> Payload for PreRendered<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for PreRendered<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(self.0)
    }
}

struct RenderedSeats {
    seats: Arc<Vec<SeatState>>,
    unchanged_until: Option<Timestamp>,
    body: Bytes,
}

/// Rendered seat-map bodies, reused while they are the same snapshot (the
/// seat-map cache hands out the same `Arc` until a seat changes) and no hold
/// in them has lapsed. Rendering 500 seats costs far more than serving bytes.
pub struct SeatPages(BoundedMap<ScheduleId, RenderedSeats>);

impl Default for SeatPages {
    fn default() -> Self {
        Self(BoundedMap::new(frontrow_application::seat_maps::MAX_MAPS))
    }
}

impl SeatPages {
    fn render(&self, map: &SeatMap) -> Bytes {
        let reusable = self
            .0
            .read(&map.schedule.id, |page| {
                (Arc::ptr_eq(&page.seats, &map.seats)
                    && page.unchanged_until.is_none_or(|until| map.at < until))
                .then(|| page.body.clone())
            })
            .flatten();
        if let Some(body) = reusable {
            return body;
        }
        let price = map.schedule.price.get();
        let mut body = String::with_capacity(16 + map.seats.len() * 52);
        body.push_str("{\"seats\":[");
        for (i, seat) in map.statuses().enumerate() {
            if i > 0 {
                body.push(',');
            }
            let _ = write!(
                body,
                "{{\"seatNumber\":{},\"price\":{price},\"status\":\"{}\"}}",
                seat.seat.get(),
                seat.status.as_str()
            );
        }
        body.push_str("]}");
        let body = Bytes::from(body);
        let page = RenderedSeats {
            seats: map.seats.clone(),
            unchanged_until: map.unchanged_until(),
            body: body.clone(),
        };
        self.0.insert(map.schedule.id, page, |_, _| false);
        body
    }
}

#[OpenApi(tag = "Tag::Concerts")]
impl CatalogueApi {
    /// Every concert, with its dates and what is left to sell
    #[oai(path = "/api/v1/concerts", method = "get")]
    async fn concerts(&self) -> Result<Json<Concerts>, ProblemResponse> {
        let concerts = self.0.catalogue.concerts_on_sale().await?;
        Ok(Json(Concerts {
            concerts: concerts
                .into_iter()
                .map(|(concert, schedules, seats)| {
                    let mut dates: Vec<_> = schedules.iter().map(|s| s.starts_at).collect();
                    dates.sort();
                    let total = seats.available + seats.held + seats.sold;
                    ConcertBody {
                        concert_id: concert.id.get(),
                        title: concert.title,
                        dates: dates.into_iter().map(datetime).collect(),
                        total_seats: total,
                        available_seats: seats.available,
                        sold_out: total > 0 && seats.sold == total,
                        opens_at: concert.opening.map(|o| datetime(o.opens_at())),
                        pre_queue_from: concert.opening.map(|o| datetime(o.pre_queue_from())),
                    }
                })
                .collect(),
        }))
    }

    /// A concert's schedules with their free seats (ACTIVE queue token)
    #[oai(path = "/api/v1/concerts/:concert_id/schedules", method = "get")]
    async fn schedules(
        &self,
        buyer: Buyer,
        concert_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<Json<Schedules>, ProblemResponse> {
        let views = self
            .0
            .seating
            .schedules(buyer.0, token.as_deref(), concert_id.0)
            .await?;
        let schedules: Vec<_> = views.iter().map(|v| v.schedule).collect();
        let now = self.0.reservations.now();
        let tallies = self.0.venues.tallies(&schedules, now).await?;
        Ok(Json(Schedules {
            schedules: views
                .into_iter()
                .zip(tallies)
                .map(|(v, (layout, tally))| ScheduleBody {
                    schedule_id: v.schedule.id.get(),
                    starts_at: datetime(v.schedule.starts_at),
                    seat_count: v.schedule.seat_count,
                    price: v.schedule.price.get(),
                    available_seats: v.available_seats,
                    tiers: super::venues::tier_availability(&layout, &tally),
                })
                .collect(),
        }))
    }

    /// Every seat of a schedule with its status (ACTIVE queue token)
    #[oai(path = "/api/v1/schedules/:schedule_id/seats", method = "get")]
    async fn seats(
        &self,
        buyer: Buyer,
        schedule_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<SeatsResponse, ProblemResponse> {
        let map = self
            .0
            .seating
            .seats(buyer.0, token.as_deref(), schedule_id.0)
            .await?;
        Ok(SeatsResponse::Ok(PreRendered::new(
            self.0.seat_pages.render(&map),
        )))
    }

    /// Follow a schedule's seat map as it changes (Server-Sent Events)
    ///
    /// The same headers as the seat map (ACTIVE queue token). Sends every
    /// seat at once, then each change of status within about a second,
    /// from any instance, with a heartbeat comment every 15 s. Ends when the
    /// caller is no longer ACTIVE (checked every 10 s; a reconnect then gets
    /// the reason as a problem).
    #[oai(path = "/api/v1/schedules/:schedule_id/seats/stream", method = "get")]
    async fn seats_stream(
        &self,
        buyer: Buyer,
        schedule_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<SeatStreamResponse, ProblemResponse> {
        let first = self
            .0
            .seating
            .seats(buyer.0, token.as_deref(), schedule_id.0)
            .await?;
        let changes = seat_changes(self.0.clone(), buyer.0, token.0.0, first);
        Ok(SeatStreamResponse::Stream(
            super::sse::framed(self.0.clone(), changes),
            "no".to_owned(),
            "no-cache".to_owned(),
        ))
    }
}
