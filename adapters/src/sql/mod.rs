//! The system of record: MySQL/MariaDB in production, SQLite embedded.
//!
//! One `SqlStore` implements every SQL port through sqlx's `Any` driver.
//! Each guarantee is one transaction whose deciding statement is a
//! conditional UPDATE: the database, not the app, decides who gets a seat
//! and whether points suffice.
//!
//! The two databases run different code where it pays, and the same where
//! it is truly the same:
//! - `mysql.rs`: what only MySQL runs, the hold as one procedure call (one
//!   round trip instead of eight);
//! - `sqlite.rs`: what only SQLite runs, its pools and writer thread, and
//!   the hold as statements one by one (`RETURNING`);
//! - the rest (`catalogue`, `users`, `points`, `outbox`, cancel and expiry
//!   in `reservations`, a cart's payment and its receipt in `payments`) is
//!   SQL both accept
//!   (times are epoch milliseconds, ids BIGINT); where a statement must
//!   report a value back, its two spellings sit side by side
//!   (`insert_returning_id!`, `seat_update!`).
//!
//! Columns are read by name, except a procedure's answer (see `mysql.rs`).
//! Queries are checked by running them, not by `sqlx::query!`: its
//! compile-time check needs one concrete database per query, so each query
//! would be written twice with offline data for each, and it cannot
//! describe a procedure's answer; the spec suite (`tests/tests/spec/sql.rs`)
//! runs every statement against SQLite and MariaDB and compares the results
//! with the domain's machines instead.
//!
//! Lock order, to keep transactions deadlock-free: reservation row, then user
//! row, then seat row. Transient lock failures are retried a few times.

mod catalogue;
mod credentials;
mod group_writer;
mod mysql;
mod outbox;
mod payments;
mod points;
mod pool;
mod reservations;
mod sqlite;
mod users;

use crate::events::to_outbox;
use frontrow_application::StoreError;
use frontrow_application::store::OrStoreError;
use frontrow_domain::Timestamp;
use frontrow_domain::events::DomainEvent;
use futures_util::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a [`SqlStore`] talks to (decided by the URL's scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// MySQL 8 or MariaDB 10.11: many connections, many instances.
    MySql,
    /// An embedded SQLite file: one writer, one instance.
    Sqlite,
}

/// The system of record: implements `UserStore`, `Ledger`, `Catalogue`,
/// `SeatHolds`, `PaymentStore` and `Outbox` of frontrow-application on one
/// database. Cheap to clone (the pools are shared), so each port gets an
/// `Arc` of the same store or a clone of it.
#[derive(Clone)]
pub struct SqlStore {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// SQLite only: the thread that drives every buyer-facing write
    /// transaction (see `SqlStore::on_writer`).
    writer: Option<Arc<sqlite::WriterThread>>,
    /// SQLite only: the task on the writer thread that commits holds and
    /// payments in groups (see `SqlStore::write_transaction`).
    group: Option<Arc<group_writer::GroupWriter>>,
    /// Creation times of rows the store stamps itself: the service's clock.
    clock: Arc<dyn frontrow_application::Clock>,
    /// How long transactions waited for a connection (see `pool`).
    waits: pool::PoolWaits,
}

