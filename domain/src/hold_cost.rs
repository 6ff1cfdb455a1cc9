//! Holds that cost something: the one home of the rule that keeps empty
//! accounts from locking a show.
//!
//! A hold is **covered** when the user's balance, less the points their
//! other live covered holds already reserve, pays for it: its price is then
//! reserved until the hold is paid, released or lapses. Reserved points are
//! never stored: they are the sum of the prices of the user's live covered
//! holds, so a lapse releases them exactly, with no write. Paying a covered
//! hold always succeeds, since its points are there.
//!
//! A hold the balance does not cover is **uncovered**: allowed for one seat
//! at a time, for a short while (a setting, 60 s by default), and once per
//! account per concert, ever. That keeps a person's order (hold, then add
//! points, then pay) possible, while an empty account locks at most one
//! seat of a concert for a minute, once. Per concert rather than per
//! schedule: a sale is the concert's, and a farm account should not get a
//! free seat on every date of it.
//!
//! A payment spends the balance less what the user's *other* live covered
//! holds reserve, so paying an uncovered hold never spends points a covered
//! one counts on.
//!
//! ```
//! use frontrow_domain::hold_cost::{Cover, CoverError, Purse};
//! use frontrow_domain::points::Points;
//!
//! let points = |n| Points::new(n).unwrap_or_default();
//! let purse = Purse::new(points(100), points(60));
//! assert_eq!(purse.available(), points(40));
//! assert_eq!(purse.cover(points(40), 1, true), Ok(Cover::Covered));
//! // Not covered: one seat, once per concert.
//! assert_eq!(purse.cover(points(50), 1, false), Ok(Cover::Uncovered));
//! assert_eq!(purse.cover(points(50), 1, true), Err(CoverError::PointsNeeded));
//! assert_eq!(purse.cover(points(50), 2, false), Err(CoverError::PointsNeeded));
//! ```

use crate::Timestamp;
use crate::points::Points;
use crate::reservation::{Reservation, ReservationStatus};
use thiserror::Error;

/// Whether a hold reserves its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// The balance pays for it: its price is reserved while it lives.
    Covered,
    /// The balance does not: a short hold of one seat, once per concert.
    Uncovered,
}

/// Why a hold was refused for its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CoverError {
    /// The available points do not cover the hold, and it cannot be the
    /// account's one uncovered hold of the concert (more than one seat, or
    /// that hold was taken already).
    #[error(
        "add points to hold this: your available points do not cover it, and an account gets one short hold of one seat per concert without them"
    )]
    PointsNeeded,
}

/// A user's points as a hold or a payment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purse {
    balance: Points,
    reserved: Points,
}

impl Purse {
    /// The balance, and what live covered holds reserve of it.
    pub fn new(balance: Points, reserved: Points) -> Self {
        Self { balance, reserved }
    }

    /// The balance.
    pub fn balance(&self) -> Points {
        self.balance
    }

    /// What the user's live covered holds reserve.
    pub fn reserved(&self) -> Points {
        self.reserved
    }

    /// What is free for a new hold or a payment: the balance less what is
    /// reserved (never below zero).
    pub fn available(&self) -> Points {
        Points::new(
            self.balance
                .get()
                .saturating_sub(self.reserved.get())
                .max(0),
        )
        .unwrap_or_default()
    }

    /// A new hold of `seats` seats costing `price` in all. `uncovered_before`:
    /// the account already had an uncovered hold in this concert (live or
    /// not).
    pub fn cover(
        &self,
        price: Points,
        seats: u32,
        uncovered_before: bool,
    ) -> Result<Cover, CoverError> {
        if price <= self.available() {
            Ok(Cover::Covered)
        } else if seats == 1 && !uncovered_before {
            Ok(Cover::Uncovered)
        } else {
            Err(CoverError::PointsNeeded)
        }
    }

    /// Whether a cart costing `amount` can be paid, with `reserved` counting
    /// only the user's *other* live covered holds (not the cart's).
    pub fn pays(&self, amount: Points) -> bool {
        amount <= self.available()
    }
}

/// What a user's holds reserve at `now`: the prices of their live covered
/// holds.
pub fn reserved<'a>(holds: impl IntoIterator<Item = &'a Reservation>, now: Timestamp) -> Points {
    let sum = holds
        .into_iter()
        .filter(|r| r.cover == Cover::Covered && r.status_at(now) == ReservationStatus::Held)
        .map(|r| r.price.get())
        .sum();
    Points::new(sum).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(n: i64) -> Points {
        Points::new(n).unwrap()
    }

    #[test]
    fn a_hold_the_available_points_pay_for_is_covered_whatever_its_size() {
        let purse = Purse::new(points(300), points(100));
        assert_eq!(purse.cover(points(200), 4, true), Ok(Cover::Covered));
        assert_eq!(
            purse.cover(points(201), 4, true),
            Err(CoverError::PointsNeeded)
        );
    }

    #[test]
    fn a_free_seat_is_always_covered() {
        let empty = Purse::new(Points::ZERO, Points::ZERO);
        assert_eq!(empty.cover(Points::ZERO, 4, true), Ok(Cover::Covered));
    }

    #[test]
    fn an_empty_account_gets_one_uncovered_seat_per_concert() {
        let empty = Purse::new(Points::ZERO, Points::ZERO);
        assert_eq!(empty.cover(points(10), 1, false), Ok(Cover::Uncovered));
        assert_eq!(
            empty.cover(points(10), 1, true),
            Err(CoverError::PointsNeeded)
        );
        assert_eq!(
            empty.cover(points(10), 2, false),
            Err(CoverError::PointsNeeded)
        );
    }

    #[test]
    fn a_payment_never_spends_points_another_hold_reserves() {
        let purse = Purse::new(points(100), points(70));
        assert!(purse.pays(points(30)));
        assert!(!purse.pays(points(31)));
    }
}
