//! Concerts, schedules and seat maps.
//!
//! What this service keeps in memory lives in modules named for it:
//! - concerts and schedules never change once created, so they are read
//!   through a [`CachedCatalogue`];
//! - seat maps follow the seat-change log (`seat_maps`): a reader names the
//!   log version it needs, and a map at that version or later answers
//!   without the database. Writers append their change after they commit,
//!   so a read that starts after a hold returns sees the hold. Seat status
//!   is always computed at read time, so an expired hold reads AVAILABLE
//!   from a cached map;
//! - version reads are coalesced (`version_reads`), never hiding a change
//!   logged before a reader asked;
//! - seats a hold just lost are remembered at their version (`lost_seats`).

use crate::catalogue_cache::CachedCatalogue;
use crate::lost_seats::LostSeats;
use crate::seat_changes::{SeatChange, SeatChangeLog, StoredSeat};
use crate::seat_maps::{LiveMap, SeatCounts, SeatMaps};
use crate::version_reads::VersionReads;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::catalogue::{
    CatalogueError as Rule, Concert, NewConcert, NewSchedule, Schedule,
};
use frontrow_domain::points::IdempotencyKey;
use frontrow_domain::queue::SaleOpening;
use frontrow_domain::seat::{SeatNumber, SeatState, SeatStatus};
use frontrow_domain::venue::{LayoutDraft, LayoutError, VenueLayout};
use frontrow_domain::{ConcertId, ScheduleId, Timestamp};
use std::sync::Arc;
use thiserror::Error;

/// Why a catalogue call failed.
#[derive(Debug, Error)]
pub enum CatalogueError {
    /// The operator's concert does not parse; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Rule),
    /// The operator's scheduled opening does not parse.
    #[error(transparent)]
    InvalidOpening(frontrow_domain::queue::QueueRuleError),
    /// A schedule's layout does not parse; nothing was written.
    #[error("schedule {schedule}: {error}")]
    InvalidLayout {
        /// Which schedule, counting from 1 in the order asked.
        schedule: usize,
        /// The first fault found.
        error: LayoutError,
    },
    /// A schedule with a layout also gave a seat count or a price, or one
    /// without gave neither.
    #[error("schedule {0}: give either a layout, or seatCount and price")]
    LayoutOrSeats(usize),
    /// The `Idempotency-Key` is empty, too long or not printable ASCII.
    #[error("Idempotency-Key must be 1 to 100 visible ASCII characters")]
    InvalidIdempotencyKey,
    /// The key was used before for a different concert; nothing was written.
    #[error("this Idempotency-Key was used for a different concert")]
    IdempotencyKeyReused,
    /// No such concert (or an id that cannot exist).
    #[error("concert not found")]
    ConcertNotFound,
    /// No such schedule (or an id that cannot exist).
    #[error("schedule not found")]
    ScheduleNotFound,
    /// The schedule's layout has no section with that id.
    #[error("this schedule's layout has no such section")]
    SectionNotFound,
    /// The store failed (a 503), never "not found".
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Concerts, schedules and seat rows: the system of record's catalogue.
///
/// Contract:
/// - `create_concert` writes the concert *unlisted*, its schedules in the
///   order given and every seat (AVAILABLE, version 0) in one transaction,
///   and returns them as stored. With a `key` the store already holds it
///   writes nothing and returns the concert that key made, listed or not,
///   whatever it was asked (the use case compares). MUST NOT make two
///   concerts for one key, even when two creates race.
/// - `list_concert` lists a concert: only listed concerts are found by
///   `concerts`, `concert_exists` and `schedule_opening`, so nobody joins
///   the room of a concert whose creation did not finish.
/// - Reads answer "no such thing" with `false`, `None` or an empty list,
///   never with an error: `concerts` by id, `schedules` by start time then
///   id, `seats` by seat number (one per seat, each with its version).
/// - Seat rows change only through the stores of
///   [`SeatHolds`](crate::reservations::SeatHolds) and
///   [`PaymentStore`](crate::payments::PaymentStore), which must bump a
///   seat's version with every change: a store serving this port serves
///   those too, on the same rows.
/// - Every method fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Catalogue: Send + Sync {
    /// Creates the concert (unlisted), its schedules and every seat in one
    /// transaction; or, for a key it holds, answers that key's concert.
    async fn create_concert(&self, concert: &NewConcert) -> Result<StoredConcert, StoreError>;
    /// Lists the concert (see the contract); listing twice is harmless.
    async fn list_concert(&self, concert: ConcertId) -> Result<(), StoreError>;
    /// Every listed concert, with its scheduled opening, by id.
    async fn concerts(&self) -> Result<Vec<Concert>, StoreError>;
    /// Sets or clears the concert's scheduled opening; false for an unknown
    /// (or unlisted) concert.
    async fn schedule_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<bool, StoreError>;
    /// Whether the concert exists and is listed (concerts are never
    /// deleted, nor unlisted).
    async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError>;
    /// The concert's schedules by start time, then id; empty for an
    /// unknown concert.
    async fn schedules(&self, concert: ConcertId) -> Result<Vec<Schedule>, StoreError>;
    /// One schedule; `None` if there is no such schedule.
    async fn schedule(&self, schedule: ScheduleId) -> Result<Option<Schedule>, StoreError>;
    /// Every seat of the schedule, ordered by number, as stored, with its
    /// version.
    async fn seats(&self, schedule: ScheduleId) -> Result<Vec<StoredSeat>, StoreError>;
    /// One seat as stored.
    async fn seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
    ) -> Result<Option<SeatState>, StoreError>;
    /// The layout the schedule was created with; `None` for one created
    /// without (a numbered hall) or an unknown schedule. Never changes.
    async fn layout(&self, schedule: ScheduleId) -> Result<Option<VenueLayout>, StoreError>;
}