impl SqlStore {
    /// Connects to `mysql://...` or `sqlite://...`. On MySQL a request waits
    /// at most `timeout` for a connection (a database that is down or a pool
    /// that is exhausted is then a 503, not a hang); SQLite's writers queue
    /// for its one write connection for up to 30 s, which is load, not an
    /// outage.
    ///
    /// `clock` is the service's: the store stamps the creation times of
    /// users, concerts and charges with it.
    ///
    /// `max_connections` sizes the MySQL pool (SQLite reads use at most 8,
    /// its writes one). Call [`migrate`](Self::migrate) before first use.
    /// A SQLite URL needs `?mode=rwc` to create a missing file; SQLite also
    /// starts a writer thread, which ends when the last clone is dropped.
    ///
    /// ```
    /// use frontrow_adapters::sql::{Backend, SqlStore};
    /// use frontrow_application::clock::SystemClock;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("frontrow-doc-connect-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let url = format!("sqlite://{}?mode=rwc", dir.join("tickets.db").display());
    ///
    /// let store = SqlStore::connect(&url, 8, Duration::from_secs(2), Arc::new(SystemClock)).await?;
    /// store.migrate().await?;
    /// store.ping().await?;
    /// assert_eq!(store.backend(), Backend::Sqlite);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
        clock: Arc<dyn frontrow_application::Clock>,
    ) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        if url.starts_with("sqlite:") {
            let (read, write) = sqlite::pools(options, max_connections).await?;
            let writer = sqlite::WriterThread::start().map_err(sqlx::Error::Io)?;
            let waits = pool::PoolWaits::default();
            let group =
                group_writer::GroupWriter::start(&writer.runtime, write.clone(), waits.clone());
            Ok(Self {
                read,
                write,
                backend: Backend::Sqlite,
                writer: Some(Arc::new(writer)),
                group: Some(Arc::new(group)),
                clock: clock.clone(),
                waits,
            })
        } else {
            let pool = AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(timeout)
                .connect_with(options)
                .await?;
            Ok(Self {
                read: pool.clone(),
                write: pool,
                backend: Backend::MySql,
                writer: None,
                group: None,
                clock: clock.clone(),
                waits: Default::default(),
            })
        }
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs a write transaction (with its retries) on SQLite's writer thread,
    /// or right here on MySQL, whose connections are many.
    pub(crate) async fn on_writer<T, E, F, Fut>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(SqlStore) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let store = self.clone();
        match &self.writer {
            Some(writer) => writer
                .runtime
                .spawn(work(store))
                .await
                .unwrap_or_else(|error| Err(StoreError::new(error).into())),
            None => work(store).await,
        }
    }

    /// Runs `body` as one write transaction. On SQLite it is one body of
    /// the group writer's next transaction, inside a savepoint of its own
    /// (`group_writer`); on MySQL a transaction of its own on one of the
    /// pool's connections. Either way an `Err` leaves nothing of the body
    /// written, and an `Ok` is returned only once it is committed.
    pub(crate) async fn write_transaction<T, E>(
        &self,
        body: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, Fail<E>>>
        + Send
        + 'static,
    ) -> Result<T, Fail<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        match &self.group {
            Some(group) => group.write(body).await,
            None => {
                let mut tx = self.begin_write().await?;
                let outcome = body(&mut tx).await?;
                tx.commit().await?;
                Ok(outcome)
            }
        }
    }

    /// Applies the embedded migrations for this backend (idempotent). On
    /// MySQL, instances starting together take turns under a named lock.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::MySql => {
                // MySQL DDL is not transactional, so instances starting together
                // must not interleave migrations: one at a time, by a named lock
                // held on the connection that migrates.
                let mut conn = self.write.acquire().await?;
                sqlx::query("SELECT GET_LOCK('frontrow_migrations', 120)")
                    .fetch_one(&mut *conn)
                    .await?;
                let migrated = sqlx::migrate!("./migrations/mysql").run(&mut *conn).await;
                let _ = sqlx::query("SELECT RELEASE_LOCK('frontrow_migrations')")
                    .fetch_one(&mut *conn)
                    .await;
                migrated
            }
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.write).await,
        }
    }

    /// Readiness: the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .or_store()?;
        Ok(())
    }

    /// A pool for ad-hoc reads, such as the invariant checks of tests and
    /// the load test.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// A write transaction, its wait for a connection recorded.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.waits.timed(self.write.begin()).await
    }

    /// A connection of the write pool, its wait recorded.
    pub(crate) async fn write_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error> {
        self.waits.timed(self.write.acquire()).await
    }

    /// A connection of the read pool, its wait recorded.
    pub(crate) async fn read_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error> {
        self.waits.timed(self.read.acquire()).await
    }
}

/// Why a transaction attempt ended: a business rule (final), or the database.
pub(crate) enum Fail<E> {
    Rule(E),
    Db(sqlx::Error),
}

impl<E> From<sqlx::Error> for Fail<E> {
    fn from(error: sqlx::Error) -> Self {
        Fail::Db(error)
    }
}

fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let message = db.message().to_ascii_lowercase();
            db.code().as_deref() == Some("40001")
                || message.contains("deadlock")
                || message.contains("lock wait timeout")
                || message.contains("database is locked")
        }
        // A group's failed COMMIT, handed to each of its requests.
        sqlx::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<group_writer::GroupFailed>())
            .is_some_and(|failed| is_transient(failed.cause())),
        sqlx::Error::PoolTimedOut => false,
        _ => false,
    }
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Runs one transaction attempt, again on deadlock or lock timeout.
pub(crate) async fn retrying<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Fail<E>>>,
{
    let mut tries = 0u64;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Fail::Rule(rule)) => return Err(rule),
            Err(Fail::Db(error)) if is_transient(&error) && tries < 8 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(
                    // Jitter only: without randomness the retry is merely in step.
                    2 * tries + crate::random::bytes16().map_or(0, |b| b[0] % 8) as u64,
                ))
                .await;
            }
            Err(Fail::Db(error)) => return Err(StoreError::new(error).into()),
        }
    }
}

