//! Seat maps that readers never wait for.
//!
//! Each instance keeps one map per schedule it serves: the stored state of
//! every seat and the counts the schedules list needs (sold seats and hold
//! deadlines, so free seats are never counted per request). Readers are
//! handed the map this instance holds now, an immutable [`LiveMap`] behind
//! an `Arc`: they never wait for a store round trip or for another reader.
//! Only the very first read of a schedule waits, for its load.
//!
//! One background **follower** per schedule keeps the map current: it asks
//! the log for the changes after the map's version every
//! [`FOLLOW_POLL_MS`], and at once when a reader learned (from its gate
//! call) that the log is ahead of the map. Each catch-up builds the next map
//! and swaps it in whole. The map is thus stale by at most one poll
//! interval plus one catch-up; [`SeatMaps::lag`] says how stale each map is
//! now (the time since the start of the last catch-up, or reader, that
//! found it current). A follower whose schedule nobody read for
//! [`FOLLOW_IDLE_MS`] stops, and its map goes with it.
//!
//! **Read-your-writes on this instance.** A writer appends its committed
//! change to the log and then applies it to this instance's map before it
//! answers ([`SeatMaps::changed`]), so its caller's next read here sees it.
//! Another instance sees it within its follower's bound.
//!
//! A change is applied only when its seat version is newer than the map's,
//! so a late, repeated or reordered change never undoes a newer one, and a
//! map rebuilt from changes equals the database's. A map is read whole from
//! the database only on first use, when the log can no longer fill the gap,
//! or every [`SEAT_MAP_MAX_AGE_MS`] (which bounds the staleness left by a
//! writer that died between its commit and its append); the follower does
//! that in the background too.
//!
//! Seat status is computed at read time, so a lapsed hold reads AVAILABLE
//! without any change being logged.
//!
//! The followers' pacing and the lag are measured with tokio's monotonic
//! clock: they decide no rule, only how fresh a cache is.

use crate::StoreError;
use crate::cache::BoundedMap;
use crate::catalogue::Catalogue;
use crate::seat_changes::{SeatChange, SeatChangeLog, StoredSeat};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ScheduleId, Timestamp};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The most schedules with a live map (and a follower) on one instance.
pub const MAX_MAPS: usize = 10_000;

/// A map is read again from the database after this long (in the
/// background), even if the log says nothing changed.
pub const SEAT_MAP_MAX_AGE_MS: u64 = 60_000;

/// A follower asks the log at least this often: with the time one catch-up
/// takes, the bound on a map's staleness. Readers that see the log ahead
/// wake it sooner.
pub const FOLLOW_POLL_MS: u64 = 50;

/// A follower waits at least this long between two catch-ups, so a rush of
/// readers waking it costs the log at most 1000 / this reads per second
/// per schedule and instance.
pub const FOLLOW_MIN_GAP_MS: u64 = 5;

/// A follower whose schedule nobody read for this long stops and forgets
/// its map; the next read loads it again.
pub const FOLLOW_IDLE_MS: u64 = 30_000;

/// One schedule's seats as this instance knows them: immutable once handed
/// out (the follower and writers build the next one and swap it in).
#[derive(Debug, Clone)]
pub struct LiveMap {
    /// Every change of the log up to this version is in the map (later
    /// ones may be too: this instance's own, applied before the follower
    /// reached them).
    pub version: u64,
    /// Each seat's stored state, seat `i + 1` at `i`.
    pub seats: Arc<Vec<SeatState>>,
    sold: i64,
    /// Stored holds by deadline (lapsed ones included until their seat
    /// changes again), so live holds are counted without a scan.
    hold_deadlines: BTreeMap<Timestamp, i64>,
    holds: i64,
}

impl LiveMap {
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

