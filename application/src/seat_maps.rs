//! Seat maps that follow the seat-change log instead of reloading.
//!
//! Each instance keeps one map per schedule: the stored state of every seat,
//! each seat's version, and the counts the schedules list needs (sold seats
//! and hold deadlines, so free seats are never counted per request). A map
//! is read from the database only when it is first needed, when the log can
//! no longer fill the gap between the map and the version a reader asks for,
//! or when it is older than `SEAT_MAP_MAX_AGE_MS` (which bounds the staleness
//! left by a writer that died between its commit and its append).
//!
//! A reader names the version it needs (read from the log together with its
//! queue place). A map at that version or later answers at once; otherwise
//! one reader per schedule at a time fetches the missing changes and applies
//! them in version order, and the readers queued behind it find the map
//! already current. A change is applied only when its seat version is newer
//! than the map's, so a late, repeated or reordered change never undoes a
//! newer one, and a map rebuilt from changes equals the database's.
//!
//! Seat status is computed at read time, so a lapsed hold reads AVAILABLE
//! without any change being logged.

use crate::StoreError;
use crate::cache::BoundedMap;
use crate::catalogue::Catalogue;
use crate::seat_changes::{SeatChange, SeatChangeLog, StoredSeat};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ScheduleId, Timestamp};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most schedules with a live map on one instance.
pub const MAX_MAPS: usize = 10_000;

/// A map is read again from the database after this long, even if the log
/// says nothing changed.
pub const SEAT_MAP_MAX_AGE_MS: i64 = 60_000;

/// One schedule's seats as this instance knows them at `version`.
#[derive(Debug, Clone)]
pub struct LiveMap {
    /// The log version every change up to which is applied.
    pub version: u64,
    /// When the map was last read whole from the database.
    pub loaded_at: Timestamp,
    /// Shared with readers: the same `Arc` means the same snapshot.
    pub seats: Arc<Vec<SeatState>>,
    seat_versions: Vec<u64>,
    sold: i64,
    /// Stored holds by deadline (lapsed ones included until their seat
    /// changes again), so live holds are counted without a scan.
    hold_deadlines: BTreeMap<Timestamp, i64>,
    holds: i64,
}

impl LiveMap {
    /// A map of the seats as read from the database at log version
    /// `version`.
    pub fn from_stored(stored: &[StoredSeat], version: u64, now: Timestamp) -> Self {
        let mut map = LiveMap {
            version,
            loaded_at: now,
            seats: Arc::new(Vec::with_capacity(stored.len())),
            seat_versions: Vec::with_capacity(stored.len()),
            sold: 0,
            hold_deadlines: BTreeMap::new(),
            holds: 0,
        };
        for seat in stored {
            Arc::make_mut(&mut map.seats).push(seat.state);
            map.seat_versions.push(seat.version);
            map.count(seat.state, 1);
        }
        map
    }

    fn count(&mut self, state: SeatState, sign: i64) {
        match state {
            SeatState::Available => {}
            SeatState::Sold { .. } => self.sold += sign,
            SeatState::Held { until, .. } => {
                self.holds += sign;
                let entry = self.hold_deadlines.entry(until).or_default();
                *entry += sign;
                if *entry == 0 {
                    self.hold_deadlines.remove(&until);
                }
            }
        }
    }

    /// Applies one change if it is newer than what the map holds for its
    /// seat; true when it changed the map.
    pub fn apply(&mut self, change: &SeatChange) -> bool {
        let index = change.seat.get() as usize - 1;
        match self.seat_versions.get(index) {
            Some(&known) if change.seat_version > known => {}
            _ => return false,
        }
        let old = self.seats[index];
        self.count(old, -1);
        self.count(change.state, 1);
        Arc::make_mut(&mut self.seats)[index] = change.state;
        self.seat_versions[index] = change.seat_version;
        true
    }

    /// Seats neither sold nor held at `now`.
    pub fn available_at(&self, now: Timestamp) -> i64 {
        let lapsed: i64 = self
            .hold_deadlines
            .range(..=now)
            .map(|(_, count)| count)
            .sum();
        self.seats.len() as i64 - self.sold - (self.holds - lapsed)
    }

    /// Seats available, held and sold at `now` (a lapsed hold counts as
    /// available, as everywhere).
    pub fn counts_at(&self, now: Timestamp) -> SeatCounts {
        let available = self.available_at(now);
        SeatCounts {
            available,
            held: self.seats.len() as i64 - self.sold - available,
            sold: self.sold,
        }
    }

