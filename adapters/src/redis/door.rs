//! The door's shared state in Redis: spent challenges, sign-ups per
//! address, and each concert's own level. Every instance sees the same, so
//! a solution spent on one is refused on all.

use super::{Connection, keys};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::door::{DoorLevels, SignUpCounter, SpentChallenges};
use frontrow_application::store::OrStoreError;
use frontrow_domain::door::Level;
use frontrow_domain::{ConcertId, Timestamp};
use redis::Script;

/// [`SpentChallenges`], [`SignUpCounter`] and [`DoorLevels`] on Redis.
pub struct RedisDoor {
    conn: Connection,
    prefix: String,
    /// Sign-ups are counted over a window this long from an address's
    /// first sign-up in it.
    window_ms: u64,
    count_one: Script,
}

impl RedisDoor {
    /// The door's keys under `prefix` (the room's), counting sign-ups per
    /// address over `window_ms`.
    pub fn new(conn: Connection, prefix: &str, window_ms: u64) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            window_ms: window_ms.max(1),
            // One script, so the count and its expiry are one step: a
            // counter never outlives its window, whoever crashes when.
            count_one: Script::new(
                "local n = redis.call('INCR', KEYS[1]) \
                 if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
                 return n",
            ),
        }
    }
}

#[async_trait]
impl SpentChallenges for RedisDoor {
    async fn spend(&self, id: &str, until: Timestamp, now: Timestamp) -> Result<bool, StoreError> {
        // Invariant: SET NX is the one decision: of any number of racing
        // spends of one id, on any instance, exactly one sets the key.
        let keep_ms = (until.millis() - now.millis()).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(keys::spent_challenge(&self.prefix, id))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(keep_ms)
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        Ok(set.is_some())
    }
}

#[async_trait]
impl SignUpCounter for RedisDoor {
    async fn add(&self, address: &str) -> Result<u64, StoreError> {
        self.count_one
            .key(keys::sign_ups(&self.prefix, address))
            .arg(self.window_ms)
            .invoke_async(&mut self.conn.clone())
            .await
            .or_store()
    }

    async fn count(&self, address: &str) -> Result<u64, StoreError> {
        let count: Option<u64> = redis::cmd("GET")
            .arg(keys::sign_ups(&self.prefix, address))
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        Ok(count.unwrap_or(0))
    }
}

#[async_trait]
impl DoorLevels for RedisDoor {
    async fn level(&self, concert: ConcertId) -> Result<Option<Level>, StoreError> {
        let level: Option<u8> = redis::cmd("GET")
            .arg(keys::door_level(&self.prefix, concert))
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        level.map(|level| Level::new(level).or_store()).transpose()
    }

    async fn set_level(&self, concert: ConcertId, level: Level) -> Result<(), StoreError> {
        let _: () = redis::cmd("SET")
            .arg(keys::door_level(&self.prefix, concert))
            .arg(level.get())
            .query_async(&mut self.conn.clone())
            .await
            .or_store()?;
        Ok(())
    }
}
