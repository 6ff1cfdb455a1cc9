//! SQLite's group writer: the holds and payments waiting for the one write
//! connection are committed together, one transaction per round instead of
//! one each.
//!
//! SQLite has one writer, and a transaction of its own per request pays a
//! BEGIN, a COMMIT (the WAL append and its sync) and a hop to the writer
//! thread each time. Here every request hands its transaction body to one
//! task on the writer thread. That task takes every body waiting (at most
//! [`MOST_PER_GROUP`]), runs BEGIN, then each body inside its own
//! `SAVEPOINT`: a body that refuses (a business rule) or fails is rolled
//! back to its savepoint, so it undoes only its own writes, never another's.
//! Then ONE `COMMIT`, and only then is every request of the group answered:
//! nobody is told "held" or "paid" before the commit is durable. If the
//! COMMIT (or a savepoint statement) fails, every request of the group gets
//! that failure, which `retrying` retries when it is transient.
//!
//! The bodies run one after another on one connection, as they did on the
//! one-connection write pool, so every rule the statements decide is decided
//! exactly as before: a later body sees what an earlier one wrote.
//!
//! MySQL does not group: InnoDB already shares one redo-log flush among the
//! transactions committing together (its own group commit), and its many
//! connections run holds in parallel.

use super::Fail;
use super::pool::PoolWaits;
use futures_util::future::BoxFuture;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use sqlx::{AnyConnection, AnyPool, Connection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// The most bodies one transaction takes: enough to carry a rush (a round
/// of 64 holds is a few milliseconds of statements), few enough that the
/// first of a group does not wait long for the last.
pub(crate) const MOST_PER_GROUP: usize = 64;

/// What a body of a group left behind: whether its writes stay, and how to
/// answer its request once the group's COMMIT is known.
struct Ran {
    keep: bool,
    answer: Answer,
}

/// How a body's request is answered, given how its group ended.
type Answer = Box<dyn FnOnce(Result<(), GroupFailed>) + Send>;

/// A request's transaction body, its answer type erased.
type Body = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Ran> + Send>;

/// Why a group's transaction did not commit, shared by every request of the
/// group (hence the `Arc`: one database error, many requests).
#[derive(Debug, Clone)]
pub(crate) struct GroupFailed(Arc<sqlx::Error>);

impl std::fmt::Display for GroupFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the write group was not committed: {}", self.0)
    }
}

impl std::error::Error for GroupFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl GroupFailed {
    /// The database error behind it, to tell whether a retry may succeed.
    pub(crate) fn cause(&self) -> &sqlx::Error {
        &self.0
    }
}

impl From<GroupFailed> for sqlx::Error {
    fn from(failed: GroupFailed) -> Self {
        sqlx::Error::Io(std::io::Error::other(failed))
    }
}

/// The group sizes, for `/metrics` and tests.
#[derive(Clone)]
pub(crate) struct GroupSizes {
    /// Bodies per committed or failed group.
    pub(crate) histogram: Histogram,
    /// The largest group so far.
    pub(crate) largest: Arc<AtomicUsize>,
}

impl Default for GroupSizes {
    fn default() -> Self {
        Self {
            // 1, 2, 4 … 64.
            histogram: Histogram::new(exponential_buckets(1.0, 2.0, 7)),
            largest: Arc::default(),
        }
    }
}

/// The handle requests give their bodies to; the task that runs them lives
/// on the writer thread's runtime until the last handle is dropped.
pub(crate) struct GroupWriter {
    bodies: mpsc::UnboundedSender<Body>,
    pub(crate) sizes: GroupSizes,
}

impl GroupWriter {
    /// Starts the writer task on `runtime`, writing through `pool` (SQLite's
    /// one-connection write pool, which it shares with the writes that are
    /// not grouped: it takes the connection for one group at a time).
    pub(crate) fn start(runtime: &tokio::runtime::Handle, pool: AnyPool, waits: PoolWaits) -> Self {
        let (bodies, waiting) = mpsc::unbounded_channel();
        let sizes = GroupSizes::default();
        runtime.spawn(run(waiting, pool, waits, sizes.clone()));
        Self { bodies, sizes }
    }

    /// Runs `body` in the next group; its outcome once the group committed.
    /// An `Err` rolls the body back to its savepoint and is answered as it
    /// is; an `Ok` is answered only if the group's COMMIT succeeds,
    /// otherwise with the commit's failure.
    pub(crate) async fn write<T, E>(
        &self,
        body: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, Fail<E>>>
        + Send
        + 'static,
    ) -> Result<T, Fail<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let body: Body = Box::new(move |conn| {
            Box::pin(async move {
                let outcome = body(conn).await;
                Ran {
                    keep: outcome.is_ok(),
                    answer: Box::new(move |committed| {
                        let _ = answer.send(match committed {
                            Ok(()) => outcome,
                            Err(failed) => Err(Fail::Db(failed.into())),
                        });
                    }),
                }
            })
        });
        self.bodies
            .send(body)
            .map_err(|_| Fail::Db(sqlx::Error::PoolClosed))?;
        // A body dropped unanswered: its group failed before it ran.
        answered
            .await
            .unwrap_or(Err(Fail::Db(sqlx::Error::WorkerCrashed)))
    }
}

