//! Operators: create concerts, set and watch a waiting room and its seats.

use super::catalogue::datetime;
use super::limits::{IdempotencyKeyHeader, Int, Items};
use super::problem::ProblemResponse;
use super::security::Operator;
use super::venues::LayoutInput;
use super::{AppState, Tag};
use chrono::{DateTime, Utc};
use frontrow_application::catalogue::{CatalogueError, ScheduleRequest};
use frontrow_application::queue::{QueueError, RoomStats};
use frontrow_application::room_history::RoomSample;
use frontrow_domain::Timestamp;
use frontrow_domain::catalogue::{MAX_PRICE, MAX_SCHEDULES_PER_CONCERT, MAX_TITLE_CHARS};
use frontrow_domain::ids::ConcertId;
use frontrow_domain::queue::{
    DEFAULT_PRE_QUEUE_MINUTES, MAX_ADMIT_PER_SECOND, MAX_CAPACITY, MAX_PRE_QUEUE_MINUTES,
    QueueRuleError, SaleOpening,
};
use frontrow_domain::seat::MAX_SEATS_PER_SCHEDULE;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct AdminApi(pub Arc<AppState>);

/// A performance: numbered seats at one price (`seatCount` and `price`),
/// or a venue `layout` whose tiers price each seat (and then neither).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewSchedule {
    starts_at: DateTime<Utc>,
    /// 1 to 10,000 seats, numbered from 1; absent with a layout.
    #[oai(nullable)]
    seat_count: Option<Int<1, MAX_SEATS_PER_SCHEDULE>>,
    /// Points per seat, 0 to 1,000,000; absent with a layout.
    #[oai(nullable)]
    price: Option<Int<0, MAX_PRICE>>,
    /// Sections, rows and price tiers (see `GET
    /// /api/v1/schedules/{id}/layout` for what it becomes).
    #[oai(nullable)]
    layout: Option<LayoutInput>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewConcert {
    /// 1 to 200 characters, at least one of which shows.
    title: super::text::Text<MAX_TITLE_CHARS>,
    /// 1 to 50 performances.
    schedules: Items<NewSchedule, 1, MAX_SCHEDULES_PER_CONCERT>,
    /// A scheduled sale: buyers may join a pre-queue from `preQueueMinutes`
    /// before this moment, are placed in random order at it, and admission
    /// starts then. Absent or null: the sale is open at once.
    #[oai(nullable)]
    opens_at: Option<DateTime<Utc>>,
    /// 0 to 1,440; 30 if absent.
    #[oai(nullable)]
    pre_queue_minutes: Option<Minutes>,
}

/// Minutes of pre-queue, as documented.
type Minutes = Int<0, MAX_PRE_QUEUE_MINUTES>;

/// A scheduled sale's opening; `opensAt: null` opens the sale now.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SaleOpeningBody {
    #[oai(nullable)]
    opens_at: Option<DateTime<Utc>>,
    /// 0 to 1,440; 30 if absent.
    #[oai(nullable)]
    pre_queue_minutes: Option<Minutes>,
}

