//! Rate-limit budgets in process, for the embedded default (one instance).
//!
//! It runs the domain's GCRA (`frontrow_domain::rate::decide`) over a map
//! under one lock, rather than `governor`: the Redis limiter runs a copy of
//! that same function, so both backends answer a request identically (the
//! spec suite checks the copy against the function), and a `Peek` (which
//! governor has no form of) is the same function spending nothing. The
//! lock is held for a map lookup and an insert, never across an `.await`.

use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::limits::{Limit, RateLimiter, RateRule, Spend, Verdict};
use frontrow_domain::Timestamp;
use frontrow_domain::rate::decide;
use parking_lot::Mutex;
use std::collections::HashMap;

/// The most budgets kept at once. Past it, budgets that refilled (the same
/// as forgotten) are dropped; if none has, a new subject is decided as if
/// unseen and not remembered, so memory stays bounded under a flood of
/// addresses (each such request is allowed, as a first request would be).
pub const MAX_SUBJECTS: usize = 200_000;

/// [`RateLimiter`] in process: each limit and subject's TAT in a map.
pub struct MemoryRateLimiter {
    tats: Mutex<HashMap<(Limit, String), Timestamp>>,
    max_subjects: usize,
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_SUBJECTS)
    }
}

impl MemoryRateLimiter {
    /// A limiter keeping at most `max_subjects` budgets.
    pub fn with_capacity(max_subjects: usize) -> Self {
        Self {
            tats: Mutex::new(HashMap::new()),
            max_subjects: max_subjects.max(1),
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(
        &self,
        limit: Limit,
        rule: &RateRule,
        subject: &str,
        now: Timestamp,
        spend: Spend,
    ) -> Result<Verdict, StoreError> {
        let key = (limit, subject.to_owned());
        let mut tats = self.tats.lock();
        let decision = decide(rule, tats.get(&key).copied(), now, spend);
        if let Some(tat) = decision.new_tat {
            if tats.len() >= self.max_subjects && !tats.contains_key(&key) {
                tats.retain(|_, tat| *tat > now);
            }
            if tats.len() < self.max_subjects || tats.contains_key(&key) {
                tats.insert(key, tat);
            }
        }
        Ok(decision.verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budgets_stay_bounded_and_refilled_ones_are_dropped_first() {
        let limiter = MemoryRateLimiter::with_capacity(10);
        let rule = RateRule::new(1, 1_000).expect("a rule");
        for n in 0..100 {
            let subject = format!("address-{n}");
            let verdict = limiter
                .check(
                    Limit::JoinPerAddress,
                    &rule,
                    &subject,
                    Timestamp(n),
                    Spend::Take,
                )
                .await
                .expect("in process");
            assert!(verdict.is_allowed());
            assert!(limiter.tats.lock().len() <= 10);
        }
        // Long after, every budget has refilled: new subjects are kept.
        let verdict = limiter
            .check(
                Limit::JoinPerAddress,
                &rule,
                "late",
                Timestamp(10_000),
                Spend::Take,
            )
            .await
            .expect("in process");
        assert!(verdict.is_allowed());
        assert!(
            limiter
                .tats
                .lock()
                .contains_key(&(Limit::JoinPerAddress, "late".to_owned()))
        );
    }
}
