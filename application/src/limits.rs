//! Rate limits per client address and per account: the limits the service
//! applies ([`Limit`]), the [`RateLimiter`] port that keeps their budgets,
//! and [`RateLimits`], which asks it and fails open.
//!
//! The arithmetic is `frontrow_domain::rate` (GCRA). With Redis, budgets
//! are shared by every instance (one key per limit and subject, so a Redis
//! Cluster runs each check on one node); embedded, they live in process.
//!
//! **Fail open.** A limiter that cannot answer (Redis down or slow) lets
//! the request through and counts it ([`RateLimits::limiter_failures`],
//! `frontrow_rate_limiter_failures_total`): a buyer must not lose a place in
//! line because an abuse filter is out; the store that decides seats and
//! points still decides them.

use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::Timestamp;
pub use frontrow_domain::rate::{RateRule, Spend, Verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every limit the service applies (a bounded set: it labels `/metrics`).
/// Each names what it counts and per what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Limit {
    /// Sign-ups (new accounts) per client address.
    SignUpPerAddress,
    /// Sign-ups per address block: an IPv4 /24 or an IPv6 /64.
    SignUpPerNetwork,
    /// Sign-in attempts per client address (a name's failures are slowed
    /// down on their own, by `users::SignInThrottle`).
    SignInPerAddress,
    /// Joins of a waiting room per client address.
    JoinPerAddress,
    /// Joins per account.
    JoinPerAccount,
    /// Status polls and stream opens per client address.
    StatusPerAddress,
    /// Status polls and stream opens per account.
    StatusPerAccount,
    /// Seat holds per client address.
    HoldPerAddress,
    /// Seat holds per account.
    HoldPerAccount,
    /// Payments per client address.
    PaymentPerAddress,
    /// Payments per account.
    PaymentPerAccount,
    /// Wrong admin keys per client address.
    AdminKeyFailures,
    /// Forged, expired or signed-out access tokens per client address.
    TokenFailures,
}

impl Limit {
    /// Every limit, in a fixed order.
    pub const ALL: [Limit; 13] = [
        Limit::SignUpPerAddress,
        Limit::SignUpPerNetwork,
        Limit::SignInPerAddress,
        Limit::JoinPerAddress,
        Limit::JoinPerAccount,
        Limit::StatusPerAddress,
        Limit::StatusPerAccount,
        Limit::HoldPerAddress,
        Limit::HoldPerAccount,
        Limit::PaymentPerAddress,
        Limit::PaymentPerAccount,
        Limit::AdminKeyFailures,
        Limit::TokenFailures,
    ];

    /// The stable name: a policy name in `RateLimit-Policy`, a label in
    /// `/metrics`, a part of the limiter's key.
    pub fn name(self) -> &'static str {
        match self {
            Limit::SignUpPerAddress => "sign-up-per-address",
            Limit::SignUpPerNetwork => "sign-up-per-network",
            Limit::SignInPerAddress => "sign-in-per-address",
            Limit::JoinPerAddress => "join-per-address",
            Limit::JoinPerAccount => "join-per-account",
            Limit::StatusPerAddress => "status-per-address",
            Limit::StatusPerAccount => "status-per-account",
            Limit::HoldPerAddress => "hold-per-address",
            Limit::HoldPerAccount => "hold-per-account",
            Limit::PaymentPerAddress => "payment-per-address",
            Limit::PaymentPerAccount => "payment-per-account",
            Limit::AdminKeyFailures => "admin-key-failures",
            Limit::TokenFailures => "token-failures",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The rule of each limit; `None` turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRules([Option<RateRule>; Limit::ALL.len()]);

impl LimitRules {
    /// Every limit off.
    pub fn off() -> Self {
        Self([None; Limit::ALL.len()])
    }

    /// The same rules with `limit` set to `rule`.
    pub fn with(mut self, limit: Limit, rule: Option<RateRule>) -> Self {
        self.0[limit.index()] = rule;
        self
    }

    /// The rule of `limit`, if it is on.
    pub fn rule(&self, limit: Limit) -> Option<RateRule> {
        self.0[limit.index()]
    }
}

/// Keeps the budgets of rate limits.
///
/// Contract: MUST decide exactly as `frontrow_domain::rate::decide` does for
/// the subject's stored TAT under `limit`, and atomically per limit and
/// subject: of concurrent requests, no more are allowed than the rule
/// allows one at a time. A `Spend::Peek` MUST NOT change the budget. Limits
/// and subjects are independent budgets. MUST return `StoreError` when the
/// budget cannot be read or written (the caller then fails open).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// One request from `subject` at `now` under `limit`'s `rule`.
    async fn check(
        &self,
        limit: Limit,
        rule: &RateRule,
        subject: &str,
        now: Timestamp,
        spend: Spend,
    ) -> Result<Verdict, StoreError>;
}

/// A request over a limit: which, under what rule, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The limit that refused.
    pub limit: Limit,
    /// Its rule, for `RateLimit-Policy`.
    pub rule: RateRule,
    /// Milliseconds until one more request is allowed.
    pub retry_after_ms: i64,
}

impl Refused {
    /// Whole seconds to wait, rounded up (at least 1): a client that waits
    /// this long is served.
    pub fn retry_after_seconds(&self) -> u64 {
        u64::try_from(self.retry_after_ms.max(1))
            .unwrap_or(1)
            .div_ceil(1000)
    }
}

