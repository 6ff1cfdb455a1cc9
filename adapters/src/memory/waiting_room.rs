//! The waiting room in process, with the Redis room's semantics: strict FIFO,
//! `AdmissionPolicy::admissions` applied under one lock, one place per user
//! per concert, and positions in O(log n) through a Fenwick tree over arrival
//! numbers (a user may leave from the middle of the line).
//!
//! An ACTIVE place lapses at its hard deadline or when its holder has asked
//! for nothing for `active_idle`, whichever comes first (one ordered set, so
//! O(log n) per touch and per lapse). The room follows the concert's stock
//! from the seat changes: with nothing AVAILABLE it admits nobody, and with
//! every seat sold it is closed.
//!
//! A scheduled sale keeps its pre-queue apart, ordered by each place's
//! secret draw; the first call at or after the opening moves it, in draw
//! order, to the head of the line, under the same lock that every join
//! takes, so nobody can arrive in between.

use crate::random::Draws;
use async_trait::async_trait;
use frontrow_application::queue::{Place, QueueClaims, RoomSettings, RoomStats, WaitingRoom};
use frontrow_application::seat_changes::SeatChange;
use frontrow_application::store::OrStoreError;
use frontrow_application::{Clock, StoreError};
use frontrow_domain::queue::{
    AdmissionBucket, AdmissionPolicy, QueueStatus, QueueToken, SaleOpening, SalePhase, Stock,
};
use frontrow_domain::seat::{SeatNumber, SeatState};
use frontrow_domain::{ConcertId, ScheduleId, Timestamp, UserId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Counts of waiting arrivals by arrival number, for prefix sums in O(log n).
#[derive(Default)]
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn add(&mut self, index: usize, delta: i64) {
        if index >= self.0.len() {
            // Grow by doubling and rebuild: amortised O(log n) per arrival.
            let old = Fenwick(std::mem::take(&mut self.0));
            let counts: Vec<i64> = (0..old.0.len())
                .map(|i| old.before(i + 1) - old.before(i))
                .collect();
            self.0 = vec![0; (index + 1).next_power_of_two().max(64)];
            for (i, c) in counts.into_iter().enumerate().filter(|(_, c)| *c != 0) {
                self.add(i, c);
            }
        }
        let mut i = index + 1;
        while i <= self.0.len() {
            self.0[i - 1] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of counts at indices < `index`.
    fn before(&self, index: usize) -> i64 {
        let mut sum = 0;
        let mut i = index.min(self.0.len());
        while i > 0 {
            sum += self.0[i - 1];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// An ACTIVE place: its hard deadline (`--active-seconds` after admission)
/// and the last time its holder asked for anything.
#[derive(Clone, Copy)]
struct Slot {
    deadline: Timestamp,
    seen: Timestamp,
}

/// What is left to sell in one concert, kept from the seat changes.
struct StockBook {
    total: i64,
    sold: i64,
    /// Holds by deadline; lapsed ones are dropped when stock is read.
    holds: BTreeSet<(Timestamp, ScheduleId, SeatNumber)>,
    /// Each changed seat's last state and seat version.
    seats: HashMap<(ScheduleId, SeatNumber), (u64, SeatState)>,
}

impl StockBook {
    fn new(total: i64) -> Self {
        Self {
            total,
            sold: 0,
            holds: BTreeSet::new(),
            seats: HashMap::new(),
        }
    }

    /// Applies a change newer (by seat version) than what the book holds.
    fn apply(&mut self, change: &SeatChange) {
        let key = (change.schedule, change.seat);
        let (known, old) = self
            .seats
            .get(&key)
            .copied()
            .unwrap_or((0, SeatState::Available));
        if change.seat_version <= known && self.seats.contains_key(&key) {
            return;
        }
        match old {
            SeatState::Sold { .. } => self.sold -= 1,
            SeatState::Held { until, .. } => {
                self.holds.remove(&(until, change.schedule, change.seat));
            }
            SeatState::Available => {}
        }
        match change.state {
            SeatState::Sold { .. } => self.sold += 1,
            SeatState::Held { until, .. } => {
                self.holds.insert((until, change.schedule, change.seat));
            }
            SeatState::Available => {}
        }
        self.seats.insert(key, (change.seat_version, change.state));
    }

    fn stock(&mut self, now: Timestamp) -> Stock {
        while self
            .holds
            .first()
            .is_some_and(|(until, _, _)| *until <= now)
        {
            self.holds.pop_first();
        }
        Stock {
            total: self.total,
            sold: self.sold,
            held: self.holds.len() as i64,
        }
    }
}

#[derive(Default)]
struct Room {
    next_arrival: usize,
    waiting: BTreeMap<usize, QueueToken>,
    arrivals: HashMap<QueueToken, usize>,
    line: Fenwick,
    active: HashMap<QueueToken, Slot>,
    /// ACTIVE places by the moment they lapse: the hard deadline, or
    /// `active_idle` after their holder was last seen, whichever is first.
    lapses: BTreeSet<(Timestamp, QueueToken)>,
    users: HashMap<UserId, QueueToken>,
    policy: Option<AdmissionPolicy>,
    bucket: Option<AdmissionBucket>,
    stock: Option<StockBook>,
    opening: Option<SaleOpening>,
    /// The pre-queue, by secret draw (ties, never seen in practice, by token).
    pre_line: BTreeSet<(u64, QueueToken)>,
    pre_draws: HashMap<QueueToken, u64>,
    /// Waiting places: when each holder joined and was last seen (see
    /// `RoomSettings::waiting_idle_ms`).
    joined: HashMap<QueueToken, Timestamp>,
    seen: HashMap<QueueToken, Timestamp>,
    /// Places that ended unused (see `RoomStats::lapsed`).
    lapsed: i64,
    /// Places admitted so far (`RoomStats::admitted`).
    admitted: i64,
}

impl Room {
    fn policy(&self, settings: &RoomSettings) -> AdmissionPolicy {
        self.policy.unwrap_or(settings.default_policy)
    }

    fn stock(&mut self, now: Timestamp) -> Option<Stock> {
        self.stock.as_mut().map(|book| book.stock(now))
    }

    fn lapse_at(slot: Slot, settings: &RoomSettings) -> Timestamp {
        if settings.active_idle_ms > 0 {
            slot.deadline.min(Timestamp(
                slot.seen.millis().saturating_add(settings.active_idle_ms),
            ))
        } else {
            slot.deadline
        }
    }

    /// Before its opening a scheduled sale only takes joins.
    fn phase(&self, now: Timestamp) -> SalePhase {
        self.opening.map_or(SalePhase::Open, |o| o.phase(now))
    }

    /// Moves the pre-queue, in draw order, to the line once the sale is
    /// open: all of it in this one step.
    fn open_if_due(&mut self, now: Timestamp) {
        if self.pre_line.is_empty() || self.phase(now) != SalePhase::Open {
            return;
        }
        for (_, token) in std::mem::take(&mut self.pre_line) {
            self.pre_draws.remove(&token);
            self.enqueue(token);
        }
    }

    /// Puts `token` at the back of the line.
    fn enqueue(&mut self, token: QueueToken) {
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.waiting.insert(arrival, token.clone());
        self.arrivals.insert(token, arrival);
        self.line.add(arrival, 1);
    }

    fn admit(&mut self, settings: &RoomSettings, now: Timestamp) {
        self.open_if_due(now);
        if self.phase(now) != SalePhase::Open {
            return;
        }
        while let Some((at, token)) = self.lapses.first().cloned() {
            if at > now {
                break;
            }
            self.lapses.pop_first();
            self.active.remove(&token);
            self.forget_holder(&token);
            self.lapsed += 1;
        }
        let policy = self.policy(settings);
        let sellable = self.stock(now).is_none_or(|stock| !stock.sold_out());
        let bucket = self.bucket.unwrap_or_else(|| policy.fresh_bucket(now));
        let (admit, bucket) = policy.admissions(
            self.active.len() as i64,
            self.waiting.len() as i64,
            sellable,
            bucket,
            now,
        );
        let mut admitted = 0;
        while admitted < admit {
            let Some((arrival, token)) = self.waiting.pop_first() else {
                break;
            };
            self.arrivals.remove(&token);
            self.line.add(arrival, -1);
            self.joined.remove(&token);
            let seen = self.seen.remove(&token);
            if seen.is_some_and(|seen| absent(seen, settings, now)) {
                // Skipped, not admitted: a later status says EXPIRED.
                self.forget_holder(&token);
                self.lapsed += 1;
                continue;
            }
            admitted += 1;
            let slot = Slot {
                deadline: Timestamp(now.millis().saturating_add(settings.active_ms)),
                seen: now,
            };
            self.lapses
                .insert((Self::lapse_at(slot, settings), token.clone()));
            self.active.insert(token, slot);
            self.admitted += 1;
        }
        // Tokens go only to those admitted; a skipped place spends none.
        self.bucket = Some(AdmissionBucket {
            milli_tokens: bucket.milli_tokens + (admit - admitted) * 1000,
            ..bucket
        });
    }

    /// A waiting holder asked for its status: it is present. Recorded only
    /// near the front, as the Redis room does (see `present` in
    /// prelude.lua), so both rooms lapse the same places.
    fn seen_waiting(&mut self, token: &QueueToken, settings: &RoomSettings, now: Timestamp) {
        let (status, position) = self.status(token);
        let rate = self.policy(settings).admit_per_second();
        let near = position <= 2 * rate * settings.waiting_idle_ms / 1000;
        let waiting = matches!(status, QueueStatus::Waiting | QueueStatus::PreQueue);
        if settings.waiting_idle_ms > 0 && waiting && near {
            self.seen.insert(token.clone(), now);
        }
    }

    /// The holder of an ACTIVE place asked for something: it stays present.
    fn touch(&mut self, token: &QueueToken, settings: &RoomSettings, now: Timestamp) {
        if let Some(slot) = self.active.get_mut(token) {
            let before = Self::lapse_at(*slot, settings);
            slot.seen = now;
            let after = Self::lapse_at(*slot, settings);
            if after != before {
                self.lapses.remove(&(before, token.clone()));
                self.lapses.insert((after, token.clone()));
            }
        }
    }

    fn status(&self, token: &QueueToken) -> (QueueStatus, i64) {
        if self.pre_draws.contains_key(token) {
            (QueueStatus::PreQueue, 0)
        } else if let Some(&arrival) = self.arrivals.get(token) {
            (QueueStatus::Waiting, self.line.before(arrival) + 1)
        } else if self.active.contains_key(token) {
            (QueueStatus::Active, 0)
        } else {
            (QueueStatus::Expired, 0)
        }
    }

    /// The place of `token` ended: its holder has no live place here any
    /// more (unless they joined again since).
    fn forget_holder(&mut self, token: &QueueToken) {
        if let Some(claims) = QueueClaims::read(token)
            && self.users.get(&claims.user) == Some(token)
        {
            self.users.remove(&claims.user);
        }
    }

    fn remove(&mut self, token: &QueueToken, settings: &RoomSettings) {
        self.forget_holder(token);
        if let Some(draw) = self.pre_draws.remove(token) {
            self.pre_line.remove(&(draw, token.clone()));
        }
        self.seen.remove(token);
        self.joined.remove(token);
        if let Some(arrival) = self.arrivals.remove(token) {
            self.waiting.remove(&arrival);
            self.line.add(arrival, -1);
        }
        if let Some(slot) = self.active.remove(token) {
            self.lapses
                .remove(&(Self::lapse_at(slot, settings), token.clone()));
        }
    }

    /// The place of `token` now, with the room's policy and stock.
    fn place(
        &mut self,
        token: &QueueToken,
        concert: ConcertId,
        user: UserId,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> Place {
        let found = self.status(token);
        let policy = self.policy(settings);
        let stock = self.stock(now);
        Place::new(token.clone(), concert, user, found, policy, stock)
            .paced(settings)
            .with_opening(self.opening, now)
    }
}

/// A waiting place last seen at `seen` is absent now.
fn absent(seen: Timestamp, settings: &RoomSettings, now: Timestamp) -> bool {
    settings.waiting_idle_ms > 0 && seen.millis() < now.millis() - settings.waiting_idle_ms
}

/// Every concert's room. A token names its concert and holder (its claims,
/// checked by the seal before any store call), so no map from tokens is
/// kept: a room holds only live places, and a token it no longer has is
/// EXPIRED, as in the Redis room.
#[derive(Default)]
struct Rooms {
    rooms: HashMap<ConcertId, Room>,
}

/// The `WaitingRoom` of one instance (see the module doc): every room of
/// every concert behind one lock. Its state lives and dies with the
/// process, so at start the application tells it the concerts' stock and
/// openings again (`CatalogueService::reopen_sales`,
/// `SaleService::restore_openings`). Pair it with a
/// [`MemorySeatChangeLog`](super::seat_log::MemorySeatChangeLog) and a
/// `SeparateSeatGate`.
pub struct MemoryWaitingRoom {
    state: Mutex<Rooms>,
    settings: RoomSettings,
    clock: Arc<dyn Clock>,
    draws: Draws,
}

impl MemoryWaitingRoom {
    /// An empty set of rooms under `settings` (each concert's room starts
    /// with `settings.default_policy` until an operator sets one). Every
    /// decision reads `clock`, so a test or a simulation can move time.
    ///
    /// ```
    /// use frontrow_adapters::memory::seat_log::MemorySeatChangeLog;
    /// use frontrow_adapters::memory::waiting_room::MemoryWaitingRoom;
    /// use frontrow_application::clock::SystemClock;
    /// use frontrow_application::queue::{RoomSettings, SeparateSeatGate, WaitingRoom};
    /// use frontrow_application::seat_changes::SeatChangeLog;
    /// use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken};
    /// use frontrow_domain::{ConcertId, UserId};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let settings = RoomSettings {
    ///     default_policy: AdmissionPolicy::new(1_000, 100, false)?, // 1,000 ACTIVE, 100 per second
    ///     active_ms: 600_000,
    ///     active_idle_ms: 120_000,
    ///     waiting_idle_ms: 60_000,
    /// };
    /// let room = Arc::new(MemoryWaitingRoom::new(settings, Arc::new(SystemClock)));
    /// let log: Arc<dyn SeatChangeLog> = Arc::new(MemorySeatChangeLog::new(room.clone()));
    /// let gate = SeparateSeatGate { room: room.clone(), log };
    /// # let _ = gate;
    ///
    /// let token = QueueToken::parse("1.7.0.ab").ok_or("syntax")?; // as a seal would issue it
    /// let (place, created) = room.join(ConcertId::from_store(1), UserId::from_store(7), token).await?;
    /// assert!(created);
    /// assert_eq!(place.status, QueueStatus::Active, "an empty room admits at once");
    /// # Ok(()) }
    /// ```
    pub fn new(settings: RoomSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::default(),
            settings,
            clock,
            draws: Draws::os(),
        }
    }

    /// Pre-queue draws from `draws` instead of the OS (tests at a fixed seed).
    pub fn with_draws(mut self, draws: Draws) -> Self {
        self.draws = draws;
        self
    }

    fn with_rooms<T>(&self, f: impl FnOnce(&mut Rooms, Timestamp) -> T) -> Result<T, StoreError> {
        Ok(f(&mut self.state.lock(), self.clock.now()))
    }

    /// A committed seat change: the concert's stock follows it (see
    /// `MemorySeatChangeLog`).
    pub fn seat_changed(&self, change: &SeatChange) -> Result<(), StoreError> {
        self.with_rooms(|state, _| {
            if let Some(book) = state
                .rooms
                .get_mut(&change.concert)
                .and_then(|room| room.stock.as_mut())
            {
                book.apply(change);
            }
        })
    }

    /// The concert's seats, once: the room starts counting its stock.
    pub fn open_stock(&self, concert: ConcertId, total: i64) -> Result<(), StoreError> {
        self.with_rooms(|state, _| {
            let room = state.rooms.entry(concert).or_default();
            if room.stock.is_none() {
                room.stock = Some(StockBook::new(total));
            }
        })
    }
}

#[async_trait]
impl WaitingRoom for MemoryWaitingRoom {
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        fresh: QueueToken,
    ) -> Result<(Place, bool), StoreError> {
        let settings = &self.settings;
        let draw = self.draws.next().or_store()?;
        self.with_rooms(|state, now| {
            let room = state.rooms.entry(concert).or_default();
            room.admit(settings, now);
            if room.phase(now) == SalePhase::NotOpen {
                let place = room.place(&fresh, concert, user, settings, now);
                let status = QueueStatus::NotOpen;
                return (
                    Place { status, ..place }.with_opening(room.opening, now),
                    false,
                );
            }
            // Sold out before anything else, even for a live place, as in
            // the Redis room (join.lua): nothing is left to buy.
            if room.stock(now).is_some_and(Stock::closed) {
                let place = room.place(&fresh, concert, user, settings, now);
                return (
                    Place {
                        status: QueueStatus::SoldOut,
                        ..place
                    },
                    false,
                );
            }
            let existing = room
                .users
                .get(&user)
                .cloned()
                .filter(|t| room.status(t).0 != QueueStatus::Expired);
            if let Some(token) = existing {
                room.touch(&token, settings, now);
                return (room.place(&token, concert, user, settings, now), false);
            }
            if room.phase(now) == SalePhase::PreQueue {
                room.pre_line.insert((draw, fresh.clone()));
                room.pre_draws.insert(fresh.clone(), draw);
            } else {
                room.enqueue(fresh.clone());
            }
            room.users.insert(user, fresh.clone());
            room.joined.insert(fresh.clone(), now);
            room.seen.insert(fresh.clone(), now);
            room.admit(settings, now);
            (room.place(&fresh, concert, user, settings, now), true)
        })
    }

    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            let QueueClaims { concert, user, .. } = QueueClaims::read(token)?;
            let room = state.rooms.get_mut(&concert)?;
            room.admit(settings, now);
            room.touch(token, settings, now);
            room.seen_waiting(token, settings, now);
            Some(room.place(token, concert, user, settings, now))
        })
    }

    /// In process a full `place` is as cheap as any read.
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        Ok(self
            .place(token)
            .await?
            .filter(|place| place.status == QueueStatus::Active))
    }

    /// `place` already keeps a place present here.
    async fn touch(&self, _: &QueueToken) -> Result<(), StoreError> {
        Ok(())
    }

    async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            if let Some(claims) = QueueClaims::read(token)
                && let Some(room) = state.rooms.get_mut(&claims.concert)
            {
                room.remove(token, settings);
                room.admit(settings, now);
            }
        })
    }

    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().policy = Some(policy))
    }

    async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().opening = opening)
    }

    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            let room = state.rooms.entry(concert).or_default();
            room.admit(settings, now);
            RoomStats {
                waiting: (room.waiting.len() + room.pre_line.len()) as i64,
                opening: room.opening,
                lapsed: room.lapsed,
                longest_wait_ms: room
                    .waiting
                    .first_key_value()
                    .map(|(_, token)| token)
                    .or_else(|| room.pre_line.first().map(|(_, token)| token))
                    .and_then(|token| room.joined.get(token))
                    .map_or(0, |joined| (now.millis() - joined.millis()).max(0)),
                active: room.active.len() as i64,
                admitted: room.admitted,
                policy: room.policy(settings),
                stock: room.stock(now),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_only_those_still_waiting_ahead() {
        let mut line = Fenwick::default();
        for i in 0..200 {
            line.add(i, 1);
        }
        assert_eq!(line.before(150), 150);
        line.add(10, -1);
        line.add(0, -1);
        assert_eq!(line.before(150), 148);
        assert_eq!(line.before(0), 0);
        line.add(5_000, 1);
        assert_eq!(line.before(5_001), 199);
    }

    #[tokio::test]
    async fn an_ended_place_leaves_nothing_behind() {
        use frontrow_application::clock::SystemClock;
        use frontrow_domain::queue::AdmissionPolicy;
        let settings = RoomSettings {
            default_policy: AdmissionPolicy::new(10, 1_000, false).expect("a policy"),
            active_ms: 600_000,
            active_idle_ms: 120_000,
            waiting_idle_ms: 60_000,
        };
        let room = MemoryWaitingRoom::new(settings, Arc::new(SystemClock));
        let concert = ConcertId::from_store(1);
        for user in 1..=1_000 {
            let token = QueueToken::parse(&format!("1.{user}.0.ab")).expect("a token");
            let (place, created) = room
                .join(concert, UserId::from_store(user), token)
                .await
                .expect("joined");
            assert!(created);
            room.leave(&place.token).await.expect("left");
            let after = room.place(&place.token).await.expect("read");
            assert_eq!(after.map(|p| p.status), Some(QueueStatus::Expired));
        }
        let state = room.state.lock();
        let kept = &state.rooms[&concert];
        assert!(kept.users.is_empty() && kept.active.is_empty() && kept.arrivals.is_empty());
        assert!(kept.seen.is_empty() && kept.joined.is_empty() && kept.lapses.is_empty());
    }
}
