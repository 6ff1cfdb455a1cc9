//! An operator's sale: creating a concert with its scheduled opening, and
//! moving that opening later. The opening is kept twice, on purpose: with
//! the concert (the system of record, so an in-process room can be told
//! again after a restart) and in its waiting room (which decides the phase
//! by its own clock, so every instance agrees on the moment).

use crate::catalogue::{CatalogueError, CatalogueService};
use crate::queue::{QueueError, QueueService, RoomStats};
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::queue::SaleOpening;
use frontrow_domain::{ConcertId, Timestamp};
use std::sync::Arc;

/// The operator's sale use cases, over the catalogue and the queue.
pub struct SaleService {
    catalogue: Arc<CatalogueService>,
    queue: Arc<QueueService>,
}

impl SaleService {
    /// The service over the catalogue and the queue it coordinates.
    pub fn new(catalogue: Arc<CatalogueService>, queue: Arc<QueueService>) -> Self {
        Self { catalogue, queue }
    }

    /// Creates a concert (`CatalogueService::create_concert`) and tells its
    /// room the sale's scheduled opening, if it has one.
    pub async fn create_concert(
        &self,
        title: &str,
        schedules: &[(Timestamp, i64, i64)],
        opening: Option<SaleOpening>,
    ) -> Result<(ConcertId, Vec<Schedule>), CatalogueError> {
        let created = self
            .catalogue
            .create_concert(title, schedules, opening)
            .await?;
        if opening.is_some() {
            self.queue.set_opening(created.0, opening).await?;
        }
        Ok(created)
    }

    /// Schedules (or, with `None`, clears) the sale's opening: kept with the
    /// concert, and set in its room. Returns the room.
    pub async fn schedule_sale(
        &self,
        concert: i64,
        opening: Option<SaleOpening>,
    ) -> Result<RoomStats, QueueError> {
        let concert = ConcertId::parse(concert).ok_or(QueueError::ConcertNotFound)?;
        if !self.catalogue.schedule_opening(concert, opening).await? {
            return Err(QueueError::ConcertNotFound);
        }
        self.queue.set_opening(concert, opening).await?;
        self.queue.stats(concert.get()).await
    }

    /// Tells the rooms the openings kept with the concerts (an in-process
    /// room starts empty).
    pub async fn restore_openings(&self) -> Result<(), QueueError> {
        for (concert, opening) in self.catalogue.openings().await? {
            self.queue.set_opening(concert, Some(opening)).await?;
        }
        Ok(())
    }
}
