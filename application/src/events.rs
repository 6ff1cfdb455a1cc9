//! Publishing the outbox. Every event row was written in the same transaction
//! as the change it describes (see the SQL adapter); the relay moves rows to
//! an `EventSink` (Kafka, or in-process subscribers) and marks them published.
//!
//! Delivery is at least once: a batch is marked only after the sink confirmed
//! every event, so a crash or a broker outage re-sends rather than loses.
//! Duplicates are rare by design, because one relay at a time holds the
//! outbox lease (which also keeps events of one key in order), and consumers
//! drop the rest by `eventId`.

use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// One outbox row, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The row's id: publication order.
    pub id: i64,
    /// Unique per event (32 hex characters): what consumers deduplicate by.
    pub event_id: String,
    /// [`DomainEvent::event_type`](frontrow_domain::events::DomainEvent::event_type),
    /// e.g. `payment.completed`.
    pub event_type: String,
    /// [`DomainEvent::key`](frontrow_domain::events::DomainEvent::key): the
    /// partition key that keeps one reservation's events in order.
    pub key: String,
    /// The versioned JSON envelope (see docs/events.md).
    pub payload: String,
    /// When the change committed.
    pub occurred_at: Timestamp,
}

/// How far publication is behind, for `/metrics` and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Rows not yet published.
    pub unpublished: i64,
    /// When the oldest of them occurred (`None`: nothing pending).
    pub oldest_unpublished_at: Option<Timestamp>,
}

/// The outbox table, as the relay sees it. Rows are written by the stores'
/// own transactions (each with the change it describes), never through
/// this port.
///
/// Contract:
/// - `lease` takes or renews the one relay lease, atomically: it succeeds
///   (true) when the lease is free, lapsed (`until <= now`), or already
///   `holder`'s, and sets it to `holder` until `until`; it is false while
///   another holder's lease runs. One relay at a time keeps each key's
///   events in order.
/// - `pending` returns at most `limit` unpublished rows, oldest id first.
/// - `mark_published` marks exactly those ids; marking one twice is
///   harmless. `purge_published` deletes only published rows.
/// - Every method fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Takes or renews the single relay lease for `holder` until `until`;
    /// false while another holder's lease is still running.
    async fn lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;
    /// The oldest unpublished rows, in id order.
    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError>;
    /// Marks the rows published at `at`, after their sink confirmed them.
    async fn mark_published(&self, ids: &[i64], at: Timestamp) -> Result<(), StoreError>;
    /// Deletes rows published before `before`; returns how many.
    async fn purge_published(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// How much is waiting to be published.
    async fn backlog(&self) -> Result<Backlog, StoreError>;
}

/// Where published events go: `KafkaSink` and `InProcessBus` in
/// frontrow-adapters, or your own (see `adapters/examples/json_lines_sink.rs`).
///
/// Contract: `publish` returns `Ok` only once every record of the batch is
/// durably accepted, in batch order per key; otherwise it fails as a
/// whole with [`StoreError`], and the relay sends the same batch again
/// later. Delivery is therefore at least once: a sink may see a record
/// twice (after a crash or a partial failure), and consumers drop
/// repeats by `event_id`.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Returns once every event is durably accepted, or fails as a whole.
    async fn publish(&self, batch: &[OutboxRecord]) -> Result<(), StoreError>;
}

/// What operators watch (exposed at /metrics).
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Events the sink confirmed since start.
    pub published_total: AtomicU64,
    /// Batches the sink refused since start.
    pub failures_total: AtomicU64,
    /// occurred -> published, in ms, of the newest event of the last batch.
    pub last_lag_ms: AtomicI64,
}

/// Moves outbox rows to the sink, one batch per call; the caller runs it
/// in a loop (the service does: at once after a full batch, every 100 ms
/// when idle, with backoff while the sink fails). Any number of relays may run, on any number of
/// instances: only the one holding the lease publishes.
///
/// See [`Outbox`] and [`EventSink`] for examples.
pub struct EventRelay {
    outbox: Arc<dyn Outbox>,
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    holder: String,
    batch: u32,
    lease_ms: i64,
    /// Until when this relay holds the lease, as far as it knows.
    held_until: AtomicI64,
    /// What it did so far, for `/metrics`.
    pub stats: RelayStats,
}

