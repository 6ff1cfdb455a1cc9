//! What an admitted buyer may browse: a concert's schedules with their free
//! seat counts, and a schedule's seat map. Both sit behind the queue gate so
//! the database only ever serves people the waiting room let in.

use crate::catalogue::{CatalogueError, CatalogueService, SeatView};
use crate::queue::{QueueError, QueueService};
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::{ConcertId, UserId};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SeatingError {
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

pub struct ScheduleView {
    pub schedule: Schedule,
    pub available_seats: i64,
}

pub struct SeatingService {
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
}

impl SeatingService {
    pub fn new(catalogue: Arc<CatalogueService>, queue: Arc<QueueService>) -> Self {
        Self { catalogue, queue }
    }

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
        self.queue.require_active(user, token, concert).await?;
        let mut views = Vec::new();
        for schedule in self.catalogue.schedules(concert).await? {
            let available_seats = self.catalogue.available_seats(schedule.id).await?;
            views.push(ScheduleView {
                schedule,
                available_seats,
            });
        }
        Ok(views)
    }

    pub async fn seats(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: i64,
    ) -> Result<(Schedule, Vec<SeatView>), SeatingError> {
        let schedule = self.catalogue.schedule(schedule).await?;
        self.queue
            .require_active(user, token, schedule.concert)
            .await?;
        Ok((schedule, self.catalogue.seat_map(schedule.id).await?))
    }
}
