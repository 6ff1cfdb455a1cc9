//! Households: accounts made together from one network share a seat limit.
//!
//! A bot farm makes its accounts in bulk from a few addresses, so each
//! address's sign-up allowance (20 an hour) times the per-user
//! [`SeatLimit`](crate::reservation::SeatLimit) is what it can take: two
//! addresses, 40 accounts, 160 seats. Rate limits and proofs of work only
//! slow that down. The household limit caps it: an account belongs to the
//! *household* of the network it signed up from **and** the window (an hour
//! by default) it signed up in, and all accounts of one household together
//! may hold or own at most [`HouseholdLimit`] seats of one schedule (live
//! holds plus confirmed), beside each user's own limit.
//!
//! Why people rarely notice: ten people behind one carrier NAT seldom all
//! sign up in the same hour *and* buy the same show; the ones who do share
//! a family's worth of seats (the default is two buyers' worth). Accounts
//! made before households existed, or with no known address, belong to no
//! household: only their own limit applies.
//!
//! ```
//! use frontrow_domain::household::{Household, HouseholdLimit, HouseholdWindow};
//! use frontrow_domain::Timestamp;
//!
//! let window = HouseholdWindow::minutes(60).ok_or("a positive window")?;
//! let hour = 3_600_000;
//! let ada = Household::of("198.51.100.7/32", Timestamp(10 * hour + 5), window);
//! let bob = Household::of("198.51.100.7/32", Timestamp(11 * hour - 1), window);
//! let cyd = Household::of("198.51.100.7/32", Timestamp(11 * hour), window);
//! assert_eq!(ada, bob, "one network, one hour: one household");
//! assert_ne!(ada, cyd, "the next hour is another household");
//!
//! let limit = HouseholdLimit(8);
//! assert!(limit.allows_more(6, 2));
//! assert!(!limit.allows_more(7, 2), "a group counts every seat it asks for");
//! assert!(HouseholdLimit::OFF.allows_more(1_000, 4), "0 turns the rule off");
//! # Ok::<(), &str>(())
//! ```

use crate::Timestamp;

/// How many seats of one schedule all accounts of one household may hold or
/// own at once (live holds plus confirmed). `0` turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdLimit(pub u32);

impl HouseholdLimit {
    /// No household limit: only each user's own applies.
    pub const OFF: HouseholdLimit = HouseholdLimit(0);

    /// Whether the rule applies at all.
    pub fn is_on(self) -> bool {
        self.0 > 0
    }

    /// Whether `more` new seats fit beside the `taken` ones the household's
    /// accounts hold or own on the schedule.
    pub fn allows_more(self, taken: u32, more: u32) -> bool {
        !self.is_on() || taken.saturating_add(more) <= self.0
    }
}

/// How long a household's window is: accounts from one network signed up
/// within one window (aligned to the epoch) share a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdWindow {
    millis: i64,
}

impl HouseholdWindow {
    /// An hour: the shipped window, the span a farm makes its accounts in.
    pub const HOUR: HouseholdWindow = HouseholdWindow { millis: 3_600_000 };

    /// A window of `minutes`; `None` for 0 (a household must span time).
    pub fn minutes(minutes: u32) -> Option<Self> {
        (minutes > 0).then(|| Self {
            millis: i64::from(minutes) * 60_000,
        })
    }

    /// The start of the window `at` falls in.
    pub fn start_of(self, at: Timestamp) -> Timestamp {
        Timestamp(at.millis() - at.millis().rem_euclid(self.millis))
    }
}

/// The most characters a network key has (an IPv6 network with its prefix
/// is at most 43): what the store's column holds.
pub const MAX_NETWORK_KEY_CHARS: usize = 64;

/// A household: the network an account signed up from and the start of the
/// window it signed up in. Two accounts with equal households share the
/// [`HouseholdLimit`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Household {
    /// The network as text (e.g. `198.51.100.7/32`, `2001:db8:1:2::/64`):
    /// the edge decides how wide it is; the domain only compares it.
    pub network: String,
    /// The start of the sign-up window.
    pub window_start: Timestamp,
}

impl Household {
    /// The household of an account signing up at `signed_up_at` from
    /// `network`. A key longer than [`MAX_NETWORK_KEY_CHARS`] is cut (the
    /// edge never makes one; a store column must not overflow).
    pub fn of(network: &str, signed_up_at: Timestamp, window: HouseholdWindow) -> Self {
        Self {
            network: network.chars().take(MAX_NETWORK_KEY_CHARS).collect(),
            window_start: window.start_of(signed_up_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_live_holds_and_sales_of_every_account() {
        let limit = HouseholdLimit(8);
        assert!(limit.allows_more(0, 8));
        assert!(limit.allows_more(7, 1));
        assert!(!limit.allows_more(8, 1));
        assert!(!limit.allows_more(u32::MAX, 1));
    }

    #[test]
    fn zero_is_off() {
        assert!(!HouseholdLimit::OFF.is_on());
        assert!(HouseholdLimit::OFF.allows_more(u32::MAX, u32::MAX));
    }

    #[test]
    fn windows_align_to_the_epoch() {
        let window = HouseholdWindow::minutes(60).unwrap();
        assert_eq!(window.start_of(Timestamp(3_599_999)), Timestamp(0));
        assert_eq!(window.start_of(Timestamp(3_600_000)), Timestamp(3_600_000));
        assert_eq!(HouseholdWindow::minutes(0), None);
    }
}