/// The two spellings of a seat UPDATE that both databases run (a cancel's
/// release) and that also bumps the row's version and hands the new
/// version back without another round trip: MySQL through
/// `LAST_INSERT_ID(expr)`, which the server reports with the result; SQLite
/// through `RETURNING`. Use with `seat_version_after`.
macro_rules! seat_update {
    ($set:literal, $filter:literal) => {
        (
            concat!(
                "UPDATE seats SET ",
                $set,
                ", version = LAST_INSERT_ID(version + 1) WHERE ",
                $filter
            ),
            concat!(
                "UPDATE seats SET ",
                $set,
                ", version = version + 1 WHERE ",
                $filter,
                " RETURNING version"
            ),
        )
    };
}
pub(crate) use seat_update;

/// The two spellings of an INSERT that hands back the new row's id in the
/// same round trip: MySQL reports it with the result, SQLite through
/// `RETURNING id`. Use with `inserted`.
macro_rules! insert_returning_id {
    ($sql:literal) => {
        ($sql, concat!($sql, " RETURNING id"))
    };
}
pub(crate) use insert_returning_id;

impl SqlStore {
    /// The statement of a `seat_update!` or `insert_returning_id!` pair for
    /// this backend.
    pub(crate) fn sql(&self, pair: (&'static str, &'static str)) -> &'static str {
        match self.backend {
            Backend::MySql => pair.0,
            Backend::Sqlite => pair.1,
        }
    }
}

/// Runs an `insert_returning_id!` statement: the new row's id.
pub(crate) async fn inserted<'q>(
    conn: &mut AnyConnection,
    backend: Backend,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<i64, sqlx::Error> {
    use sqlx::Row;
    match backend {
        Backend::MySql => query
            .execute(conn)
            .await?
            .last_insert_id()
            .ok_or_else(|| sqlx::Error::Protocol("no insert id reported".into())),
        Backend::Sqlite => query.fetch_one(conn).await?.try_get("id"),
    }
}

/// Runs a `seat_update!` statement: the seat's new version when exactly one
/// row changed, `None` when none did. MySQL reports it as the
/// `LAST_INSERT_ID(expr)` of the result, SQLite as the `RETURNING` row.
pub(crate) async fn seat_version_after<'q>(
    conn: &mut AnyConnection,
    backend: Backend,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Option<u64>, sqlx::Error> {
    use sqlx::Row;
    let version = match backend {
        Backend::MySql => {
            let result = query.execute(conn).await?;
            if result.rows_affected() != 1 {
                return Ok(None);
            }
            result.last_insert_id().ok_or_else(|| {
                sqlx::Error::Protocol("no seat version reported by the update".into())
            })?
        }
        Backend::Sqlite => match query.fetch_optional(conn).await? {
            Some(row) => row.try_get::<i64, _>("version")?,
            None => return Ok(None),
        },
    };
    u64::try_from(version)
        .map(Some)
        .map_err(|_| sqlx::Error::Protocol("negative seat version".into()))
}

/// Points as stored: a value out of range is a store failure, never 0.
pub(crate) fn stored_points(raw: i64) -> Result<frontrow_domain::points::Points, sqlx::Error> {
    frontrow_domain::points::Points::new(raw)
        .ok_or_else(|| sqlx::Error::Decode(format!("stored points {raw} are out of range").into()))
}

/// Writes an event to the outbox inside the caller's transaction.
pub(crate) async fn record_event(
    conn: &mut AnyConnection,
    event: &DomainEvent,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let row = to_outbox(event, now).map_err(sqlx::Error::Io)?;
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, event_key, payload, occurred_at_ms) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(row.event_id)
    .bind(row.event_type)
    .bind(row.key)
    .bind(row.payload)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's balance as the caller's transaction sees it (after its own writes).
pub(crate) async fn balance_in(
    conn: &mut AnyConnection,
    user: frontrow_domain::UserId,
) -> Result<i64, sqlx::Error> {
    use sqlx::Row;
    sqlx::query("SELECT balance FROM users WHERE id = ?")
        .bind(user.get())
        .fetch_one(conn)
        .await?
        .try_get("balance")
}

#[async_trait::async_trait]
impl crate::http::Ping for SqlStore {
    async fn ping(&self) -> Result<(), String> {
        SqlStore::ping(self).await.map_err(|e| e.to_string())
    }

    fn metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.register_pool_metrics(registry);
    }
}
