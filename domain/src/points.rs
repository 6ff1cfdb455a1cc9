//! Prepaid points: a balance that never goes below zero or above
//! `MAX_BALANCE`, and a ledger entry for every change, so that the sum of a
//! user's ledger always equals their balance.

use thiserror::Error;

/// The most one charge may add.
pub const MAX_CHARGE: i64 = 1_000_000;
/// The most a balance may hold; keeps every sum far from integer overflow.
pub const MAX_BALANCE: i64 = 1_000_000_000;

/// Why a change of points was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PointsError {
    /// A charge outside 1 to [`MAX_CHARGE`].
    #[error("amount must be a whole number from 1 to {MAX_CHARGE}")]
    InvalidAmount,
    /// The charge would lift the balance above [`MAX_BALANCE`].
    #[error("the balance would exceed {MAX_BALANCE} points")]
    BalanceLimit,
    /// The price is more than the balance.
    #[error("not enough points")]
    Insufficient,
}

/// A non-negative number of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Points(i64);

impl Points {
    /// No points: a new user's balance.
    pub const ZERO: Points = Points(0);

    /// `None` for a negative number: points are an amount, never a debt.
    pub fn new(raw: i64) -> Option<Self> {
        (raw >= 0).then_some(Self(raw))
    }

    /// The number, for a store or a wire format.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// What one charge adds: 1 to `MAX_CHARGE` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeAmount(i64);

impl ChargeAmount {
    /// A client's amount; [`PointsError::InvalidAmount`] outside 1 to
    /// [`MAX_CHARGE`], so a charge of zero, a negative "refund" or an
    /// overflowing sum never reaches a store.
    pub fn parse(raw: i64) -> Result<Self, PointsError> {
        if (1..=MAX_CHARGE).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(PointsError::InvalidAmount)
        }
    }

    /// The amount as points.
    pub fn points(self) -> Points {
        Points(self.0)
    }
}

/// The longest `IdempotencyKey`, in (ASCII) characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 100;

/// A client's retry key for a charge (or an operator's for a new concert):
/// 1 to 100 visible ASCII characters. A charge repeated with the same key
/// adds nothing and answers what the first one answered, so a client may
/// retry after a timeout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `None` for an empty, too long or non-printable key.
    pub fn parse(raw: &str) -> Option<Self> {
        (!raw.is_empty()
            && raw.len() <= MAX_IDEMPOTENCY_KEY_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| Self(raw.to_owned()))
    }

    /// The key as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a ledger entry exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerReason {
    /// Points bought: a positive entry.
    Charge,
    /// Points spent on a seat: a negative entry naming the payment.
    Payment,
}

impl LedgerReason {
    /// The stored form (`CHARGE`, `PAYMENT`).
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerReason::Charge => "CHARGE",
            LedgerReason::Payment => "PAYMENT",
        }
    }
}

/// A balance and the two ways it may change. Stores apply exactly these rules
/// in one conditional statement (`balance + ? <= MAX`, `balance >= ?`).
///
/// Both moves return a new balance or the reason there is none; the old
/// value is untouched, so a refused move leaves nothing to undo.
///
/// ```
/// use frontrow_domain::points::{ChargeAmount, PointBalance, Points, PointsError};
///
/// let wallet = PointBalance::new(Points::ZERO).charge(ChargeAmount::parse(300)?)?;
/// let price = Points::new(250).ok_or(PointsError::InvalidAmount)?;
/// let wallet = wallet.spend(price)?;
/// assert_eq!(wallet.points().get(), 50);
/// assert_eq!(wallet.spend(price), Err(PointsError::Insufficient));
/// # Ok::<(), PointsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointBalance(Points);

impl PointBalance {
    /// A balance as read from a store.
    pub fn new(points: Points) -> Self {
        Self(points)
    }

    /// The points held.
    pub fn points(self) -> Points {
        self.0
    }

    /// The balance after adding `amount`; [`PointsError::BalanceLimit`] if
    /// it would exceed [`MAX_BALANCE`].
    pub fn charge(self, amount: ChargeAmount) -> Result<PointBalance, PointsError> {
        let next = self.0.0 + amount.0;
        if next > MAX_BALANCE {
            return Err(PointsError::BalanceLimit);
        }
        Ok(Self(Points(next)))
    }

    /// The balance after paying `price`; [`PointsError::Insufficient`] if
    /// it would go below zero.
    pub fn spend(self, price: Points) -> Result<PointBalance, PointsError> {
        if price.0 > self.0.0 {
            return Err(PointsError::Insufficient);
        }
        Ok(Self(Points(self.0.0 - price.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charge_must_be_between_one_and_the_maximum() {
        assert_eq!(ChargeAmount::parse(0), Err(PointsError::InvalidAmount));
        assert_eq!(ChargeAmount::parse(-1), Err(PointsError::InvalidAmount));
        assert_eq!(
            ChargeAmount::parse(MAX_CHARGE + 1),
            Err(PointsError::InvalidAmount)
        );
        assert_eq!(
            ChargeAmount::parse(i64::MAX),
            Err(PointsError::InvalidAmount)
        );
        assert!(ChargeAmount::parse(1).is_ok());
        assert!(ChargeAmount::parse(MAX_CHARGE).is_ok());
    }

    #[test]
    fn a_balance_never_goes_below_zero() {
        let balance = PointBalance::new(Points(100));
        assert_eq!(balance.spend(Points(101)), Err(PointsError::Insufficient));
        assert_eq!(
            balance.spend(Points(100)).map(|b| b.points()),
            Ok(Points::ZERO)
        );
    }

    #[test]
    fn a_balance_never_exceeds_the_maximum() {
        let balance = PointBalance::new(Points(MAX_BALANCE - 1));
        let one = ChargeAmount::parse(1).unwrap();
        let two = ChargeAmount::parse(2).unwrap();
        assert_eq!(
            balance.charge(one).map(|b| b.points()),
            Ok(Points(MAX_BALANCE))
        );
        assert_eq!(balance.charge(two), Err(PointsError::BalanceLimit));
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(IdempotencyKey::parse("order-42").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("has space").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(101)).is_none());
    }

    #[test]
    fn points_are_never_negative() {
        assert!(Points::new(-1).is_none());
        assert_eq!(Points::new(0), Some(Points::ZERO));
    }
}
