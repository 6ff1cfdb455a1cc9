//! A venue layout: how a schedule's seats `1..=N` sit in sections and rows,
//! and what each costs.
//!
//! Seat numbers stay the schedule's `1..=N` (holds, seat maps and streams
//! know nothing else); a layout assigns them **in order**: the first
//! section's first row left to right, then its next row, then the next
//! section. Each row has a price tier (its own, or its section's). Geometry
//! is in seat units (a seat is 1 wide, a row 1 deep): a section's top-left
//! corner is `(x, y)`, each row is centred in the section's width, and a gap
//! is one empty seat's width (an aisle) that no block of seats "together"
//! spans.
//!
//! An operator writes a [`LayoutDraft`]; [`VenueLayout::parse`] checks it
//! and names the first fault ([`LayoutError`]). A schedule without a layout
//! is a numbered hall at one price: [`VenueLayout::numbered_hall`] derives it.
//!
//! ```
//! use frontrow_domain::venue::{LayoutDraft, RowDraft, SectionDraft, TierDraft, VenueLayout};
//!
//! let draft = LayoutDraft {
//!     tiers: vec![TierDraft::new("floor", "Floor", 180), TierDraft::new("balcony", "Balcony", 60)],
//!     sections: vec![
//!         SectionDraft::grid("A", "Floor A", "floor", 3, 10),
//!         SectionDraft::with_rows("B", "Balcony", Some("balcony"), vec![
//!             RowDraft::new("A", 8).with_gaps(vec![4]),
//!         ])
//!         .at(0, 5),
//!     ],
//!     stage: None,
//! };
//! let layout = VenueLayout::parse(&draft)?;
//! assert_eq!(layout.seat_count(), 38);
//! let place = layout.place(31).expect("a seat of the layout");
//! assert_eq!((place.section.id.as_str(), place.row.label.as_str(), place.seat), ("B", "A", 1));
//! assert_eq!(layout.tier_of(31).map(|t| t.price.get()), Some(60));
//! # Ok::<(), frontrow_domain::venue::LayoutError>(())
//! ```

mod best;
mod draft;
#[cfg(test)]
mod tests;

pub use best::{Block, SeatFilter};
pub use draft::{Area, LayoutDraft, RowDraft, SectionDraft, TierDraft};

use crate::points::Points;
use thiserror::Error;

/// The most price tiers of one layout.
pub const MAX_TIERS: usize = 20;
/// The most sections of one layout.
pub const MAX_SECTIONS: usize = 200;
/// The most rows of one section.
pub const MAX_ROWS_PER_SECTION: usize = 200;
/// The most seats of one row.
pub const MAX_SEATS_PER_ROW: i64 = 500;
/// The longest tier or section id (letters, digits, `-` and `_`).
pub const MAX_ID_CHARS: usize = 16;
/// The longest tier name, section name or row label, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// The largest coordinate or size, in seat units.
pub const MAX_COORDINATE: i64 = 10_000;
/// Seats per row of a numbered hall (a schedule without a layout).
pub const NUMBERED_HALL_ROW_SEATS: i64 = 20;

