//! Seat-map versions in process: one instance sees all its own writes.

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::catalogue::SeatMapVersions;
use frontrow_domain::ScheduleId;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemorySeatMapVersions(Mutex<HashMap<ScheduleId, u64>>);

#[async_trait]
impl SeatMapVersions for MemorySeatMapVersions {
    async fn current(&self, schedule: ScheduleId) -> Result<u64, StoreError> {
        let versions = self
            .0
            .lock()
            .map_err(|_| StoreError::new("seat map versions lock poisoned"))?;
        Ok(versions.get(&schedule).copied().unwrap_or(0))
    }

    async fn bump(&self, schedule: ScheduleId) -> Result<(), StoreError> {
        let mut versions = self
            .0
            .lock()
            .map_err(|_| StoreError::new("seat map versions lock poisoned"))?;
        *versions.entry(schedule).or_default() += 1;
        Ok(())
    }
}
