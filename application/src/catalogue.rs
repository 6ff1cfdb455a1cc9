//! Concerts, schedules and seat maps.
//!
//! Schedules never change once created, so they are cached for the life of
//! the process. Seat maps change on every hold, cancel and payment, so each
//! cached map carries the schedule's version from `SeatMapVersions`; a reader
//! uses its copy only while the version is unchanged (and for at most
//! `SEAT_MAP_MAX_AGE_MS`). Writers bump the version after they commit, so a
//! read that starts after a hold returns sees the hold. Seat status is always
//! computed at read time, so an expired hold reads AVAILABLE from a cached map.
//!
//! Version reads are coalesced: concurrent readers of one schedule share one
//! store read, but only a read sent after they arrived (see `VersionReads`),
//! so coalescing never hides a bump that finished before a reader asked.

use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::catalogue::{
    CatalogueError as Rule, Concert, NewConcert, NewSchedule, Schedule,
};
use frontrow_domain::seat::{SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ConcertId, ScheduleId, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use thiserror::Error;

/// A cached seat map is reloaded after this long even if no version changed,
/// which bounds the staleness left by a writer that died before its bump.
pub const SEAT_MAP_MAX_AGE_MS: i64 = 2_000;

#[derive(Debug, Error)]
pub enum CatalogueError {
    #[error(transparent)]
    Invalid(#[from] Rule),
    #[error("concert not found")]
    ConcertNotFound,
    #[error("schedule not found")]
    ScheduleNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Catalogue: Send + Sync {
    /// Creates the concert, its schedules and every seat in one transaction.
    async fn create_concert(
        &self,
        concert: &NewConcert,
    ) -> Result<(ConcertId, Vec<Schedule>), StoreError>;
    async fn concerts(&self) -> Result<Vec<Concert>, StoreError>;
    async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError>;
    async fn schedules(&self, concert: ConcertId) -> Result<Vec<Schedule>, StoreError>;
    async fn schedule(&self, schedule: ScheduleId) -> Result<Option<Schedule>, StoreError>;
    /// Every seat of the schedule, ordered by number, as stored.
    async fn seats(&self, schedule: ScheduleId) -> Result<Vec<SeatState>, StoreError>;
    /// One seat as stored.
    async fn seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
    ) -> Result<Option<SeatState>, StoreError>;
}

/// A counter per schedule, bumped after every committed seat change, shared by
/// every app instance (Redis) or by the one process (in memory).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatMapVersions: Send + Sync {
    async fn current(&self, schedule: ScheduleId) -> Result<u64, StoreError>;
    async fn bump(&self, schedule: ScheduleId) -> Result<(), StoreError>;
}

/// One seat's status at a moment (see `seating::SeatMap::statuses`).
#[derive(Debug, Clone)]
pub struct SeatView {
    pub seat: SeatNumber,
    pub status: SeatStatus,
}

struct CachedSeatMap {
    version: u64,
    loaded_at: Timestamp,
    seats: Arc<Vec<SeatState>>,
}

/// At most one version read per schedule in flight; readers that arrive
/// meanwhile wait for the next read together.
#[derive(Default)]
struct VersionReads(Mutex<HashMap<ScheduleId, ScheduleReads>>);

#[derive(Default)]
struct ScheduleReads {
    /// The read that has not been sent yet: newcomers join it.
    next: Arc<tokio::sync::OnceCell<u64>>,
    /// Held while a read is in flight.
    in_flight: Arc<tokio::sync::Mutex<()>>,
}

impl VersionReads {
    async fn read(
        &self,
        versions: &dyn SeatMapVersions,
        schedule: ScheduleId,
    ) -> Result<u64, StoreError> {
        let Some((batch, in_flight)) = self.0.lock().ok().map(|mut reads| {
            let slot = reads.entry(schedule).or_default();
            (slot.next.clone(), slot.in_flight.clone())
        }) else {
            return versions.current(schedule).await;
        };
        let version = batch
            .get_or_try_init(|| async {
                let _turn = in_flight.lock().await;
                // From here on this read may already be sent, so a newcomer
                // must wait for the next one.
                if let Ok(mut reads) = self.0.lock()
                    && let Some(slot) = reads.get_mut(&schedule)
                    && Arc::ptr_eq(&slot.next, &batch)
                {
                    slot.next = Arc::default();
                }
                versions.current(schedule).await
            })
            .await?;
        Ok(*version)
    }
}

pub struct CatalogueService {
    catalogue: Arc<dyn Catalogue>,
    versions: Arc<dyn SeatMapVersions>,
    version_reads: VersionReads,
    clock: Arc<dyn Clock>,
    schedules: RwLock<HashMap<ScheduleId, Schedule>>,
    /// Concerts known to exist; concerts are never deleted, so a yes is final.
    concerts_seen: RwLock<HashSet<ConcertId>>,
    seat_maps: RwLock<HashMap<ScheduleId, CachedSeatMap>>,
    /// Seats a hold lost on, as read right after losing, with the schedule
    /// version read before trying: valid only while that version is current.
    lost_seats: RwLock<HashMap<(ScheduleId, SeatNumber), (u64, SeatState)>>,
}

impl CatalogueService {
    pub fn new(
        catalogue: Arc<dyn Catalogue>,
        versions: Arc<dyn SeatMapVersions>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            catalogue,
            versions,
            version_reads: VersionReads::default(),
            clock,
            schedules: RwLock::default(),
            concerts_seen: RwLock::default(),
            seat_maps: RwLock::default(),
            lost_seats: RwLock::default(),
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_concert(
        &self,
        title: &str,
        schedules: &[(Timestamp, i64, i64)],
    ) -> Result<(ConcertId, Vec<Schedule>), CatalogueError> {
        let schedules = schedules
            .iter()
            .map(|&(starts_at, seats, price)| NewSchedule::parse(starts_at, seats, price))
            .collect::<Result<Vec<_>, _>>()?;
        let concert = NewConcert::parse(title, schedules)?;
        Ok(self.catalogue.create_concert(&concert).await?)
    }

    pub async fn concerts(&self) -> Result<Vec<Concert>, CatalogueError> {
        Ok(self.catalogue.concerts().await?)
    }

    pub async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError> {
        if self
            .concerts_seen
            .read()
            .is_ok_and(|seen| seen.contains(&concert))
        {
            return Ok(true);
        }
        let exists = self.catalogue.concert_exists(concert).await?;
        if exists && let Ok(mut seen) = self.concerts_seen.write() {
            seen.insert(concert);
        }
        Ok(exists)
    }

    pub async fn schedules(&self, concert: ConcertId) -> Result<Vec<Schedule>, CatalogueError> {
        Ok(self.catalogue.schedules(concert).await?)
    }

    /// A schedule by id; cached forever because schedules never change.
    pub async fn schedule(&self, raw: i64) -> Result<Schedule, CatalogueError> {
        let id = ScheduleId::parse(raw).ok_or(CatalogueError::ScheduleNotFound)?;
        if let Some(found) = self.schedules.read().ok().and_then(|m| m.get(&id).copied()) {
            return Ok(found);
        }
        let found = self
            .catalogue
            .schedule(id)
            .await?
            .ok_or(CatalogueError::ScheduleNotFound)?;
        if let Ok(mut cache) = self.schedules.write() {
            cache.insert(id, found);
        }
        Ok(found)
    }

    /// The seats of a schedule as stored, from cache when still current.
    pub async fn seat_states(
        &self,
        schedule: ScheduleId,
    ) -> Result<Arc<Vec<SeatState>>, CatalogueError> {
        let version = self.version(schedule).await?;
        self.seat_states_at(schedule, version).await
    }

    /// The schedule's seat-map version now; callers may read it alongside
    /// the queue gate, since it costs no database work.
    pub async fn version(&self, schedule: ScheduleId) -> Result<u64, CatalogueError> {
        Ok(self
            .version_reads
            .read(self.versions.as_ref(), schedule)
            .await?)
    }

    /// The seats as of `version` (from `version`), from cache when current.
    pub async fn seat_states_at(
        &self,
        schedule: ScheduleId,
        version: u64,
    ) -> Result<Arc<Vec<SeatState>>, CatalogueError> {
        let now = self.clock.now();
        if let Some(seats) = self.current_map(schedule, version, now) {
            return Ok(seats);
        }
        let seats = Arc::new(self.catalogue.seats(schedule).await?);
        if let Ok(mut maps) = self.seat_maps.write() {
            maps.insert(
                schedule,
                CachedSeatMap {
                    version,
                    loaded_at: now,
                    seats: seats.clone(),
                },
            );
        }
        Ok(seats)
    }

    /// The cached map, if it was loaded at `version` and is young enough.
    fn current_map(
        &self,
        schedule: ScheduleId,
        version: u64,
        now: Timestamp,
    ) -> Option<Arc<Vec<SeatState>>> {
        let maps = self.seat_maps.read().ok()?;
        maps.get(&schedule)
            .filter(|m| {
                m.version == version && now.millis() - m.loaded_at.millis() < SEAT_MAP_MAX_AGE_MS
            })
            .map(|m| m.seats.clone())
    }

    /// One seat's stored state as far as this instance knows it at
    /// `version` (from `version`), or `None`. A stale map is
    /// not reloaded for one seat: after every successful hold the map is
    /// stale, and the reload would cost more than the write it might save.
    pub fn cached_seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
        version: u64,
    ) -> Option<SeatState> {
        let from_map = self
            .current_map(schedule, version, self.clock.now())
            .and_then(|seats| seats.get(seat.get() as usize - 1).copied());
        from_map.or_else(|| {
            let lost = self.lost_seats.read().ok()?;
            lost.get(&(schedule, seat))
                .filter(|(at, _)| *at == version)
                .map(|(_, state)| *state)
        })
    }

    /// After a hold lost `seat`: remember its state for the version read
    /// before the attempt, so the next buyers are turned away without a write.
    pub async fn seat_lost(&self, schedule: ScheduleId, seat: SeatNumber, version: u64) {
        match self.catalogue.seat(schedule, seat).await {
            Ok(Some(state)) => {
                if let Ok(mut lost) = self.lost_seats.write() {
                    lost.insert((schedule, seat), (version, state));
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot read a lost seat"),
        }
    }

    pub async fn available_seats(&self, schedule: ScheduleId) -> Result<i64, CatalogueError> {
        let now = self.clock.now();
        let seats = self.seat_states(schedule).await?;
        Ok(seats
            .iter()
            .filter(|s| s.status_at(now) == SeatStatus::Available)
            .count() as i64)
    }

    /// Tells readers on every instance that the schedule's seats changed.
    pub async fn seats_changed(&self, schedule: ScheduleId) {
        if let Err(error) = self.versions.bump(schedule).await {
            // The seat change is committed; readers catch up within SEAT_MAP_MAX_AGE_MS.
            tracing::warn!(%error, schedule = %schedule, "could not bump seat map version");
        }
        if let Ok(mut maps) = self.seat_maps.write() {
            maps.remove(&schedule);
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MockClock;
    use frontrow_domain::ReservationId;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct FixedVersion(AtomicU64);

    #[async_trait]
    impl SeatMapVersions for FixedVersion {
        async fn current(&self, _: ScheduleId) -> Result<u64, StoreError> {
            Ok(self.0.load(Ordering::SeqCst))
        }
        async fn bump(&self, _: ScheduleId) -> Result<(), StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A version store whose reads take a while, counting them.
    #[derive(Default)]
    struct SlowVersions {
        value: AtomicU64,
        reads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl SeatMapVersions for SlowVersions {
        async fn current(&self, _: ScheduleId) -> Result<u64, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            // The value is taken when the read is "sent", as Redis would.
            let value = self.value.load(Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(value)
        }
        async fn bump(&self, _: ScheduleId) -> Result<(), StoreError> {
            self.value.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn service_over(versions: Arc<SlowVersions>) -> Arc<CatalogueService> {
        Arc::new(CatalogueService::new(
            Arc::new(MockCatalogue::new()),
            versions,
            Arc::new(clock_at(0)),
        ))
    }

    #[tokio::test]
    async fn concurrent_version_readers_share_reads() {
        let versions = Arc::new(SlowVersions::default());
        versions.value.store(7, Ordering::SeqCst);
        let service = service_over(versions.clone());
        let readers: Vec<_> = (0..100)
            .map(|_| {
                let service = service.clone();
                tokio::spawn(async move { service.version(ScheduleId::from_store(1)).await })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), 7);
        }
        let reads = versions.reads.load(Ordering::SeqCst);
        assert!(reads <= 2, "100 concurrent readers made {reads} reads");
    }

    #[tokio::test]
    async fn a_reader_sees_every_bump_that_finished_before_it_asked() {
        let versions = Arc::new(SlowVersions::default());
        let service = service_over(versions.clone());
        let schedule = ScheduleId::from_store(1);
        // A read is in flight with the old version...
        let early = {
            let service = service.clone();
            tokio::spawn(async move { service.version(schedule).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        // ...a hold commits and bumps, and only then a reader asks.
        versions.bump(schedule).await.unwrap();
        let late = service.version(schedule).await.unwrap();
        assert_eq!(early.await.unwrap().unwrap(), 0);
        assert_eq!(late, 1, "the late reader must not share the early read");
    }

    fn clock_at(ms: i64) -> MockClock {
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || Timestamp(ms));
        clock
    }

    #[tokio::test]
    async fn a_seat_map_is_loaded_once_per_version() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_seats()
            .times(2)
            .returning(|_| Ok(vec![SeatState::Available; 3]));
        let versions = Arc::new(FixedVersion(AtomicU64::new(0)));
        let service =
            CatalogueService::new(Arc::new(catalogue), versions.clone(), Arc::new(clock_at(0)));
        let schedule = ScheduleId::from_store(1);
        service.seat_states(schedule).await.unwrap();
        service.seat_states(schedule).await.unwrap();
        versions.bump(schedule).await.unwrap();
        assert_eq!(service.seat_states(schedule).await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn an_expired_hold_reads_available_from_the_cache() {
        let mut catalogue = MockCatalogue::new();
        let held = SeatState::Held {
            reservation: ReservationId::from_store(1),
            until: Timestamp(500),
        };
        catalogue.expect_seats().returning(move |_| Ok(vec![held]));
        let versions = Arc::new(FixedVersion(AtomicU64::new(0)));
        let service = CatalogueService::new(Arc::new(catalogue), versions, Arc::new(clock_at(500)));
        let available = service
            .available_seats(ScheduleId::from_store(1))
            .await
            .unwrap();
        assert_eq!(available, 1, "the lapsed hold's seat counts as available");
    }

    #[tokio::test]
    async fn an_invalid_concert_writes_nothing() {
        let service = CatalogueService::new(
            Arc::new(MockCatalogue::new()),
            Arc::new(FixedVersion(AtomicU64::new(0))),
            Arc::new(clock_at(0)),
        );
        let err = service
            .create_concert("Show", &[(Timestamp(0), 0, 10)])
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CatalogueError::Invalid(Rule::InvalidSeatCount)
        ));
    }
}