/// The writer task: a group per round, until every handle is gone.
async fn run(
    mut waiting: mpsc::UnboundedReceiver<Body>,
    pool: AnyPool,
    waits: PoolWaits,
    sizes: GroupSizes,
) {
    let mut group = Vec::with_capacity(MOST_PER_GROUP);
    while waiting.recv_many(&mut group, MOST_PER_GROUP).await > 0 {
        let size = group.len();
        sizes.histogram.observe(size as f64);
        sizes.largest.fetch_max(size, Ordering::Relaxed);
        let mut answers = Vec::with_capacity(size);
        let committed = commit(&pool, &waits, group.drain(..), &mut answers)
            .await
            .map_err(|error| GroupFailed(Arc::new(error)));
        for answer in answers {
            answer(committed.clone());
        }
    }
}

/// One group's transaction: BEGIN, each body in its savepoint, COMMIT. The
/// answers of the bodies that ran land in `answers`; a failure part way
/// drops the transaction (a rollback) and the bodies not yet run. (Boxed:
/// a spawned future over sqlx's executors is only proven `Send` once its
/// lifetimes are named.)
fn commit<'a>(
    pool: &'a AnyPool,
    waits: &'a PoolWaits,
    group: std::vec::Drain<'a, Body>,
    answers: &'a mut Vec<Answer>,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let mut conn = waits.timed(pool.acquire()).await?;
        let mut tx = conn.begin().await?;
        for body in group {
            statement(&mut tx, "SAVEPOINT request").await?;
            let ran = body(&mut tx).await;
            answers.push(ran.answer);
            if !ran.keep {
                statement(&mut tx, "ROLLBACK TO request").await?;
            }
            statement(&mut tx, "RELEASE request").await?;
        }
        tx.commit().await
    })
}

/// A statement of the group's own (savepoints), run on `conn`.
fn statement<'c>(
    conn: &'c mut AnyConnection,
    sql: &'static str,
) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move {
        sqlx::query(sql).execute(conn).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Fail, SqlStore};
    use frontrow_application::clock::SystemClock;
    use futures_util::future::join_all;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    /// A write of `n` into a table of the test's own; write 5 is refused
    /// after it wrote, as a hold is when its claim fails.
    async fn write_refusing_five(
        conn: &mut sqlx::AnyConnection,
        n: i64,
    ) -> Result<i64, Fail<&'static str>> {
        sqlx::query("INSERT INTO written (n) VALUES (?)")
            .bind(n)
            .execute(&mut *conn)
            .await?;
        if n == 5 {
            return Err(Fail::Rule("refused"));
        }
        Ok(n)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refusal_in_the_middle_of_a_group_undoes_only_its_own_writes() {
        let dir =
            std::env::temp_dir().join(format!("frontrow-group-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("group.db").display());
        let store = SqlStore::connect(&url, 2, Duration::from_secs(2), Arc::new(SystemClock))
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE written (n INTEGER PRIMARY KEY)")
            .execute(&store.write)
            .await
            .unwrap();
        let group = store.group.clone().unwrap();

        // A first group holds the writer until ten writes wait behind it.
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let first = tokio::spawn({
            let group = group.clone();
            async move {
                group
                    .write(move |conn| {
                        Box::pin(async move {
                            let _ = released.await;
                            write_refusing_five(conn, 0).await
                        })
                    })
                    .await
            }
        });
        while group.sizes.largest.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // `join!` polls the writes first: each hands over its body before
        // the first group is released.
        let writes = (1..=10).map(|n| {
            group.write(move |conn| Box::pin(async move { write_refusing_five(conn, n).await }))
        });
        let (outcomes, ()) = tokio::join!(join_all(writes), async {
            release.send(()).unwrap();
        });

        assert!(matches!(first.await.unwrap(), Ok(0)));
        assert_eq!(
            group.sizes.largest.load(Ordering::Relaxed),
            10,
            "the ten writes were one group"
        );
        for (n, outcome) in (1..=10).zip(&outcomes) {
            match (n, outcome) {
                (5, Err(Fail::Rule("refused"))) => {}
                (n, Ok(written)) => assert_eq!(*written, n),
                (n, _) => panic!("write {n} had an unexpected outcome"),
            }
        }
        let committed: Vec<i64> = sqlx::query_scalar("SELECT n FROM written ORDER BY n")
            .fetch_all(store.reader())
            .await
            .unwrap();
        assert_eq!(committed, vec![0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
