//! The operator's compact form of a layout, and its checks.

use super::{
    LayoutError, MAX_COORDINATE, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_ROWS_PER_SECTION,
    MAX_SEATS_PER_ROW, MAX_SECTIONS, MAX_TIERS, Row, Section, Tier, VenueLayout,
};
use crate::catalogue::MAX_PRICE;
use crate::points::Points;
use crate::seat::MAX_SEATS_PER_SCHEDULE;
use std::collections::HashSet;

/// A rectangle in seat units: `(x, y)` is its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Area {
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// Across.
    pub width: i64,
    /// Down.
    pub height: i64,
}

/// A layout as an operator writes it (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct LayoutDraft {
    /// 1 to [`MAX_TIERS`] price tiers.
    pub tiers: Vec<TierDraft>,
    /// 1 to [`MAX_SECTIONS`] sections, in seat-number order.
    pub sections: Vec<SectionDraft>,
    /// Where the stage is; `None`: a strip across the top of the sections.
    #[cfg_attr(feature = "serde", serde(default))]
    pub stage: Option<Area>,
}

/// A price tier as an operator writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TierDraft {
    /// 1 to [`MAX_ID_CHARS`] letters, digits, `-` or `_`; unique.
    pub id: String,
    /// 1 to [`MAX_NAME_CHARS`] characters that show.
    pub name: String,
    /// Points per seat, 0 to the catalogue's highest price.
    pub price: i64,
}

impl TierDraft {
    /// A tier from its parts.
    pub fn new(id: &str, name: &str, price: i64) -> TierDraft {
        TierDraft {
            id: id.to_owned(),
            name: name.to_owned(),
            price,
        }
    }
}

/// A section as an operator writes it: either `rows` one by one, or the
/// shorthand `row_count` × `seats_per_row` (rows labelled 1, 2, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct SectionDraft {
    /// 1 to [`MAX_ID_CHARS`] letters, digits, `-` or `_`; unique.
    pub id: String,
    /// 1 to [`MAX_NAME_CHARS`] characters that show.
    pub name: String,
    /// The tier of every row that names none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tier: Option<String>,
    /// Left edge, 0 to [`MAX_COORDINATE`] seat units.
    #[cfg_attr(feature = "serde", serde(default))]
    pub x: i64,
    /// Top edge, 0 to [`MAX_COORDINATE`] seat units.
    #[cfg_attr(feature = "serde", serde(default))]
    pub y: i64,
    /// At least its widest row; `None`: exactly that.
    #[cfg_attr(feature = "serde", serde(default))]
    pub width: Option<i64>,
    /// At least its row count; `None`: exactly that.
    #[cfg_attr(feature = "serde", serde(default))]
    pub height: Option<i64>,
    /// Front row first.
    #[cfg_attr(feature = "serde", serde(default))]
    pub rows: Vec<RowDraft>,
    /// The shorthand: this many rows...
    #[cfg_attr(feature = "serde", serde(default))]
    pub row_count: Option<i64>,
    /// ...of this many seats each.
    #[cfg_attr(feature = "serde", serde(default))]
    pub seats_per_row: Option<i64>,
}

impl SectionDraft {
    /// A section of `row_count` rows of `seats_per_row` seats in `tier`,
    /// at (0, 0).
    pub fn grid(
        id: &str,
        name: &str,
        tier: &str,
        row_count: i64,
        seats_per_row: i64,
    ) -> SectionDraft {
        SectionDraft {
            id: id.to_owned(),
            name: name.to_owned(),
            tier: Some(tier.to_owned()),
            x: 0,
            y: 0,
            width: None,
            height: None,
            rows: Vec::new(),
            row_count: Some(row_count),
            seats_per_row: Some(seats_per_row),
        }
    }

    /// A section of the rows given, at (0, 0); `tier` for rows naming none.
    pub fn with_rows(id: &str, name: &str, tier: Option<&str>, rows: Vec<RowDraft>) -> Self {
        SectionDraft {
            id: id.to_owned(),
            name: name.to_owned(),
            tier: tier.map(str::to_owned),
            x: 0,
            y: 0,
            width: None,
            height: None,
            rows,
            row_count: None,
            seats_per_row: None,
        }
    }

    /// The same section with its top-left corner at `(x, y)`.
    pub fn at(self, x: i64, y: i64) -> SectionDraft {
        SectionDraft { x, y, ..self }
    }
}

