//! The point ledger. A charge is one transaction: idempotency record, balance,
//! ledger entry and `points.charged` event commit together or not at all.

use super::{Fail, SqlStore, balance_in, is_unique_violation, record_event, retrying};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::points::{Ledger, PointsError};
use frontrow_application::store::OrStoreError;
use frontrow_domain::events::DomainEvent;
use frontrow_domain::hold_cost::Purse;
use frontrow_domain::points::{
    ChargeAmount, IdempotencyKey, LedgerReason, MAX_BALANCE, Points, PointsError as Rule,
};
use frontrow_domain::{Timestamp, UserId};
use sqlx::Row;

const CHARGE_SCOPE: &str = "charge";

impl SqlStore {
    async fn charge_once(
        &self,
        user: UserId,
        amount: ChargeAmount,
        key: Option<&IdempotencyKey>,
    ) -> Result<Points, Fail<PointsError>> {
        let now = self.clock.now();
        let mut tx = self.begin_write().await?;
        if let Some(key) = key {
            // The primary key makes a second use of the key fail here; in MySQL
            // a concurrent second use waits for the first to commit, then fails.
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, scope, idem_key, request_amount, created_at_ms) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(user.get())
            .bind(CHARGE_SCOPE)
            .bind(key.as_str())
            .bind(amount.points().get())
            .bind(now.millis())
            .execute(&mut *tx)
            .await;
            match claimed {
                Ok(_) => {}
                Err(error) if is_unique_violation(&error) => {
                    drop(tx);
                    return self.replay_charge(user, amount, key).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
        // Invariant: balance never exceeds MAX_BALANCE, decided by this one statement.
        let added =
            sqlx::query("UPDATE users SET balance = balance + ? WHERE id = ? AND balance + ? <= ?")
                .bind(amount.points().get())
                .bind(user.get())
                .bind(amount.points().get())
                .bind(MAX_BALANCE)
                .execute(&mut *tx)
                .await?;
        if added.rows_affected() != 1 {
            let exists = sqlx::query("SELECT 1 FROM users WHERE id = ?")
                .bind(user.get())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(Fail::Rule(if exists {
                Rule::BalanceLimit.into()
            } else {
                PointsError::UnknownUser
            }));
        }
        let balance = balance_in(&mut tx, user).await?;
        sqlx::query(
            "INSERT INTO point_ledger (user_id, delta, balance_after, reason, created_at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user.get())
        .bind(amount.points().get())
        .bind(balance)
        .bind(LedgerReason::Charge.as_str())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if let Some(key) = key {
            sqlx::query(
                "UPDATE idempotency_keys SET response_balance = ? WHERE user_id = ? AND scope = ? AND idem_key = ?",
            )
            .bind(balance)
            .bind(user.get())
            .bind(CHARGE_SCOPE)
            .bind(key.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let balance = super::stored_points(balance)?;
        let event = DomainEvent::PointsCharged {
            user,
            amount: amount.points(),
            balance,
        };
        record_event(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(balance)
    }

    /// A key seen before: the first call's answer, if it was the same request.
    async fn replay_charge(
        &self,
        user: UserId,
        amount: ChargeAmount,
        key: &IdempotencyKey,
    ) -> Result<Points, Fail<PointsError>> {
        let row = sqlx::query(
            "SELECT request_amount, response_balance FROM idempotency_keys \
             WHERE user_id = ? AND scope = ? AND idem_key = ?",
        )
        .bind(user.get())
        .bind(CHARGE_SCOPE)
        .bind(key.as_str())
        .fetch_one(&self.write)
        .await?;
        let requested: i64 = row.try_get("request_amount")?;
        let balance: Option<i64> = row.try_get("response_balance")?;
        if requested != amount.points().get() {
            return Err(Fail::Rule(PointsError::IdempotencyKeyReused));
        }
        balance.and_then(Points::new).ok_or_else(|| {
            Fail::Db(sqlx::Error::Protocol(
                "idempotency record without a response".into(),
            ))
        })
    }
}

#[async_trait]
impl Ledger for SqlStore {
    async fn balance(&self, user: UserId) -> Result<Option<Points>, StoreError> {
        let row = sqlx::query("SELECT balance FROM users WHERE id = ?")
            .bind(user.get())
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.map(|r| {
            r.try_get::<i64, _>("balance")
                .and_then(super::stored_points)
        })
        .transpose()
        .or_store()
    }

    async fn purse(&self, user: UserId, now: Timestamp) -> Result<Option<Purse>, StoreError> {
        // One read connection and one transaction, so the balance and what
        // is reserved of it are read at the same moment.
        let read = async {
            let mut tx = self.read.begin().await?;
            let row = sqlx::query("SELECT balance FROM users WHERE id = ?")
                .bind(user.get())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Ok::<_, sqlx::Error>(None);
            };
            let balance = super::stored_points(row.try_get("balance")?)?;
            let reserved = super::reservations::reserved_points(&mut tx, user, now).await?;
            tx.commit().await?;
            Ok(Some(Purse::new(balance, reserved)))
        };
        read.await.or_store()
    }

    async fn charge(
        &self,
        user: UserId,
        amount: ChargeAmount,
        key: Option<IdempotencyKey>,
    ) -> Result<Points, PointsError> {
        self.on_writer(move |store| async move {
            retrying(|| store.charge_once(user, amount, key.as_ref())).await
        })
        .await
    }
}
