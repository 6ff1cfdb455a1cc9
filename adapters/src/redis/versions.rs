//! Seat-map versions in Redis: a counter per schedule, so every instance's
//! seat-map cache notices another instance's writes.

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::catalogue::SeatMapVersions;
use frontrow_domain::ScheduleId;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

pub struct RedisSeatMapVersions {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisSeatMapVersions {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, schedule: ScheduleId) -> String {
        super::seat_map_key(&self.prefix, schedule)
    }
}

#[async_trait]
impl SeatMapVersions for RedisSeatMapVersions {
    async fn current(&self, schedule: ScheduleId) -> Result<u64, StoreError> {
        let version: Option<u64> = self
            .conn
            .clone()
            .get(self.key(schedule))
            .await
            .map_err(StoreError::new)?;
        Ok(version.unwrap_or(0))
    }

    async fn bump(&self, schedule: ScheduleId) -> Result<(), StoreError> {
        let _: u64 = self
            .conn
            .clone()
            .incr(self.key(schedule), 1)
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }
}
