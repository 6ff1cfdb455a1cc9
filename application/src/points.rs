//! Prepaid points: balances and the ledger that explains them.
//!
//! A charge is one port call, so the store applies the balance change, the
//! ledger entry, the outbox event and the idempotency record in one
//! transaction.

use crate::StoreError;
use async_trait::async_trait;
use frontrow_domain::hold_cost::Purse;
use frontrow_domain::points::{ChargeAmount, IdempotencyKey, Points, PointsError as Rule};
use frontrow_domain::{Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// Why a balance read or a charge failed.
#[derive(Debug, Error)]
pub enum PointsError {
    /// A domain rule refused it: an amount out of range (checked before any
    /// store call) or a balance that would pass the maximum (from the store).
    #[error(transparent)]
    Rule(#[from] Rule),
    /// The key is not 1 to 100 visible ASCII characters; nothing was written.
    #[error("Idempotency-Key must be 1 to 100 visible ASCII characters")]
    InvalidIdempotencyKey,
    /// The key was used before with another amount: probably a client bug,
    /// so it is refused rather than replayed.
    #[error("this Idempotency-Key was already used with a different amount")]
    IdempotencyKeyReused,
    /// No such user.
    #[error("unknown user")]
    UnknownUser,
    /// The store failed (a 503); the charge may or may not have happened,
    /// which is what the idempotency key is for.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Balances and the ledger that explains them.
///
/// Contract:
/// - `balance` is `Some` for a known user and `None` for an unknown one.
/// - `charge` is one transaction: the balance grows by `amount` only if it
///   stays at most [`MAX_BALANCE`](frontrow_domain::points::MAX_BALANCE)
///   (else [`PointsError::Rule`] with `BalanceLimit`), a `CHARGE` ledger
///   entry and a `points.charged` outbox event are written with it, and
///   the key (if any) is recorded with the amount and the new balance.
/// - A key seen before with the same amount adds nothing and returns the
///   balance the first call returned; with another amount it is
///   [`PointsError::IdempotencyKeyReused`]. An unknown user is
///   [`PointsError::UnknownUser`]; a failing store [`PointsError::Store`].
///   The amount and the key's syntax were checked before the call, so
///   `InvalidAmount` and `InvalidIdempotencyKey` never come from a ledger.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Ledger: Send + Sync {
    /// The user's balance; `None` for an unknown user.
    async fn balance(&self, user: UserId) -> Result<Option<Points>, StoreError>;
    /// Adds `amount` in one transaction, once per idempotency key; a repeated
    /// key returns the balance the first call returned.
    async fn charge(
        &self,
        user: UserId,
        amount: ChargeAmount,
        key: Option<IdempotencyKey>,
    ) -> Result<Points, PointsError>;
    /// The user's balance with what their live covered holds reserve at
    /// `now` (the sum of those holds' prices), read together; `None` for an
    /// unknown user.
    async fn purse(&self, user: UserId, now: Timestamp) -> Result<Option<Purse>, StoreError>;
}

/// Balances and charges (see [`Ledger`] for an example).
pub struct PointsService {
    ledger: Arc<dyn Ledger>,
}

impl PointsService {
    /// The use cases over a ledger.
    pub fn new(ledger: Arc<dyn Ledger>) -> Self {
        Self { ledger }
    }

    /// The user's balance; [`PointsError::UnknownUser`] for an unknown user.
    pub async fn balance(&self, user: UserId) -> Result<Points, PointsError> {
        self.ledger
            .balance(user)
            .await?
            .ok_or(PointsError::UnknownUser)
    }

    /// The caller's balance, reserved and available points at `now`.
    pub async fn purse(&self, user: UserId, now: Timestamp) -> Result<Purse, PointsError> {
        self.ledger
            .purse(user, now)
            .await?
            .ok_or(PointsError::UnknownUser)
    }

    /// Adds `amount` points. The amount (1 to
    /// [`MAX_CHARGE`](frontrow_domain::points::MAX_CHARGE)) and the
    /// client's `Idempotency-Key` are parsed first, so a bad one never
    /// reaches the ledger; then the charge is one ledger call.
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
