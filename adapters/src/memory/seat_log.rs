//! The seat-change log in process: one instance, so the log is a bounded
//! tail per schedule behind one lock, and every append also updates the
//! in-process room's stock (see `MemoryWaitingRoom::seat_changed`).

use super::waiting_room::MemoryWaitingRoom;
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::seat_changes::{LOG_TAIL, SeatChange, SeatChangeLog};
use frontrow_domain::{ConcertId, ScheduleId};
use parking_lot::{Mutex, MutexGuard};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

#[derive(Default)]
struct ScheduleLog {
    version: u64,
    /// The last `LOG_TAIL` changes, oldest first; the last one is `version`.
    tail: VecDeque<SeatChange>,
}

/// The `SeatChangeLog` of one instance: keeps the last `LOG_TAIL` changes
/// per schedule and tells its [`MemoryWaitingRoom`] every change, so the
/// room's stock follows the seats. See [`MemoryWaitingRoom::new`] for an
/// example.
pub struct MemorySeatChangeLog {
    logs: Mutex<HashMap<ScheduleId, ScheduleLog>>,
    room: Arc<MemoryWaitingRoom>,
}

impl MemorySeatChangeLog {
    /// A log that keeps `room`'s stock in step with the seats.
    pub fn new(room: Arc<MemoryWaitingRoom>) -> Self {
        Self {
            logs: Mutex::default(),
            room,
        }
    }

    fn logs(&self) -> Result<MutexGuard<'_, HashMap<ScheduleId, ScheduleLog>>, StoreError> {
        Ok(self.logs.lock())
    }
}

#[async_trait]
impl SeatChangeLog for MemorySeatChangeLog {
    async fn version(&self, schedule: ScheduleId) -> Result<u64, StoreError> {
        Ok(self.logs()?.get(&schedule).map_or(0, |log| log.version))
    }

    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError> {
        let version = {
            let mut logs = self.logs()?;
            let log = logs.entry(change.schedule).or_default();
            log.version += 1;
            log.tail.push_back(*change);
            if log.tail.len() as u64 > LOG_TAIL {
                log.tail.pop_front();
            }
            log.version
        };
        self.room.seat_changed(change)?;
        Ok(version)
    }

    async fn since(
        &self,
        schedule: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> {
        let logs = self.logs()?;
        let (version, tail) = logs
            .get(&schedule)
            .map_or((0, None), |log| (log.version, Some(&log.tail)));
        if after > version {
            return Ok(None);
        }
        let missing = (version - after) as usize;
        let Some(tail) = tail else {
            return Ok(Some(Vec::new()));
        };
        if missing > tail.len() {
            return Ok(None);
        }
        let first = version - missing as u64 + 1;
        Ok(Some(
            tail.iter()
                .skip(tail.len() - missing)
                .enumerate()
                .map(|(i, change)| (first + i as u64, *change))
                .collect(),
        ))
    }

    async fn open_sale(
        &self,
        concert: ConcertId,
        _: &[ScheduleId],
        total_seats: i64,
    ) -> Result<(), StoreError> {
        self.room.open_stock(concert, total_seats)
    }
}
