//! The waiting room in Redis. Every change is one Lua script (see the .lua
//! files beside this one), so order and admission are decided atomically by
//! Redis, whatever the number of app instances. Per concert (keys.rs): a
//! sorted set of waiting tokens scored by arrival number (ZRANK gives the
//! position in O(log n)), a sorted set of ACTIVE tokens scored by when they
//! lapse, a hash of user -> token, and the policy hash (which also holds the
//! admission bucket). A token names its concert and holder (the service
//! sealed it), so every call finds its room from the token alone, and every
//! key it touches carries the concert's hash tag: on a Redis Cluster a
//! sale's scripts all run on one node. The hot question "is this caller
//! ACTIVE?" is one small script (active.lua) with no admission round.

use super::{Connection, keys};
use crate::random::Draws;
use async_trait::async_trait;
use frontrow_application::cache::BoundedMap;
use frontrow_application::queue::{
    Place, QueueClaims, RoomSettings, RoomStats, SeatGate, WaitingRoom,
};
use frontrow_application::store::OrStoreError;
use frontrow_application::{Clock, StoreError};
use frontrow_domain::Timestamp;
use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, SaleOpening, Stock};
use frontrow_domain::room::{Answer, Ending, Outflow, WritePath};
use frontrow_domain::{ConcertId, ScheduleId, UserId};
use redis::Script;
use std::sync::Arc;

/// Beyond this many remembered touches the memory starts over (a forgotten
/// touch only costs one more script call).
const MAX_TOUCHED: usize = 200_000;

macro_rules! script {
    ($file:literal) => {
        concat!(include_str!("prelude.lua"), "\n", include_str!($file))
    };
}

/// The `WaitingRoom` (and `SeatGate`) shared by every instance: each call is
/// one Lua script, so admission is atomic without a background job, and the
/// phase of a scheduled sale is read from Redis's own clock, so every
/// instance agrees on the moment. Every key of a sale carries its concert's
/// hash tag, so the room also runs on a Redis Cluster.
pub struct RedisWaitingRoom {
    conn: Connection,
    prefix: String,
    settings: RoomSettings,
    /// When each ACTIVE token's place lapses, as this instance last saw it
    /// (its slot in `deadlines`, read by every ACTIVE gate pass), so
    /// an ACTIVE buyer costs one touch.lua per quarter of the idle time, not
    /// one per request, and none right after admission.
    lapses: BoundedMap<QueueToken, Timestamp>,
    clock: Arc<dyn Clock>,
    /// Decide at `clock` instead of Redis's clock (the spec suite only).
    pinned_time: bool,
    draws: Draws,
    join: Script,
    place: Script,
    gate: Script,
    leave: Script,
    touch: Script,
    keep: Script,
    active: Script,
    policy: Script,
    opening: Script,
    stats: Script,
    steer: Script,
}

fn status_from(raw: &str) -> Result<QueueStatus, StoreError> {
    match raw {
        "PRE_QUEUE" => Ok(QueueStatus::PreQueue),
        "NOT_OPEN" => Ok(QueueStatus::NotOpen),
        "WAITING" => Ok(QueueStatus::Waiting),
        "ACTIVE" => Ok(QueueStatus::Active),
        "EXPIRED" => Ok(QueueStatus::Expired),
        "SOLD_OUT" => Ok(QueueStatus::SoldOut),
        other => Err(StoreError::new(format!("unexpected queue status {other}"))),
    }
}

fn policy_from(capacity: i64, rate: i64, paused: i64) -> Result<AdmissionPolicy, StoreError> {
    AdmissionPolicy::new(capacity, rate, paused == 1).or_store()
}

/// The scripts' `total, sold, held`; a total of -1 means the room was never
/// told the concert's seats.
fn stock_from(total: i64, sold: i64, held: i64) -> Option<Stock> {
    (total >= 0).then_some(Stock { total, sold, held })
}

/// The scripts' `opens, pre-queue start`; -1 for a room that is open.
fn opening_from(opens: i64, pre: i64) -> Result<Option<SaleOpening>, StoreError> {
    if opens < 0 {
        return Ok(None);
    }
    SaleOpening::new(Timestamp(opens), (opens - pre) / 60_000)
        .map(Some)
        .or_store()
}

