//! An operator's sale: creating a concert with its scheduled opening, and
//! moving that opening later. The opening is kept twice, on purpose: with
//! the concert (the system of record, so an in-process room can be told
//! again after a restart) and in its waiting room (which decides the phase
//! by its own clock, so every instance agrees on the moment). The two are
//! written by different stores, so a new concert stays unlisted (no buyer
//! finds or joins it) until its room has the opening.

use crate::catalogue::{CatalogueError, CatalogueService, ScheduleRequest};
use crate::queue::{QueueError, QueueService, RoomStats};
use frontrow_domain::ConcertId;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::queue::SaleOpening;
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

    /// Creates a concert in one step as buyers see it: the concert is
    /// written unlisted, its room is told its seats and its scheduled
    /// opening, and only then is it listed, so no buyer can join a room
    /// that would admit before the opening. A failure leaves at most an
    /// unlisted concert that nobody finds; a retry with the same `key`
    /// finishes that one instead of making another, and a retry of a
    /// finished create answers the first concert and tells the room nothing
    /// again (its seats may be selling by then).
    pub async fn create_concert(
        &self,
        title: &str,
        schedules: &[ScheduleRequest],
        opening: Option<SaleOpening>,
        key: Option<&str>,
    ) -> Result<(ConcertId, Vec<Schedule>), CatalogueError> {
        let stored = self
            .catalogue
            .create_concert(title, schedules, opening, key)
            .await?;
        let concert = stored.concert.id;
        if !stored.listed {
            self.catalogue.open_sale(concert, &stored.schedules).await;
            if let Some(opening) = stored.concert.opening {
                self.queue.set_opening(concert, Some(opening)).await?;
            }
            self.catalogue.list_concert(concert).await?;
        }
        Ok((concert, stored.schedules))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;
    use crate::catalogue::{MockCatalogue, StoredConcert};
    use crate::fixtures::{FakeLog, clock_at, schedule};
    use crate::queue::{MockSeatGate, MockWaitingRoom};
    use frontrow_domain::Timestamp;
    use frontrow_domain::catalogue::Concert;
    use mockall::predicate::eq;

    const KEY: &str = "new-show-1";

    fn opening() -> SaleOpening {
        SaleOpening::new(Timestamp(50_000), 10).unwrap()
    }

    /// Concert 1 as the store keeps it: `listed` or not.
    fn stored(listed: bool) -> StoredConcert {
        StoredConcert {
            concert: Concert {
                id: ConcertId::from_store(1),
                title: "Show".to_owned(),
                opening: Some(opening()),
            },
            schedules: vec![schedule(10, 10)],
            listed,
        }
    }

    /// What the operator asks for: concert 1 as `stored` describes it.
    fn asked() -> Vec<ScheduleRequest> {
        vec![(Timestamp(0), 10, 10).into()]
    }

    fn sales(catalogue: MockCatalogue, room: MockWaitingRoom) -> SaleService {
        let clock = Arc::new(clock_at(0));
        let catalogue = Arc::new(CatalogueService::new(
            Arc::new(catalogue),
            Arc::new(FakeLog::default()),
            clock.clone(),
        ));
        let queue = Arc::new(QueueService::new(
            Arc::new(room),
            Arc::new(crate::fixtures::TrustingSeal),
            Arc::new(MockSeatGate::new()),
            catalogue.cached(),
            clock,
        ));
        SaleService::new(catalogue, queue)
    }

    #[tokio::test]
    async fn a_concert_whose_room_was_not_told_its_opening_is_never_listed() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_create_concert()
            .returning(|_| Ok(stored(false)));
        catalogue.expect_list_concert().never();
        let mut room = MockWaitingRoom::new();
        room.expect_set_opening()
            .returning(|_, _| Err(StoreError::new("redis: refused")));

        let failed = sales(catalogue, room)
            .create_concert("Show", &asked(), Some(opening()), Some(KEY))
            .await;

        assert!(matches!(failed, Err(CatalogueError::Store(_))));
    }

    #[tokio::test]
    async fn a_retry_with_the_key_finishes_the_unlisted_concert_instead_of_making_another() {
        let mut catalogue = MockCatalogue::new();
        // The store answers the key's concert, still unlisted: nothing new.
        catalogue
            .expect_create_concert()
            .withf(|new| new.key.as_ref().map(|k| k.as_str()) == Some(KEY))
            .times(1)
            .returning(|_| Ok(stored(false)));
        catalogue
            .expect_list_concert()
            .with(eq(ConcertId::from_store(1)))
            .times(1)
            .returning(|_| Ok(()));
        let mut room = MockWaitingRoom::new();
        room.expect_set_opening()
            .with(eq(ConcertId::from_store(1)), eq(Some(opening())))
            .times(1)
            .returning(|_, _| Ok(()));

        let (concert, schedules) = sales(catalogue, room)
            .create_concert("Show", &asked(), Some(opening()), Some(KEY))
            .await
            .unwrap();

        assert_eq!(concert, ConcertId::from_store(1));
        assert_eq!(schedules, vec![schedule(10, 10)]);
    }

    #[tokio::test]
    async fn a_retry_of_a_finished_create_answers_the_first_concert_and_tells_the_room_nothing() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_create_concert()
            .returning(|_| Ok(stored(true)));
        catalogue.expect_list_concert().never();
        let mut room = MockWaitingRoom::new();
        room.expect_set_opening().never();

        let (concert, _) = sales(catalogue, room)
            .create_concert("Show", &asked(), Some(opening()), Some(KEY))
            .await
            .unwrap();

        assert_eq!(concert, ConcertId::from_store(1));
    }

    #[tokio::test]
    async fn a_key_reused_for_a_different_concert_is_refused_and_tells_the_room_nothing() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_create_concert()
            .returning(|_| Ok(stored(false)));
        catalogue.expect_list_concert().never();
        let mut room = MockWaitingRoom::new();
        room.expect_set_opening().never();

        let refused = sales(catalogue, room)
            .create_concert("Another show", &asked(), Some(opening()), Some(KEY))
            .await;

        assert!(matches!(refused, Err(CatalogueError::IdempotencyKeyReused)));
    }
}