/// The first fault found in an operator's layout. Each names where it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LayoutError {
    /// No tiers, or more than [`MAX_TIERS`].
    #[error("a layout needs 1 to {MAX_TIERS} tiers")]
    TierCount,
    /// A tier id that is empty, too long, or not letters, digits, `-`, `_`.
    #[error("tier id {0:?} must be 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'")]
    InvalidTierId(String),
    /// Two tiers with one id.
    #[error("tier id {0:?} is used twice")]
    DuplicateTier(String),
    /// A blank or too long tier name.
    #[error("tier {0:?} needs a name of 1 to {MAX_NAME_CHARS} characters")]
    InvalidTierName(String),
    /// A price below 0 or above the catalogue's highest.
    #[error("tier {0:?} has a price outside 0 to {max}", max = crate::catalogue::MAX_PRICE)]
    InvalidPrice(String),
    /// No sections, or more than [`MAX_SECTIONS`].
    #[error("a layout needs 1 to {MAX_SECTIONS} sections")]
    SectionCount,
    /// A section id that is empty, too long, or not letters, digits, `-`, `_`.
    #[error("section id {0:?} must be 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'")]
    InvalidSectionId(String),
    /// Two sections with one id.
    #[error("section id {0:?} is used twice")]
    DuplicateSection(String),
    /// A blank or too long section name.
    #[error("section {0:?} needs a name of 1 to {MAX_NAME_CHARS} characters")]
    InvalidSectionName(String),
    /// A section or row names a tier the layout does not have.
    #[error("section {section:?} names tier {tier:?}, which the layout does not have")]
    UnknownTier {
        /// The section (of the row) that names it.
        section: String,
        /// The tier named.
        tier: String,
    },
    /// A row with no tier of its own in a section with none.
    #[error("row {row:?} of section {section:?} has no tier (give the section or the row one)")]
    NoTier {
        /// The section.
        section: String,
        /// The row's label.
        row: String,
    },
    /// Both `rows` and `rowCount`/`seatsPerRow`, neither, or only half of
    /// the shorthand.
    #[error("section {0:?} needs either rows or rowCount with seatsPerRow")]
    RowsOrGrid(String),
    /// No rows, or more than [`MAX_ROWS_PER_SECTION`].
    #[error("section {0:?} needs 1 to {MAX_ROWS_PER_SECTION} rows")]
    RowCount(String),
    /// A blank or too long row label.
    #[error("a row of section {0:?} needs a label of 1 to {MAX_NAME_CHARS} characters")]
    InvalidRowLabel(String),
    /// Two rows of a section with one label.
    #[error("row {row:?} appears twice in section {section:?}")]
    DuplicateRow {
        /// The section.
        section: String,
        /// The label used twice.
        row: String,
    },
    /// A row with no seats.
    #[error("row {row:?} of section {section:?} is empty")]
    EmptyRow {
        /// The section.
        section: String,
        /// The row's label.
        row: String,
    },
    /// A row of more than [`MAX_SEATS_PER_ROW`] seats.
    #[error("row {row:?} of section {section:?} has more than {MAX_SEATS_PER_ROW} seats")]
    RowTooLong {
        /// The section.
        section: String,
        /// The row's label.
        row: String,
    },
    /// A gap not strictly between two seats of its row, or named twice.
    #[error(
        "row {row:?} of section {section:?}: gap after seat {gap} is not between two of its seats (gaps go in increasing order)"
    )]
    InvalidGap {
        /// The section.
        section: String,
        /// The row's label.
        row: String,
        /// The gap as given: after this seat.
        gap: i64,
    },
    /// More seats in all than a schedule may have.
    #[error("the layout has more than {max} seats", max = crate::seat::MAX_SEATS_PER_SCHEDULE)]
    TooManySeats,
    /// A coordinate or size outside 0 to [`MAX_COORDINATE`], or a size
    /// smaller than the rows it must hold.
    #[error(
        "section {0:?}: x and y must be 0 to {MAX_COORDINATE}, and width and height fit its rows"
    )]
    InvalidGeometry(String),
    /// A stage outside ±[`MAX_COORDINATE`] or with no size.
    #[error(
        "the stage must lie within -{MAX_COORDINATE} to {MAX_COORDINATE} and have a width and height of 1 to {MAX_COORDINATE}"
    )]
    InvalidStage,
}