/// A schedule as an operator asks for it, before any check: numbered seats
/// at one price, or a layout (and then neither a seat count nor a price).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest {
    /// When the performance starts.
    pub starts_at: Timestamp,
    /// How many numbered seats; `None` with a layout.
    pub seat_count: Option<i64>,
    /// Every numbered seat's price; `None` with a layout.
    pub price: Option<i64>,
    /// Sections, rows and tiers; `None` for a numbered hall.
    pub layout: Option<LayoutDraft>,
}

impl From<(Timestamp, i64, i64)> for ScheduleRequest {
    /// A numbered hall: start, seats, price.
    fn from((starts_at, seats, price): (Timestamp, i64, i64)) -> Self {
        ScheduleRequest {
            starts_at,
            seat_count: Some(seats),
            price: Some(price),
            layout: None,
        }
    }
}

impl ScheduleRequest {
    /// The checked schedule; `number` (from 1) names it in a fault.
    fn parse(&self, number: usize) -> Result<NewSchedule, CatalogueError> {
        match (&self.layout, self.seat_count, self.price) {
            (Some(draft), None, None) => {
                let layout =
                    VenueLayout::parse(draft).map_err(|error| CatalogueError::InvalidLayout {
                        schedule: number,
                        error,
                    })?;
                Ok(NewSchedule::with_layout(self.starts_at, layout))
            }
            (None, Some(seats), Some(price)) => {
                Ok(NewSchedule::parse(self.starts_at, seats, price)?)
            }
            _ => Err(CatalogueError::LayoutOrSeats(number)),
        }
    }
}

/// A concert as [`Catalogue::create_concert`] stored it (or found it by its
/// key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConcert {
    /// The concert, with its scheduled opening.
    pub concert: Concert,
    /// Its schedules, in the order they were asked for.
    pub schedules: Vec<Schedule>,
    /// Whether [`Catalogue::list_concert`] has listed it: creation finished.
    pub listed: bool,
}

/// One seat's status at a moment (see `seating::SeatMap::statuses`).
#[derive(Debug, Clone)]
pub struct SeatView {
    /// Which seat.
    pub seat: SeatNumber,
    /// Its status at the snapshot's moment.
    pub status: SeatStatus,
}

/// Concerts, schedules and live seat maps, with the caches that keep most
/// reads off the database (see the module doc). One per process: its
/// caches are what make it cheap, and every use case that reads seats
/// shares it through an `Arc`.
pub struct CatalogueService {
    catalogue: Arc<CachedCatalogue>,
    log: Arc<dyn SeatChangeLog>,
    maps: SeatMaps,
    version_reads: VersionReads,
    lost_seats: LostSeats,
    clock: Arc<dyn Clock>,
}

