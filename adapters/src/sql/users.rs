//! Users.

use super::{Backend, SqlStore};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::door::AccountAges;
use frontrow_application::store::OrStoreError;
use frontrow_application::users::UserStore;
use frontrow_domain::Timestamp;
use frontrow_domain::UserId;
use frontrow_domain::household::Household;
use frontrow_domain::user::UserName;
use sqlx::{AnyConnection, Row};

/// The id of `household`'s row, made if it is the first sign-up of its
/// network and window, on `conn` (inside the sign-up's transaction).
/// Invariant: one row per (network, window start), decided by the unique
/// index `households_by_network`: an upsert that finds the row answers
/// its id (MySQL through `LAST_INSERT_ID(id)`, SQLite through
/// `RETURNING`), so sign-ups at the same moment share one household.
pub(crate) async fn household_id(
    conn: &mut AnyConnection,
    backend: Backend,
    household: &Household,
) -> Result<i64, sqlx::Error> {
    let upsert = match backend {
        Backend::MySql => {
            "INSERT INTO households (network_key, window_start_ms) VALUES (?, ?) \
             ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)"
        }
        Backend::Sqlite => {
            "INSERT INTO households (network_key, window_start_ms) VALUES (?, ?) \
             ON CONFLICT (network_key, window_start_ms) DO UPDATE SET network_key = excluded.network_key \
             RETURNING id"
        }
    };
    let upsert = sqlx::query(upsert)
        .bind(household.network.as_str())
        .bind(household.window_start.millis());
    super::inserted(conn, backend, upsert).await
}

/// Inserts a user row (in `household`, if any) on `conn`, inside the
/// caller's transaction: the new user's id.
pub(crate) async fn insert_user(
    conn: &mut AnyConnection,
    store: &SqlStore,
    name: &UserName,
    household: Option<&Household>,
) -> Result<i64, sqlx::Error> {
    let household = match household {
        Some(household) => Some(household_id(conn, store.backend, household).await?),
        None => None,
    };
    let insert = store.sql(super::insert_returning_id!(
        "INSERT INTO users (name, balance, lock_seq, created_at_ms, household_id) VALUES (?, 0, 0, ?, ?)"
    ));
    let insert = sqlx::query(insert)
        .bind(name.as_str())
        .bind(store.clock.now().millis())
        .bind(household);
    super::inserted(conn, store.backend, insert).await
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user<'h>(
        &self,
        name: &UserName,
        household: Option<&'h Household>,
    ) -> Result<UserId, StoreError> {
        let create = async {
            let mut tx = self.begin_write().await?;
            let user = insert_user(&mut tx, self, name, household).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(user)
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
