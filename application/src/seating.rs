//! What an admitted buyer may browse: a concert's schedules with their free
//! seat counts, and a schedule's seat map. Both sit behind the queue gate so
//! the database only ever serves people the waiting room let in; being
//! read-only, both accept the gate's read lease (see `queue`).

use crate::catalogue::{CatalogueError, CatalogueService, SeatView};
use crate::queue::{QueueError, QueueService};
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

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
    /// The moment the statuses are read at.
    pub at: Timestamp,
}

impl SeatMap {
    /// Each seat's status at `at`, by seat number.
    pub fn statuses(&self) -> impl Iterator<Item = SeatView> + '_ {
        self.seats.iter().enumerate().map(|(i, state)| SeatView {
            seat: SeatNumber::from_store(i as i64 + 1),
            status: state.status_at(self.at),
        })
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
}

impl SeatingService {
    /// The service over the catalogue and the queue gate.
    pub fn new(catalogue: Arc<CatalogueService>, queue: Arc<QueueService>) -> Self {
        Self { catalogue, queue }
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

    /// The schedule's seat map as of the version the gate read, for a
    /// caller whose token is ACTIVE for its concert (or leased for reads).
    pub async fn seats(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
    ) -> Result<SeatMap, SeatingError> {
        let schedule = self.catalogue.schedule(schedule).await?;
        // The database is asked only after the gate let the caller in.
        let version = if self.queue.has_read_lease(user, token, schedule.concert) {
            self.catalogue.version(schedule.id).await?
        } else {
            let (_, version) = self
                .queue
                .require_active_for_seats(user, token, &schedule)
                .await?;
            version
        };
        let map = self.catalogue.seat_map_at(schedule.id, version).await?;
        Ok(SeatMap {
            schedule,
            seats: map.seats.clone(),
            at: self.catalogue.now(),
        })
    }
}