/// A row as an operator writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RowDraft {
    /// 1 to [`MAX_NAME_CHARS`] characters that show; unique in the section.
    pub label: String,
    /// 1 to [`MAX_SEATS_PER_ROW`].
    pub seats: i64,
    /// An aisle after each of these seats, increasing, each between two
    /// seats of the row.
    #[cfg_attr(feature = "serde", serde(default))]
    pub gaps: Vec<i64>,
    /// The row's own tier; `None`: its section's.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tier: Option<String>,
}

impl RowDraft {
    /// A row of `seats` seats, no gaps, in its section's tier.
    pub fn new(label: &str, seats: i64) -> RowDraft {
        RowDraft {
            label: label.to_owned(),
            seats,
            gaps: Vec::new(),
            tier: None,
        }
    }

    /// The same row with aisles after these seats.
    pub fn with_gaps(self, gaps: Vec<i64>) -> RowDraft {
        RowDraft { gaps, ..self }
    }

    /// The same row in its own tier.
    pub fn in_tier(self, tier: &str) -> RowDraft {
        RowDraft {
            tier: Some(tier.to_owned()),
            ..self
        }
    }
}

fn valid_id(raw: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn name(raw: &str) -> Option<String> {
    crate::text::visible_text(raw, MAX_NAME_CHARS).map(str::to_owned)
}

fn coordinate(value: i64) -> bool {
    (0..=MAX_COORDINATE).contains(&value)
}

pub(super) fn parse(draft: &LayoutDraft) -> Result<VenueLayout, LayoutError> {
    let tiers = tiers(&draft.tiers)?;
    if draft.sections.is_empty() || draft.sections.len() > MAX_SECTIONS {
        return Err(LayoutError::SectionCount);
    }
    let mut ids = HashSet::new();
    let mut sections = Vec::with_capacity(draft.sections.len());
    let mut next_seat = 1;
    for raw in &draft.sections {
        if !valid_id(&raw.id) {
            return Err(LayoutError::InvalidSectionId(raw.id.clone()));
        }
        if !ids.insert(raw.id.as_str()) {
            return Err(LayoutError::DuplicateSection(raw.id.clone()));
        }
        let section = section(raw, &tiers, &mut next_seat)?;
        sections.push(section);
    }
    let stage = match draft.stage {
        Some(stage) => {
            let near = |v: i64| (-MAX_COORDINATE..=MAX_COORDINATE).contains(&v);
            let inside = near(stage.x) && near(stage.y);
            let sized = (1..=MAX_COORDINATE).contains(&stage.width)
                && (1..=MAX_COORDINATE).contains(&stage.height);
            if !(inside && sized) {
                return Err(LayoutError::InvalidStage);
            }
            stage
        }
        None => stage_above(&sections),
    };
    Ok(VenueLayout {
        tiers,
        sections,
        stage,
        seat_count: next_seat - 1,
        numbered: false,
    })
}

fn tiers(drafts: &[TierDraft]) -> Result<Vec<Tier>, LayoutError> {
    if drafts.is_empty() || drafts.len() > MAX_TIERS {
        return Err(LayoutError::TierCount);
    }
    let mut tiers: Vec<Tier> = Vec::with_capacity(drafts.len());
    for raw in drafts {
        if !valid_id(&raw.id) {
            return Err(LayoutError::InvalidTierId(raw.id.clone()));
        }
        if tiers.iter().any(|t| t.id == raw.id) {
            return Err(LayoutError::DuplicateTier(raw.id.clone()));
        }
        let name = name(&raw.name).ok_or_else(|| LayoutError::InvalidTierName(raw.id.clone()))?;
        let price = Points::new(raw.price)
            .filter(|p| p.get() <= MAX_PRICE)
            .ok_or_else(|| LayoutError::InvalidPrice(raw.id.clone()))?;
        tiers.push(Tier {
            id: raw.id.clone(),
            name,
            price,
        });
    }
    Ok(tiers)
}

/// The rows as written, or the shorthand's rows labelled 1, 2, ...
fn rows_of(raw: &SectionDraft) -> Result<Vec<RowDraft>, LayoutError> {
    let grid = (raw.row_count, raw.seats_per_row);
    match (raw.rows.is_empty(), grid) {
        (false, (None, None)) => Ok(raw.rows.clone()),
        (true, (Some(count), Some(seats))) => {
            if !(1..=MAX_ROWS_PER_SECTION as i64).contains(&count) {
                return Err(LayoutError::RowCount(raw.id.clone()));
            }
            Ok((1..=count)
                .map(|n| RowDraft::new(&n.to_string(), seats))
                .collect())
        }
        _ => Err(LayoutError::RowsOrGrid(raw.id.clone())),
    }
}

fn section(
    raw: &SectionDraft,
    tiers: &[Tier],
    next_seat: &mut i64,
) -> Result<Section, LayoutError> {
    let section_name =
        name(&raw.name).ok_or_else(|| LayoutError::InvalidSectionName(raw.id.clone()))?;
    let drafts = rows_of(raw)?;
    if drafts.is_empty() || drafts.len() > MAX_ROWS_PER_SECTION {
        return Err(LayoutError::RowCount(raw.id.clone()));
    }
    let tier_index = |tier: &str| {
        tiers
            .iter()
            .position(|t| t.id == tier)
            .ok_or_else(|| LayoutError::UnknownTier {
                section: raw.id.clone(),
                tier: tier.to_owned(),
            })
    };
    let section_tier = raw.tier.as_deref().map(tier_index).transpose()?;
    let mut labels = HashSet::new();
    let mut rows = Vec::with_capacity(drafts.len());
    for draft in &drafts {
        let label =
            name(&draft.label).ok_or_else(|| LayoutError::InvalidRowLabel(raw.id.clone()))?;
        let at = |make: fn(String, String) -> LayoutError| make(raw.id.clone(), label.clone());
        if !labels.insert(label.clone()) {
            return Err(at(|section, row| LayoutError::DuplicateRow {
                section,
                row,
            }));
        }
        if draft.seats < 1 {
            return Err(at(|section, row| LayoutError::EmptyRow { section, row }));
        }
        if draft.seats > MAX_SEATS_PER_ROW {
            return Err(at(|section, row| LayoutError::RowTooLong { section, row }));
        }
        let mut previous = 0;
        for &gap in &draft.gaps {
            if gap <= previous || gap >= draft.seats {
                return Err(LayoutError::InvalidGap {
                    section: raw.id.clone(),
                    row: label,
                    gap,
                });
            }
            previous = gap;
        }
        let tier = match draft.tier.as_deref() {
            Some(tier) => tier_index(tier)?,
            None => section_tier
                .ok_or_else(|| at(|section, row| LayoutError::NoTier { section, row }))?,
        };
        if *next_seat - 1 + draft.seats > MAX_SEATS_PER_SCHEDULE {
            return Err(LayoutError::TooManySeats);
        }
        rows.push(Row {
            label,
            tier,
            first_seat: *next_seat,
            seats: draft.seats,
            gaps: draft.gaps.clone(),
            offset: 0,
        });
        *next_seat += draft.seats;
    }
    let widest = rows.iter().map(Row::width).max().unwrap_or(1);
    let width = raw.width.unwrap_or(widest);
    let height = raw.height.unwrap_or(rows.len() as i64);
    let fits = width >= widest && height >= rows.len() as i64;
    let inside = [raw.x, raw.y, width, height].into_iter().all(coordinate);
    if !(fits && inside) {
        return Err(LayoutError::InvalidGeometry(raw.id.clone()));
    }
    for row in &mut rows {
        row.offset = (width - row.width()) / 2;
    }
    Ok(Section {
        id: raw.id.clone(),
        name: section_name,
        area: Area {
            x: raw.x,
            y: raw.y,
            width,
            height,
        },
        rows,
    })
}

/// A stage the operator did not place: one unit deep, across the whole
/// width of the sections, one unit above the topmost.
fn stage_above(sections: &[Section]) -> Area {
    let left = sections.iter().map(|s| s.area.x).min().unwrap_or(0);
    let right = sections
        .iter()
        .map(|s| s.area.x + s.area.width)
        .max()
        .unwrap_or(1);
    let top = sections.iter().map(|s| s.area.y).min().unwrap_or(0);
    Area {
        x: left,
        y: top - 2,
        width: (right - left).max(1),
        height: 1,
    }
}

pub(super) fn to_draft(layout: &VenueLayout) -> LayoutDraft {
    LayoutDraft {
        tiers: layout
            .tiers
            .iter()
            .map(|t| TierDraft::new(&t.id, &t.name, t.price.get()))
            .collect(),
        sections: layout
            .sections
            .iter()
            .map(|s| SectionDraft {
                id: s.id.clone(),
                name: s.name.clone(),
                tier: None,
                x: s.area.x,
                y: s.area.y,
                width: Some(s.area.width),
                height: Some(s.area.height),
                rows: s
                    .rows
                    .iter()
                    .map(|r| RowDraft {
                        label: r.label.clone(),
                        seats: r.seats,
                        gaps: r.gaps.clone(),
                        tier: Some(layout.tiers[r.tier].id.clone()),
                    })
                    .collect(),
                row_count: None,
                seats_per_row: None,
            })
            .collect(),
        stage: Some(layout.stage),
    }
}
