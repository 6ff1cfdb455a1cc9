//! The waiting room in process: a lock around one
//! [`Room`] per concert, the domain machine
//! that holds every rule of the room (the Redis room runs the same rules in
//! Lua, checked against it by the spec suite). This file only finds the
//! room, reads the clock and the pre-queue draw, and turns the machine's
//! answers into `Place`s.

use crate::random::Draws;
use async_trait::async_trait;
use frontrow_application::queue::{Place, QueueClaims, RoomSettings, RoomStats, WaitingRoom};
use frontrow_application::seat_changes::SeatChange;
use frontrow_application::store::OrStoreError;
use frontrow_application::{Clock, StoreError};
use frontrow_domain::queue::{AdmissionPolicy, QueueToken, SaleOpening};
use frontrow_domain::room::{Ending, Room, RoomSnapshot, WritePath};
use frontrow_domain::{ConcertId, Timestamp, UserId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Every concert's room. A token names its concert and holder (its claims,
/// checked by the seal before any store call), so no map from tokens is
/// kept here: a room holds only live places, and a token it no longer has
/// is EXPIRED, as in the Redis room.
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
    /// use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, StockRule};
    /// use frontrow_domain::room::RateController;
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
    ///     pick_ms: 120_000,
    ///     stock_rule: StockRule::default(),
    ///     controller: RateController::default(),
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
            if let Some(room) = state.rooms.get_mut(&change.concert) {
                room.seat_changed(
                    change.schedule,
                    change.seat,
                    change.seat_version,
                    change.state,
                );
            }
        })
    }

    /// The concert's seats, once: the room starts counting its stock.
    pub fn open_stock(&self, concert: ConcertId, total: i64) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().open_stock(total))
    }

    /// Every place of the concert's room, for the spec suite.
    pub fn snapshot(&self, concert: ConcertId) -> Result<RoomSnapshot, StoreError> {
        self.with_rooms(|state, _| {
            state
                .rooms
                .get(&concert)
                .map(Room::snapshot)
                .unwrap_or_default()
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
            let joined = room.join(user, fresh, draw, settings, now);
            let place =
                Place::from_answer(joined.token, concert, user, joined.answer, settings, now);
            (place, joined.created)
        })
    }

    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            let QueueClaims { concert, user, .. } = QueueClaims::read(token)?;
            let room = state.rooms.get_mut(&concert)?;
            let answer = room.place(token, settings, now);
            Some(Place::from_answer(
                token.clone(),
                concert,
                user,
                answer,
                settings,
                now,
            ))
        })
    }

    /// No admission round: the gate's hot path, as in Redis (active.lua).
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        self.with_rooms(|state, now| {
            let QueueClaims { concert, user, .. } = QueueClaims::read(token)?;
            let room = state.rooms.get(&concert)?;
            room.active_lapse(token, now)?;
            let turn = room.slot_times(token).map(|(turn, _)| turn);
            Some(Place::active(token.clone(), concert, user).with_turn(turn))
        })
    }

    async fn touch(&self, token: &QueueToken) -> Result<(), StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            if let Some(claims) = QueueClaims::read(token)
                && let Some(room) = state.rooms.get_mut(&claims.concert)
            {
                room.touch(token, settings, now);
            }
        })
    }

    async fn keep(&self, token: &QueueToken, cart: Option<Timestamp>) -> Result<(), StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            if let Some(claims) = QueueClaims::read(token)
                && let Some(room) = state.rooms.get_mut(&claims.concert)
            {
                room.keep(token, cart, settings, now);
            }
        })
    }

    async fn leave(&self, token: &QueueToken, why: Ending) -> Result<(), StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            if let Some(claims) = QueueClaims::read(token)
                && let Some(room) = state.rooms.get_mut(&claims.concert)
            {
                room.leave(token, why, settings, now);
            }
        })
    }

    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().set_policy(policy))
    }

    async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError> {
        self.with_rooms(|state, _| state.rooms.entry(concert).or_default().set_opening(opening))
    }

    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| state.rooms.entry(concert).or_default().stats(settings, now))
    }

    async fn steer(&self, concert: ConcertId, write_path: WritePath) -> Result<i64, StoreError> {
        let settings = &self.settings;
        self.with_rooms(|state, now| {
            state
                .rooms
                .entry(concert)
                .or_default()
                .steer(write_path, settings, now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::queue::{QueueStatus, StockRule};
    use frontrow_domain::room::RateController;

    #[tokio::test]
    async fn an_ended_place_leaves_nothing_behind() {
        use frontrow_application::clock::SystemClock;
        let settings = RoomSettings {
            default_policy: AdmissionPolicy::new(10, 1_000, false).expect("a policy"),
            active_ms: 600_000,
            active_idle_ms: 120_000,
            waiting_idle_ms: 60_000,
            pick_ms: 120_000,
            stock_rule: StockRule::default(),
            controller: RateController::default(),
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
            room.leave(&place.token, Ending::Left).await.expect("left");
            let after = room.place(&place.token).await.expect("read");
            assert_eq!(after.map(|p| p.status), Some(QueueStatus::Expired));
        }
        assert!(room.state.lock().rooms[&concert].is_idle());
    }
}