/// The opening as the domain takes it; bad minutes are a 400, also beside
/// no opening (where they mean nothing, but the document says 0 to 1,440;
/// schemathesis found -1 accepted there).
fn opening(
    opens_at: Option<DateTime<Utc>>,
    minutes: Option<Minutes>,
) -> Result<Option<SaleOpening>, QueueRuleError> {
    let minutes = minutes.map_or(DEFAULT_PRE_QUEUE_MINUTES, |m| m.0);
    let at = opens_at.map_or(0, |at| at.timestamp_millis());
    let opening = SaleOpening::new(Timestamp(at), minutes)?;
    Ok(opens_at.is_some().then_some(opening))
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CreatedSchedule {
    schedule_id: i64,
    starts_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CreatedConcert {
    concert_id: i64,
    schedules: Vec<CreatedSchedule>,
}

#[derive(ApiResponse)]
enum CreateConcertResponse {
    #[oai(status = 201)]
    Created(Json<CreatedConcert>),
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct QueuePolicy {
    /// Most users ACTIVE at once, 1 to 1,000,000.
    capacity: Int<1, MAX_CAPACITY>,
    /// Most admissions per second, 1 to 100,000.
    admit_per_second: Int<1, MAX_ADMIT_PER_SECOND>,
    /// A paused room admits nobody; waiting users keep their places.
    paused: bool,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct QueueState {
    waiting: i64,
    active: i64,
    /// Places admitted so far: a counter, so admissions per minute are the
    /// difference of two readings a minute apart.
    admitted: i64,
    capacity: i64,
    admit_per_second: i64,
    paused: bool,
    /// What is left to sell, as the room knows it from seat changes;
    /// null for a concert created before the room counted seats.
    #[oai(nullable)]
    stock: Option<StockState>,
    /// Places that ended unused: waiting places skipped because their
    /// holder stopped asking, and ACTIVE places that ran out or idled.
    lapsed: i64,
    /// How long the first buyer in line has waited, in seconds.
    longest_wait_seconds: i64,
    /// A scheduled sale's opening, and when its pre-queue starts (null
    /// when the sale is open).
    #[oai(nullable)]
    opens_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pre_queue_from: Option<DateTime<Utc>>,
}

/// One reading of a room, for the console's chart.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RoomSampleBody {
    at: DateTime<Utc>,
    waiting: i64,
    active: i64,
    admitted: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RoomHistoryBody {
    /// Oldest first: at most one per 1.5 s, the last 5 minutes of reads this
    /// instance served (see docs/architecture.md, "In-memory state").
    samples: Vec<RoomSampleBody>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StockState {
    total: i64,
    available: i64,
    /// Held now; these seats return if their holds lapse.
    held: i64,
    sold: i64,
    /// Nothing AVAILABLE: admission waits for a seat to return.
    sold_out: bool,
    /// Every seat sold: the room is closed for good.
    closed: bool,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ScheduleSeats {
    schedule_id: i64,
    starts_at: DateTime<Utc>,
    seat_count: i64,
    price: i64,
    available: i64,
    /// Held now; these seats return if their holds lapse.
    held: i64,
    sold: i64,
}

#[derive(Object)]
struct ConcertSeats {
    schedules: Vec<ScheduleSeats>,
}

fn queue_state(stats: RoomStats) -> Json<QueueState> {
    Json(QueueState {
        waiting: stats.waiting,
        active: stats.active,
        admitted: stats.admitted,
        capacity: stats.policy.capacity(),
        admit_per_second: stats.policy.admit_per_second(),
        paused: stats.policy.paused(),
        stock: stats.stock.map(|stock| StockState {
            total: stock.total,
            available: stock.available(),
            held: stock.held,
            sold: stock.sold,
            sold_out: stock.sold_out(),
            closed: stock.closed(),
        }),
        lapsed: stats.lapsed,
        longest_wait_seconds: stats.longest_wait_ms / 1000,
        opens_at: stats.opening.map(|o| datetime(o.opens_at())),
        pre_queue_from: stats.opening.map(|o| datetime(o.pre_queue_from())),
    })
}

#[OpenApi(tag = "Tag::Admin")]
impl AdminApi {
    /// Create a concert with its schedules and seats
    ///
    /// With an `Idempotency-Key`, a retry (say after a timeout or a 503)
    /// answers the concert the first call made instead of making another;
    /// the same key with a different concert is 422 `IDEMPOTENCY_KEY_REUSED`.
    /// Buyers find the concert only once its waiting room knows its opening.
    #[oai(path = "/api/v1/admin/concerts", method = "post")]
    async fn create_concert(
        &self,
        _operator: Operator,
        body: Json<NewConcert>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<IdempotencyKeyHeader>>,
    ) -> Result<CreateConcertResponse, ProblemResponse> {
        let schedules: Vec<_> = body
            .schedules
            .0
            .iter()
            .map(|s| ScheduleRequest {
                starts_at: Timestamp(s.starts_at.timestamp_millis()),
                seat_count: s.seat_count.map(|n| n.0),
                price: s.price.map(|p| p.0),
                layout: s.layout.as_ref().map(LayoutInput::draft),
            })
            .collect();
        let opening = opening(body.opens_at, body.pre_queue_minutes)
            .map_err(CatalogueError::InvalidOpening)?;
        let (concert, schedules) = self
            .0
            .sales
            .create_concert(
                &body.title,
                &schedules,
                opening,
                key.0.as_ref().map(|k| k.0.as_str()),
            )
            .await?;
        Ok(CreateConcertResponse::Created(Json(CreatedConcert {
            concert_id: concert.get(),
            schedules: schedules
                .iter()
                .map(|s| CreatedSchedule {
                    schedule_id: s.id.get(),
                    starts_at: datetime(s.starts_at),
                })
                .collect(),
        })))
    }

    /// Set a concert's admission capacity, rate and pause
    #[oai(path = "/api/v1/admin/concerts/:concert_id/queue", method = "put")]
    async fn set_queue(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
        body: Json<QueuePolicy>,
    ) -> Result<Json<QueueState>, ProblemResponse> {
        let stats = self
            .0
            .queue
            .set_policy(
                concert_id.0,
                body.capacity.0,
                body.admit_per_second.0,
                body.paused,
            )
            .await?;
        Ok(queue_state(stats))
    }

    /// Seats available, held and sold in each of a concert's schedules
    #[oai(path = "/api/v1/admin/concerts/:concert_id/seats", method = "get")]
    async fn seats(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
    ) -> Result<Json<ConcertSeats>, ProblemResponse> {
        let counts = self.0.catalogue.seat_counts(concert_id.0).await?;
        Ok(Json(ConcertSeats {
            schedules: counts
                .iter()
                .map(|(schedule, seats)| ScheduleSeats {
                    schedule_id: schedule.id.get(),
                    starts_at: datetime(schedule.starts_at),
                    seat_count: schedule.seat_count,
                    price: schedule.price.get(),
                    available: seats.available,
                    held: seats.held,
                    sold: seats.sold,
                })
                .collect(),
        }))
    }

    /// Schedule a sale's opening (or, with `opensAt: null`, open it now)
    #[oai(path = "/api/v1/admin/concerts/:concert_id/opening", method = "put")]
    async fn set_opening(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
        body: Json<SaleOpeningBody>,
    ) -> Result<Json<QueueState>, ProblemResponse> {
        let opening = opening(body.opens_at, body.pre_queue_minutes).map_err(QueueError::from)?;
        let stats = self.0.sales.schedule_sale(concert_id.0, opening).await?;
        Ok(queue_state(stats))
    }

    /// Watch a concert's waiting room
    #[oai(path = "/api/v1/admin/concerts/:concert_id/queue", method = "get")]
    async fn get_queue(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
    ) -> Result<Json<QueueState>, ProblemResponse> {
        let stats = self.0.queue.stats(concert_id.0).await?;
        // Each read is a sample of the chart's history (kept at most one
        // per 1.5 s, so more consoles add little).
        self.0.room_history.record(
            concert_id.0,
            RoomSample {
                at: self.0.reservations.now(),
                waiting: stats.waiting,
                active: stats.active,
                admitted: stats.admitted,
            },
        );
        Ok(queue_state(stats))
    }

    /// A room's recent readings, for the console's chart after a reload
    #[oai(
        path = "/api/v1/admin/concerts/:concert_id/queue/history",
        method = "get"
    )]
    async fn queue_history(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
    ) -> Result<Json<RoomHistoryBody>, ProblemResponse> {
        let concert = ConcertId::parse(concert_id.0).ok_or(CatalogueError::ConcertNotFound)?;
        let exists = self.0.catalogue.concert_exists(concert).await;
        if !exists.map_err(CatalogueError::from)? {
            return Err(CatalogueError::ConcertNotFound.into());
        }
        let samples = self.0.room_history.samples(concert_id.0);
        Ok(Json(RoomHistoryBody {
            samples: samples
                .into_iter()
                .map(|s| RoomSampleBody {
                    at: datetime(s.at),
                    waiting: s.waiting,
                    active: s.active,
                    admitted: s.admitted,
                })
                .collect(),
        }))
    }
}
