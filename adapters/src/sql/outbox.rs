//! The outbox as the relay sees it: a lease, pending rows, marks, purges.

use super::SqlStore;
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::events::{Backlog, Outbox, OutboxRecord};
use frontrow_application::store::OrStoreError;
use frontrow_domain::Timestamp;
use sqlx::{Any, QueryBuilder, Row};

#[async_trait]
impl Outbox for SqlStore {
    async fn lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        // One conditional statement: the lease moves only if it is ours or has run out.
        let taken = sqlx::query(
            "UPDATE relay_lease SET holder = ?, until_ms = ? WHERE name = 'outbox' AND (holder = ? OR until_ms < ?)",
        )
        .bind(holder)
        .bind(until.millis())
        .bind(holder)
        .bind(now.millis())
        .execute(&self.write)
        .await
        .or_store()?;
        Ok(taken.rows_affected() == 1)
    }

    async fn pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event_id, event_type, event_key, payload, occurred_at_ms FROM outbox \
             WHERE published_at_ms IS NULL ORDER BY id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.write)
        .await
        .or_store()?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRecord {
                    id: r.try_get("id")?,
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("event_type")?,
                    key: r.try_get("event_key")?,
                    payload: r.try_get("payload")?,
                    occurred_at: Timestamp(r.try_get("occurred_at_ms")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .or_store()
    }

    async fn mark_published(&self, ids: &[i64], at: Timestamp) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut update: QueryBuilder<Any> =
            QueryBuilder::new("UPDATE outbox SET published_at_ms = ");
        update.push_bind(at.millis()).push(" WHERE id IN (");
        let mut list = update.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        update.push(")");
        update.build().execute(&self.write).await.or_store()?;
        Ok(())
    }

    async fn purge_published(&self, before: Timestamp) -> Result<u64, StoreError> {
        let purged = sqlx::query(
            "DELETE FROM outbox WHERE published_at_ms IS NOT NULL AND published_at_ms < ?",
        )
        .bind(before.millis())
        .execute(&self.write)
        .await
        .or_store()?;
        Ok(purged.rows_affected())
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS unpublished, MIN(occurred_at_ms) AS oldest FROM outbox \
             WHERE published_at_ms IS NULL",
        )
        .fetch_one(&self.read)
        .await
        .or_store()?;
        let read = || -> Result<Backlog, sqlx::Error> {
            Ok(Backlog {
                unpublished: row.try_get("unpublished")?,
                oldest_unpublished_at: row.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
            })
        };
        read().or_store()
    }
}
