//! Accounts with a password, and sessions (`AccountStore`).

use super::{Fail, SqlStore, is_unique_violation, retrying};
use async_trait::async_trait;
use frontrow_application::Clock;
use frontrow_application::StoreError;
use frontrow_application::store::OrStoreError;
use frontrow_application::users::{AccessTokens, AccountStore, PasswordHash, UserPorts, Users};
use frontrow_domain::household::Household;
use frontrow_domain::user::{SessionId, UserName};
use frontrow_domain::{Timestamp, UserId};
use sqlx::Row;
use std::sync::Arc;

impl SqlStore {
    /// The users use cases on this store, with the shipped password hashing
    /// ([`Argon2Passwords`](crate::passwords::Argon2Passwords)) and sign-in
    /// limits ([`SignInLimits`](crate::throttle::SignInLimits)).
    pub fn users(self: &Arc<Self>, tokens: Arc<dyn AccessTokens>, clock: Arc<dyn Clock>) -> Users {
        Users::new(UserPorts {
            users: self.clone(),
            accounts: self.clone(),
            tokens,
            passwords: Arc::new(crate::passwords::Argon2Passwords::default()),
            throttle: Arc::new(crate::throttle::SignInLimits::new(clock.clone())),
            clock,
        })
    }

    async fn create_account_once(
        &self,
        name: &UserName,
        hash: &PasswordHash,
        household: Option<&Household>,
    ) -> Result<UserId, Fail<Outcome>> {
        let now = self.clock.now().millis();
        let mut tx = self.begin_write().await?;
        let user = super::users::insert_user(&mut tx, self, name, household).await?;
        // Invariant: one account per sign-in key, decided by the unique
        // index; the user row above rolls back with it.
        let claimed = sqlx::query(
            "INSERT INTO credentials (user_id, name_key, password_hash, created_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(user)
        .bind(name.sign_in_key())
        .bind(hash.0.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match claimed {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => return Err(Fail::Rule(Outcome::Taken)),
            Err(error) => return Err(error.into()),
        }
        tx.commit().await?;
        Ok(UserId::from_store(user))
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account<'h>(
        &self,
        name: &UserName,
        hash: &PasswordHash,
        household: Option<&'h Household>,
    ) -> Result<Option<UserId>, StoreError> {
        let created = retrying(|| self.create_account_once(name, hash, household)).await;
        match created {
            Ok(user) => Ok(Some(user)),
            Err(Outcome::Taken) => Ok(None),
            Err(Outcome::Store(error)) => Err(error),
        }
    }

    async fn credentials(
        &self,
        name: &UserName,
    ) -> Result<Option<(UserId, PasswordHash)>, StoreError> {
        let row = sqlx::query("SELECT user_id, password_hash FROM credentials WHERE name_key = ?")
            .bind(name.sign_in_key())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        let Some(row) = row else { return Ok(None) };
        let user: i64 = row.try_get("user_id").or_store()?;
        let hash: String = row.try_get("password_hash").or_store()?;
        Ok(Some((UserId::from_store(user), PasswordHash(hash))))
    }

    async fn open_session(&self, user: UserId, now: Timestamp) -> Result<SessionId, StoreError> {
        let open = async {
            let mut conn = self.write_connection().await?;
            let insert = self.sql(super::insert_returning_id!(
                "INSERT INTO sessions (user_id, created_at_ms) VALUES (?, ?)"
            ));
            let insert = sqlx::query(insert).bind(user.get()).bind(now.millis());
            super::inserted(&mut conn, self.backend, insert).await
        };
        Ok(SessionId::from_store(open.await.or_store()?))
    }

    async fn session_live(&self, session: SessionId, user: UserId) -> Result<bool, StoreError> {
        let live = sqlx::query(
            "SELECT 1 FROM sessions WHERE id = ? AND user_id = ? AND ended_at_ms IS NULL",
        )
        .bind(session.get())
        .bind(user.get())
        .fetch_optional(&self.read)
        .await
        .or_store()?;
        Ok(live.is_some())
    }

    async fn end_session(
        &self,
        session: SessionId,
        user: UserId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let end = async {
            let mut conn = self.write_connection().await?;
            sqlx::query(
                "UPDATE sessions SET ended_at_ms = ? WHERE id = ? AND user_id = ? AND ended_at_ms IS NULL",
            )
            .bind(now.millis())
            .bind(session.get())
            .bind(user.get())
            .execute(&mut *conn)
            .await
        };
        end.await.or_store()?;
        Ok(())
    }
}

/// How a `create_account` attempt ended, other than with a new user.
enum Outcome {
    Taken,
    Store(StoreError),
}

impl From<StoreError> for Outcome {
    fn from(error: StoreError) -> Self {
        Outcome::Store(error)
    }
}
