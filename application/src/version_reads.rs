//! Coalesced version reads: concurrent readers of one schedule's seat-map
//! version share one store read, but only a read sent after they arrived,
//! so coalescing never hides a change that was logged before a reader
//! asked. At most one read per schedule is in flight; readers that arrive
//! meanwhile wait for the next read together.
//!
//! One small entry per schedule read lately, at most [`MAX_SCHEDULES`];
//! when full, the entries no reader is using go.

use crate::StoreError;
use crate::cache::BoundedMap;
use crate::seat_changes::SeatChangeLog;
use frontrow_domain::ScheduleId;
use std::sync::Arc;

/// The most schedules with an entry.
pub const MAX_SCHEDULES: usize = 10_000;

#[derive(Default)]
struct ScheduleReads {
    /// The read that has not been sent yet: newcomers join it.
    next: parking_lot::Mutex<Arc<tokio::sync::OnceCell<u64>>>,
    /// Held while a read is in flight.
    in_flight: tokio::sync::Mutex<()>,
}

/// The coalescer of one instance.
pub struct VersionReads(BoundedMap<ScheduleId, Arc<ScheduleReads>>);

impl Default for VersionReads {
    fn default() -> Self {
        Self::with_capacity(MAX_SCHEDULES)
    }
}

impl VersionReads {
    /// At most `capacity` schedules (tests use a small one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(BoundedMap::new(capacity))
    }

    /// The schedule's version, as of a log read sent after this call began.
    pub async fn read(
        &self,
        log: &dyn SeatChangeLog,
        schedule: ScheduleId,
    ) -> Result<u64, StoreError> {
        let reads = self
            .0
            .get_or_insert_with(schedule, Arc::default, |_, reads| {
                Arc::strong_count(reads) == 1
            });
        let batch = reads.next.lock().clone();
        let version = batch
            .get_or_try_init(|| async {
                let _turn = reads.in_flight.lock().await;
                // From here on this read may already be sent, so a newcomer
                // must wait for the next one.
                {
                    let mut next = reads.next.lock();
                    if Arc::ptr_eq(&next, &batch) {
                        *next = Arc::default();
                    }
                }
                log.version(schedule).await
            })
            .await?;
        Ok(*version)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::FakeLog;

    #[tokio::test]
    async fn version_reads_keep_an_entry_for_at_most_their_capacity_of_schedules() {
        let reads = VersionReads::with_capacity(8);
        let log = FakeLog::default();
        for schedule in 1..100 {
            reads
                .read(&log, ScheduleId::from_store(schedule))
                .await
                .expect("a version");
            assert!(reads.len() <= 8);
        }
    }
}
