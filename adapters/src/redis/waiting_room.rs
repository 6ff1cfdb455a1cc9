//! The waiting room in Redis. Every change is one Lua script (see the .lua
//! files beside this one), so order and admission are decided atomically by
//! Redis, whatever the number of app instances. Per concert: a sorted set of
//! waiting tokens scored by arrival number (ZRANK gives the position in
//! O(log n)), a sorted set of ACTIVE tokens scored by deadline, a hash of
//! user -> token, and the policy hash (which also holds the admission
//! bucket). `tok:<token>` maps a token to its concert and user;
//! `act:<token>` exists exactly while the token is ACTIVE, so the hot
//! question "is this caller ACTIVE?" is one plain MGET, with no script.

use async_trait::async_trait;
use frontrow_application::queue::{Place, RoomSettings, RoomStats, SeatGate, WaitingRoom};
use frontrow_application::{Clock, StoreError};
use frontrow_domain::Timestamp;
use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, Stock};
use frontrow_domain::{ConcertId, ScheduleId, UserId};
use redis::Script;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a token is remembered, so a late caller hears "expired" rather
/// than "unknown".
const TOKEN_TTL_SECONDS: u64 = 24 * 3600;
/// Beyond this many remembered touches the memory starts over (a forgotten
/// touch only costs one more script call).
const MAX_TOUCHED: usize = 200_000;

macro_rules! script {
    ($file:literal) => {
        concat!(include_str!("prelude.lua"), "\n", include_str!($file))
    };
}

pub struct RedisWaitingRoom {
    conn: ConnectionManager,
    prefix: String,
    settings: RoomSettings,
    /// When each ACTIVE token's place lapses, as this instance last saw it
    /// (`act:<token>` holds `hard:lapse`, read by every ACTIVE gate pass), so
    /// an ACTIVE buyer costs one touch.lua per quarter of the idle time, not
    /// one per request, and none right after admission.
    lapses: Mutex<HashMap<QueueToken, Timestamp>>,
    clock: Arc<dyn Clock>,
    join: Script,
    place: Script,
    gate: Script,
    leave: Script,
    touch: Script,
    policy: Script,
    stats: Script,
}

fn status_from(raw: &str) -> Result<QueueStatus, StoreError> {
    match raw {
        "WAITING" => Ok(QueueStatus::Waiting),
        "ACTIVE" => Ok(QueueStatus::Active),
        "EXPIRED" => Ok(QueueStatus::Expired),
        "SOLD_OUT" => Ok(QueueStatus::SoldOut),
        other => Err(StoreError::new(format!("unexpected queue status {other}"))),
    }
}

fn policy_from(capacity: i64, rate: i64, paused: i64) -> Result<AdmissionPolicy, StoreError> {
    AdmissionPolicy::new(capacity, rate, paused == 1).map_err(StoreError::new)
}

/// The scripts' `total, sold, held`; a total of -1 means the room was never
/// told the concert's seats.
fn stock_from(total: i64, sold: i64, held: i64) -> Option<Stock> {
    (total >= 0).then_some(Stock { total, sold, held })
}

impl RedisWaitingRoom {
    pub fn new(
        conn: ConnectionManager,
        prefix: &str,
        settings: RoomSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            conn,
            prefix: prefix.to_owned(),
            lapses: Mutex::default(),
            clock,
            touch: Script::new(script!("touch.lua")),
            join: Script::new(script!("join.lua")),
            place: Script::new(script!("place.lua")),
            gate: Script::new(script!("gate.lua")),
            leave: Script::new(script!("leave.lua")),
            policy: Script::new(script!("policy.lua")),
            stats: Script::new(script!("stats.lua")),
        }
    }

    /// The arguments every script starts with (see prelude.lua).
    fn invocation<'a>(&self, script: &'a Script, subject: String) -> redis::ScriptInvocation<'a> {
        let mut call = script.prepare_invoke();
        call.arg(&self.prefix)
            .arg(subject)
            .arg(self.settings.default_policy.capacity())
            .arg(self.settings.default_policy.admit_per_second())
            .arg(self.settings.active_ms)
            .arg(self.settings.active_idle_ms);
        call
    }

    /// True when `token`'s place, as last seen, lapses within three
    /// quarters of the idle time (or was not seen); then it is assumed kept
    /// from now on.
    fn touch_due(&self, token: &QueueToken) -> bool {
        let now = self.clock.now();
        let Ok(mut lapses) = self.lapses.lock() else {
            return true;
        };
        let fresh_until = now.millis() + self.settings.active_idle_ms * 3 / 4;
        if lapses
            .get(token)
            .is_some_and(|at| at.millis() > fresh_until)
        {
            return false;
        }
        self.remember_lapse(
            &mut lapses,
            token,
            Timestamp(now.millis() + self.settings.active_idle_ms),
        );
        true
    }

    fn remember_lapse(
        &self,
        lapses: &mut HashMap<QueueToken, Timestamp>,
        token: &QueueToken,
        at: Timestamp,
    ) {
        if lapses.len() >= MAX_TOUCHED {
            lapses.clear();
        }
        lapses.insert(token.clone(), at);
    }

    /// Notes the lapse an `act:<token>` value (`hard:lapse`) carries.
    fn saw_active(&self, token: &QueueToken, active: Option<&str>) {
        let lapse = active
            .and_then(|value| value.split_once(':'))
            .and_then(|(_, lapse)| lapse.parse::<i64>().ok());
        if let (Some(lapse), Ok(mut lapses)) = (lapse, self.lapses.lock()) {
            self.remember_lapse(&mut lapses, token, Timestamp(lapse));
        }
    }

    /// `tok:<token>` and `act:<token>`, for `active_from`.
    fn active_keys(&self, token: &QueueToken) -> [String; 2] {
        [
            super::token_key(&self.prefix, token),
            super::active_key(&self.prefix, token),
        ]
    }
}