    /// One seat's stored state; `None` for a number past the last seat.
    pub fn seat(&self, seat: SeatNumber) -> Option<SeatState> {
        self.seats.get(seat.get() as usize - 1).copied()
    }

    fn fresh_at(&self, now: Timestamp) -> bool {
        now.millis() - self.loaded_at.millis() < SEAT_MAP_MAX_AGE_MS
    }
}

/// How a schedule's seats stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeatCounts {
    /// Neither sold nor under a live hold (lapsed holds count here).
    pub available: i64,
    /// Under a hold that is live at that moment.
    pub held: i64,
    /// Paid for.
    pub sold: i64,
}

/// Every schedule's live map on this instance.
pub struct SeatMaps {
    catalogue: Arc<dyn Catalogue>,
    log: Arc<dyn SeatChangeLog>,
    /// At most `MAX_MAPS`; when full, maps too old to serve go first.
    maps: BoundedMap<ScheduleId, Arc<LiveMap>>,
    /// One catch-up at a time per schedule; the others wait and find the map
    /// current. When full, the turns nobody holds go.
    catching_up: BoundedMap<ScheduleId, Arc<tokio::sync::Mutex<()>>>,
    loads: AtomicU64,
    changes_applied: AtomicU64,
    /// Committed changes the log did not take (a store outage), newest per
    /// seat, to log again (see `relog_unlogged`).
    unlogged: Mutex<HashMap<(ScheduleId, SeatNumber), SeatChange>>,
}

/// The most seats whose unlogged change an instance keeps; past that the
/// oldest outage's changes are left to the maps' age and the holds' deadlines.
const MAX_UNLOGGED: usize = 100_000;

impl SeatMaps {
    /// No maps yet: each is read on first use.
    pub fn new(catalogue: Arc<dyn Catalogue>, log: Arc<dyn SeatChangeLog>) -> Self {
        Self {
            catalogue,
            log,
            maps: BoundedMap::new(MAX_MAPS),
            catching_up: BoundedMap::new(MAX_MAPS),
            loads: AtomicU64::new(0),
            changes_applied: AtomicU64::new(0),
            unlogged: Mutex::default(),
        }
    }

    /// Whole maps read from the database since start (a metric: after
    /// warm-up it should stay flat while deltas keep maps current).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// Changes applied from the log since start.
    pub fn changes_applied(&self) -> u64 {
        self.changes_applied.load(Ordering::Relaxed)
    }

    /// The cached map if it is at `version` or later and young enough;
    /// never waits and never asks a store.
    pub fn current(
        &self,
        schedule: ScheduleId,
        version: u64,
        now: Timestamp,
    ) -> Option<Arc<LiveMap>> {
        self.maps
            .get(&schedule)
            .filter(|m| m.version >= version && m.fresh_at(now))
    }

    /// The schedule's map at `version` or later: from cache, by applying the
    /// missing changes, or (only when the log cannot fill the gap, or the
    /// map is too old) read from the database.
    pub async fn at(
        &self,
        schedule: ScheduleId,
        version: u64,
        now: Timestamp,
    ) -> Result<Arc<LiveMap>, StoreError> {
        if let Some(map) = self.current(schedule, version, now) {
            return Ok(map);
        }
        let turn = self.catch_up_lock(schedule);
        let _turn = turn.lock().await;
        if let Some(map) = self.current(schedule, version, now) {
            return Ok(map);
        }
        let cached = self.maps.get(&schedule).filter(|m| m.fresh_at(now));
        let map = match cached {
            Some(map) => match self.follow(schedule, &map, version).await? {
                Some(followed) => followed,
                None => self.load(schedule, now).await?,
            },
            None => self.load(schedule, now).await?,
        };
        let map = Arc::new(map);
        self.maps
            .insert(schedule, map.clone(), |_, m| !m.fresh_at(now));
        Ok(map)
    }

    /// `map` with the log's changes after its version applied, or `None`
    /// when the log has a gap or does not reach `version`.
    async fn follow(
        &self,
        schedule: ScheduleId,
        map: &LiveMap,
        version: u64,
    ) -> Result<Option<LiveMap>, StoreError> {
        let Some(changes) = self.log.since(schedule, map.version).await? else {
            return Ok(None);
        };
        let mut next = map.clone();
        for (at, change) in &changes {
            if *at != next.version + 1 {
                return Ok(None);
            }
            if next.apply(change) {
                self.changes_applied.fetch_add(1, Ordering::Relaxed);
            }
            next.version = *at;
        }
        Ok((next.version >= version).then_some(next))
    }