impl EventRelay {
    /// A relay publishing `outbox` to `sink` in batches of 500, under a
    /// 30-second lease. `holder` names this relay in the lease: unique per
    /// process (the service uses random hex).
    pub fn new(
        outbox: Arc<dyn Outbox>,
        sink: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
        holder: String,
    ) -> Self {
        Self {
            outbox,
            sink,
            clock,
            holder,
            batch: 500,
            lease_ms: 30_000,
            held_until: AtomicI64::new(0),
            stats: RelayStats::default(),
        }
    }

    /// Publishes one batch if this relay holds the lease; returns how many.
    pub async fn relay_once(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        // Renew only past half-time: nobody else can take an unexpired lease,
        // and this spares the database a write on every idle poll.
        if now.millis() > self.held_until.load(Ordering::Relaxed) - self.lease_ms / 2 {
            let until = now.millis() + self.lease_ms;
            if !self
                .outbox
                .lease(&self.holder, now, Timestamp(until))
                .await?
            {
                self.held_until.store(0, Ordering::Relaxed);
                return Ok(0);
            }
            self.held_until.store(until, Ordering::Relaxed);
        }
        let batch = self.outbox.pending(self.batch).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(error) = self.sink.publish(&batch).await {
            self.stats.failures_total.fetch_add(1, Ordering::Relaxed);
            return Err(error);
        }
        let published_at = self.clock.now();
        let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
        self.outbox.mark_published(&ids, published_at).await?;
        self.stats
            .published_total
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        if let Some(newest) = batch.last() {
            self.stats.last_lag_ms.store(
                published_at.millis() - newest.occurred_at.millis(),
                Ordering::Relaxed,
            );
        }
        Ok(batch.len())
    }

    /// Deletes published rows older than `retention_ms`; returns how many.
    pub async fn purge(&self, retention_ms: i64) -> Result<u64, StoreError> {
        let before = Timestamp(self.clock.now().millis() - retention_ms);
        self.outbox.purge_published(before).await
    }

    /// How far publication is behind.
    pub async fn backlog(&self) -> Result<Backlog, StoreError> {
        self.outbox.backlog().await
    }

    /// The relay's clock, for a caller computing lag.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The most rows one `relay_once` publishes; a caller that got a full
    /// batch may call again at once.
    pub fn batch_size(&self) -> usize {
        self.batch as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MockClock;

    fn record(id: i64) -> OutboxRecord {
        OutboxRecord {
            id,
            event_id: format!("e{id}"),
            event_type: "points.charged".into(),
            key: "user-1".into(),
            payload: "{}".into(),
            occurred_at: Timestamp(0),
        }
    }

    fn clock() -> Arc<MockClock> {
        Arc::new(crate::fixtures::clock_at(1_000))
    }

    #[tokio::test]
    async fn without_the_lease_nothing_is_published() {
        let mut outbox = MockOutbox::new();
        outbox.expect_lease().returning(|_, _, _| Ok(false));
        let relay = EventRelay::new(
            Arc::new(outbox),
            Arc::new(MockEventSink::new()),
            clock(),
            "me".into(),
        );
        assert_eq!(relay.relay_once().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_failed_publish_marks_nothing() {
        let mut outbox = MockOutbox::new();
        outbox.expect_lease().returning(|_, _, _| Ok(true));
        outbox
            .expect_pending()
            .returning(|_| Ok(vec![record(1), record(2)]));
        outbox.expect_mark_published().never();
        let mut sink = MockEventSink::new();
        sink.expect_publish()
            .returning(|_| Err(StoreError::new("broker down")));
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(sink), clock(), "me".into());
        assert!(relay.relay_once().await.is_err());
        assert_eq!(relay.stats.failures_total.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_published_batch_is_marked_with_its_ids() {
        let mut outbox = MockOutbox::new();
        outbox.expect_lease().returning(|_, _, _| Ok(true));
        outbox
            .expect_pending()
            .returning(|_| Ok(vec![record(1), record(2)]));
        outbox
            .expect_mark_published()
            .withf(|ids, _| ids == [1, 2])
            .times(1)
            .returning(|_, _| Ok(()));
        let mut sink = MockEventSink::new();
        sink.expect_publish().times(1).returning(|_| Ok(()));
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(sink), clock(), "me".into());
        assert_eq!(relay.relay_once().await.unwrap(), 2);
        assert_eq!(relay.stats.last_lag_ms.load(Ordering::Relaxed), 1_000);
    }
}