impl RedisWaitingRoom {
    /// Rooms on `conn` whose keys start with `prefix` (so several
    /// deployments or test runs can share one Redis), under `settings`.
    /// `clock` only dates what this instance shows (e.g. seconds until an
    /// opening); Redis's clock decides.
    ///
    /// ```no_run
    /// use frontrow_adapters::redis::{self, seat_log::RedisSeatChangeLog, waiting_room::RedisWaitingRoom};
    /// use frontrow_application::clock::SystemClock;
    /// use frontrow_application::queue::{RoomSettings, SeatGate, WaitingRoom};
    /// use frontrow_application::seat_changes::SeatChangeLog;
    /// use frontrow_domain::queue::{AdmissionPolicy, StockRule};
    /// use frontrow_domain::room::RateController;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let conn = redis::open("redis://cache:6379", false, Duration::from_secs(2)).await?;
    /// let settings = RoomSettings {
    ///     default_policy: AdmissionPolicy::new(1_000, 100, false)?,
    ///     active_ms: 600_000,
    ///     active_idle_ms: 120_000,
    ///     waiting_idle_ms: 60_000,
    ///     pick_ms: 120_000,
    ///     stock_rule: StockRule::default(),
    ///     controller: RateController::default(),
    /// };
    /// let room = Arc::new(RedisWaitingRoom::new(conn.clone(), "frontrow:", settings, Arc::new(SystemClock)));
    /// let log: Arc<dyn SeatChangeLog> = Arc::new(RedisSeatChangeLog::new(conn, "frontrow:"));
    /// let (room, gate): (Arc<dyn WaitingRoom>, Arc<dyn SeatGate>) = (room.clone(), room);
    /// # let _ = (room, gate, log);
    /// # Ok(()) }
    /// ```
    pub fn new(
        conn: Connection,
        prefix: &str,
        settings: RoomSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            conn,
            prefix: prefix.to_owned(),
            lapses: BoundedMap::new(MAX_TOUCHED),
            clock,
            pinned_time: false,
            draws: Draws::os(),
            touch: Script::new(script!("touch.lua")),
            keep: Script::new(script!("keep.lua")),
            active: Script::new(include_str!("active.lua")),
            join: Script::new(script!("join.lua")),
            place: Script::new(script!("place.lua")),
            gate: Script::new(script!("gate.lua")),
            leave: Script::new(script!("leave.lua")),
            policy: Script::new(script!("policy.lua")),
            opening: Script::new(script!("opening.lua")),
            stats: Script::new(script!("stats.lua")),
            steer: Script::new(script!("steer.lua")),
        }
    }

    /// Pre-queue draws from `draws` instead of the OS (tests at a fixed seed).
    pub fn with_draws(mut self, draws: Draws) -> Self {
        self.draws = draws;
        self
    }

    /// Decide at this instance's clock instead of Redis's, so a test can
    /// move time (the spec suite compares the scripts with the domain's
    /// room this way). Never in production: instances' clocks differ, and
    /// Redis's clock is the one they agree on.
    pub fn deciding_at_own_clock(mut self) -> Self {
        self.pinned_time = true;
        self
    }

    /// The time a script decides at: '' for Redis's own clock.
    fn decision_time(&self) -> String {
        if self.pinned_time {
            self.clock.now().millis().to_string()
        } else {
            String::new()
        }
    }

    /// The room's keys and the arguments every script starts with (see
    /// prelude.lua).
    fn invocation<'a>(
        &self,
        script: &'a Script,
        concert: ConcertId,
        subject: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.prepare_invoke();
        for key in keys::room(&self.prefix, concert) {
            call.key(key);
        }
        call.arg(subject)
            .arg(self.settings.default_policy.capacity())
            .arg(self.settings.default_policy.admit_per_second())
            .arg(self.settings.active_ms)
            .arg(self.settings.active_idle_ms)
            .arg(self.settings.waiting_idle_ms)
            .arg(self.decision_time())
            .arg(self.settings.stock_rule.percent())
            .arg(self.settings.stock_rule.spare())
            .arg(self.settings.pick_ms);
        call
    }

    /// True when `token`'s place, as last seen, lapses within three
    /// quarters of the idle time (or was not seen); then it is assumed kept
    /// from now on.
    fn touch_due(&self, token: &QueueToken) -> bool {
        let now = self.clock.now();
        let fresh_until = now.millis() + self.settings.active_idle_ms * 3 / 4;
        if self
            .lapses
            .get(token)
            .is_some_and(|at| at.millis() > fresh_until)
        {
            return false;
        }
        self.remember_lapse(
            token,
            Timestamp(now.millis() + self.settings.active_idle_ms),
        );
        true
    }

    /// Remembers when `token`'s place lapses; when full, lapsed ones go.
    fn remember_lapse(&self, token: &QueueToken, at: Timestamp) {
        let now = self.clock.now();
        self.lapses
            .insert(token.clone(), at, |_, lapse| *lapse <= now);
    }

    /// Notes when the idle lapse a `deadlines` value
    /// (`hard:own[:kept[:pick]]`, see `slot_of` in prelude.lua) carries
    /// falls, and returns when the turn ends: `own`, or the pick window if
    /// that ends first.
    fn saw_active(&self, token: &QueueToken, active: Option<&str>) -> Option<Timestamp> {
        let mut fields = active?.split(':').skip(1);
        let own = fields.next()?.parse::<i64>().ok().map(Timestamp)?;
        self.remember_lapse(token, own);
        let pick = fields.nth(1).and_then(|pick| pick.parse::<i64>().ok());
        Some(pick.map_or(own, |pick| own.min(Timestamp(pick))))
    }
}

