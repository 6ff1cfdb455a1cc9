//! In-process event subscribers, for the embedded default without Kafka:
//! the same outbox feeds them, so embedded mode loses nothing either.

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::events::{EventSink, OutboxRecord};
use std::sync::Arc;
use tokio::sync::broadcast;

/// An `EventSink` that hands every published event to the subscribers in
/// this process (a broadcast channel of 4,096). Publishing never fails and
/// never waits: with no subscriber, or a slow one, events are still marked
/// published, and the outbox table keeps them for the retention period.
///
/// ```
/// use frontrow_adapters::memory::bus::InProcessBus;
/// use frontrow_application::events::{EventSink, OutboxRecord};
/// use frontrow_domain::Timestamp;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bus = InProcessBus::default();
/// let mut events = bus.subscribe();
/// let record = OutboxRecord {
///     id: 1,
///     event_id: "0".repeat(32),
///     event_type: "points.charged".into(),
///     key: "user-7".into(),
///     payload: "{}".into(),
///     occurred_at: Timestamp(0),
/// };
/// bus.publish(&[record]).await?;
/// assert_eq!(events.recv().await?.key, "user-7");
/// # Ok(()) }
/// ```
pub struct InProcessBus(broadcast::Sender<Arc<OutboxRecord>>);

impl Default for InProcessBus {
    fn default() -> Self {
        Self(broadcast::channel(4096).0)
    }
}

impl InProcessBus {
    /// Every event published after this call. A subscriber that falls more
    /// than 4096 events behind is told how many it missed (`Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<OutboxRecord>> {
        self.0.subscribe()
    }
}

#[async_trait]
impl EventSink for InProcessBus {
    async fn publish(&self, batch: &[OutboxRecord]) -> Result<(), StoreError> {
        for record in batch {
            // No subscriber is not a failure: the event stays in the outbox table.
            let _ = self.0.send(Arc::new(record.clone()));
        }
        Ok(())
    }
}