/// The service's rate limits: the rules, the limiter that keeps their
/// budgets, and counters of refusals (per limit) and limiter failures.
pub struct RateLimits {
    limiter: Arc<dyn RateLimiter>,
    rules: LimitRules,
    clock: Arc<dyn Clock>,
    refusals: [AtomicU64; Limit::ALL.len()],
    failures: AtomicU64,
}

impl RateLimits {
    /// Limits by `rules`, budgets kept by `limiter`, time from `clock`.
    pub fn new(limiter: Arc<dyn RateLimiter>, rules: LimitRules, clock: Arc<dyn Clock>) -> Self {
        Self {
            limiter,
            rules,
            clock,
            refusals: Default::default(),
            failures: AtomicU64::new(0),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &LimitRules {
        &self.rules
    }

    /// One request from `subject` under `limit`: `Err` when it is over the
    /// limit. Allowed when the limit is off, and when the limiter fails
    /// (counted).
    pub async fn check(&self, limit: Limit, subject: &str) -> Result<(), Refused> {
        self.decide(limit, subject, Spend::Take).await
    }

    /// Would one more request be allowed? Spends nothing: for a check done
    /// before an attempt whose failures alone are counted (an admin key).
    pub async fn peek(&self, limit: Limit, subject: &str) -> Result<(), Refused> {
        self.decide(limit, subject, Spend::Peek).await
    }

    async fn decide(&self, limit: Limit, subject: &str, spend: Spend) -> Result<(), Refused> {
        let Some(rule) = self.rules.rule(limit) else {
            return Ok(());
        };
        let now = self.clock.now();
        match self.limiter.check(limit, &rule, subject, now, spend).await {
            Ok(Verdict::Allowed { .. }) => Ok(()),
            Ok(Verdict::Refused { retry_after_ms }) => {
                if spend == Spend::Take {
                    self.refusals[limit.index()].fetch_add(1, Ordering::Relaxed);
                }
                Err(Refused {
                    limit,
                    rule,
                    retry_after_ms,
                })
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    limit = limit.name(),
                    "rate limiter failed; the request is let through"
                );
                Ok(())
            }
        }
    }

    /// Requests refused so far by each limit (this instance).
    pub fn refusals(&self) -> Vec<(Limit, u64)> {
        Limit::ALL
            .iter()
            .map(|&limit| (limit, self.refusals[limit.index()].load(Ordering::Relaxed)))
            .collect()
    }

    /// Checks the limiter could not answer, so let through (this instance).
    pub fn limiter_failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::rate::decide;
    use parking_lot::Mutex;
    use std::collections::HashMap;

    struct At(i64);

    impl Clock for At {
        fn now(&self) -> Timestamp {
            Timestamp(self.0)
        }
    }

    /// The domain's rule over a map, or a limiter that always fails.
    #[derive(Default)]
    struct Budgets {
        tats: Mutex<HashMap<(Limit, String), Timestamp>>,
        broken: bool,
    }

    #[async_trait]
    impl RateLimiter for Budgets {
        async fn check(
            &self,
            limit: Limit,
            rule: &RateRule,
            subject: &str,
            now: Timestamp,
            spend: Spend,
        ) -> Result<Verdict, StoreError> {
            if self.broken {
                return Err(StoreError::new("limiter down"));
            }
            let mut tats = self.tats.lock();
            let key = (limit, subject.to_owned());
            let decision = decide(rule, tats.get(&key).copied(), now, spend);
            if let Some(tat) = decision.new_tat {
                tats.insert(key, tat);
            }
            Ok(decision.verdict)
        }
    }

    fn limits(limiter: Budgets) -> RateLimits {
        let rules = LimitRules::off().with(Limit::JoinPerAddress, RateRule::new(2, 60_000));
        RateLimits::new(Arc::new(limiter), rules, Arc::new(At(0)))
    }

    #[tokio::test]
    async fn a_subject_over_its_limit_is_refused_and_counted_others_are_not() {
        let limits = limits(Budgets::default());
        assert_eq!(limits.check(Limit::JoinPerAddress, "a").await, Ok(()));
        assert_eq!(limits.check(Limit::JoinPerAddress, "a").await, Ok(()));
        let refused = limits
            .check(Limit::JoinPerAddress, "a")
            .await
            .expect_err("the third join within the minute");
        assert_eq!(refused.retry_after_seconds(), 30);
        assert_eq!(limits.check(Limit::JoinPerAddress, "b").await, Ok(()));
        assert_eq!(
            limits.check(Limit::HoldPerAddress, "a").await,
            Ok(()),
            "a limit that is off allows everything"
        );
        let refusals = limits.refusals();
        assert!(refusals.contains(&(Limit::JoinPerAddress, 1)));
        assert_eq!(refusals.iter().map(|(_, n)| n).sum::<u64>(), 1);
    }

    #[tokio::test]
    async fn a_failing_limiter_lets_requests_through_and_counts_them() {
        let limits = limits(Budgets {
            broken: true,
            ..Default::default()
        });
        for _ in 0..5 {
            assert_eq!(limits.check(Limit::JoinPerAddress, "a").await, Ok(()));
        }
        assert_eq!(limits.limiter_failures(), 5);
    }

    #[tokio::test]
    async fn a_peek_spends_nothing() {
        let limits = limits(Budgets::default());
        for _ in 0..5 {
            assert_eq!(limits.peek(Limit::JoinPerAddress, "a").await, Ok(()));
        }
        assert_eq!(limits.check(Limit::JoinPerAddress, "a").await, Ok(()));
        assert_eq!(limits.check(Limit::JoinPerAddress, "a").await, Ok(()));
        assert!(limits.peek(Limit::JoinPerAddress, "a").await.is_err());
    }
}