/// The concert and holder a token names. The service checked the token's
/// seal before any store call; one that does not parse has no place here.
fn holder(token: &QueueToken) -> Option<(ConcertId, UserId)> {
    QueueClaims::read(token).map(|claims| (claims.concert, claims.user))
}

/// A place as `place()` in prelude.lua returns it.
fn place_from(
    token: &QueueToken,
    (concert, user): (ConcertId, UserId),
    found: Vec<redis::Value>,
    settings: &RoomSettings,
    now: Timestamp,
) -> Result<Place, StoreError> {
    let [
        status,
        position,
        capacity,
        rate,
        paused,
        total,
        sold,
        held,
        opens,
        pre,
        turn,
        ended,
        full,
        moved,
        gap,
    ] = <[redis::Value; 15]>::try_from(found)
        .map_err(|found| StoreError::new(format!("a place of {} fields, not 15", found.len())))?;
    let int = |value: redis::Value| -> Result<i64, StoreError> {
        redis::FromRedisValue::from_redis_value(&value).or_store()
    };
    let text = |value: redis::Value| -> Result<String, StoreError> {
        redis::FromRedisValue::from_redis_value(&value).or_store()
    };
    let known = |raw: i64| (raw >= 0).then_some(raw);
    let ended = match text(ended)?.as_str() {
        "" => None,
        raw => Some(
            Ending::parse(raw).ok_or_else(|| StoreError::new(format!("unknown ending {raw}")))?,
        ),
    };
    // full is -1 for a place that is not WAITING: no outflow to read.
    let full = int(full)?;
    let outflow = if full >= 0 {
        Some(Outflow {
            full: full == 1,
            moved_at: known(int(moved)?).map(Timestamp),
            gap_ms: known(int(gap)?),
        })
    } else {
        None
    };
    let answer = Answer {
        status: status_from(&text(status)?)?,
        position: int(position)?,
        policy: policy_from(int(capacity)?, int(rate)?, int(paused)?)?,
        stock: stock_from(int(total)?, int(sold)?, int(held)?),
        opening: opening_from(int(opens)?, int(pre)?)?,
        turn_ends_at: known(int(turn)?).map(Timestamp),
        ended,
        outflow,
    };
    Ok(Place::from_answer(
        token.clone(),
        concert,
        user,
        answer,
        settings,
        now,
    ))
}

impl RedisWaitingRoom {
    /// active.lua: for a token ACTIVE now, when its turn lapses (`Some`),
    /// and, with a schedule, its seat-map version.
    async fn active_check(
        &self,
        token: &QueueToken,
        concert: ConcertId,
        schedule: Option<ScheduleId>,
    ) -> Result<(Option<Option<Timestamp>>, u64), StoreError> {
        let [_, active, .., deadlines, _] = keys::room(&self.prefix, concert);
        let mut call = self.active.prepare_invoke();
        call.key(active).key(deadlines);
        if let Some(schedule) = schedule {
            call.key(keys::seat_map(&self.prefix, concert, schedule));
        }
        call.arg(token.as_str()).arg(self.decision_time());
        let (value, version): (String, u64) =
            call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        if value.is_empty() {
            return Ok((None, version));
        }
        Ok((Some(self.saw_active(token, Some(&value))), version))
    }
}