/// The ACTIVE place that an `MGET` of `active_keys` found, if any: both keys
/// present, and `tok:<token>` holding `concert:user`.
fn active_from(token: &QueueToken, owner: Option<String>, active: Option<String>) -> Option<Place> {
    active?;
    let owner = owner?;
    let (concert, user) = owner.split_once(':')?;
    Some(Place::active(
        token.clone(),
        ConcertId::from_store(concert.parse().ok()?),
        UserId::from_store(user.parse().ok()?),
    ))
}

/// A place as `place()` in prelude.lua returns it; `[]` for an unknown token.
fn place_from(token: &QueueToken, found: Vec<redis::Value>) -> Result<Option<Place>, StoreError> {
    if found.is_empty() {
        return Ok(None);
    }
    type Found = (i64, i64, String, i64, i64, i64, i64, i64, i64, i64);
    let (concert, user, status, position, capacity, rate, paused, total, sold, held): Found =
        redis::FromRedisValue::from_redis_value(&redis::Value::Array(found))
            .map_err(StoreError::new)?;
    Ok(Some(Place::new(
        token.clone(),
        ConcertId::from_store(concert),
        UserId::from_store(user),
        (status_from(&status)?, position),
        policy_from(capacity, rate, paused)?,
        stock_from(total, sold, held),
    )))
}

#[async_trait]
impl WaitingRoom for RedisWaitingRoom {
    async fn join(&self, concert: ConcertId, user: UserId) -> Result<(Place, bool), StoreError> {
        let fresh = QueueToken::from_random(crate::random::bytes16().map_err(StoreError::new)?);
        let mut call = self.invocation(&self.join, concert.to_string());
        call.arg(user.get())
            .arg(fresh.as_str())
            .arg(TOKEN_TTL_SECONDS);
        type Joined = (String, String, i64, i64, i64, i64, i64, i64, i64, i64);
        let (token, status, position, capacity, rate, paused, created, total, sold, held): Joined =
            call.invoke_async(&mut self.conn.clone())
                .await
                .map_err(StoreError::new)?;
        let token =
            QueueToken::parse(&token).ok_or_else(|| StoreError::new("malformed token in Redis"))?;
        let place = Place::new(
            token,
            concert,
            user,
            (status_from(&status)?, position),
            policy_from(capacity, rate, paused)?,
            stock_from(total, sold, held),
        );
        Ok((place.paced(&self.settings), created == 1))
    }

    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let call = self.invocation(&self.place, token.as_str().to_owned());
        let found: Vec<redis::Value> = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(place_from(token, found)?.map(|p| p.paced(&self.settings)))
    }

    /// One plain MGET, no script: `act:<token>` exists exactly while the
    /// token is ACTIVE (admission writes it with the deadline as its expiry,
    /// leaving deletes it, both atomically with the sorted sets).
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
        let (owner, active): (Option<String>, Option<String>) = redis::cmd("MGET")
            .arg(&self.active_keys(token))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        self.saw_active(token, active.as_deref());
        Ok(active_from(token, owner, active))
    }

    async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
        let call = self.invocation(&self.leave, token.as_str().to_owned());
        let _: i64 = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }

    async fn touch(&self, token: &QueueToken) -> Result<(), StoreError> {
        if self.settings.active_idle_ms <= 0 || !self.touch_due(token) {
            return Ok(());
        }
        let call = self.invocation(&self.touch, token.as_str().to_owned());
        let _: i64 = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }

    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError> {
        let mut call = self.invocation(&self.policy, concert.to_string());
        call.arg(policy.capacity())
            .arg(policy.admit_per_second())
            .arg(i64::from(policy.paused()));
        let _: i64 = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }

    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
        let call = self.invocation(&self.stats, concert.to_string());
        type Stats = (i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let (waiting, active, capacity, rate, paused, total, sold, held, admitted): Stats = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(RoomStats {
            waiting,
            active,
            admitted,
            policy: policy_from(capacity, rate, paused)?,
            stock: stock_from(total, sold, held),
        })
    }
}

#[async_trait]
impl SeatGate for RedisWaitingRoom {
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError> {
        // An ACTIVE caller, the usual one, costs one plain MGET; anyone else
        // gets the script, which admits and tells WAITING from EXPIRED.
        let version_key = super::seat_map_key(&self.prefix, schedule);
        let (owner, active, version): (Option<String>, Option<String>, Option<u64>) =
            redis::cmd("MGET")
                .arg(&self.active_keys(token))
                .arg(&version_key)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(StoreError::new)?;
        self.saw_active(token, active.as_deref());
        if let Some(place) = active_from(token, owner, active) {
            return Ok((Some(place), version.unwrap_or(0)));
        }
        let mut call = self.invocation(&self.gate, token.as_str().to_owned());
        call.arg(version_key);
        let (version, found): (u64, Vec<redis::Value>) = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(StoreError::new)?;
        Ok((
            place_from(token, found)?.map(|p| p.paced(&self.settings)),
            version,
        ))
    }
}
