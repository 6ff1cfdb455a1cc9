//! The door: how much work a join or a sign-up costs before it is let
//! through, by how suspicious it looks.
//!
//! Proof-of-work only adds cost; it never decides who is a bot. A person
//! pays once per sale (during a scheduled sale's pre-queue that costs no
//! place, since the pre-queue is shuffled at the opening); a farm pays per
//! account. So the cost rises with what a farm cannot avoid: accounts made
//! just now, and many accounts made from one address.
//!
//! ```
//! use frontrow_domain::door::{DoorPolicy, Level, Suspicion};
//!
//! let policy = DoorPolicy {
//!     young_account_ms: 60 * 60_000,
//!     young: Level::new(2).unwrap(),
//!     crowded_after_sign_ups: 20,
//!     crowded: Level::new(3).unwrap(),
//!     ..DoorPolicy::default()
//! };
//! let old_from_home = Suspicion { account_age_ms: 86_400_000, sign_ups_from_address: 1 };
//! let fresh_from_a_farm = Suspicion { account_age_ms: 5_000, sign_ups_from_address: 500 };
//! assert_eq!(policy.join_level(Level::NONE, old_from_home), Level::NONE);
//! assert_eq!(policy.join_level(Level::NONE, fresh_from_a_farm), Level::new(3).unwrap());
//! ```

use thiserror::Error;

/// A challenge's difficulty: 0 asks for nothing; each level doubles the
/// work of the one below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Level(u8);

/// A level above [`Level::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a challenge level is 0 to {max}", max = Level::MAX.0)]
pub struct LevelOutOfRange;

/// The PBKDF2-SHA-256 iterations of one attempt. Large enough that
/// WebCrypto's per-call overhead in a browser is small beside the work, small
/// enough that issuing a challenge (one derivation on the server) costs
/// about a millisecond.
pub const ITERATIONS_PER_ATTEMPT: u32 = 5_000;

impl Level {
    /// No challenge.
    pub const NONE: Level = Level(0);
    /// The hardest level: 2^(MAX-1) times the work of level 1.
    pub const MAX: Level = Level(10);

    /// A level from 0 to [`Level::MAX`].
    pub fn new(level: u8) -> Result<Level, LevelOutOfRange> {
        if level <= Self::MAX.0 {
            Ok(Level(level))
        } else {
            Err(LevelOutOfRange)
        }
    }

    /// The level as a number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The work this level asks for; `None` for [`Level::NONE`].
    ///
    /// The challenge is deterministic (ALTCHA v2's counter mode): the server
    /// picks a secret counter uniformly in `attempts`, and the client tries
    /// 0, 1, 2, ... until it finds it, each try one derivation of
    /// [`ITERATIONS_PER_ATTEMPT`]. So the work is bounded above, unlike a
    /// leading-zeros search, whose unlucky tail makes a slow phone wait many
    /// times the median.
    ///
    /// ```
    /// use frontrow_domain::door::Level;
    ///
    /// let one = Level::new(1).unwrap().work().unwrap();
    /// let two = Level::new(2).unwrap().work().unwrap();
    /// assert_eq!(one.attempts, 8..=16);
    /// assert_eq!(*two.attempts.end(), 2 * one.attempts.end());
    /// assert!(Level::NONE.work().is_none());
    /// ```
    pub fn work(self) -> Option<Work> {
        let most = 16u32.checked_shl(u32::from(self.0.checked_sub(1)?))?;
        Some(Work {
            iterations: ITERATIONS_PER_ATTEMPT,
            attempts: most / 2..=most,
        })
    }
}

/// The work of one challenge: attempts of `iterations` PBKDF2-SHA-256
/// iterations each, the secret counter drawn uniformly from `attempts`
/// (the median is three quarters of the top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// PBKDF2 iterations per attempt (ALTCHA's `cost`).
    pub iterations: u32,
    /// The range the secret counter is drawn from.
    pub attempts: std::ops::RangeInclusive<u32>,
}

/// What the door knows about a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suspicion {
    /// How long ago the account was made (ms).
    pub account_age_ms: i64,
    /// Accounts made from the caller's address within the counting window.
    pub sign_ups_from_address: u64,
}

/// The operator's levels. Each rule raises the level to its own; the
/// highest applies (they do not add up: a person who signed up a minute ago
/// behind a carrier's NAT pays the higher of the two, never both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoorPolicy {
    /// An account made less than this many ms ago is young (0: none is).
    pub young_account_ms: i64,
    /// The level a young account pays to join.
    pub young: Level,
    /// More sign-ups than this from one address within the window make it
    /// crowded (0: the rule is off).
    pub crowded_after_sign_ups: u64,
    /// The level a join from a crowded address pays.
    pub crowded: Level,
    /// Sign-ups from one address within the window that pay nothing.
    pub free_sign_ups: u64,
    /// The level a sign-up beyond the free ones pays (0: none pays).
    pub sign_up: Level,
}

