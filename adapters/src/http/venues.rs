//! Venues: a schedule's layout (public, immutable, cacheable with an
//! `ETag`), its availability by section and tier, and its seats' status
//! as one letter per seat, by section (ACTIVE queue token).
//!
//! The layout objects an operator sends with a new schedule live here too
//! (`LayoutInput`), beside the layout a buyer reads back (`LayoutBody`).

use super::limits::QueueTokenHeader;
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use bytes::Bytes;
use frontrow_application::cache::BoundedMap;
use frontrow_application::venues::{Count, Tally};
use frontrow_domain::ScheduleId;
use frontrow_domain::venue::{Area, LayoutDraft, RowDraft, SectionDraft, TierDraft, VenueLayout};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The layout, overview and status routes.
pub struct VenuesApi(pub Arc<AppState>);

/// A rectangle in seat units (a seat is 1 wide, a row 1 deep); `x`, `y`
/// is its top-left corner.
#[derive(Object, Clone, Copy)]
pub(super) struct AreaBody {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
}

impl From<Area> for AreaBody {
    fn from(a: Area) -> Self {
        AreaBody {
            x: a.x,
            y: a.y,
            width: a.width,
            height: a.height,
        }
    }
}

/// A venue layout as an operator writes it: price tiers, then sections in
/// seat-number order. Seats are numbered 1, 2, ... through the first
/// section's rows (front first, left to right), then the next section.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct LayoutInput {
    /// 1 to 20 tiers.
    tiers: Vec<TierInput>,
    /// 1 to 200 sections; 10,000 seats in all at most.
    sections: Vec<SectionInput>,
    /// Where the stage is; absent: a strip across the top of the sections.
    #[oai(nullable)]
    stage: Option<AreaBody>,
}

/// A price tier.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct TierInput {
    /// 1 to 16 letters, digits, `-` or `_`; unique.
    id: String,
    /// 1 to 60 characters.
    name: String,
    /// Points per seat, 0 to 1,000,000.
    price: i64,
}

/// A section: `rows` one by one, or `rowCount` × `seatsPerRow` (rows
/// labelled 1, 2, ...).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct SectionInput {
    /// 1 to 16 letters, digits, `-` or `_`; unique.
    id: String,
    /// 1 to 60 characters.
    name: String,
    /// The tier of each row that names none.
    #[oai(nullable)]
    tier: Option<String>,
    /// Left edge in seat units, 0 to 10,000 (default 0).
    #[oai(nullable)]
    x: Option<i64>,
    /// Top edge in seat units, 0 to 10,000 (default 0).
    #[oai(nullable)]
    y: Option<i64>,
    /// At least the widest row (seats and gaps); absent: exactly that.
    #[oai(nullable)]
    width: Option<i64>,
    /// At least the row count; absent: exactly that.
    #[oai(nullable)]
    height: Option<i64>,
    /// Front row first, 1 to 200.
    #[oai(nullable)]
    rows: Option<Vec<RowInput>>,
    /// The shorthand: this many rows (1 to 200)...
    #[oai(nullable)]
    row_count: Option<i64>,
    /// ...of this many seats each (1 to 500).
    #[oai(nullable)]
    seats_per_row: Option<i64>,
}

/// A row of seats labelled 1 to `seats`, left to right.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct RowInput {
    /// 1 to 60 characters; unique in its section.
    label: String,
    /// 1 to 500.
    seats: i64,
    /// An aisle after each of these seats, increasing; a block of seats
    /// together never spans one.
    #[oai(nullable)]
    gaps: Option<Vec<i64>>,
    /// The row's own tier; absent: its section's.
    #[oai(nullable)]
    tier: Option<String>,
}

impl LayoutInput {
    /// The domain's draft, unchecked: `VenueLayout::parse` decides.
    pub(super) fn draft(&self) -> LayoutDraft {
        LayoutDraft {
            tiers: self
                .tiers
                .iter()
                .map(|t| TierDraft::new(&t.id, &t.name, t.price))
                .collect(),
            sections: self
                .sections
                .iter()
                .map(|s| SectionDraft {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.clone(),
                    x: s.x.unwrap_or(0),
                    y: s.y.unwrap_or(0),
                    width: s.width,
                    height: s.height,
                    rows: s
                        .rows
                        .iter()
                        .flatten()
                        .map(|r| RowDraft {
                            label: r.label.clone(),
                            seats: r.seats,
                            gaps: r.gaps.clone().unwrap_or_default(),
                            tier: r.tier.clone(),
                        })
                        .collect(),
                    row_count: s.row_count,
                    seats_per_row: s.seats_per_row,
                })
                .collect(),
            stage: self.stage.map(|a| Area {
                x: a.x,
                y: a.y,
                width: a.width,
                height: a.height,
            }),
        }
    }
}

