//! Concerts (public), schedules and seat maps (ACTIVE queue token).

use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use frontrow_application::seating::SeatMap;
use frontrow_domain::ScheduleId;
use frontrow_domain::Timestamp;
use frontrow_domain::seat::SeatState;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::collections::HashMap;
use std::fmt::Write;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::RwLock;

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
    /// A scheduled sale: when it opens, and when its pre-queue starts taking
    /// joins. Absent: the sale is open.
    opens_at: Option<DateTime<Utc>>,
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

#[derive(ApiResponse)]
enum SeatsResponse {
    /// Every seat, numbered from 1.
    #[oai(status = 200)]
    Ok(PreRendered<Seats>),
}

/// A JSON body rendered ahead of time, documented as `T`.
pub struct PreRendered<T>(Bytes, PhantomData<fn() -> T>);

impl<T> PreRendered<T> {
    fn new(body: Bytes) -> Self {
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
#[derive(Default)]
pub struct SeatPages(RwLock<HashMap<ScheduleId, RenderedSeats>>);

impl SeatPages {
    fn render(&self, map: &SeatMap) -> Bytes {
        let reusable = self.0.read().ok().and_then(|pages| {
            pages
                .get(&map.schedule.id)
                .filter(|page| Arc::ptr_eq(&page.seats, &map.seats))
                .filter(|page| page.unchanged_until.is_none_or(|until| map.at < until))
                .map(|page| page.body.clone())
        });
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
        if let Ok(mut pages) = self.0.write() {
            let page = RenderedSeats {
                seats: map.seats.clone(),
                unchanged_until: map.unchanged_until(),
                body: body.clone(),
            };
            pages.insert(map.schedule.id, page);
        }
        body
    }
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
                    opens_at: c.opening.map(|o| datetime(o.opens_at())),
                    pre_queue_from: c.opening.map(|o| datetime(o.pre_queue_from())),
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
    ) -> Result<SeatsResponse, ProblemResponse> {
        let map = self
            .0
            .seating
            .seats(buyer.0, token.0.as_deref(), schedule_id.0)
            .await?;
        Ok(SeatsResponse::Ok(PreRendered::new(
            self.0.seat_pages.render(&map),
        )))
    }
}
