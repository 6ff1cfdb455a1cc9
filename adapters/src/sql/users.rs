//! Users.

use super::SqlStore;
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::door::AccountAges;
use frontrow_application::store::OrStoreError;
use frontrow_application::users::UserStore;
use frontrow_domain::Timestamp;
use frontrow_domain::UserId;
use frontrow_domain::user::UserName;
use sqlx::Row;

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, name: &UserName) -> Result<UserId, StoreError> {
        let create = async {
            let mut conn = self.write_connection().await?;
            let insert = self.sql(super::insert_returning_id!(
                "INSERT INTO users (name, balance, lock_seq, created_at_ms) VALUES (?, 0, 0, ?)"
            ));
            let insert = sqlx::query(insert)
                .bind(name.as_str())
                .bind(self.clock.now().millis());
            super::inserted(&mut conn, self.backend, insert).await
        };
        Ok(UserId::from_store(create.await.or_store()?))
    }

    async fn exists(&self, user: UserId) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM users WHERE id = ?")
            .bind(user.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        Ok(found.is_some())
    }
}

#[async_trait]
impl AccountAges for SqlStore {
    async fn created_at(&self, user: UserId) -> Result<Option<Timestamp>, StoreError> {
        let row = sqlx::query("SELECT created_at_ms FROM users WHERE id = ?")
            .bind(user.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.map(|row| row.try_get::<i64, _>("created_at_ms").map(Timestamp))
            .transpose()
            .or_store()
    }
}
