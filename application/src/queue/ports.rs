//! The room's ports: the waiting room itself, and the seat gate that asks
//! the room and the seat-map version in one call.

use super::{Place, RoomStats};
use crate::StoreError;
use crate::seat_changes::SeatChangeLog;
use async_trait::async_trait;
use frontrow_domain::queue::{AdmissionPolicy, QueueToken, SaleOpening};
use frontrow_domain::room::{Ending, WritePath};
use frontrow_domain::{ConcertId, ScheduleId, Timestamp, UserId};
use std::sync::Arc;

/// A concert's waiting room. The rules live in the domain's room machine
/// ([`frontrow_domain::room::Room`]); a store runs them atomically, whatever
/// the number of instances (`MemoryWaitingRoom`: a lock around the machine;
/// `RedisWaitingRoom`: a checked copy in Lua, compared step by step by the
/// spec suite).
///
/// Contract:
/// - Each call is atomic and first runs the machine's admission round.
/// - One live place per user per room: `join` returns it (with `false`).
///   A closed room answers SOLD_OUT and a sale before its pre-queue
///   NOT_OPEN, making no place.
/// - An ended place reads EXPIRED; a token of a room that does not exist
///   may be `None`. `leave` and `touch` of an unknown or ended token do
///   nothing.
/// - Every method fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WaitingRoom: Send + Sync {
    /// The user's live place in this concert's room, or a new one at the
    /// back under `fresh` (a token the seal issued). The bool is true when
    /// the place is new. In a scheduled sale, a join
    /// before the pre-queue makes no place and answers `NotOpen`, and a join
    /// in the pre-queue gets a secret uniform draw that orders it at the
    /// opening (see `SaleOpening`).
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        fresh: QueueToken,
    ) -> Result<(Place, bool), StoreError>;
    /// `None` for a token the room never issued (or long forgotten).
    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError>;
    /// The place if the token is ACTIVE now, from the cheapest read that can
    /// tell (no admission round); `None` when it is not ACTIVE or unknown,
    /// and then only `place` says which.
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError>;
    /// The holder of an ACTIVE place asked for something: the place stays
    /// present (see `RoomSettings::active_idle_ms`). A store may skip most
    /// calls, as long as a place asked for at least every quarter of the
    /// idle time never lapses for idleness.
    async fn touch(&self, token: &QueueToken) -> Result<(), StoreError>;
    /// The holder of an ACTIVE place holds seats until `cart` (`None`: no
    /// longer): the place lapses no earlier (`Room::keep`). Does nothing to
    /// a place that is not ACTIVE.
    async fn keep(&self, token: &QueueToken, cart: Option<Timestamp>) -> Result<(), StoreError>;
    /// Ends the place (`why`: paid, or the user left), freeing its slot; its
    /// holder reads EXPIRED with `why` from then on.
    async fn leave(&self, token: &QueueToken, why: Ending) -> Result<(), StoreError>;
    /// Replaces the room's policy (creating the room if need be); the
    /// next call admits under it.
    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError>;
    /// Sets or clears the room's scheduled opening. The room decides the
    /// phase by its own clock, so every instance agrees on the moment.
    async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError>;
    /// The room at a glance (after an admission round, like every call).
    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError>;
    /// An instance's verdict on the write path steps the room's admission
    /// rate under the operator's (`Room::steer`): at most once per period
    /// each way, whichever instance asks. Returns the rate in force.
    async fn steer(&self, concert: ConcertId, write_path: WritePath) -> Result<i64, StoreError>;
}

/// What every seat read and hold asks first: the caller's place and the
/// schedule's seat-map version, in one port call so a shared store answers
/// both in one round trip.
///
/// Contract: the answer is what [`WaitingRoom::place`] and
/// [`SeatChangeLog::version`] would answer, each read after the call began
/// (an earlier version could hide a change the caller already saw); it
/// fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatGate: Send + Sync {
    /// `WaitingRoom::place` and `SeatChangeLog::version`, read together.
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError>;
}

/// A `SeatGate` over a room and versions that live apart (the in-process
/// stores): two calls, both local.
pub struct SeparateSeatGate {
    /// Answers the place.
    pub room: Arc<dyn WaitingRoom>,
    /// Answers the version.
    pub log: Arc<dyn SeatChangeLog>,
}

#[async_trait]
impl SeatGate for SeparateSeatGate {
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError> {
        let (place, version) = tokio::join!(self.room.place(token), self.log.version(schedule));
        Ok((place?, version?))
    }
}