    /// The latest hold deadline at or before `at` (`None`: no stored hold
    /// has lapsed by then). Every seat's status reads the same at two
    /// moments with the same answer, so (map, this) names what a reader
    /// sees: a rendered body or an ETag can be shared by both moments.
    pub fn lapsed_through(&self, at: Timestamp) -> Option<Timestamp> {
        self.hold_deadlines
            .range(..=at)
            .next_back()
            .map(|(until, _)| *until)
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
}

/// A map being built: the next [`LiveMap`] and each seat's version, which
/// orders the changes of one seat.
#[derive(Debug, Clone)]
pub struct WorkingMap {
    map: LiveMap,
    seat_versions: Vec<u64>,
    loaded_at: Instant,
}

impl WorkingMap {
    /// The seats as read from the database at log version `version`.
    pub fn from_stored(stored: &[StoredSeat], version: u64) -> Self {
        let mut map = LiveMap {
            version,
            seats: Arc::new(stored.iter().map(|seat| seat.state).collect()),
            sold: 0,
            hold_deadlines: BTreeMap::new(),
            holds: 0,
        };
        for seat in stored {
            map.count(seat.state, 1);
        }
        Self {
            map,
            seat_versions: stored.iter().map(|seat| seat.version).collect(),
            loaded_at: Instant::now(),
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
        let map = &mut self.map;
        let old = map.seats[index];
        map.count(old, -1);
        map.count(change.state, 1);
        Arc::make_mut(&mut map.seats)[index] = change.state;
        self.seat_versions[index] = change.seat_version;
        true
    }

    /// The map as it stands, to hand out.
    pub fn map(&self) -> &LiveMap {
        &self.map
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

/// What a reader learned from the log with its gate call: the log's
/// version, read no earlier than `asked_at`.
#[derive(Debug, Clone, Copy)]
pub struct KnownVersion {
    /// The log's version.
    pub version: u64,
    /// When the reader asked (the read happened at or after this).
    pub asked_at: Instant,
}

/// One followed schedule.
struct Followed {
    /// The map readers are handed; replaced whole, never changed in place.
    published: RwLock<Option<Arc<LiveMap>>>,
    /// The map being built (`None` until the first load). Held for one
    /// apply or swap, never across an `.await`; the follower and this
    /// instance's writers take turns on it.
    working: Mutex<Option<WorkingMap>>,
    /// One load at a time (the first read, a gap, the map's age).
    loading: tokio::sync::Mutex<()>,
    /// Wakes the follower early: a reader saw the log ahead of the map.
    wake: Notify,
    /// Milliseconds after `SeatMaps::epoch`: the last read.
    read_at: AtomicU64,
    /// Milliseconds after `SeatMaps::epoch`: the map holds every change
    /// logged before this.
    current_as_of: AtomicU64,
    /// The follower, stopped when this entry goes (evicted or idle).
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Followed {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().take() {
            task.abort();
        }
    }
}

impl Followed {
    fn new(now_ms: u64) -> Self {
        Self {
            published: RwLock::new(None),
            working: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
            wake: Notify::new(),
            read_at: AtomicU64::new(now_ms),
            current_as_of: AtomicU64::new(now_ms),
            task: Mutex::new(None),
        }
    }

    fn published(&self) -> Option<Arc<LiveMap>> {
        self.published.read().clone()
    }

    /// Swaps in `working`'s map for readers.
    fn publish(&self, working: &WorkingMap) {
        *self.published.write() = Some(Arc::new(working.map.clone()));
    }
}

/// What the followers share with their owner; they hold it weakly, so
/// dropping the [`SeatMaps`] ends them.
struct Shared {
    catalogue: Arc<dyn Catalogue>,
    log: Arc<dyn SeatChangeLog>,
    /// At most `MAX_MAPS`; when full, the ones not read for the idle time
    /// go first.
    followed: BoundedMap<ScheduleId, Arc<Followed>>,
    /// The zero of every millisecond count kept here.
    epoch: Instant,
    loads: AtomicU64,
    changes_applied: AtomicU64,
    catch_ups: AtomicU64,
    /// The most stale map a reader was handed since the last `take_read_lag`.
    worst_read_lag_ms: AtomicU64,
    /// Committed changes the log did not take (a store outage), newest per
    /// seat, to log again (see `relog_unlogged`).
    unlogged: Mutex<HashMap<(ScheduleId, SeatNumber), SeatChange>>,
}

impl Shared {
    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn now_ms(&self) -> u64 {
        self.ms(Instant::now())
    }

    fn idle(&self, entry: &Followed, now_ms: u64) -> bool {
        now_ms.saturating_sub(entry.read_at.load(Ordering::Relaxed)) >= FOLLOW_IDLE_MS
    }

    /// The whole map from the database, at the log version read first: every
    /// change up to that version committed before the read, and later ones
    /// are applied over it by seat version.
    async fn load(&self, schedule: ScheduleId) -> Result<WorkingMap, StoreError> {
        let version = self.log.version(schedule).await?;
        let stored = self.catalogue.seats(schedule).await?;
        self.loads.fetch_add(1, Ordering::Relaxed);
        Ok(WorkingMap::from_stored(&stored, version))
    }

    /// Brings the entry's map up to the log: the changes after its version,
    /// or (a gap, or a map too old) a load followed by the changes after it.
    /// Publishes the result; readers keep the previous map meanwhile.
    async fn catch_up(&self, schedule: ScheduleId, entry: &Followed) -> Result<(), StoreError> {
        let started = Instant::now();
        let (after, young) = match entry.working.lock().as_ref() {
            Some(working) => (
                working.map.version,
                started.saturating_duration_since(working.loaded_at)
                    < Duration::from_millis(SEAT_MAP_MAX_AGE_MS),
            ),
            None => return Ok(()),
        };
        let changes = match young {
            true => self.log.since(schedule, after).await?,
            false => None,
        };
        let Some(changes) = changes else {
            return self.reload(schedule, entry, started).await;
        };
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
        let mut guard = entry.working.lock();
        let Some(working) = guard.as_mut() else {
            return Ok(());
        };
        let before = working.map.version;
        for (at, change) in &changes {
            if *at <= working.map.version {
                continue; // a writer here already brought the map this far
            }
            if *at != working.map.version + 1 {
                break; // cannot happen for a complete tail; the next poll sees
            }
            if working.apply(change) {
                self.changes_applied.fetch_add(1, Ordering::Relaxed);
            }
            working.map.version = *at;
        }
        if working.map.version != before {
            entry.publish(working);
        }
        drop(guard);
        entry
            .current_as_of
            .fetch_max(self.ms(started), Ordering::Relaxed);
        Ok(())
    }

    /// Reads the whole map again and then the changes logged meanwhile (a
    /// change this instance applied to the old map was logged before, so the
    /// new one has it too), and swaps it in.
    async fn reload(
        &self,
        schedule: ScheduleId,
        entry: &Followed,
        started: Instant,
    ) -> Result<(), StoreError> {
        let _turn = entry.loading.lock().await;
        let mut fresh = self.load(schedule).await?;
        if let Some(changes) = self.log.since(schedule, fresh.map.version).await? {
            for (at, change) in &changes {
                if fresh.apply(change) {
                    self.changes_applied.fetch_add(1, Ordering::Relaxed);
                }
                fresh.map.version = fresh.map.version.max(*at);
            }
        }
        entry.publish(&fresh);
        *entry.working.lock() = Some(fresh);
        entry
            .current_as_of
            .fetch_max(self.ms(started), Ordering::Relaxed);
        Ok(())
    }
}

/// Every followed schedule's live map on this instance (see the module doc).
pub struct SeatMaps {
    shared: Arc<Shared>,
}

/// The most seats whose unlogged change an instance keeps; past that the
/// oldest outage's changes are left to the maps' age and the holds' deadlines.
const MAX_UNLOGGED: usize = 100_000;

impl SeatMaps {
    /// No maps yet: each is loaded on first use, then followed.
    pub fn new(catalogue: Arc<dyn Catalogue>, log: Arc<dyn SeatChangeLog>) -> Self {
        Self {
            shared: Arc::new(Shared {
                catalogue,
                log,
                followed: BoundedMap::new(MAX_MAPS),
                epoch: Instant::now(),
                loads: AtomicU64::new(0),
                changes_applied: AtomicU64::new(0),
                catch_ups: AtomicU64::new(0),
                worst_read_lag_ms: AtomicU64::new(0),
                unlogged: Mutex::default(),
            }),
        }
    }

    /// Whole maps read from the database since start (a metric: after
    /// warm-up it should stay flat while deltas keep maps current).
    pub fn loads(&self) -> u64 {
        self.shared.loads.load(Ordering::Relaxed)
    }

    /// Changes applied from the log since start.
    pub fn changes_applied(&self) -> u64 {
        self.shared.changes_applied.load(Ordering::Relaxed)
    }

    /// Catch-ups the followers made since start (each one log read).
    pub fn catch_ups(&self) -> u64 {
        self.shared.catch_ups.load(Ordering::Relaxed)
    }

    /// Schedules followed now.
    pub fn followed(&self) -> usize {
        self.shared.followed.len()
    }

    /// The largest lag of a followed map now: how long ago the last
    /// catch-up (or reader) that found it current began. Zero with none.
    pub fn lag(&self) -> Duration {
        let now = self.shared.now_ms();
        let mut worst = 0;
        self.shared.followed.for_each(|_, entry| {
            if entry.published().is_some() {
                let as_of = entry.current_as_of.load(Ordering::Relaxed);
                worst = worst.max(now.saturating_sub(as_of));
            }
        });
        Duration::from_millis(worst)
    }

    /// The most stale map a reader was handed since the last call (the lag
    /// of that map when it was handed out), and starts over.
    pub fn take_read_lag(&self) -> Duration {
        Duration::from_millis(self.shared.worst_read_lag_ms.swap(0, Ordering::Relaxed))
    }

    /// The schedule's map as this instance holds it now. Never waits for
    /// a store or another reader, except on a schedule's first read (its
    /// load; concurrent first readers share it). This is the accessor for
    /// anything that shows the live map.
    pub async fn current(&self, schedule: ScheduleId) -> Result<Arc<LiveMap>, StoreError> {
        self.read(schedule, None).await
    }

    /// [`current`](Self::current), told what the caller learned of the log:
    /// a map behind `known` wakes its follower (the caller is still handed
    /// the map as it is), and a map at or past it is current as of when the
    /// caller asked.
    pub async fn read(
        &self,
        schedule: ScheduleId,
        known: Option<KnownVersion>,
    ) -> Result<Arc<LiveMap>, StoreError> {
        let shared = &self.shared;
        let now_ms = shared.now_ms();
        let entry = self.entry(schedule, now_ms);
        entry.read_at.store(now_ms, Ordering::Relaxed);
        let map = match entry.published() {
            Some(map) => map,
            None => self.first_load(schedule, &entry).await?,
        };
        if let Some(known) = known {
            if map.version >= known.version {
                entry
                    .current_as_of
                    .fetch_max(shared.ms(known.asked_at), Ordering::Relaxed);
            } else {
                entry.wake.notify_one();
            }
        }
        let lag = now_ms.saturating_sub(entry.current_as_of.load(Ordering::Relaxed));
        shared.worst_read_lag_ms.fetch_max(lag, Ordering::Relaxed);
        Ok(map)
    }

    /// The map this instance holds, if it is at `version` or later; never
    /// waits, never asks a store, never starts a follower.
    pub fn held_at(&self, schedule: ScheduleId, version: u64) -> Option<Arc<LiveMap>> {
        self.shared
            .followed
            .get(&schedule)?
            .published()
            .filter(|map| map.version >= version)
    }

    /// The schedule's entry, made (with its follower) if there is none.
    fn entry(&self, schedule: ScheduleId, now_ms: u64) -> Arc<Followed> {
        let shared = &self.shared;
        if let Some(entry) = shared.followed.get(&schedule) {
            return entry;
        }
        let mut made = false;
        let entry = shared.followed.get_or_insert_with(
            schedule,
            || {
                made = true;
                Arc::new(Followed::new(now_ms))
            },
            |_, other| shared.idle(other, now_ms),
        );
        if made {
            let task = tokio::spawn(follow(
                Arc::downgrade(shared),
                schedule,
                Arc::downgrade(&entry),
            ));
            *entry.task.lock() = Some(task.abort_handle());
        }
        entry
    }

    async fn first_load(
        &self,
        schedule: ScheduleId,
        entry: &Followed,
    ) -> Result<Arc<LiveMap>, StoreError> {
        let _turn = entry.loading.lock().await;
        if let Some(map) = entry.published() {
            return Ok(map);
        }
        let started = Instant::now();
        let working = self.shared.load(schedule).await?;
        let map = Arc::new(working.map.clone());
        *entry.published.write() = Some(map.clone());
        *entry.working.lock() = Some(working);
        entry
            .current_as_of
            .fetch_max(self.shared.ms(started), Ordering::Relaxed);
        Ok(map)
    }

    /// After a committed change: append it to the log, then apply it to
    /// this instance's map, so the caller's next read here sees it
    /// (read-your-writes). If the log cannot take it, it is applied here
    /// all the same and kept to be logged again (`relog_unlogged`); other
    /// instances see it once it is logged, or at their map's age.
    pub async fn changed(&self, change: &SeatChange) {
        match self.shared.log.append(change).await {
            Ok(version) => {
                self.apply_own(change, Some(version));
                self.relog_unlogged().await;
            }
            Err(error) => {
                tracing::warn!(%error, schedule = %change.schedule, "could not log a seat change");
                self.apply_own(change, None);
                self.keep_unlogged(*change);
            }
        }
    }

    /// Applies this instance's own committed change (logged at `version`)
    /// to its map, if it follows the schedule, and publishes it.
    fn apply_own(&self, change: &SeatChange, version: Option<u64>) {
        let Some(entry) = self.shared.followed.get(&change.schedule) else {
            return;
        };
        let mut guard = entry.working.lock();
        let Some(working) = guard.as_mut() else {
            return;
        };
        let applied = working.apply(change);
        let next = version.filter(|&v| v == working.map.version + 1);
        if let Some(next) = next {
            working.map.version = next;
        }
        if applied || next.is_some() {
            entry.publish(working);
        }
        if version.is_some_and(|v| v > working.map.version) {
            // Others' changes came first: the follower fetches them now.
            entry.wake.notify_one();
        }
    }

    fn keep_unlogged(&self, change: SeatChange) {
        let mut unlogged = self.shared.unlogged.lock();
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
            let mut unlogged = self.shared.unlogged.lock();
            if unlogged.is_empty() {
                return 0;
            }
            unlogged.drain().map(|(_, c)| c).collect()
        };
        let mut logged = 0;
        let mut left = pending.into_iter();
        for change in left.by_ref() {
            if self.shared.log.append(&change).await.is_err() {
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

/// One schedule's follower: catches the map up every `FOLLOW_POLL_MS`, or
/// sooner when woken, until nobody read the schedule for `FOLLOW_IDLE_MS`
/// (it then removes its entry) or its entry or owner is gone.
async fn follow(shared: Weak<Shared>, schedule: ScheduleId, entry: Weak<Followed>) {
    let poll = Duration::from_millis(FOLLOW_POLL_MS);
    let gap = Duration::from_millis(FOLLOW_MIN_GAP_MS);
    let mut failing = false;
    loop {
        let woken = {
            let Some(entry) = entry.upgrade() else { return };
            let wake = async { entry.wake.notified().await };
            tokio::time::timeout(poll, wake).await.is_ok()
        };
        if woken {
            tokio::time::sleep(gap).await;
        }
        let (Some(shared), Some(entry)) = (shared.upgrade(), entry.upgrade()) else {
            return;
        };
        if shared.idle(&entry, shared.now_ms()) {
            let gone = shared
                .followed
                .remove_if(&schedule, |e| Arc::ptr_eq(e, &entry));
            drop(gone);
            return;
        }
        match shared.catch_up(schedule, &entry).await {
            Ok(()) => failing = false,
            // Once per outage, not once per poll: the lag metric shows it.
            Err(error) if !failing => {
                tracing::warn!(%error, schedule = %schedule, "a seat map cannot follow its log");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