impl LayoutError {
    /// A stable name of the fault, for programs (`UNKNOWN_TIER`, ...).
    pub fn fault(&self) -> &'static str {
        match self {
            LayoutError::TierCount => "TIER_COUNT",
            LayoutError::InvalidTierId(_) => "INVALID_TIER_ID",
            LayoutError::DuplicateTier(_) => "DUPLICATE_TIER",
            LayoutError::InvalidTierName(_) => "INVALID_TIER_NAME",
            LayoutError::InvalidPrice(_) => "INVALID_PRICE",
            LayoutError::SectionCount => "SECTION_COUNT",
            LayoutError::InvalidSectionId(_) => "INVALID_SECTION_ID",
            LayoutError::DuplicateSection(_) => "DUPLICATE_SECTION",
            LayoutError::InvalidSectionName(_) => "INVALID_SECTION_NAME",
            LayoutError::UnknownTier { .. } => "UNKNOWN_TIER",
            LayoutError::NoTier { .. } => "NO_TIER",
            LayoutError::RowsOrGrid(_) => "ROWS_OR_GRID",
            LayoutError::RowCount(_) => "ROW_COUNT",
            LayoutError::InvalidRowLabel(_) => "INVALID_ROW_LABEL",
            LayoutError::DuplicateRow { .. } => "DUPLICATE_ROW",
            LayoutError::EmptyRow { .. } => "EMPTY_ROW",
            LayoutError::RowTooLong { .. } => "ROW_TOO_LONG",
            LayoutError::InvalidGap { .. } => "INVALID_GAP",
            LayoutError::TooManySeats => "TOO_MANY_SEATS",
            LayoutError::InvalidGeometry(_) => "INVALID_GEOMETRY",
            LayoutError::InvalidStage => "INVALID_STAGE",
        }
    }
}

/// A price tier: every seat of it costs `price`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tier {
    /// Unique in the layout.
    pub id: String,
    /// For people ("Floor").
    pub name: String,
    /// Points per seat.
    pub price: Points,
}

/// A row of a section: seats `first_seat ..= first_seat + seats - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// Unique in its section ("1", "AA").
    pub label: String,
    /// Index into [`VenueLayout::tiers`].
    pub tier: usize,
    /// The schedule's seat number of the row's leftmost seat.
    pub first_seat: i64,
    /// How many seats; they are labelled 1 to this, left to right.
    pub seats: i64,
    /// Aisles: a gap after each of these seats (labels), increasing.
    pub gaps: Vec<i64>,
    /// Where the leftmost seat sits, in seat units from the section's left
    /// edge (rows are centred in the section).
    pub offset: i64,
}

impl Row {
    /// The seat with this label (1-based) sits this many seat units from
    /// the row's left end: one more for each gap before it.
    pub fn column_of(&self, seat: i64) -> i64 {
        seat - 1 + self.gaps.iter().filter(|&&gap| gap < seat).count() as i64
    }

    /// Seats and gaps end to end, in seat units.
    pub fn width(&self) -> i64 {
        self.seats + self.gaps.len() as i64
    }
}

/// A block of rows drawn at `area`, its seats numbered in row order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Section {
    /// Unique in the layout ("A", "balcony-left").
    pub id: String,
    /// For people ("Floor A").
    pub name: String,
    /// Where it is drawn, in seat units; rows go top to bottom.
    pub area: Area,
    /// Front (nearest `area.y`) first.
    pub rows: Vec<Row>,
}

impl Section {
    /// The schedule's seat numbers of this section, in order.
    pub fn seat_numbers(&self) -> std::ops::RangeInclusive<i64> {
        let first = self.rows.first().map_or(1, |r| r.first_seat);
        let last = self.rows.last().map_or(0, |r| r.first_seat + r.seats - 1);
        first..=last
    }
}

/// Where a seat is, for people: "Floor A, row 3, seat 12".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatPlace<'a> {
    /// Its section.
    pub section: &'a Section,
    /// Its row.
    pub row: &'a Row,
    /// Its label in the row, 1-based.
    pub seat: i64,
    /// Its tier.
    pub tier: &'a Tier,
}

/// A checked venue layout: tiers, sections and the stage. Built only by
/// [`VenueLayout::parse`] or [`VenueLayout::numbered_hall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueLayout {
    tiers: Vec<Tier>,
    sections: Vec<Section>,
    stage: Area,
    seat_count: i64,
    /// Whether it was derived for a schedule without a layout.
    numbered: bool,
}

