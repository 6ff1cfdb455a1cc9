//! Prepaid points: balances and the ledger that explains them.
//!
//! A charge is one port call, so the store applies the balance change, the
//! ledger entry, the outbox event and the idempotency record in one
//! transaction.

use crate::StoreError;
use async_trait::async_trait;
use frontrow_domain::UserId;
use frontrow_domain::points::{ChargeAmount, IdempotencyKey, Points, PointsError as Rule};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PointsError {
    #[error(transparent)]
    Rule(#[from] Rule),
    #[error("Idempotency-Key must be 1 to 100 visible ASCII characters")]
    InvalidIdempotencyKey,
    #[error("this Idempotency-Key was already used with a different amount")]
    IdempotencyKeyReused,
    #[error("unknown user")]
    UnknownUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Ledger: Send + Sync {
    async fn balance(&self, user: UserId) -> Result<Option<Points>, StoreError>;
    /// Adds `amount` in one transaction, once per idempotency key; a repeated
    /// key returns the balance the first call returned.
    async fn charge(
        &self,
        user: UserId,
        amount: ChargeAmount,
        key: Option<IdempotencyKey>,
    ) -> Result<Points, PointsError>;
}

pub struct PointsService {
    ledger: Arc<dyn Ledger>,
}

impl PointsService {
    pub fn new(ledger: Arc<dyn Ledger>) -> Self {
        Self { ledger }
    }

    pub async fn balance(&self, user: UserId) -> Result<Points, PointsError> {
        self.ledger
            .balance(user)
            .await?
            .ok_or(PointsError::UnknownUser)
    }

    #[tracing::instrument(skip(self), fields(user = %user))]
    pub async fn charge(
        &self,
        user: UserId,
        amount: i64,
        key: Option<&str>,
    ) -> Result<Points, PointsError> {
        let amount = ChargeAmount::parse(amount)?;
        let key = key
            .map(|k| IdempotencyKey::parse(k).ok_or(PointsError::InvalidIdempotencyKey))
            .transpose()?;
        self.ledger.charge(user, amount, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_invalid_amount_never_reaches_the_ledger() {
        let service = PointsService::new(Arc::new(MockLedger::new()));
        for amount in [0, -1, i64::MAX] {
            let err = service
                .charge(UserId::from_store(1), amount, None)
                .await
                .unwrap_err();
            assert!(matches!(err, PointsError::Rule(Rule::InvalidAmount)));
        }
    }

    #[tokio::test]
    async fn an_invalid_idempotency_key_never_reaches_the_ledger() {
        let service = PointsService::new(Arc::new(MockLedger::new()));
        let err = service
            .charge(UserId::from_store(1), 10, Some("a b"))
            .await
            .unwrap_err();
        assert!(matches!(err, PointsError::InvalidIdempotencyKey));
    }

    #[tokio::test]
    async fn a_valid_charge_is_one_ledger_call() {
        let mut ledger = MockLedger::new();
        ledger
            .expect_charge()
            .times(1)
            .withf(|_, amount, key| {
                amount.points().get() == 10 && key.as_ref().map(|k| k.as_str()) == Some("k1")
            })
            .returning(|_, _, _| Ok(Points::new(10).unwrap()));
        let service = PointsService::new(Arc::new(ledger));
        assert_eq!(
            service
                .charge(UserId::from_store(1), 10, Some("k1"))
                .await
                .unwrap()
                .get(),
            10
        );
    }
}