    /// The whole map from the database, at the log version read first: every
    /// change up to that version committed before the read, and later ones
    /// are applied over it by seat version.
    async fn load(&self, schedule: ScheduleId, now: Timestamp) -> Result<LiveMap, StoreError> {
        let version = self.log.version(schedule).await?;
        let stored = self.catalogue.seats(schedule).await?;
        self.loads.fetch_add(1, Ordering::Relaxed);
        Ok(LiveMap::from_stored(&stored, version, now))
    }

    fn catch_up_lock(&self, schedule: ScheduleId) -> Arc<tokio::sync::Mutex<()>> {
        self.catching_up
            .get_or_insert_with(schedule, Arc::default, |_, turn| {
                Arc::strong_count(turn) == 1
            })
    }

    /// After a committed change: append it to the log. If the log cannot
    /// take it, this instance forgets its map so its own next read reloads
    /// (read-your-writes), other instances catch up at the map's age, and
    /// the change is kept to be logged again (`relog_unlogged`).
    pub async fn changed(&self, change: &SeatChange) {
        if let Err(error) = self.log.append(change).await {
            tracing::warn!(%error, schedule = %change.schedule, "could not log a seat change");
            self.maps.remove(&change.schedule);
            self.keep_unlogged(*change);
            return;
        }
        self.relog_unlogged().await;
    }

    fn keep_unlogged(&self, change: SeatChange) {
        let mut unlogged = self.unlogged.lock();
        if unlogged.len() >= MAX_UNLOGGED {
            return;
        }
        let kept = unlogged
            .entry((change.schedule, change.seat))
            .or_insert(change);
        if change.seat_version > kept.seat_version {
            *kept = change;
        }
    }

