//! Failed sign-ins slowed down per name, in process, with `governor`'s
//! GCRA (the generic cell rate algorithm: a token bucket kept as one
//! timestamp per key).
//!
//! Each instance counts its own failures: behind a load balancer spreading
//! sign-ins over n instances a name gets at most n times the budget, which
//! still turns an online guessing attack from thousands of guesses a second
//! into a few per minute. Sign-in attempts are also limited per client
//! address, on every instance together (`frontrow_application::limits`,
//! `Limit::SignInPerAddress`).

use frontrow_application::Clock;
use frontrow_application::cache::BoundedMap;
use frontrow_application::users::SignInThrottle;
use frontrow_domain::Timestamp;
use governor::clock::Clock as GovernorClock;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Failures allowed for one name at once, before it is slowed down.
pub const FAILURES_AT_ONCE: u32 = 5;
/// Then one more failure is allowed per this many seconds.
pub const SECONDS_PER_FAILURE: u64 = 30;
/// The most names tracked at once (failures and locks each).
pub const MAX_NAMES: usize = 100_000;

/// governor's clock, read from the service's [`Clock`] (epoch ms), so the
/// limits move with the clock tests control.
#[derive(Clone)]
struct ServiceClock(Arc<dyn Clock>);

impl GovernorClock for ServiceClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now().millis()).unwrap_or(0))
    }
}

type Limiter = RateLimiter<
    String,
    DashMapStateStore<String>,
    ServiceClock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// The shipped [`SignInThrottle`]: per name, [`FAILURES_AT_ONCE`] failures
/// at once, then one per [`SECONDS_PER_FAILURE`]; the failure beyond that
/// locks the name until the next one is allowed. A success does not refill
/// the budget: it refills with time only.
pub struct SignInLimits {
    failures: Limiter,
    /// Names locked by a failure too many, until when.
    locked: BoundedMap<String, Timestamp>,
    clock: ServiceClock,
    period: Duration,
    max_names: usize,
}

impl SignInLimits {
    /// The defaults above.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_limits(
            FAILURES_AT_ONCE,
            Duration::from_secs(SECONDS_PER_FAILURE),
            MAX_NAMES,
            clock,
        )
    }

    /// `at_once` failures, then one per `period`, tracking at most
    /// `max_names` names (tests use small ones).
    pub fn with_limits(
        at_once: u32,
        period: Duration,
        max_names: usize,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let period = period.max(Duration::from_millis(1));
        let burst = NonZeroU32::new(at_once).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = ServiceClock(clock);
        Self {
            failures: RateLimiter::new(quota, DashMapStateStore::default(), clock.clone()),
            locked: BoundedMap::new(max_names),
            clock,
            period,
            max_names,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.0.now()
    }

    fn lock(&self, key: &str, wait: Duration) -> u64 {
        let now = self.now();
        let until = Timestamp(now.millis().saturating_add(wait.as_millis() as i64));
        self.locked
            .insert(key.to_owned(), until, |_, until| *until <= now);
        // Whole seconds, rounded up: a client that waits this long is let in.
        wait.as_millis().div_ceil(1000).max(1) as u64
    }
}

impl SignInThrottle for SignInLimits {
    fn check(&self, key: &str) -> Result<(), u64> {
        let now = self.now();
        match self.locked.get(&key.to_owned()) {
            Some(until) if now < until => Err(((until.millis() - now.millis()) as u64)
                .div_ceil(1000)
                .max(1)),
            _ => Ok(()),
        }
    }

    fn failed(&self, key: &str) -> Result<(), u64> {
        if self.failures.len() >= self.max_names {
            // Drop the names whose budget has refilled; if that frees
            // nothing, someone is trying many names at once: lock this one
            // for a whole period rather than grow without bound.
            self.failures.retain_recent();
            if self.failures.len() >= self.max_names {
                return Err(self.lock(key, self.period));
            }
        }
        let key = key.to_owned();
        match self.failures.check_key(&key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(self.lock(&key, wait))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct Manual(AtomicI64);

    impl Clock for Manual {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.load(Ordering::SeqCst))
        }
    }

    fn at(ms: i64) -> Arc<Manual> {
        Arc::new(Manual(AtomicI64::new(ms)))
    }

    #[test]
    fn five_failures_pass_the_sixth_locks_the_name_until_the_budget_refills() {
        let clock = at(1_700_000_000_000);
        let limits = SignInLimits::new(clock.clone());
        for _ in 0..FAILURES_AT_ONCE {
            assert_eq!(limits.check("ada"), Ok(()));
            assert_eq!(limits.failed("ada"), Ok(()));
        }
        assert_eq!(limits.failed("ada"), Err(SECONDS_PER_FAILURE));
        assert_eq!(limits.check("ada"), Err(SECONDS_PER_FAILURE));
        assert_eq!(
            limits.check("bob"),
            Ok(()),
            "other names are not slowed down"
        );
        clock.0.fetch_add(29_001, Ordering::SeqCst);
        assert_eq!(limits.check("ada"), Err(1));
        clock.0.fetch_add(999, Ordering::SeqCst);
        assert_eq!(limits.check("ada"), Ok(()));
        assert_eq!(limits.failed("ada"), Ok(()), "one more failure per period");
        assert!(limits.failed("ada").is_err());
    }

    #[test]
    fn many_names_stay_bounded() {
        let clock = at(0);
        let limits = SignInLimits::with_limits(2, Duration::from_secs(30), 10, clock);
        for n in 0..1_000 {
            let _ = limits.failed(&format!("name-{n}"));
            assert!(limits.failures.len() <= 10);
            assert!(limits.locked.len() <= 10);
        }
    }
}
