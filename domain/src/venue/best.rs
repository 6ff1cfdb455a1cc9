//! Best available: the free blocks of adjacent seats, best first.
//!
//! A block is `quantity` free seats next to each other in one row, with no
//! gap (aisle) inside it. Its score is how far its centre is from the
//! stage, in half seat units: the horizontal distance from the stage's
//! centre line, plus twice the distance from the stage's nearest edge
//! (usually its front) to the row's centre line. Lower is better: a row
//! nearer the stage is worth two seats nearer the centre line. Equal
//! scores go to the lower seat number (the left one, the front section).

use super::{Row, Section, VenueLayout};
use std::ops::RangeInclusive;

/// Where a buyer will sit: in this tier and/or this section (ids).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatFilter<'a> {
    /// Only rows of this tier.
    pub tier: Option<&'a str>,
    /// Only rows of this section.
    pub section: Option<&'a str>,
}

/// `quantity` adjacent seats of one row, from `first_seat` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The leftmost seat's number.
    pub first_seat: i64,
    /// How many seats.
    pub quantity: i64,
    /// Distance from the stage (see the module doc); lower is better.
    pub score: i64,
}

impl Block {
    /// The block's seat numbers, left to right.
    pub fn seats(&self) -> RangeInclusive<i64> {
        self.first_seat..=self.first_seat + self.quantity - 1
    }
}

impl VenueLayout {
    /// Every block of `quantity` adjacent seats for which `free` holds,
    /// in rows the filter allows, best first (see the module doc).
    /// Overlapping blocks are all listed: a caller that loses the first to
    /// another buyer tries the next.
    pub fn best_blocks(
        &self,
        quantity: i64,
        filter: &SeatFilter<'_>,
        free: impl Fn(i64) -> bool,
    ) -> Vec<Block> {
        let mut blocks = Vec::new();
        if quantity < 1 {
            return blocks;
        }
        for (section, index, row) in self.rows_allowed(filter) {
            let mut run_from = None;
            for label in 1..=row.seats {
                if !free(row.first_seat + label - 1) {
                    run_from = None;
                    continue;
                }
                let from = *run_from.get_or_insert(label);
                if label - from + 1 >= quantity {
                    let first = label - quantity + 1;
                    blocks.push(Block {
                        first_seat: row.first_seat + first - 1,
                        quantity,
                        score: self.score(section, index, row, first, label),
                    });
                }
                if row.gaps.binary_search(&label).is_ok() {
                    run_from = None;
                }
            }
        }
        blocks.sort_unstable_by_key(|b| (b.score, b.first_seat));
        blocks
    }

    /// The best `quantity` single free seats the filter allows (fewer if
    /// there are not that many), by seat number: what to offer when no
    /// block of `quantity` is left together.
    pub fn best_split(
        &self,
        quantity: i64,
        filter: &SeatFilter<'_>,
        free: impl Fn(i64) -> bool,
    ) -> Vec<i64> {
        let mut seats: Vec<i64> = self
            .best_blocks(1, filter, free)
            .into_iter()
            .take(quantity.max(0) as usize)
            .map(|b| b.first_seat)
            .collect();
        seats.sort_unstable();
        seats
    }

    /// Whether the filter names only tiers and sections of this layout.
    pub fn knows(&self, filter: &SeatFilter<'_>) -> bool {
        let tier = filter
            .tier
            .is_none_or(|id| self.tiers.iter().any(|t| t.id == id));
        let section = filter
            .section
            .is_none_or(|id| self.sections.iter().any(|s| s.id == id));
        tier && section
    }

    fn rows_allowed<'a>(
        &'a self,
        filter: &'a SeatFilter<'_>,
    ) -> impl Iterator<Item = (&'a Section, usize, &'a Row)> + 'a {
        self.sections
            .iter()
            .filter(|s| filter.section.is_none_or(|id| s.id == id))
            .flat_map(|s| s.rows.iter().enumerate().map(move |(i, r)| (s, i, r)))
            .filter(|(_, _, r)| filter.tier.is_none_or(|id| self.tiers[r.tier].id == id))
    }

    /// The score of seats `first..=last` (labels) of `row`, the `index`th
    /// row of `section`.
    fn score(&self, section: &Section, index: usize, row: &Row, first: i64, last: i64) -> i64 {
        let left = section.area.x + row.offset;
        let centre_x2 = 2 * left + row.column_of(first) + row.column_of(last) + 1;
        let stage_x2 = 2 * self.stage.x + self.stage.width;
        let centre_y2 = 2 * (section.area.y + index as i64) + 1;
        let (top2, bottom2) = (2 * self.stage.y, 2 * (self.stage.y + self.stage.height));
        let depth2 = if centre_y2 > bottom2 {
            centre_y2 - bottom2
        } else if centre_y2 < top2 {
            top2 - centre_y2
        } else {
            0
        };
        (centre_x2 - stage_x2).abs() + 2 * depth2
    }
}