/// A price tier of a layout.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TierBody {
    tier_id: String,
    name: String,
    /// Points per seat.
    price: i64,
}

/// A row: seats `firstSeat` to `firstSeat + seats - 1`, labelled 1 to
/// `seats` left to right.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct RowBody {
    label: String,
    tier_id: String,
    first_seat: i64,
    seats: i64,
    /// An aisle (one seat wide) after each of these seat labels.
    gaps: Vec<i64>,
    /// Seat units from the section's left edge to the row's first seat
    /// (rows are centred in their section).
    offset: i64,
}

/// A section, drawn at its area; rows top to bottom from its top edge.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SectionBody {
    section_id: String,
    name: String,
    area: AreaBody,
    first_seat: i64,
    seat_count: i64,
    rows: Vec<RowBody>,
}

/// Where every seat of a schedule sits and what it costs. Never changes.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct LayoutBody {
    schedule_id: i64,
    /// Seats are numbered 1 to this.
    seat_count: i64,
    /// true: the schedule was created without a layout; this one (rows of
    /// 20 in one section, one tier) is derived from its seats and price.
    numbered_hall: bool,
    stage: AreaBody,
    tiers: Vec<TierBody>,
    /// In seat-number order.
    sections: Vec<SectionBody>,
}

fn layout_body(schedule: ScheduleId, layout: &VenueLayout) -> LayoutBody {
    let tier_id = |i: usize| layout.tiers()[i].id.clone();
    LayoutBody {
        schedule_id: schedule.get(),
        seat_count: layout.seat_count(),
        numbered_hall: layout.is_numbered_hall(),
        stage: layout.stage().into(),
        tiers: layout
            .tiers()
            .iter()
            .map(|t| TierBody {
                tier_id: t.id.clone(),
                name: t.name.clone(),
                price: t.price.get(),
            })
            .collect(),
        sections: layout
            .sections()
            .iter()
            .map(|s| {
                let numbers = s.seat_numbers();
                SectionBody {
                    section_id: s.id.clone(),
                    name: s.name.clone(),
                    area: s.area.into(),
                    first_seat: *numbers.start(),
                    seat_count: numbers.end() - numbers.start() + 1,
                    rows: s
                        .rows
                        .iter()
                        .map(|r| RowBody {
                            label: r.label.clone(),
                            tier_id: tier_id(r.tier),
                            first_seat: r.first_seat,
                            seats: r.seats,
                            gaps: r.gaps.clone(),
                            offset: r.offset,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// A tier's price and free seats.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct TierAvailability {
    tier_id: String,
    name: String,
    price: i64,
    seat_count: i64,
    available_seats: i64,
}

/// Each tier of `layout` with its count.
pub(super) fn tier_availability(layout: &VenueLayout, tally: &Tally) -> Vec<TierAvailability> {
    layout
        .tiers()
        .iter()
        .zip(&tally.tiers)
        .map(|(tier, count): (_, &Count)| TierAvailability {
            tier_id: tier.id.clone(),
            name: tier.name.clone(),
            price: tier.price.get(),
            seat_count: count.seats,
            available_seats: count.available,
        })
        .collect()
}

/// A section's free seats and prices.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SectionAvailability {
    section_id: String,
    seat_count: i64,
    available_seats: i64,
    lowest_price: i64,
    highest_price: i64,
}

/// Free seats by section and by tier, from the live seat map.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct OverviewBody {
    schedule_id: i64,
    /// The seat-change log version the counts are at.
    version: i64,
    sections: Vec<SectionAvailability>,
    tiers: Vec<TierAvailability>,
}

/// One section's seats' status.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SectionStatus {
    section_id: String,
    first_seat: i64,
    /// One letter per seat of the section, in seat-number order from
    /// `firstSeat`: `A` available, `H` held, `S` sold.
    status: String,
}

/// Seats' status, compact: a letter per seat, by section.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StatusBody {
    schedule_id: i64,
    /// The seat-change log version the status is at.
    version: i64,
    sections: Vec<SectionStatus>,
}

/// How long a client or a CDN may keep a layout: it never changes.
const LAYOUT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

#[derive(ApiResponse)]
enum LayoutResponse {
    /// The layout (its `ETag` never changes: a layout is immutable).
    #[oai(status = 200)]
    Ok(
        super::catalogue::PreRendered<LayoutBody>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// `If-None-Match` named the current `ETag`: keep the copy you have.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Rendered layouts and their `ETag`s, one per schedule: rendered once,
/// since a layout never changes.
pub struct LayoutPages(BoundedMap<ScheduleId, (Bytes, String)>);

impl Default for LayoutPages {
    fn default() -> Self {
        Self(BoundedMap::new(frontrow_application::seat_maps::MAX_MAPS))
    }
}

impl LayoutPages {
    fn render(&self, schedule: ScheduleId, layout: &VenueLayout) -> (Bytes, String) {
        if let Some(page) = self.0.get(&schedule) {
            return page;
        }
        let json = layout_body(schedule, layout).to_json_string();
        let digest = Sha256::digest(json.as_bytes());
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let page = (Bytes::from(json), format!("\"{tag}\""));
        self.0.insert(schedule, page.clone(), |_, _| false);
        page
    }
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn matches(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|value| {
        value
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*")
    })
}

#[OpenApi(tag = "Tag::Concerts")]
impl VenuesApi {
    /// A schedule's venue layout: sections, rows, seat numbers and tiers
    ///
    /// Public and immutable: send the `ETag` back in `If-None-Match` and
    /// get a 304. A schedule created without a layout answers a derived
    /// one (`numberedHall: true`).
    #[oai(path = "/api/v1/schedules/:schedule_id/layout", method = "get")]
    async fn layout(
        &self,
        schedule_id: Path<i64>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<LayoutResponse, ProblemResponse> {
        let (schedule, layout) = self.0.venues.layout(schedule_id.0).await?;
        let (body, etag) = self.0.layout_pages.render(schedule.id, &layout);
        let cache = LAYOUT_CACHE_CONTROL.to_owned();
        if matches(if_none_match.0.as_deref(), &etag) {
            return Ok(LayoutResponse::NotModified(etag, cache));
        }
        Ok(LayoutResponse::Ok(
            super::catalogue::PreRendered::new(body),
            etag,
            cache,
        ))
    }

    /// Free seats by section and by tier (ACTIVE queue token)
    #[oai(path = "/api/v1/schedules/:schedule_id/overview", method = "get")]
    async fn overview(
        &self,
        buyer: Buyer,
        schedule_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<Json<OverviewBody>, ProblemResponse> {
        let seen = self
            .0
            .venues
            .availability(buyer.0, token.as_deref(), schedule_id.0)
            .await?;
        let tally = seen.tally();
        Ok(Json(OverviewBody {
            schedule_id: seen.map.schedule.id.get(),
            version: seen.map.version as i64,
            sections: seen
                .layout
                .sections()
                .iter()
                .zip(&tally.sections)
                .map(|(section, counted)| SectionAvailability {
                    section_id: section.id.clone(),
                    seat_count: counted.count.seats,
                    available_seats: counted.count.available,
                    lowest_price: counted.lowest_price.get(),
                    highest_price: counted.highest_price.get(),
                })
                .collect(),
            tiers: tier_availability(&seen.layout, &tally),
        }))
    }

    /// Every seat's status as a letter, by section (ACTIVE queue token)
    ///
    /// `section` narrows it to one section (404 `SECTION_NOT_FOUND` for
    /// an id the layout does not have). Seat `firstSeat + i` is letter `i`.
    #[oai(path = "/api/v1/schedules/:schedule_id/status", method = "get")]
    async fn status(
        &self,
        buyer: Buyer,
        schedule_id: Path<i64>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
        section: Query<Option<String>>,
    ) -> Result<Json<StatusBody>, ProblemResponse> {
        let seen = self
            .0
            .venues
            .availability(buyer.0, token.as_deref(), schedule_id.0)
            .await?;
        let sections = seen.sections(section.0.as_deref())?;
        Ok(Json(StatusBody {
            schedule_id: seen.map.schedule.id.get(),
            version: seen.map.version as i64,
            sections: sections
                .into_iter()
                .map(|s| {
                    let numbers = s.seat_numbers();
                    SectionStatus {
                        section_id: s.id.clone(),
                        first_seat: *numbers.start(),
                        status: frontrow_application::venues::status_letters(&seen.map, numbers),
                    }
                })
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag_among_others_weak_or_any() {
        assert!(matches(Some("\"abc\""), "\"abc\""));
        assert!(matches(Some("\"x\", W/\"abc\""), "\"abc\""));
        assert!(matches(Some("*"), "\"abc\""));
        assert!(!matches(Some("\"abd\""), "\"abc\""));
        assert!(!matches(None, "\"abc\""));
    }
}
