//! Kafka, through librdkafka (rdkafka): the outbox's sink, and a consumer a
//! downstream team can copy (`frontrow events tail`).
//!
//! The producer is idempotent with acks=all, so a retry inside librdkafka
//! never writes a message twice; each message is keyed by its event's key
//! (see docs/events.md), which keeps one reservation's or one user's events
//! in one partition, in order. Kafka transactions are not used: the outbox
//! needs only "every acked event is durable".

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::events::{EventSink, OutboxRecord};
use frontrow_application::store::OrStoreError;
use parking_lot::RwLock;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Partitions of a topic this service creates.
const PARTITIONS: i32 = 6;

/// The production `EventSink`: an idempotent Kafka producer (`acks=all`)
/// that sends each batch keyed by the event's key, so one reservation's
/// events keep their order in one partition. It creates the topic (6
/// partitions) if missing, and a batch fails as a whole within 15 s when
/// the brokers do not confirm it; the relay then sends it again.
pub struct KafkaSink {
    /// Replaced after a failed batch: an idempotent producer that lost its
    /// broker (say, one that restarted empty) can be fenced for good.
    producer: RwLock<FutureProducer>,
    brokers: String,
    topic: String,
    topic_ready: AtomicBool,
}

impl KafkaSink {
    /// A sink to `topic` on the comma-separated bootstrap `brokers`. It does
    /// not wait for the brokers, so it fails only on an invalid
    /// configuration; an unreachable broker fails the first batches instead.
    ///
    /// ```no_run
    /// use frontrow_adapters::kafka::KafkaSink;
    ///
    /// let sink = KafkaSink::new("kafka-1:9092,kafka-2:9092", "frontrow.events")?;
    /// # Ok::<(), rdkafka::error::KafkaError>(())
    /// ```
    pub fn new(brokers: &str, topic: &str) -> Result<Self, rdkafka::error::KafkaError> {
        Ok(Self {
            producer: RwLock::new(Self::producer(brokers)?),
            brokers: brokers.to_owned(),
            topic: topic.to_owned(),
            topic_ready: AtomicBool::new(false),
        })
    }

    fn producer(brokers: &str) -> Result<FutureProducer, rdkafka::error::KafkaError> {
        ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // A broker outage fails the batch within 15 s; the relay retries it.
            .set("message.timeout.ms", "15000")
            .set("linger.ms", "5")
            .create()
    }

    /// After a failure: check the topic again and start a fresh producer.
    fn reset(&self) {
        self.topic_ready.store(false, Ordering::Relaxed);
        match Self::producer(&self.brokers) {
            Ok(fresh) => *self.producer.write() = fresh,
            Err(error) => tracing::warn!(%error, "cannot create a Kafka producer"),
        }
    }

    async fn ensure_topic(&self) -> Result<(), StoreError> {
        if self.topic_ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        create_topic(&self.brokers, &self.topic).await?;
        self.topic_ready.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Creates the topic unless it exists.
pub async fn create_topic(brokers: &str, topic: &str) -> Result<(), StoreError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .or_store()?;
    let new = NewTopic::new(topic, PARTITIONS, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin.create_topics([&new], &options).await.or_store()?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(StoreError::new(format!(
                    "cannot create topic {name}: {code}"
                )));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl EventSink for KafkaSink {
    async fn publish(&self, batch: &[OutboxRecord]) -> Result<(), StoreError> {
        self.ensure_topic().await?;
        let producer = self.producer.read().clone();
        // Enqueue the whole batch first so librdkafka can pipeline it, then wait.
        let mut deliveries = Vec::with_capacity(batch.len());
        for record in batch {
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "event-id",
                    value: Some(record.event_id.as_str()),
                })
                .insert(Header {
                    key: "event-type",
                    value: Some(record.event_type.as_str()),
                });
            let message = FutureRecord::to(&self.topic)
                .key(&record.key)
                .payload(&record.payload)
                .headers(headers);
            match producer.send_result(message) {
                Ok(delivery) => deliveries.push(delivery),
                Err((error, _)) => {
                    self.reset();
                    return Err(StoreError::new(error));
                }
            }
        }
        for delivery in deliveries {
            let failed = match delivery.await {
                Ok(Ok(_)) => continue,
                Ok(Err((error, _))) => StoreError::new(error),
                Err(_) => StoreError::new("delivery cancelled"),
            };
            self.reset();
            return Err(failed);
        }
        Ok(())
    }
}

/// A consumer-group reader that hands each event to `on_event` once: it drops
/// repeats by `eventId` (at-least-once delivery may repeat), and commits an
/// offset only after `on_event` returned. Stops when `on_event` returns false
/// or when nothing arrives for `idle`.
pub async fn tail(
    brokers: &str,
    topic: &str,
    group: &str,
    idle: Option<Duration>,
    mut on_event: impl FnMut(Value) -> bool,
) -> Result<(), StoreError> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .or_store()?;
    consumer.subscribe(&[topic]).or_store()?;
    let mut seen = HashSet::new();
    let mut order = VecDeque::new();
    loop {
        let message = match idle {
            Some(idle) => match tokio::time::timeout(idle, consumer.recv()).await {
                Ok(message) => message,
                Err(_) => return Ok(()),
            },
            None => consumer.recv().await,
        };
        let message = message.or_store()?;
        let event: Value = message
            .payload()
            .and_then(|p| serde_json::from_slice(p).ok())
            .unwrap_or(Value::Null);
        let id = event["eventId"].as_str().unwrap_or_default().to_owned();
        let fresh = !id.is_empty() && seen.insert(id.clone());
        let go_on = if fresh {
            order.push_back(id);
            if order.len() > 1_000_000
                && let Some(oldest) = order.pop_front()
            {
                seen.remove(&oldest);
            }
            on_event(event)
        } else {
            true
        };
        consumer
            .commit_message(&message, CommitMode::Async)
            .or_store()?;
        if !go_on {
            return Ok(());
        }
    }
}
