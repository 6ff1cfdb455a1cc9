//! How the database pools are used, for `/metrics`: connections in use and
//! idle per pool (read from sqlx at scrape time), and how long transactions
//! wait to get their connection, with the waits that ran out
//! (`--store-timeout-ms` on MySQL), which are the requests that got a 503
//! because the pool was exhausted or the database did not answer.
//!
//! The wait is measured where the store takes a connection itself: every
//! transaction (holds, cancels, payments, charges, sign-ups, concerts) and
//! the reads that hold one (receipts, the reservation list). Single-statement
//! reads borrow the pool for one statement; they queue in the same pool, so
//! the transactions' waits stand for theirs.

use super::{Backend, SqlStore};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::future::Future;
use std::time::Instant;

/// Waits for a connection, shared by a store's clones.
#[derive(Clone)]
pub(crate) struct PoolWaits {
    seconds: Histogram,
    timeouts: Counter,
}

impl Default for PoolWaits {
    fn default() -> Self {
        Self {
            // 0.1 ms to about 13 s: an idle pool answers in microseconds,
            // an exhausted one at the store timeout.
            seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            timeouts: Counter::default(),
        }
    }
}

impl PoolWaits {
    /// Runs `acquire` (taking a connection, or beginning a transaction)
    /// and records how long it took, and whether the pool gave up.
    pub(crate) async fn timed<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let started = Instant::now();
        let result = acquire.await;
        self.seconds.observe(started.elapsed().as_secs_f64());
        if matches!(result, Err(sqlx::Error::PoolTimedOut)) {
            self.timeouts.inc();
        }
        result
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

impl SqlStore {
    /// The pools by name: MySQL has one for reads and writes (`all`);
    /// SQLite a read pool and its one-connection write pool.
    fn pools(&self) -> Vec<(&'static str, &sqlx::AnyPool)> {
        match self.backend {
            Backend::MySql => vec![("all", &self.write)],
            Backend::Sqlite => vec![("read", &self.read), ("write", &self.write)],
        }
    }

    /// The pools' series, for a `/metrics` scrape.
    pub(crate) fn register_pool_metrics(&self, registry: &mut Registry) {
        let connections = Family::<ConnectionLabels, Gauge>::default();
        let most = Family::<PoolLabels, Gauge>::default();
        for (pool, sqlx_pool) in self.pools() {
            let open = i64::from(sqlx_pool.size());
            let idle = i64::try_from(sqlx_pool.num_idle()).unwrap_or(open);
            let count = |state| connections.get_or_create(&ConnectionLabels { pool, state });
            count("in_use").set((open - idle).max(0));
            count("idle").set(idle);
            most.get_or_create(&PoolLabels { pool })
                .set(i64::from(sqlx_pool.options().get_max_connections()));
        }
        registry.register(
            "db_pool_connections",
            "Database connections open, in use or idle, per pool",
            connections,
        );
        registry.register(
            "db_pool_max_connections",
            "The most connections each pool opens (--db-connections on MySQL)",
            most,
        );
        registry.register(
            "db_pool_acquire_seconds",
            "Time a transaction waited for its database connection",
            self.waits.seconds.clone(),
        );
        if let Some(group) = &self.group {
            registry.register(
                "db_write_group_size",
                "SQLite: holds and payments committed per group transaction",
                group.sizes.histogram.clone(),
            );
        }
        registry.register(
            "db_pool_acquire_timeouts",
            "Waits for a database connection that ran out (--store-timeout-ms): a 503",
            self.waits.timeouts.clone(),
        );
    }
}
