//! The current time, as a port so use cases can be tested at any instant.

use frontrow_domain::Timestamp;

/// Where every use case reads the time: one clock for every decision that
/// depends on it (hold deadlines, admission, lapses), so a test or a
/// simulation can run a whole sale at chosen instants.
///
/// Contract: `now` never fails and is cheap (it is read several times per
/// request). A clock that steps backwards is tolerated (the admission
/// bucket then refills nothing) but makes holds last longer.
///
/// A clock a test moves by hand:
///
/// ```
/// use frontrow_application::Clock;
/// use frontrow_domain::Timestamp;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// struct ManualClock(AtomicI64);
///
/// impl ManualClock {
///     fn advance(&self, seconds: i64) {
///         self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
///     }
/// }
///
/// impl Clock for ManualClock {
///     fn now(&self) -> Timestamp {
///         Timestamp(self.0.load(Ordering::SeqCst))
///     }
/// }
///
/// let clock = ManualClock(AtomicI64::new(0));
/// clock.advance(300);
/// assert_eq!(clock.now(), Timestamp(300_000));
/// ```
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (what the service uses). Before 1970 it reads 0.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(millis)
    }
}