impl CatalogueService {
    /// The service over the catalogue store (kept behind a
    /// [`CachedCatalogue`]), the seat-change log (which keeps the cached
    /// maps current across instances) and the clock.
    pub fn new(
        catalogue: Arc<dyn Catalogue>,
        log: Arc<dyn SeatChangeLog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let catalogue = Arc::new(CachedCatalogue::new(catalogue));
        Self {
            maps: SeatMaps::new(catalogue.clone(), log.clone()),
            catalogue,
            log,
            version_reads: VersionReads::default(),
            lost_seats: LostSeats::default(),
            clock,
        }
    }

    /// The catalogue port this service reads through, with its cache:
    /// other use cases that check concerts share it.
    pub fn cached(&self) -> Arc<dyn Catalogue> {
        self.catalogue.clone()
    }

    /// Writes the concert unlisted (`Catalogue::create_concert`), or finds
    /// the one its retry key made; refuses a key reused for a different
    /// concert. `SaleService::create_concert` tells the room, then lists it.
    #[tracing::instrument(skip_all)]
    pub async fn create_concert(
        &self,
        title: &str,
        schedules: &[ScheduleRequest],
        opening: Option<SaleOpening>,
        key: Option<&str>,
    ) -> Result<StoredConcert, CatalogueError> {
        let schedules = schedules
            .iter()
            .enumerate()
            .map(|(i, asked)| asked.parse(i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        let mut concert = NewConcert::parse(title, schedules)?;
        concert.opening = opening;
        concert.key = key
            .map(|raw| IdempotencyKey::parse(raw).ok_or(CatalogueError::InvalidIdempotencyKey))
            .transpose()?;
        let stored = self.catalogue.create_concert(&concert).await?;
        if !concert.is_answered_by(&stored.concert, &stored.schedules) {
            return Err(CatalogueError::IdempotencyKeyReused);
        }
        Ok(stored)
    }

    /// Lists a created concert: buyers find it and may join its room.
    pub async fn list_concert(&self, concert: ConcertId) -> Result<(), StoreError> {
        self.catalogue.list_concert(concert).await
    }

    /// Starts the concert's logs and tells its room how many seats it has.
    /// A failure is only logged: a room that was never told its seats
    /// admits as if they were endless and never reports a sold-out sale,
    /// which the in-process room's restart (`reopen_sales`) repairs.
    pub async fn open_sale(&self, concert: ConcertId, schedules: &[Schedule]) {
        if let Err(error) = self.tell_seats(concert, schedules).await {
            tracing::warn!(%error, concert = %concert, "the waiting room does not know this concert's seats");
        }
    }

    async fn tell_seats(
        &self,
        concert: ConcertId,
        schedules: &[Schedule],
    ) -> Result<(), StoreError> {
        let ids: Vec<ScheduleId> = schedules.iter().map(|s| s.id).collect();
        let total = schedules.iter().map(|s| s.seat_count).sum();
        self.log.open_sale(concert, &ids, total).await
    }

    /// Every concert (not cached: an operator's list).
    pub async fn concerts(&self) -> Result<Vec<Concert>, CatalogueError> {
        Ok(self.catalogue.concerts().await?)
    }

    /// Keeps the concert's scheduled opening (`QueueService::schedule_sale`
    /// also tells the room); false for an unknown concert.
    pub async fn schedule_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<bool, StoreError> {
        self.catalogue.schedule_opening(concert, opening).await
    }

    /// Every scheduled opening kept with the concerts.
    pub async fn openings(&self) -> Result<Vec<(ConcertId, SaleOpening)>, StoreError> {
        let concerts = self.catalogue.concerts().await?;
        Ok(concerts
            .into_iter()
            .filter_map(|c| Some((c.id, c.opening?)))
            .collect())
    }

    /// Whether the concert exists (cached: see [`CachedCatalogue`]).
    pub async fn concert_exists(&self, concert: ConcertId) -> Result<bool, StoreError> {
        self.catalogue.concert_exists(concert).await
    }

    /// A concert's schedules (cached: schedules never change).
    pub async fn schedules(
        &self,
        concert: ConcertId,
    ) -> Result<Arc<Vec<Schedule>>, CatalogueError> {
        Ok(self.catalogue.shared_schedules(concert).await?)
    }

    /// A schedule by id (cached: schedules never change).
    pub async fn schedule(&self, raw: i64) -> Result<Schedule, CatalogueError> {
        let id = ScheduleId::parse(raw).ok_or(CatalogueError::ScheduleNotFound)?;
        self.find_schedule(id)
            .await?
            .ok_or(CatalogueError::ScheduleNotFound)
    }

    /// A schedule by id, `None` if there is none (cached). Other features
    /// ask this rather than [`schedule`](Self::schedule), so that the only
    /// failure they have to place is the store's.
    pub async fn find_schedule(&self, id: ScheduleId) -> Result<Option<Schedule>, StoreError> {
        self.catalogue.schedule(id).await
    }

    /// The schedule's live map, current as of now.
    pub async fn seat_map(&self, schedule: ScheduleId) -> Result<Arc<LiveMap>, CatalogueError> {
        let version = self.version(schedule).await?;
        self.seat_map_at(schedule, version).await
    }

    /// The schedule's seat-map version now; callers may read it alongside
    /// the queue gate, since it costs no database work.
    pub async fn version(&self, schedule: ScheduleId) -> Result<u64, CatalogueError> {
        Ok(self.version_reads.read(self.log.as_ref(), schedule).await?)
    }

    /// The schedule's map at `version` or later (see `seat_maps`).
    pub async fn seat_map_at(
        &self,
        schedule: ScheduleId,
        version: u64,
    ) -> Result<Arc<LiveMap>, CatalogueError> {
        Ok(self.maps.at(schedule, version, self.clock.now()).await?)
    }

    /// One seat's stored state as far as this instance knows it at
    /// `version` (from `version`), or `None`. A map behind `version` is
    /// not caught up for one seat: the write it might save costs less.
    pub fn cached_seat(
        &self,
        schedule: ScheduleId,
        seat: SeatNumber,
        version: u64,
    ) -> Option<SeatState> {
        let from_map = self
            .maps
            .current(schedule, version, self.clock.now())
            .and_then(|map| map.seat(seat));
        from_map.or_else(|| self.lost_seats.at(schedule, seat, version))
    }

    /// After a hold lost `seat`: remember its state for the version read
    /// before the attempt, so the next buyers are turned away without a write.
    pub async fn seat_lost(&self, schedule: ScheduleId, seat: SeatNumber, version: u64) {
        match self.catalogue.seat(schedule, seat).await {
            Ok(Some(state)) => self.lost_seats.remember(schedule, seat, version, state),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot read a lost seat"),
        }
    }

    /// The schedule's layout: the one it was created with, or the numbered
    /// hall at its one price (cached: layouts never change).
    pub async fn layout(&self, schedule: &Schedule) -> Result<Arc<VenueLayout>, StoreError> {
        self.catalogue.shared_layout(schedule).await
    }

    /// Each schedule's live map now, in their order: every version in one
    /// read, then the maps (from memory unless one must catch up).
    pub async fn maps_of(
        &self,
        schedules: &[ScheduleId],
    ) -> Result<Vec<Arc<LiveMap>>, CatalogueError> {
        let versions = self.log.versions(schedules).await?;
        let mut maps = Vec::with_capacity(schedules.len());
        for (&schedule, version) in schedules.iter().zip(versions) {
            maps.push(self.seat_map_at(schedule, version).await?);
        }
        Ok(maps)
    }

    /// Free seats of each schedule now, in their order: every version in
    /// one read, then the live maps' counts.
    pub async fn available_seats_of(
        &self,
        schedules: &[ScheduleId],
    ) -> Result<Vec<i64>, CatalogueError> {
        let versions = self.log.versions(schedules).await?;
        let mut available = Vec::with_capacity(schedules.len());
        for (&schedule, version) in schedules.iter().zip(versions) {
            let map = self.seat_map_at(schedule, version).await?;
            available.push(map.available_at(self.clock.now()));
        }
        Ok(available)
    }

    /// Each of a concert's schedules with its seats available, held and sold
    /// now, from the live maps (an operator's view; no seat is scanned in
    /// the database unless a map must be loaded).
    pub async fn seat_counts(
        &self,
        concert: i64,
    ) -> Result<Vec<(Schedule, SeatCounts)>, CatalogueError> {
        let concert = ConcertId::parse(concert).ok_or(CatalogueError::ConcertNotFound)?;
        if !self.concert_exists(concert).await? {
            return Err(CatalogueError::ConcertNotFound);
        }
        let schedules = self.schedules(concert).await?;
        let ids: Vec<ScheduleId> = schedules.iter().map(|s| s.id).collect();
        let counts = self.counts_of(&ids).await?;
        Ok(schedules.iter().copied().zip(counts).collect())
    }

    /// Every concert with its schedules and its seats summed over them: the
    /// public list a buyer starts from. The schedules are cached; the
    /// counts cost one version read for all schedules (see `counts_of`).
    pub async fn concerts_on_sale(
        &self,
    ) -> Result<Vec<(Concert, Arc<Vec<Schedule>>, SeatCounts)>, CatalogueError> {
        let concerts = self.catalogue.concerts().await?;
        let mut listed = Vec::with_capacity(concerts.len());
        let mut ids = Vec::new();
        for concert in concerts {
            let schedules = self.schedules(concert.id).await?;
            ids.extend(schedules.iter().map(|s| s.id));
            listed.push((concert, schedules));
        }
        let mut counts = self.counts_of(&ids).await?.into_iter();
        Ok(listed
            .into_iter()
            .map(|(concert, schedules)| {
                let mut sum = SeatCounts::default();
                for seats in counts.by_ref().take(schedules.len()) {
                    sum.available += seats.available;
                    sum.held += seats.held;
                    sum.sold += seats.sold;
                }
                (concert, schedules, sum)
            })
            .collect())
    }

    /// The seats of each schedule now, in their order: every version in one
    /// read, then the live maps' counts.
    async fn counts_of(&self, schedules: &[ScheduleId]) -> Result<Vec<SeatCounts>, CatalogueError> {
        let versions = self.log.versions(schedules).await?;
        let mut counts = Vec::with_capacity(schedules.len());
        for (&schedule, version) in schedules.iter().zip(versions) {
            let map = self.seat_map_at(schedule, version).await?;
            counts.push(map.counts_at(self.clock.now()));
        }
        Ok(counts)
    }

    /// After a committed seat change: log it for every instance (and the
    /// room's stock).
    pub async fn seat_changed(&self, change: &SeatChange) {
        self.maps.changed(change).await;
    }

    /// Logs again the committed seat changes the log could not take (a
    /// store outage), once it takes them; how many (see
    /// `SeatMaps::relog_unlogged`).
    pub async fn relog_unlogged(&self) -> usize {
        self.maps.relog_unlogged().await
    }

    /// For a room that forgets on restart (the in-process one): tells it
    /// every concert's seats again, and every seat that is held or sold, as
    /// changes of the seat-change log. Returns how many concerts.
    pub async fn reopen_sales(&self) -> Result<usize, CatalogueError> {
        let concerts = self.catalogue.concerts().await?;
        for concert in &concerts {
            let schedules = self.catalogue.schedules(concert.id).await?;
            self.tell_seats(concert.id, &schedules).await?;
            for schedule in &schedules {
                let seats = self.catalogue.seats(schedule.id).await?;
                for (index, seat) in seats.iter().enumerate() {
                    if seat.state == SeatState::Available {
                        continue;
                    }
                    let change = SeatChange {
                        concert: concert.id,
                        schedule: schedule.id,
                        seat: SeatNumber::from_store(index as i64 + 1),
                        state: seat.state,
                        seat_version: seat.version,
                    };
                    self.log.append(&change).await?;
                }
            }
        }
        Ok(concerts.len())
    }

    /// Whole seat maps read from the database since start.
    pub fn seat_map_loads(&self) -> u64 {
        self.maps.loads()
    }

    /// Seat changes applied from the log since start.
    pub fn seat_changes_applied(&self) -> u64 {
        self.maps.changes_applied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{FakeLog, clock_at, held, stored};
    use std::sync::atomic::Ordering;

    fn service(catalogue: MockCatalogue, log: Arc<FakeLog>, now: i64) -> Arc<CatalogueService> {
        Arc::new(CatalogueService::new(
            Arc::new(catalogue),
            log,
            Arc::new(clock_at(now)),
        ))
    }

    #[tokio::test]
    async fn concurrent_version_readers_share_reads() {
        let log = Arc::new(FakeLog::slow());
        log.version.store(7, Ordering::SeqCst);
        let service = service(MockCatalogue::new(), log.clone(), 0);
        let readers: Vec<_> = (0..100)
            .map(|_| {
                let service = service.clone();
                tokio::spawn(async move { service.version(ScheduleId::from_store(1)).await })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), 7);
        }
        let reads = log.version_reads.load(Ordering::SeqCst);
        assert!(reads <= 2, "100 concurrent readers made {reads} reads");
    }

    #[tokio::test]
    async fn a_reader_sees_every_change_logged_before_it_asked() {
        let log = Arc::new(FakeLog::slow());
        let service = service(MockCatalogue::new(), log.clone(), 0);
        let schedule = ScheduleId::from_store(1);
        // A read is in flight with the old version...
        let early = {
            let service = service.clone();
            tokio::spawn(async move { service.version(schedule).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        // ...a hold commits and is logged, and only then a reader asks.
        log.append(&held(1, 1, 1)).await.unwrap();
        let late = service.version(schedule).await.unwrap();
        assert_eq!(early.await.unwrap().unwrap(), 0);
        assert_eq!(late, 1, "the late reader must not share the early read");
    }

    #[tokio::test]
    async fn a_seat_map_is_read_once_and_then_follows_the_log() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_seats()
            .times(1)
            .returning(|_| Ok(vec![stored(SeatState::Available, 0); 3]));
        let log = Arc::new(FakeLog::default());
        let service = service(catalogue, log.clone(), 0);
        let schedule = ScheduleId::from_store(1);
        assert_eq!(service.available_seats_of(&[schedule]).await.unwrap()[0], 3);
        log.append(&held(1, 2, 1)).await.unwrap();
        let map = service.seat_map(schedule).await.unwrap();
        assert_eq!(map.version, 1);
        assert!(matches!(map.seats[1], SeatState::Held { .. }));
        assert_eq!(service.available_seats_of(&[schedule]).await.unwrap()[0], 2);
        assert_eq!(service.seat_map_loads(), 1);
    }

    #[tokio::test]
    async fn a_gap_the_log_cannot_fill_reloads_the_map() {
        let mut catalogue = MockCatalogue::new();
        catalogue
            .expect_seats()
            .times(2)
            .returning(|_| Ok(vec![stored(SeatState::Available, 0); 3]));
        let log = Arc::new(FakeLog::default());
        let service = service(catalogue, log.clone(), 0);
        let schedule = ScheduleId::from_store(1);
        service.seat_map(schedule).await.unwrap();
        log.append(&held(1, 2, 1)).await.unwrap();
        log.forget_before(5);
        log.append(&held(1, 3, 1)).await.unwrap();
        service.seat_map(schedule).await.unwrap();
        assert_eq!(service.seat_map_loads(), 2);
    }

    #[tokio::test]
    async fn an_expired_hold_reads_available_from_the_cache() {
        let mut catalogue = MockCatalogue::new();
        let hold = SeatState::Held {
            reservation: frontrow_domain::ReservationId::from_store(1),
            until: Timestamp(500),
        };
        catalogue
            .expect_seats()
            .returning(move |_| Ok(vec![stored(hold, 1)]));
        let service = service(catalogue, Arc::new(FakeLog::default()), 500);
        let available = service
            .available_seats_of(&[ScheduleId::from_store(1)])
            .await
            .unwrap()[0];
        assert_eq!(available, 1, "the lapsed hold's seat counts as available");
    }

    #[tokio::test]
    async fn an_invalid_concert_writes_nothing() {
        let service = service(MockCatalogue::new(), Arc::new(FakeLog::default()), 0);
        let err = service
            .create_concert("Show", &[(Timestamp(0), 0, 10).into()], None, None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CatalogueError::Invalid(Rule::InvalidSeatCount)
        ));
    }
}
