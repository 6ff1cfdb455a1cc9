//! Concerts (public), schedules and seat maps (ACTIVE queue token).

use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use chrono::{DateTime, Utc};
use frontrow_domain::Timestamp;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

pub struct CatalogueApi(pub Arc<AppState>);

pub(super) fn datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.millis()).unwrap_or_default()
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ConcertBody {
    concert_id: i64,
    title: String,
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
    price: i64,
    available_seats: i64,
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

#[OpenApi(tag = "Tag::Concerts")]
impl CatalogueApi {
    /// Every concert
    #[oai(path = "/api/v1/concerts", method = "get")]
    async fn concerts(&self) -> Result<Json<Concerts>, ProblemResponse> {
        let concerts = self.0.catalogue.concerts().await?;
        Ok(Json(Concerts {
            concerts: concerts
                .into_iter()
                .map(|c| ConcertBody {
                    concert_id: c.id.get(),
                    title: c.title,
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
        #[oai(name = "X-Queue-Token")] token: Header<Option<String>>,
    ) -> Result<Json<Schedules>, ProblemResponse> {
        let views = self
            .0
            .seating
            .schedules(buyer.0, token.0.as_deref(), concert_id.0)
            .await?;
        Ok(Json(Schedules {
            schedules: views
                .into_iter()
                .map(|v| ScheduleBody {
                    schedule_id: v.schedule.id.get(),
                    starts_at: datetime(v.schedule.starts_at),
                    seat_count: v.schedule.seat_count,
                    price: v.schedule.price.get(),
                    available_seats: v.available_seats,
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
        #[oai(name = "X-Queue-Token")] token: Header<Option<String>>,
    ) -> Result<Json<Seats>, ProblemResponse> {
        let (schedule, seats) = self
            .0
            .seating
            .seats(buyer.0, token.0.as_deref(), schedule_id.0)
            .await?;
        let price = schedule.price.get();
        Ok(Json(Seats {
            seats: seats
                .into_iter()
                .map(|s| SeatBody {
                    seat_number: s.seat.get(),
                    price,
                    status: s.status.as_str().to_owned(),
                })
                .collect(),
        }))
    }
}
