//! What an admitted buyer may browse: a concert's schedules with their free
//! seat counts, and a schedule's seat map. Both sit behind the queue gate so
//! the database only ever serves people the waiting room let in; being
//! read-only, both accept the gate's read lease (see `queue`).
//!
//! Every read is answered from the map this instance holds (`seat_maps`),
//! which its follower keeps within a bounded lag of the seat-change log: a
//! reader never waits for a store or another reader.
//!
//! A seat map can also be followed (the seat stream): the follower passes
//! the gate once, then reads `latest` every `FOLLOW_TICK_MS`, and asks the
//! gate again every `FOLLOW_GATE_MS` (which also keeps the follower's
//! place present).

use crate::Clock;
use crate::catalogue::{CatalogueError, CatalogueService, SeatView};
use crate::queue::{QueueError, QueueService};
use crate::seat_maps::KnownVersion;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::seat::{SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ConcertId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// A seat stream compares the live map with what it sent this often; it
/// sees another buyer's change within about this long.
pub const FOLLOW_TICK_MS: u64 = 1_000;

/// A follower is asked through the gate again this often: a buyer who is no
/// longer ACTIVE stops receiving seat changes within this long. Well under
/// half the default `--active-idle-seconds`, so a buyer watching the map
/// stays present.
pub const FOLLOW_GATE_MS: u64 = 10_000;

/// Why a seat read failed.
#[derive(Debug, Error)]
pub enum SeatingError {
    /// No such concert or schedule, or the store failed.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The queue gate refused.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// A schedule with its free seats now.
pub struct ScheduleView {
    /// The schedule.
    pub schedule: Schedule,
    /// Seats neither sold nor under a live hold.
    pub available_seats: i64,
}

/// A schedule's seats as stored, read at `at`.
pub struct SeatMap {
    /// The schedule.
    pub schedule: Schedule,
    /// Shared with the seat-map cache: the same `Arc` means the same snapshot.
    pub seats: Arc<Vec<SeatState>>,
    /// The seat-change log version this map includes.
    pub version: u64,
    /// The moment the statuses are read at.
    pub at: Timestamp,
    /// The latest hold deadline at or before `at` (see
    /// [`LiveMap::lapsed_through`](crate::seat_maps::LiveMap::lapsed_through)):
    /// with `seats` and `version`, it names what the statuses read, so a
    /// body rendered for one read serves every read with the same three.
    pub lapsed_through: Option<Timestamp>,
}

impl SeatMap {
    /// Each seat's status at `at`, by seat number.
    pub fn statuses(&self) -> impl Iterator<Item = SeatView> + '_ {
        self.seats.iter().enumerate().map(|(i, state)| SeatView {
            seat: SeatNumber::from_store(i as i64 + 1),
            status: state.status_at(self.at),
        })
    }

    /// Seats whose status differs from `before` (seat `i + 1` had
    /// `before[i]`), with their status now, in seat order.
    pub fn changed_since(&self, before: &[SeatStatus]) -> Vec<SeatView> {
        self.statuses()
            .zip(before)
            .filter(|(now, then)| now.status != **then)
            .map(|(now, _)| now)
            .collect()
    }

    /// Until when the statuses of this snapshot stay as they are now: the
    /// earliest deadline of a live hold (`None`: no hold will lapse).
    pub fn unchanged_until(&self) -> Option<Timestamp> {
        self.seats
            .iter()
            .filter_map(|state| match state {
                SeatState::Held { until, .. } if *until > self.at => Some(*until),
                _ => None,
            })
            .min()
    }
}

/// What an ACTIVE buyer browses: schedules with free-seat counts, and seat
/// maps, mostly from the live maps without a database read.
pub struct SeatingService {
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
    clock: Arc<dyn Clock>,
}

impl SeatingService {
    /// The service over the catalogue, the queue gate and the clock.
    pub fn new(
        catalogue: Arc<CatalogueService>,
        queue: Arc<QueueService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            catalogue,
            queue,
            clock,
        }
    }

    /// The concert's schedules with their free seats, for a caller whose
    /// token is ACTIVE for it (or leased for reads).
    pub async fn schedules(
        &self,
        user: UserId,
        token: Option<&str>,
        concert: i64,
    ) -> Result<Vec<ScheduleView>, SeatingError> {
        let concert = ConcertId::parse(concert).ok_or(CatalogueError::ConcertNotFound)?;
        if !self
            .catalogue
            .concert_exists(concert)
            .await
            .map_err(CatalogueError::from)?
        {
            return Err(CatalogueError::ConcertNotFound.into());
        }
        if !self.queue.has_read_lease(user, token, concert) {
            self.queue.require_active(user, token, concert).await?;
        }
        let schedules = self.catalogue.schedules(concert).await?;
        let ids: Vec<_> = schedules.iter().map(|s| s.id).collect();
        let available = self.catalogue.available_seats_of(&ids).await?;
        Ok(schedules
            .iter()
            .zip(available)
            .map(|(&schedule, available_seats)| ScheduleView {
                schedule,
                available_seats,
            })
            .collect())
    }

    /// The schedule's seat map as this instance holds it, for a caller
    /// whose token is ACTIVE for its concert (or leased for reads). With a
    /// lease no store is asked; the gate's answer carries the log's version,
    /// which tells the map's follower when it is behind.
    pub async fn seats(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
    ) -> Result<SeatMap, SeatingError> {
        let schedule = self.catalogue.schedule(schedule).await?;
        // The database is asked only after the gate let the caller in.
        let map = if self.queue.has_read_lease(user, token, schedule.concert) {
            self.catalogue.seat_map(schedule.id).await?
        } else {
            let asked_at = tokio::time::Instant::now();
            let (_, version) = self
                .queue
                .require_active_for_seats(user, token, &schedule)
                .await?;
            let known = KnownVersion { version, asked_at };
            self.catalogue.seat_map_knowing(schedule.id, known).await?
        };
        let at = self.clock.now();
        Ok(SeatMap {
            schedule,
            seats: map.seats.clone(),
            version: map.version,
            at,
            lapsed_through: map.lapsed_through(at),
        })
    }

    /// A follower's periodic gate check: still the caller's own token, for
    /// this schedule's concert, ACTIVE now.
    pub async fn still_admitted(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: &Schedule,
    ) -> Result<(), SeatingError> {
        self.queue
            .require_active(user, token, schedule.concert)
            .await?;
        Ok(())
    }

    /// The schedule's map as this instance holds it now. No gate: only for
    /// a follower that passed it (see `seats` and `still_admitted`).
    pub async fn latest(&self, schedule: &Schedule) -> Result<SeatMap, SeatingError> {
        let map = self.catalogue.seat_map(schedule.id).await?;
        let at = self.clock.now();
        Ok(SeatMap {
            schedule: *schedule,
            seats: map.seats.clone(),
            version: map.version,
            at,
            lapsed_through: map.lapsed_through(at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::points::Points;
    use frontrow_domain::{ReservationId, ScheduleId};

    fn map(seats: Vec<SeatState>, at: i64) -> SeatMap {
        SeatMap {
            schedule: Schedule {
                id: ScheduleId::from_store(1),
                concert: ConcertId::from_store(1),
                starts_at: Timestamp(0),
                seat_count: seats.len() as i64,
                price: Points::new(10).unwrap(),
            },
            seats: Arc::new(seats),
            version: 1,
            at: Timestamp(at),
            lapsed_through: None,
        }
    }

    #[test]
    fn a_follower_is_sent_only_the_seats_whose_status_changed_including_lapsed_holds() {
        let held = |until| SeatState::Held {
            reservation: ReservationId::from_store(1),
            until: Timestamp(until),
        };
        let sold = SeatState::Sold {
            reservation: ReservationId::from_store(2),
        };
        let seen = [
            SeatStatus::Available,
            SeatStatus::Held,
            SeatStatus::Available,
            SeatStatus::Held,
        ];
        // Seat 2's hold lapsed at 500 (no change logged), seat 3 was sold.
        let now = map(vec![SeatState::Available, held(500), sold, held(900)], 600);
        let changed: Vec<(i64, SeatStatus)> = now
            .changed_since(&seen)
            .into_iter()
            .map(|v| (v.seat.get(), v.status))
            .collect();
        assert_eq!(changed, [(2, SeatStatus::Available), (3, SeatStatus::Sold)]);
    }
}
