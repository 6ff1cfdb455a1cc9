//! Best available: the best block of adjacent free seats in one row, held
//! for the caller in one all-or-nothing hold.
//!
//! The venue rule (`frontrow_domain::venue::best`) ranks the blocks of the
//! live map; the database decides the hold ([`ReservationService::hold_together`],
//! with the hold's own gate, limit and cover checks). Two things keep
//! concurrent buyers from asking the database for the same seats: an
//! in-process claim set (the seats another request on this instance is
//! holding right now are skipped), and on a lost race (another instance,
//! or a map read just before another hold landed) the next block is tried
//! on a fresh map, a bounded number of times. Neither is a guarantee: only
//! the hold is.

use crate::Clock;
use crate::catalogue::CatalogueService;
use crate::reservations::{ReservationError, ReservationService};
use crate::seating::SeatingError;
use crate::venues::{Availability, VenueService};
use frontrow_domain::Timestamp;
use frontrow_domain::UserId;
use frontrow_domain::reservation::Reservation;
use frontrow_domain::seat::{SeatState, SeatStatus};
use frontrow_domain::venue::SeatFilter;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use thiserror::Error;

/// How many blocks one request asks the database for before it gives up
/// with [`ReservationError::SeatUnavailable`]: each lost race is a block
/// someone else took between the map read and the hold.
pub const MAX_ATTEMPTS: usize = 5;

/// Why best available held nothing.
#[derive(Debug, Error)]
pub enum BestAvailableError {
    /// `quantity` is not 1 to the per-buyer limit.
    #[error("quantity must be 1 to {max}")]
    InvalidQuantity {
        /// The per-buyer limit.
        max: u32,
    },
    /// The layout has no tier with the id asked for.
    #[error("this schedule has no such tier")]
    TierNotFound,
    /// The layout has no section with the id asked for.
    #[error("this schedule has no such section")]
    SectionNotFound,
    /// No `quantity` free seats are side by side in one row where asked.
    #[error("no {quantity} seats together are free there")]
    NoAdjacentSeats {
        /// How many were asked for.
        quantity: i64,
        /// The best free seats that are not together (fewer than asked
        /// when that few are left, none when sold out), not held.
        split: Vec<i64>,
    },
    /// The seat gate or the catalogue refused or failed.
    #[error(transparent)]
    Seating(#[from] SeatingError),
    /// The hold refused (limit, cover, gate) or failed.
    #[error(transparent)]
    Hold(#[from] ReservationError),
}

/// What a buyer asks for: `quantity` seats together, in a tier and/or a
/// section (ids of the schedule's layout).
#[derive(Debug, Clone, Copy)]
pub struct SeatsWanted<'a> {
    /// 1 to the per-buyer limit.
    pub quantity: i64,
    /// Where.
    pub filter: SeatFilter<'a>,
}

/// Picks and holds the best seats together.
pub struct BestAvailableService {
    venues: VenueService,
    reservations: Arc<ReservationService>,
    catalogue: Arc<CatalogueService>,
    clock: Arc<dyn Clock>,
    claims: Claims,
}

impl BestAvailableService {
    /// The service over the venue reads (gate, layout, live map), the holds
    /// and the catalogue's live maps (read again after a lost race).
    pub fn new(
        venues: VenueService,
        reservations: Arc<ReservationService>,
        catalogue: Arc<CatalogueService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            venues,
            reservations,
            catalogue,
            clock,
            claims: Claims::default(),
        }
    }

