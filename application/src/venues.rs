//! Venues: a schedule's layout (sections, rows, tiers), and how much of it
//! is free, by section and by tier.
//!
//! Counts come from the live seat maps this instance keeps (see
//! `seat_maps`), read through the seating gate or the catalogue, never from
//! the database per request. A count is one pass over the map's seats
//! (10,000 at most, about as long as serialising a few of them), so it is
//! not cached.

use crate::Clock;
use crate::StoreError;
use crate::catalogue::{CatalogueError, CatalogueService};
use crate::queue::QueueService;
use crate::seating::{SeatMap, SeatingError, SeatingService};
use frontrow_domain::ScheduleId;
use frontrow_domain::Timestamp;
use frontrow_domain::UserId;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::points::Points;
use frontrow_domain::seat::{SeatState, SeatStatus};
use frontrow_domain::venue::{Section, VenueLayout};
use std::ops::RangeInclusive;
use std::sync::Arc;

/// Seats of a part of a venue (a section or a tier) and how many are free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    /// Every seat of it.
    pub seats: i64,
    /// Neither sold nor under a live hold.
    pub available: i64,
}

/// A schedule's free seats by section and by tier, in the layout's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// One per section of the layout.
    pub sections: Vec<SectionTally>,
    /// One per tier of the layout.
    pub tiers: Vec<Count>,
}

/// One section's seats, free seats and prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionTally {
    /// Seats and free seats.
    pub count: Count,
    /// Its cheapest tier's price.
    pub lowest_price: Points,
    /// Its dearest tier's price.
    pub highest_price: Points,
}

impl Tally {
    /// Counts `seats` (seat `n` is `seats[n - 1]`) as they stand at `at`,
    /// by the layout's sections and tiers.
    pub fn of(layout: &VenueLayout, seats: &[SeatState], at: Timestamp) -> Tally {
        let mut tiers = vec![Count::default(); layout.tiers().len()];
        let sections = layout
            .sections()
            .iter()
            .map(|section| {
                let mut count = Count::default();
                let mut prices = Vec::new();
                for row in &section.rows {
                    let free = (row.first_seat..row.first_seat + row.seats)
                        .filter(|&n| {
                            seats
                                .get(n as usize - 1)
                                .is_some_and(|s| s.status_at(at) == SeatStatus::Available)
                        })
                        .count() as i64;
                    count.seats += row.seats;
                    count.available += free;
                    tiers[row.tier].seats += row.seats;
                    tiers[row.tier].available += free;
                    prices.push(layout.tiers()[row.tier].price);
                }
                SectionTally {
                    count,
                    lowest_price: prices.iter().copied().min().unwrap_or(Points::ZERO),
                    highest_price: prices.iter().copied().max().unwrap_or(Points::ZERO),
                }
            })
            .collect();
        Tally { sections, tiers }
    }
}

/// One letter per seat of `numbers`, in order: `A` available, `H` held,
/// `S` sold. A section of 10,000 seats is 10,000 bytes, the compact form
/// of a seat map's status (the layout says which seat each letter is).
pub fn status_letters(map: &SeatMap, numbers: RangeInclusive<i64>) -> String {
    numbers
        .map(|n| {
            let state = map.seats.get(n as usize - 1).copied();
            match state.map(|s| s.status_at(map.at)) {
                Some(SeatStatus::Available) => 'A',
                Some(SeatStatus::Held) => 'H',
                Some(SeatStatus::Sold) | None => 'S',
            }
        })
        .collect()
}

/// A schedule's layout with its seat map, read through the gate.
pub struct Availability {
    /// Where each seat is and what it costs.
    pub layout: Arc<VenueLayout>,
    /// Every seat's state, at the version the gate read.
    pub map: SeatMap,
}

impl Availability {
    /// Free seats by section and tier.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.layout, &self.map.seats, self.map.at)
    }

    /// The sections asked for: all of them, or the one with this id
    /// ([`CatalogueError::SectionNotFound`] when the layout has none).
    pub fn sections(&self, id: Option<&str>) -> Result<Vec<&Section>, CatalogueError> {
        let sections = self.layout.sections();
        match id {
            None => Ok(sections.iter().collect()),
            Some(id) => sections
                .iter()
                .find(|s| s.id == id)
                .map(|s| vec![s])
                .ok_or(CatalogueError::SectionNotFound),
        }
    }
}

