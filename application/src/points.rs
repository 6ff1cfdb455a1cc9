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
///
/// In memory, a lock stands in for the transaction:
///
/// ```
/// use async_trait::async_trait;
/// use frontrow_application::points::{Ledger, PointsError, PointsService};
/// use frontrow_application::StoreError;
/// use frontrow_domain::points::{ChargeAmount, IdempotencyKey, PointBalance, Points};
/// use frontrow_domain::UserId;
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Default)]
/// struct Books {
///     balances: HashMap<UserId, PointBalance>,
///     /// Each key's amount and the balance it answered.
///     keys: HashMap<(UserId, IdempotencyKey), (ChargeAmount, Points)>,
/// }
///
/// #[derive(Default)]
/// struct MemoryLedger(Mutex<Books>);
///
/// #[async_trait]
/// impl Ledger for MemoryLedger {
///     async fn balance(&self, user: UserId) -> Result<Option<Points>, StoreError> {
///         let books = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
///         Ok(books.balances.get(&user).map(|b| b.points()))
///     }
///
///     async fn charge(
///         &self,
///         user: UserId,
///         amount: ChargeAmount,
///         key: Option<IdempotencyKey>,
///     ) -> Result<Points, PointsError> {
///         let mut books = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
///         if let Some(seen) = key.as_ref().and_then(|k| books.keys.get(&(user, k.clone()))) {
///             let (first, answered) = *seen;
///             return if first == amount { Ok(answered) } else { Err(PointsError::IdempotencyKeyReused) };
///         }
///         let balance = books.balances.get(&user).ok_or(PointsError::UnknownUser)?;
///         let balance = balance.charge(amount)?; // BalanceLimit, decided by the domain
///         books.balances.insert(user, balance);
///         if let Some(key) = key {
///             books.keys.insert((user, key), (amount, balance.points()));
///         }
///         Ok(balance.points())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ada = UserId::from_store(1);
/// let ledger = MemoryLedger::default();
/// ledger.0.lock().map_err(|_| "poisoned")?.balances.insert(ada, PointBalance::new(Points::ZERO));
/// let points = PointsService::new(Arc::new(ledger));
///
/// assert_eq!(points.charge(ada, 500, Some("order-1")).await?.get(), 500);
/// assert_eq!(points.charge(ada, 500, Some("order-1")).await?.get(), 500, "a retry adds nothing");
/// let reused = points.charge(ada, 300, Some("order-1")).await;
/// assert!(matches!(reused, Err(PointsError::IdempotencyKeyReused)));
/// let stranger = points.charge(UserId::from_store(9), 10, None).await;
/// assert!(matches!(stranger, Err(PointsError::UnknownUser)));
/// assert_eq!(points.balance(ada).await?.get(), 500);
/// # Ok(()) }
/// ```
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
