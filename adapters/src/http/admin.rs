//! Operators: create concerts, set and watch a waiting room and its seats.

use super::catalogue::datetime;
use super::problem::ProblemResponse;
use super::security::Operator;
use super::{AppState, Tag};
use chrono::{DateTime, Utc};
use frontrow_application::queue::RoomStats;
use frontrow_domain::Timestamp;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct AdminApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewSchedule {
    starts_at: DateTime<Utc>,
    /// 1 to 10,000 seats, numbered from 1.
    seat_count: i64,
    /// Points per seat, 0 to 1,000,000.
    price: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewConcert {
    title: String,
    schedules: Vec<NewSchedule>,
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
    capacity: i64,
    /// Most admissions per second, 1 to 100,000.
    admit_per_second: i64,
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
    /// What is left to sell, as the room knows it from seat changes; absent
    /// for a concert created before the room counted seats.
    stock: Option<StockState>,
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
    })
}

#[OpenApi(tag = "Tag::Admin")]
impl AdminApi {
    /// Create a concert with its schedules and seats
    #[oai(path = "/api/v1/admin/concerts", method = "post")]
    async fn create_concert(
        &self,
        _operator: Operator,
        body: Json<NewConcert>,
    ) -> Result<CreateConcertResponse, ProblemResponse> {
        let schedules: Vec<_> = body
            .schedules
            .iter()
            .map(|s| {
                (
                    Timestamp(s.starts_at.timestamp_millis()),
                    s.seat_count,
                    s.price,
                )
            })
            .collect();
        let (concert, schedules) = self
            .0
            .catalogue
            .create_concert(&body.title, &schedules)
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
                body.capacity,
                body.admit_per_second,
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

    /// Watch a concert's waiting room
    #[oai(path = "/api/v1/admin/concerts/:concert_id/queue", method = "get")]
    async fn get_queue(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
    ) -> Result<Json<QueueState>, ProblemResponse> {
        Ok(queue_state(self.0.queue.stats(concert_id.0).await?))
    }
}
