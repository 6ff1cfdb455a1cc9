//! [`CachedCatalogue`]: the catalogue port with what never changes kept in
//! memory. Concerts are never deleted and schedules never change once
//! created, so a concert found, a schedule found and a concert's
//! (non-empty) schedules are kept; every other call goes to the store.
//! Each map holds at most [`MAX_CACHED`] entries (see [`BoundedMap`]).

use crate::StoreError;
use crate::cache::BoundedMap;
use crate::catalogue::{Catalogue, StoredConcert};
use crate::seat_changes::StoredSeat;
use async_trait::async_trait;
use frontrow_domain::catalogue::{Concert, NewConcert, Schedule};
use frontrow_domain::queue::SaleOpening;
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::venue::VenueLayout;
use frontrow_domain::{ConcertId, ScheduleId};
use std::sync::Arc;

/// The most concerts (and, separately, schedules) kept.
pub const MAX_CACHED: usize = 100_000;

/// A [`Catalogue`] that answers the unchanging reads from memory: wrap the
/// store in one, and give it to every use case that reads concerts.
pub struct CachedCatalogue {
    store: Arc<dyn Catalogue>,
    concerts_seen: BoundedMap<ConcertId, ()>,
    schedules: BoundedMap<ScheduleId, Schedule>,
    concert_schedules: BoundedMap<ConcertId, Arc<Vec<Schedule>>>,
    layouts: BoundedMap<ScheduleId, Arc<VenueLayout>>,
}

impl CachedCatalogue {
    /// Nothing cached yet.
    pub fn new(store: Arc<dyn Catalogue>) -> Self {
        Self::with_capacity(store, MAX_CACHED)
    }

    /// At most `capacity` entries per map (tests use a small one).
    pub fn with_capacity(store: Arc<dyn Catalogue>, capacity: usize) -> Self {
        Self {
            store,
            concerts_seen: BoundedMap::new(capacity),
            schedules: BoundedMap::new(capacity),
            concert_schedules: BoundedMap::new(capacity),
            layouts: BoundedMap::new(capacity),
        }
    }

    /// The schedule's layout, shared: the stored one, or the numbered hall
    /// a schedule without one is. Kept for good (layouts never change).
    pub async fn shared_layout(&self, schedule: &Schedule) -> Result<Arc<VenueLayout>, StoreError> {
        if let Some(found) = self.layouts.get(&schedule.id) {
            return Ok(found);
        }
        let layout = match self.store.layout(schedule.id).await? {
            Some(layout) => layout,
            None => VenueLayout::numbered_hall(schedule.seat_count, schedule.price),
        };
        let layout = Arc::new(layout);
        self.layouts
            .insert(schedule.id, layout.clone(), |_, _| false);
        Ok(layout)
    }

    /// A concert's schedules, shared rather than copied: the public list
    /// reads them on every call.
    pub async fn shared_schedules(
        &self,
        concert: ConcertId,
    ) -> Result<Arc<Vec<Schedule>>, StoreError> {
        if let Some(found) = self.concert_schedules.get(&concert) {
            return Ok(found);
        }
        let found = Arc::new(self.store.schedules(concert).await?);
        if !found.is_empty() {
            self.concert_schedules
                .insert(concert, found.clone(), |_, _| false);
        }
        Ok(found)
    }
}

#[async_trait]
impl Catalogue for CachedCatalogue {
    async fn create_concert(&self, concert: &NewConcert) -> Result<StoredConcert, StoreError> {
        self.store.create_concert(concert).await
    }

    async fn list_concert(&self, concert: ConcertId) -> Result<(), StoreError> {
        self.store.list_concert(concert).await
    }

    async fn concerts(&self) -> Result<Vec<Concert>, StoreError> {
        self.store.concerts().await
    }

    async fn schedule_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<bool, StoreError> {
        self.store.schedule_opening(concert, opening).await
    }

    /// A yes is kept for good: concerts are never deleted nor unlisted. A
    /// no is not kept: an unlisted concert may be listed a moment later.
    async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError> {
        if self.concerts_seen.contains(&concert) {
            return Ok(true);
        }
        let exists = self.store.concert_exists(concert).await?;
        if exists {
            self.concerts_seen.insert(concert, (), |_, _| false);
        }
        Ok(exists)
    }

    async fn schedules(&self, concert: ConcertId) -> Result<Vec<Schedule>, StoreError> {
        Ok(self.shared_schedules(concert).await?.as_ref().clone())
    }

    async fn schedule(&self, schedule: ScheduleId) -> Result<Option<Schedule>, StoreError> {
        if let Some(found) = self.schedules.get(&schedule) {
            return Ok(Some(found));
        }
        let found = self.store.schedule(schedule).await?;
        if let Some(found) = found {
            self.schedules.insert(schedule, found, |_, _| false);
        }
        Ok(found)
    }

    async fn seats(&self, schedule: ScheduleId) -> Result<Vec<StoredSeat>, StoreError> {
        self.store.seats(schedule).await
    }

    async fn seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
    ) -> Result<Option<SeatState>, StoreError> {
        self.store.seat(schedule, seat).await
    }

    async fn layout(&self, schedule: ScheduleId) -> Result<Option<VenueLayout>, StoreError> {
        self.store.layout(schedule).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use frontrow_domain::Timestamp;

    fn schedule(id: i64) -> Schedule {
        Schedule {
            id: ScheduleId::from_store(id),
            concert: ConcertId::from_store(1),
            starts_at: Timestamp(0),
            seat_count: 10,
            price: frontrow_domain::points::Points::new(10).expect("a price"),
        }
    }

    #[tokio::test]
    async fn a_schedule_is_read_from_the_store_once() {
        let mut store = MockCatalogue::new();
        store
            .expect_schedule()
            .times(1)
            .returning(|id| Ok(Some(schedule(id.get()))));
        let cached = CachedCatalogue::new(Arc::new(store));
        for _ in 0..3 {
            assert!(
                cached
                    .schedule(ScheduleId::from_store(5))
                    .await
                    .expect("read")
                    .is_some()
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_concert_is_asked_again_and_a_known_one_never() {
        let mut store = MockCatalogue::new();
        store
            .expect_concert_exists()
            .times(3)
            .returning(|id| Ok(id.get() == 1));
        let cached = CachedCatalogue::new(Arc::new(store));
        for _ in 0..2 {
            assert!(
                !cached
                    .concert_exists(ConcertId::from_store(2))
                    .await
                    .expect("read")
            );
        }
        for _ in 0..3 {
            assert!(
                cached
                    .concert_exists(ConcertId::from_store(1))
                    .await
                    .expect("read")
            );
        }
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let mut store = MockCatalogue::new();
        store
            .expect_schedule()
            .returning(|id| Ok(Some(schedule(id.get()))));
        let cached = CachedCatalogue::with_capacity(Arc::new(store), 8);
        for id in 1..100 {
            cached
                .schedule(ScheduleId::from_store(id))
                .await
                .expect("read");
            assert!(cached.schedules.len() <= 8);
        }
    }
}