    /// Logs again the committed changes the log could not take, once it
    /// takes them; returns how many it logged. Until then the waiting
    /// room's stock, which follows the log, counts those seats as they were
    /// before: a sold seat as held until its hold's deadline, so a room with
    /// nothing else to sell admits nobody and never closes. Called after
    /// every change that is logged and by the expiry sweeper every second
    /// (`ReservationService::expire_due`). A change logged twice is applied
    /// once (by seat version).
    pub async fn relog_unlogged(&self) -> usize {
        let pending: Vec<SeatChange> = {
            let mut unlogged = self.unlogged.lock();
            if unlogged.is_empty() {
                return 0;
            }
            unlogged.drain().map(|(_, c)| c).collect()
        };
        let mut logged = 0;
        let mut left = pending.into_iter();
        for change in left.by_ref() {
            if self.log.append(&change).await.is_err() {
                self.keep_unlogged(change);
                break;
            }
            logged += 1;
        }
        for change in left {
            self.keep_unlogged(change);
        }
        if logged > 0 {
            tracing::info!(logged, "logged seat changes again after an outage");
        }
        logged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::fixtures::{FakeLog, stored};
    use frontrow_domain::{ConcertId, ReservationId};
    use proptest::prelude::*;

    #[tokio::test]
    async fn a_change_the_log_could_not_take_is_logged_once_it_can() {
        let log = Arc::new(FakeLog::default());
        let maps = SeatMaps::new(Arc::new(MockCatalogue::new()), log.clone());
        let change = |seat, version| crate::fixtures::held(1, seat, version);
        log.down.store(true, Ordering::SeqCst);
        maps.changed(&change(1, 2)).await;
        maps.changed(&change(1, 3)).await; // the same seat again: newest kept
        maps.changed(&change(2, 1)).await;
        assert_eq!(maps.relog_unlogged().await, 0, "still down");
        log.down.store(false, Ordering::SeqCst);
        // The next change logged brings the others with it.
        maps.changed(&change(3, 1)).await;
        let logged = log
            .since(ScheduleId::from_store(1), 0)
            .await
            .unwrap()
            .unwrap();
        let mut seats: Vec<(i64, u64)> = logged
            .iter()
            .map(|(_, c)| (c.seat.get(), c.seat_version))
            .collect();
        seats.sort_unstable();
        assert_eq!(seats, vec![(1, 3), (2, 1), (3, 1)]);
        assert_eq!(maps.relog_unlogged().await, 0, "nothing left");
    }

    const SEATS: usize = 4;

    #[derive(Debug, Clone)]
    enum Op {
        Hold(usize),
        Cancel(usize),
        Pay(usize),
        /// Time passes: holds may lapse (no change is logged for that).
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..SEATS).prop_map(Op::Hold),
            (0..SEATS).prop_map(Op::Cancel),
            (0..SEATS).prop_map(Op::Pay),
            (1..400i64).prop_map(Op::Wait),
        ]
    }

    /// The database, as the domain's seat state machine drives it: every
    /// transition that succeeds bumps the seat's version and logs a change.
    fn run(ops: &[Op]) -> (Vec<StoredSeat>, Vec<SeatChange>, Timestamp) {
        let mut rows = vec![stored(SeatState::Available, 0); SEATS];
        let mut changes = Vec::new();
        let mut now = Timestamp(1_000);
        let mut next_reservation = 1;
        for op in ops {
            let (seat, next) = match *op {
                Op::Wait(ms) => {
                    now = Timestamp(now.millis() + ms);
                    continue;
                }
                Op::Hold(seat) => {
                    let id = ReservationId::from_store(next_reservation);
                    next_reservation += 1;
                    (
                        seat,
                        rows[seat]
                            .state
                            .hold(id, now, Timestamp(now.millis() + 500)),
                    )
                }
                Op::Cancel(seat) | Op::Pay(seat) => {
                    let SeatState::Held { reservation, .. } = rows[seat].state else {
                        continue;
                    };
                    let state = rows[seat].state;
                    let next = match op {
                        Op::Cancel(_) => state.release(reservation, now),
                        _ => state.sell(reservation, now),
                    };
                    (seat, next)
                }
            };
            let Ok(state) = next else { continue };
            rows[seat] = stored(state, rows[seat].version + 1);
            changes.push(SeatChange {
                concert: ConcertId::from_store(1),
                schedule: ScheduleId::from_store(1),
                seat: SeatNumber::from_store(seat as i64 + 1),
                state,
                seat_version: rows[seat].version,
            });
        }
        (rows, changes, now)
    }

    fn states(rows: &[StoredSeat]) -> Vec<SeatState> {
        rows.iter().map(|r| r.state).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Changes applied in any order, some of them twice, rebuild
        /// exactly the database's map and its free-seat count.
        #[test]
        fn any_order_of_changes_rebuilds_the_databases_map(
            ops in proptest::collection::vec(op(), 0..60),
            order in any::<u64>(),
        ) {
            let (rows, changes, now) = run(&ops);
            let mut shuffled: Vec<SeatChange> = changes.clone();
            shuffled.extend(changes.iter().step_by(3).copied());
            let mut seed = order | 1;
            for i in (1..shuffled.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let start = vec![stored(SeatState::Available, 0); SEATS];
            let mut map = LiveMap::from_stored(&start, 0, Timestamp(0));
            for change in &shuffled {
                map.apply(change);
            }
            let from_db = LiveMap::from_stored(&rows, 0, Timestamp(0));
            prop_assert_eq!(map.seats.as_ref(), &states(&rows));
            prop_assert_eq!(map.available_at(now), from_db.available_at(now));
            let free = rows
                .iter()
                .filter(|r| r.state.status_at(now) == frontrow_domain::seat::SeatStatus::Available)
                .count() as i64;
            prop_assert_eq!(map.available_at(now), free);
            let counts = map.counts_at(now);
            prop_assert_eq!(counts.available + counts.held + counts.sold, SEATS as i64);
            prop_assert_eq!(counts, from_db.counts_at(now));
        }

        /// A reader that follows the log with a gap in it reloads, and ends
        /// with the database's map.
        #[test]
        fn a_gap_in_the_log_is_repaired_from_the_database(
            ops in proptest::collection::vec(op(), 1..60),
            lost in 0usize..8,
        ) {
            let (rows, changes, _) = run(&ops);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let log = Arc::new(FakeLog::default());
                let start = vec![stored(SeatState::Available, 0); SEATS];
                let mut catalogue = MockCatalogue::new();
                let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let counted = loads.clone();
                let end = rows.clone();
                catalogue.expect_seats().returning(move |_| {
                    // The first read sees the start, later ones the end.
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    Ok(if n == 0 { start.clone() } else { end.clone() })
                });
                let maps = SeatMaps::new(Arc::new(catalogue), log.clone());
                let schedule = ScheduleId::from_store(1);
                maps.at(schedule, 0, Timestamp(0)).await.unwrap();
                for change in &changes {
                    log.append(change).await.unwrap();
                }
                if lost > 0 && changes.len() > lost {
                    log.forget_before(lost as u64 + 1);
                }
                let version = log.version(schedule).await.unwrap();
                let map = maps.at(schedule, version, Timestamp(0)).await.unwrap();
                assert_eq!(map.seats.as_ref(), &states(&rows));
            });
        }
    }
}