/// Layouts and availability by section and tier.
pub struct VenueService {
    catalogue: Arc<CatalogueService>,
    /// The seat map behind its gate, read as buyers read it.
    seating: SeatingService,
}

impl VenueService {
    /// The service over the catalogue (layouts, live maps), the queue gate
    /// and the clock.
    pub fn new(
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            seating: SeatingService::new(catalogue.clone(), queue, clock),
            catalogue,
        }
    }

    /// A schedule and its layout: public, since a layout never changes
    /// and says nothing about who bought what.
    pub async fn layout(
        &self,
        schedule: i64,
    ) -> Result<(Schedule, Arc<VenueLayout>), CatalogueError> {
        let schedule = self.catalogue.schedule(schedule).await?;
        let layout = self.catalogue.layout(&schedule).await?;
        Ok((schedule, layout))
    }

    /// The schedule's layout and live seat map, for a caller the gate lets
    /// read seats: `SeatingService::seats` itself (an ACTIVE
    /// token for the concert, or its read lease), asked before the
    /// database.
    pub async fn availability(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
    ) -> Result<Availability, SeatingError> {
        let map = self.seating.seats(user, token, schedule).await?;
        let layout = self
            .catalogue
            .layout(&map.schedule)
            .await
            .map_err(CatalogueError::from)?;
        Ok(Availability { layout, map })
    }

    /// Each schedule's layout and free seats by section and tier, now (for
    /// the schedules list; the caller has passed the gate). One version
    /// read for all of them.
    pub async fn tallies(
        &self,
        schedules: &[Schedule],
        at: Timestamp,
    ) -> Result<Vec<(Arc<VenueLayout>, Tally)>, CatalogueError> {
        let ids: Vec<ScheduleId> = schedules.iter().map(|s| s.id).collect();
        let maps = self.catalogue.maps_of(&ids).await?;
        let mut tallies = Vec::with_capacity(schedules.len());
        for (schedule, map) in schedules.iter().zip(maps) {
            let layout = self.catalogue.layout(schedule).await?;
            let tally = Tally::of(&layout, &map.seats, at);
            tallies.push((layout, tally));
        }
        Ok(tallies)
    }

    /// A layout a store may fail to read.
    pub async fn layout_of(&self, schedule: &Schedule) -> Result<Arc<VenueLayout>, StoreError> {
        self.catalogue.layout(schedule).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::ReservationId;
    use frontrow_domain::venue::{LayoutDraft, SectionDraft, TierDraft};

    #[test]
    fn free_seats_are_counted_by_section_and_tier_and_lapsed_holds_are_free() {
        let layout = VenueLayout::parse(&LayoutDraft {
            tiers: vec![
                TierDraft::new("floor", "Floor", 100),
                TierDraft::new("balcony", "Balcony", 40),
            ],
            sections: vec![
                SectionDraft::grid("A", "Floor", "floor", 1, 3),
                SectionDraft::grid("B", "Balcony", "balcony", 1, 2).at(0, 3),
            ],
            stage: None,
        })
        .unwrap();
        let held = |until| SeatState::Held {
            reservation: ReservationId::from_store(1),
            until: Timestamp(until),
        };
        let sold = SeatState::Sold {
            reservation: ReservationId::from_store(2),
        };
        let seats = [
            SeatState::Available,
            held(900),
            sold,
            held(100),
            SeatState::Available,
        ];
        let tally = Tally::of(&layout, &seats, Timestamp(500));
        let counts: Vec<(i64, i64)> = tally
            .sections
            .iter()
            .map(|s| (s.count.seats, s.count.available))
            .collect();
        assert_eq!(counts, [(3, 1), (2, 2)], "seat 4's hold lapsed at 100");
        assert_eq!(
            tally.tiers,
            [
                Count {
                    seats: 3,
                    available: 1
                },
                Count {
                    seats: 2,
                    available: 2
                }
            ]
        );
        assert_eq!(tally.sections[1].lowest_price.get(), 40);
    }
}
