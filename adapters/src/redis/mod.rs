//! Redis: the waiting room and seat-map versions, shared by every instance.
//! Every key starts with the configured prefix, so deployments and test runs
//! can share one Redis.

pub mod seat_log;
pub mod waiting_room;

use frontrow_domain::ScheduleId;
use frontrow_domain::queue::QueueToken;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// A schedule's seat-map version counter; the waiting room's seat gate reads
/// it in the same round trip as the caller's place.
fn seat_map_key(prefix: &str, schedule: ScheduleId) -> String {
    format!("{prefix}seatmap:{schedule}")
}

/// A schedule's log of seat changes (see `seat_log`).
fn seat_log_key(prefix: &str, schedule: ScheduleId) -> String {
    format!("{prefix}seatlog:{schedule}")
}

/// One of a concert room's keys (prelude.lua's `room()` spells them too).
fn room_key(prefix: &str, concert: frontrow_domain::ConcertId, name: &str) -> String {
    format!("{prefix}q:{concert}:{name}")
}

/// `concert:user` of a token (prelude.lua spells it too).
fn token_key(prefix: &str, token: &QueueToken) -> String {
    format!("{prefix}tok:{}", token.as_str())
}

/// Present exactly while the token is ACTIVE (prelude.lua's `admit` writes
/// it, leave.lua deletes it).
fn active_key(prefix: &str, token: &QueueToken) -> String {
    format!("{prefix}act:{}", token.as_str())
}

/// Connects with a reconnecting, multiplexed connection whose commands and
/// connection attempts give up after `timeout`: while Redis is unreachable a
/// request gets its 503 in bounded time instead of hanging.
pub async fn connect(url: &str, timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(timeout)
        .set_connection_timeout(timeout);
    redis::Client::open(url)?
        .get_connection_manager_with_config(config)
        .await
}

/// Readiness: Redis answers PING.
pub struct RedisPing(pub ConnectionManager);

#[async_trait::async_trait]
impl crate::http::Ping for RedisPing {
    async fn ping(&self) -> Result<(), String> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.0.clone())
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}