impl DoorPolicy {
    /// The level a join pays: the concert's own level (`base`, the
    /// operator's per-concert setting), raised for a young account and for
    /// a crowded address.
    pub fn join_level(&self, base: Level, caller: Suspicion) -> Level {
        let young = caller.account_age_ms < self.young_account_ms;
        let crowded = self.crowded_after_sign_ups > 0
            && caller.sign_ups_from_address > self.crowded_after_sign_ups;
        let mut level = base;
        if young {
            level = level.max(self.young);
        }
        if crowded {
            level = level.max(self.crowded);
        }
        level
    }

    /// The level the `nth` sign-up from one address within the window
    /// pays (counting this one): nothing within the free allowance, then
    /// [`DoorPolicy::sign_up`], or the crowded level once the address is
    /// crowded, whichever is higher.
    pub fn sign_up_level(&self, nth: u64) -> Level {
        if nth <= self.free_sign_ups {
            return Level::NONE;
        }
        let crowded = self.crowded_after_sign_ups > 0 && nth > self.crowded_after_sign_ups;
        if crowded {
            self.sign_up.max(self.crowded)
        } else {
            self.sign_up
        }
    }

    /// A challenge solved at `solved` satisfies a call that asks for
    /// `required`: at least as hard (a challenge from before the caller
    /// looked more suspicious is too easy).
    pub fn satisfies(solved: Level, required: Level) -> bool {
        solved >= required
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(n: u8) -> Level {
        Level::new(n).unwrap()
    }

    fn policy() -> DoorPolicy {
        DoorPolicy {
            young_account_ms: 600_000,
            young: level(2),
            crowded_after_sign_ups: 10,
            crowded: level(4),
            free_sign_ups: 3,
            sign_up: level(1),
        }
    }

    #[test]
    fn an_old_account_from_a_quiet_address_pays_only_the_concerts_level() {
        let caller = Suspicion {
            account_age_ms: 600_000,
            sign_ups_from_address: 10,
        };
        assert_eq!(policy().join_level(Level::NONE, caller), Level::NONE);
        assert_eq!(policy().join_level(level(1), caller), level(1));
    }

    #[test]
    fn a_young_account_or_a_crowded_address_raises_the_level_to_the_higher_rule() {
        let young = Suspicion {
            account_age_ms: 599_999,
            sign_ups_from_address: 0,
        };
        let crowded = Suspicion {
            account_age_ms: 600_000,
            sign_ups_from_address: 11,
        };
        let both = Suspicion {
            account_age_ms: 0,
            sign_ups_from_address: 11,
        };
        assert_eq!(policy().join_level(Level::NONE, young), level(2));
        assert_eq!(policy().join_level(level(3), young), level(3));
        assert_eq!(policy().join_level(Level::NONE, crowded), level(4));
        assert_eq!(policy().join_level(Level::NONE, both), level(4));
    }

    #[test]
    fn sign_ups_within_the_allowance_are_free_and_the_rest_pay() {
        let policy = policy();
        assert_eq!(policy.sign_up_level(3), Level::NONE);
        assert_eq!(policy.sign_up_level(4), level(1));
        assert_eq!(policy.sign_up_level(11), level(4));
    }

    #[test]
    fn the_default_policy_asks_nothing_of_anyone() {
        let anyone = Suspicion {
            account_age_ms: 0,
            sign_ups_from_address: 1_000_000,
        };
        let policy = DoorPolicy::default();
        assert_eq!(policy.join_level(Level::NONE, anyone), Level::NONE);
        assert_eq!(policy.sign_up_level(1_000_000), Level::NONE);
    }

    #[test]
    fn each_level_doubles_the_work_and_none_asks_for_none() {
        for n in 1..Level::MAX.get() {
            let this = level(n).work().unwrap();
            let next = level(n + 1).work().unwrap();
            assert_eq!(*next.attempts.end(), 2 * this.attempts.end());
            assert_eq!(*this.attempts.start(), this.attempts.end() / 2);
        }
        assert!(Level::new(Level::MAX.get() + 1).is_err());
    }

    #[test]
    fn a_harder_challenge_satisfies_an_easier_requirement_but_not_the_reverse() {
        assert!(DoorPolicy::satisfies(level(3), level(2)));
        assert!(DoorPolicy::satisfies(level(2), level(2)));
        assert!(!DoorPolicy::satisfies(level(1), level(2)));
    }
}
