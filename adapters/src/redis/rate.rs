//! Rate-limit budgets in Redis, shared by every instance: one key per limit
//! and subject holding its TAT, decided by rate.lua, a checked copy of the
//! domain's GCRA (`frontrow_domain::rate::decide`) that runs atomically in
//! Redis. The time is the service's clock, passed in, like every decision.

use super::{Connection, keys};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::limits::{Limit, RateLimiter, RateRule, Spend, Verdict};
use frontrow_application::store::OrStoreError;
use frontrow_domain::Timestamp;
use redis::Script;

/// [`RateLimiter`] on Redis (or a Redis Cluster).
pub struct RedisRateLimiter {
    conn: Connection,
    prefix: String,
    script: Script,
}

impl RedisRateLimiter {
    /// Budgets under `prefix` on `conn`.
    pub fn new(conn: Connection, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            script: Script::new(include_str!("rate.lua")),
        }
    }

    /// Runs rate.lua on `key` as it is: the spec suite's handle on the copy.
    pub async fn run(
        &self,
        key: &str,
        rule: &RateRule,
        now: Timestamp,
        spend: Spend,
    ) -> Result<Verdict, StoreError> {
        let mut call = self.script.prepare_invoke();
        call.key(key)
            .arg(now.millis())
            .arg(rule.interval_ms())
            .arg(rule.period_ms())
            .arg(i32::from(spend == Spend::Take));
        let answer: Vec<i64> = call.invoke_async(&mut self.conn.clone()).await.or_store()?;
        match answer.as_slice() {
            [1, remaining, reset_ms] => Ok(Verdict::Allowed {
                remaining: u32::try_from(*remaining).unwrap_or(u32::MAX),
                reset_ms: *reset_ms,
            }),
            [0, retry_after_ms] => Ok(Verdict::Refused {
                retry_after_ms: *retry_after_ms,
            }),
            other => Err(StoreError::new(format!("rate.lua answered {other:?}"))),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(
        &self,
        limit: Limit,
        rule: &RateRule,
        subject: &str,
        now: Timestamp,
        spend: Spend,
    ) -> Result<Verdict, StoreError> {
        let key = keys::rate(&self.prefix, limit.name(), subject);
        self.run(&key, rule, now, spend).await
    }
}
