//! Redis: the waiting room and seat-map versions, shared by every instance.
//! Every key starts with the configured prefix, so deployments and test runs
//! can share one Redis.

pub mod keys;
pub mod seat_log;
pub mod waiting_room;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::time::Duration;

/// One Redis, or a Redis Cluster. Every key of a room carries its concert in
/// a hash tag (see `keys`), so every script runs on one node either way.
#[derive(Clone)]
pub enum Connection {
    /// One Redis, through a reconnecting multiplexed connection.
    Single(ConnectionManager),
    /// A cluster connection retries on its own (moved slots, a failover);
    /// each command still gives up after `timeout`, so a slot without a
    /// master is a 503 in bounded time, not a hang.
    Cluster {
        /// The cluster client's connection.
        conn: ClusterConnection,
        /// How long one command may take.
        timeout: Duration,
    },
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::IoError,
        "Redis Cluster did not answer in time",
    ))
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(conn) => conn.req_packed_command(cmd),
            Connection::Cluster { conn, timeout } => {
                let timeout = *timeout;
                Box::pin(async move {
                    tokio::time::timeout(timeout, conn.req_packed_command(cmd))
                        .await
                        .map_err(|_| timed_out())?
                })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Connection::Cluster { conn, timeout } => {
                let timeout = *timeout;
                Box::pin(async move {
                    tokio::time::timeout(timeout, conn.req_packed_commands(cmd, offset, count))
                        .await
                        .map_err(|_| timed_out())?
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(conn) => conn.get_db(),
            Connection::Cluster { conn, .. } => conn.get_db(),
        }
    }
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

/// Connects to one Redis (`urls` is one URL) or, with `cluster`, to the Redis
/// Cluster that the comma-separated seed nodes in `urls` belong to.
pub async fn open(urls: &str, cluster: bool, timeout: Duration) -> redis::RedisResult<Connection> {
    if !cluster {
        return connect(urls, timeout).await.map(Connection::Single);
    }
    let seeds: Vec<&str> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let conn = redis::cluster::ClusterClient::builder(seeds)
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(2)
        .build()?
        .get_async_connection()
        .await?;
    Ok(Connection::Cluster { conn, timeout })
}

/// Readiness: Redis answers PING (in a cluster, a node does).
pub struct RedisPing(pub Connection);

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