    /// Holds the best block of `wanted.quantity` adjacent free seats of the
    /// schedule for the caller, as one cart (ascending seat order). In
    /// order: the quantity, the gate (ACTIVE token) and the filter's tier
    /// and section are checked; then up to [`MAX_ATTEMPTS`] blocks, best
    /// first, are held with `hold_together`. No block at all is
    /// [`BestAvailableError::NoAdjacentSeats`] with the best split.
    #[tracing::instrument(skip(self, token, wanted), fields(user = %user))]
    pub async fn take(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
        wanted: SeatsWanted<'_>,
    ) -> Result<Vec<Reservation>, BestAvailableError> {
        let max = self.reservations.seats_per_user().0;
        if !(1..=i64::from(max)).contains(&wanted.quantity) {
            return Err(BestAvailableError::InvalidQuantity { max });
        }
        let Availability { layout, map } = self.venues.availability(user, token, schedule).await?;
        let filter = wanted.filter;
        if !layout.knows(&SeatFilter {
            tier: filter.tier,
            section: None,
        }) {
            return Err(BestAvailableError::TierNotFound);
        }
        if !layout.knows(&SeatFilter {
            tier: None,
            section: filter.section,
        }) {
            return Err(BestAvailableError::SectionNotFound);
        }
        let schedule = map.schedule.id;
        let (mut seats, mut at) = (map.seats, map.at);
        // Seats of blocks this request lost: the map may not show them
        // taken yet.
        let mut lost = HashSet::new();
        for _ in 0..MAX_ATTEMPTS {
            let claim = self.claims.best(schedule.get(), |claimed| {
                let free = |n: i64| !lost.contains(&n) && !claimed(n) && free_at(&seats, n, at);
                match layout.best_blocks(wanted.quantity, &filter, free).first() {
                    Some(block) => Ok(block.seats().collect()),
                    None => Err(layout.best_split(wanted.quantity, &filter, free)),
                }
            });
            let claim = match claim {
                Ok(claim) => claim,
                Err(split) => {
                    return Err(BestAvailableError::NoAdjacentSeats {
                        quantity: wanted.quantity,
                        split,
                    });
                }
            };
            match self
                .reservations
                .hold_together(user, token, schedule.get(), &claim.seats)
                .await
            {
                Ok(held) => return Ok(held),
                Err(ReservationError::SeatUnavailable) => {
                    lost.extend(claim.seats.iter().copied());
                    drop(claim);
                    let live = self
                        .catalogue
                        .seat_map(schedule)
                        .await
                        .map_err(SeatingError::from)?;
                    (seats, at) = (live.seats.clone(), self.clock.now());
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(ReservationError::SeatUnavailable.into())
    }
}

fn free_at(seats: &[SeatState], number: i64, at: Timestamp) -> bool {
    seats
        .get((number - 1) as usize)
        .is_some_and(|s| s.status_at(at) == SeatStatus::Available)
}

/// The seats (schedule id, seat number) requests on this instance are
/// holding right now, so concurrent requests pick different blocks rather
/// than race each other to the database.
#[derive(Default)]
struct Claims(Mutex<HashSet<(i64, i64)>>);

/// Seats claimed until dropped.
struct Claim<'a> {
    claims: &'a Claims,
    schedule: i64,
    seats: Vec<i64>,
}

impl Claims {
    /// Under the claim set's lock: `pick` chooses seats, told which are
    /// claimed, and they are claimed; or it says why not.
    fn best<E>(
        &self,
        schedule: i64,
        pick: impl FnOnce(&dyn Fn(i64) -> bool) -> Result<Vec<i64>, E>,
    ) -> Result<Claim<'_>, E> {
        let mut claimed = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let seats = pick(&|n| claimed.contains(&(schedule, n)))?;
        claimed.extend(seats.iter().map(|&n| (schedule, n)));
        Ok(Claim {
            claims: self,
            schedule,
            seats,
        })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut claimed = self.claims.0.lock().unwrap_or_else(PoisonError::into_inner);
        for &n in &self.seats {
            claimed.remove(&(self.schedule, n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_seat_is_skipped_until_its_claim_is_dropped() {
        let claims = Claims::default();
        let first = claims
            .best::<()>(1, |claimed| {
                Ok((1..=4).filter(|&n| !claimed(n)).take(2).collect())
            })
            .unwrap();
        assert_eq!(first.seats, [1, 2]);
        let second = claims
            .best::<()>(1, |claimed| {
                Ok((1..=4).filter(|&n| !claimed(n)).take(2).collect())
            })
            .unwrap();
        assert_eq!(second.seats, [3, 4], "seats 1 and 2 are claimed");
        let other_schedule = claims
            .best::<()>(2, |claimed| {
                Ok((1..=4).filter(|&n| !claimed(n)).take(2).collect())
            })
            .unwrap();
        assert_eq!(other_schedule.seats, [1, 2]);
        drop(first);
        let again = claims
            .best::<()>(1, |claimed| {
                Ok((1..=4).filter(|&n| !claimed(n)).take(2).collect())
            })
            .unwrap();
        assert_eq!(again.seats, [1, 2], "the first claim was let go");
    }
}