impl VenueLayout {
    /// The layout a schedule without one has: one section ("hall"), one
    /// tier ("standard") at `price`, rows of [`NUMBERED_HALL_ROW_SEATS`]
    /// labelled 1, 2, ... and the stage in front.
    pub fn numbered_hall(seat_count: i64, price: Points) -> VenueLayout {
        let seat_count = seat_count.max(0);
        let mut rows = Vec::new();
        let mut first = 1;
        while first <= seat_count {
            let seats = NUMBERED_HALL_ROW_SEATS.min(seat_count - first + 1);
            rows.push(Row {
                label: (rows.len() + 1).to_string(),
                tier: 0,
                first_seat: first,
                seats,
                gaps: Vec::new(),
                offset: 0,
            });
            first += seats;
        }
        let width = NUMBERED_HALL_ROW_SEATS.min(seat_count).max(1);
        let area = Area {
            x: 0,
            y: 2,
            width,
            height: rows.len().max(1) as i64,
        };
        VenueLayout {
            tiers: vec![Tier {
                id: "standard".to_owned(),
                name: "Standard".to_owned(),
                price,
            }],
            sections: vec![Section {
                id: "hall".to_owned(),
                name: "Hall".to_owned(),
                area,
                rows,
            }],
            stage: Area {
                x: 0,
                y: 0,
                width,
                height: 1,
            },
            seat_count,
            numbered: true,
        }
    }

    /// Checks an operator's draft and numbers its seats; the first fault
    /// found, named (see [`LayoutError`]).
    pub fn parse(draft: &LayoutDraft) -> Result<VenueLayout, LayoutError> {
        draft::parse(draft)
    }

    /// Whether this is the derived layout of a schedule created without
    /// one ([`VenueLayout::numbered_hall`]).
    pub fn is_numbered_hall(&self) -> bool {
        self.numbered
    }

    /// How many seats: the schedule's seat numbers run from 1 to this.
    pub fn seat_count(&self) -> i64 {
        self.seat_count
    }

    /// The tiers, as the operator listed them.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The sections, in seat-number order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Where the stage is drawn; "best" seats are nearest its centre line
    /// and its front (see [`VenueLayout::best_blocks`]).
    pub fn stage(&self) -> Area {
        self.stage
    }

    /// The lowest tier price: what a schedule's single `price` says.
    pub fn lowest_price(&self) -> Points {
        self.tiers
            .iter()
            .map(|t| t.price)
            .min()
            .unwrap_or(Points::ZERO)
    }

    /// Where seat `number` is; `None` outside `1..=seat_count`.
    pub fn place(&self, number: i64) -> Option<SeatPlace<'_>> {
        if !(1..=self.seat_count).contains(&number) {
            return None;
        }
        let section_at = self
            .sections
            .partition_point(|s| s.rows.first().is_some_and(|r| r.first_seat <= number));
        let section = self.sections.get(section_at.checked_sub(1)?)?;
        let row_at = section.rows.partition_point(|r| r.first_seat <= number);
        let row = section.rows.get(row_at.checked_sub(1)?)?;
        Some(SeatPlace {
            section,
            row,
            seat: number - row.first_seat + 1,
            tier: self.tiers.get(row.tier)?,
        })
    }

    /// The tier of seat `number`; `None` outside the layout.
    pub fn tier_of(&self, number: i64) -> Option<&Tier> {
        self.place(number).map(|p| p.tier)
    }

    /// Every seat's price, by seat number from 1: what a store writes on
    /// the seat rows when it creates the schedule.
    pub fn seat_prices(&self) -> impl Iterator<Item = Points> + '_ {
        self.sections.iter().flat_map(|s| &s.rows).flat_map(|row| {
            let price = self.tiers[row.tier].price;
            (0..row.seats).map(move |_| price)
        })
    }

    /// The layout as a draft with every row spelled out: what a store
    /// keeps, and what parses back to this same layout.
    pub fn to_draft(&self) -> LayoutDraft {
        draft::to_draft(self)
    }
}
