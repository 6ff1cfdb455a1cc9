//! Redis: the waiting room and seat-map versions, shared by every instance.
//! Every key starts with the configured prefix, so deployments and test runs
//! can share one Redis.

pub mod door;
pub mod keys;
pub mod rate;
pub mod seat_log;
pub mod waiting_room;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::time::Duration;

/// One Redis, or a Redis Cluster, and a count of the commands that failed
/// (`frontrow_redis_errors_total` in `/metrics`). Every key of a room
/// carries its concert in a hash tag (see `keys`), so every script runs on
/// one node either way. Cheap to clone: clones share the connection and the
/// count.
#[derive(Clone)]
pub struct Connection {
    link: Link,
    errors: prometheus_client::metrics::counter::Counter,
}

/// Each command gives up after `timeout` either way: a single Redis that
/// went away makes its commands wait for the connection manager's
/// reconnection (its retries and their backoff), a cluster retries moved
/// slots and failovers on its own; neither may hold a request longer than
/// the store timeout.
#[derive(Clone)]
enum Link {
    /// One Redis, through a reconnecting multiplexed connection.
    Single {
        conn: ConnectionManager,
        timeout: Duration,
    },
    /// A Redis Cluster: a slot without a master is a 503 in bounded time,
    /// not a hang.
    Cluster {
        conn: ClusterConnection,
        timeout: Duration,
    },
}

impl Connection {
    /// One Redis, through `conn` (see [`connect`]), each command given at
    /// most `timeout`.
    pub fn single(conn: ConnectionManager, timeout: Duration) -> Self {
        Self {
            link: Link::Single { conn, timeout },
            errors: Default::default(),
        }
    }

    /// Commands that failed on this connection (and its clones) so far: no
    /// answer in time, a connection lost or refused, an error reply. A
    /// script the server did not have yet (`NOSCRIPT`, loaded and retried at
    /// once) is not a failure.
    pub fn errors(&self) -> u64 {
        self.errors.get()
    }

    /// The shared failure counter, for a `/metrics` registry.
    pub(crate) fn error_counter(&self) -> prometheus_client::metrics::counter::Counter {
        self.errors.clone()
    }

    fn counted<T>(&self, result: &redis::RedisResult<T>) {
        if let Err(error) = result
            && error.kind() != redis::ErrorKind::NoScriptError
        {
            self.errors.inc();
        }
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::IoError, "Redis did not answer in time"))
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = match &mut self.link {
                Link::Single { conn, timeout } => {
                    tokio::time::timeout(*timeout, conn.req_packed_command(cmd)).await
                }
                Link::Cluster { conn, timeout } => {
                    tokio::time::timeout(*timeout, conn.req_packed_command(cmd)).await
                }
            }
            .unwrap_or_else(|_| Err(timed_out()));
            self.counted(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = match &mut self.link {
                Link::Single { conn, timeout } => {
                    let sent = conn.req_packed_commands(cmd, offset, count);
                    tokio::time::timeout(*timeout, sent).await
                }
                Link::Cluster { conn, timeout } => {
                    let sent = conn.req_packed_commands(cmd, offset, count);
                    tokio::time::timeout(*timeout, sent).await
                }
            }
            .unwrap_or_else(|_| Err(timed_out()));
            self.counted(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        match &self.link {
            Link::Single { conn, .. } => conn.get_db(),
            Link::Cluster { conn, .. } => conn.get_db(),
        }
    }
}

/// Connects with a reconnecting, multiplexed connection whose commands and
/// connection attempts give up after `timeout`: while Redis is unreachable a
/// request gets its 503 in bounded time instead of hanging. A lost
/// connection is retried a few times, quickly (the next command starts
/// another round), so the instance is back within about `timeout` of
/// Redis's return.
pub async fn connect(url: &str, timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let longest_pause = u64::try_from(timeout.as_millis() / 2)
        .unwrap_or(u64::MAX)
        .max(50);
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(timeout)
        .set_connection_timeout(timeout)
        .set_number_of_retries(3)
        .set_max_delay(longest_pause);
    redis::Client::open(url)?
        .get_connection_manager_with_config(config)
        .await
}

/// Connects to one Redis (`urls` is one URL) or, with `cluster`, to the Redis
/// Cluster that the comma-separated seed nodes in `urls` belong to.
pub async fn open(urls: &str, cluster: bool, timeout: Duration) -> redis::RedisResult<Connection> {
    if !cluster {
        let conn = connect(urls, timeout).await?;
        return Ok(Connection::single(conn, timeout));
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
    Ok(Connection {
        link: Link::Cluster { conn, timeout },
        errors: Default::default(),
    })
}

/// Readiness: Redis answers PING (in a cluster, a node does). Its
/// `/metrics` series: the connection's failed commands.
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

    fn metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "redis_errors",
            "Redis commands that failed: no answer in time, connection lost or refused, error reply",
            self.0.error_counter(),
        );
    }
}
