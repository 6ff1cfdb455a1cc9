//! In-process event subscribers, for the embedded default without Kafka:
//! the same outbox feeds them, so embedded mode loses nothing either.

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::events::{EventSink, OutboxRecord};
use std::sync::Arc;
use tokio::sync::broadcast;

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