#[async_trait]
impl WaitingRoom for RedisWaitingRoom {
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        fresh: QueueToken,
    ) -> Result<(Place, bool), StoreError> {
        // A fraction in [0, 1) with every one of the draw's 53 bits.
        let draw = self.draws.next().or_store()? as f64 / (1u64 << 53) as f64;
        let mut call = self.invocation(&self.join, concert, "");
        call.arg(user.get())
            .arg(fresh.as_str())
            .arg(format!("{draw:.17}"));
        let (token, created, found): (String, i64, Vec<redis::Value>) =
            call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        let token =
            QueueToken::parse(&token).ok_or_else(|| StoreError::new("malformed token in Redis"))?;
        let place = place_from(
            &token,
            (concert, user),
            found,
            &self.settings,
            self.clock.now(),
        )?;
        Ok((place, created == 1))
    }

    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let Some(holder) = holder(token) else {
            return Ok(None);
        };
        let call = self.invocation(&self.place, holder.0, token.as_str());
        let found: Vec<redis::Value> =
            call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        Ok(Some(place_from(
            token,
            holder,
            found,
            &self.settings,
            self.clock.now(),
        )?))
    }

    /// One small script, no admission round (active.lua).
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let Some((concert, user)) = holder(token) else {
            return Ok(None);
        };
        let (active, _) = self.active_check(token, concert, None).await?;
        Ok(active.map(|turn| Place::active(token.clone(), concert, user).with_turn(turn)))
    }

    async fn keep(&self, token: &QueueToken, cart: Option<Timestamp>) -> Result<(), StoreError> {
        let Some((concert, _)) = holder(token) else {
            return Ok(());
        };
        let mut call = self.invocation(&self.keep, concert, token.as_str());
        call.arg(cart.map_or(0, Timestamp::millis));
        let _: i64 = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        Ok(())
    }

    async fn leave(&self, token: &QueueToken, why: Ending) -> Result<(), StoreError> {
        let Some((concert, _)) = holder(token) else {
            return Ok(());
        };
        let mut call = self.invocation(&self.leave, concert, token.as_str());
        call.arg(why.as_str());
        let _: i64 = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        Ok(())
    }

    async fn touch(&self, token: &QueueToken) -> Result<(), StoreError> {
        if self.settings.active_idle_ms <= 0 || !self.touch_due(token) {
            return Ok(());
        }
        let Some((concert, _)) = holder(token) else {
            return Ok(());
        };
        let call = self.invocation(&self.touch, concert, token.as_str());
        let lapse: i64 = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        if lapse > 0 {
            self.remember_lapse(token, Timestamp(lapse));
        }
        Ok(())
    }

    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError> {
        let mut call = self.invocation(&self.policy, concert, "");
        call.arg(policy.capacity())
            .arg(policy.admit_per_second())
            .arg(i64::from(policy.paused()));
        let _: i64 = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        Ok(())
    }

    async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError> {
        let mut call = self.invocation(&self.opening, concert, "");
        call.arg(opening.map_or(-1, |o| o.opens_at().millis()))
            .arg(opening.map_or(0, |o| o.pre_queue_minutes()));
        let _: i64 = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        Ok(())
    }

    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
        let call = self.invocation(&self.stats, concert, "");
        // Fourteen numbers: more than redis-rs decodes into a tuple.
        let answer: Vec<i64> = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        let [
            waiting,
            active,
            capacity,
            rate,
            paused,
            total,
            sold,
            held,
            opens,
            pre,
            lapsed,
            oldest,
            admitted,
            admission_rate,
        ] = answer[..]
        else {
            return Err(StoreError::new(format!(
                "stats.lua answered {} numbers, not 14",
                answer.len()
            )));
        };
        Ok(RoomStats {
            waiting,
            active,
            admitted,
            policy: policy_from(capacity, rate, paused)?,
            admission_rate,
            stock: stock_from(total, sold, held),
            opening: opening_from(opens, pre)?,
            lapsed,
            longest_wait_ms: oldest,
        })
    }

    async fn steer(&self, concert: ConcertId, write_path: WritePath) -> Result<i64, StoreError> {
        let control = self.settings.controller;
        let mut call = self.invocation(&self.steer, concert, "");
        call.arg(write_path.as_str())
            .arg(control.period_ms)
            .arg(control.decrease_percent)
            .arg(control.increase_percent)
            .arg(control.floor_percent);
        call.invoke_async(&mut self.conn.clone()).await.or_store()
    }
}

#[async_trait]
impl SeatGate for RedisWaitingRoom {
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError> {
        let Some((concert, user)) = holder(token) else {
            return Ok((None, 0));
        };
        // An ACTIVE caller, the usual one, costs one small script; anyone
        // else gets the full one, which admits and tells WAITING from
        // EXPIRED.
        let (active, version) = self.active_check(token, concert, Some(schedule)).await?;
        if let Some(turn) = active {
            let place = Place::active(token.clone(), concert, user).with_turn(turn);
            return Ok((Some(place), version));
        }
        let mut call = self.invocation(&self.gate, concert, token.as_str());
        call.key(keys::seat_map(&self.prefix, concert, schedule));
        let (version, found): (u64, Vec<redis::Value>) =
            call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        let place = place_from(
            token,
            (concert, user),
            found,
            &self.settings,
            self.clock.now(),
        )?;
        Ok((Some(place), version))
    }
}
