//! Wall-clock instants as epoch milliseconds: portable across every store and
//! cheap to compare in SQL and Lua.

/// An instant, in milliseconds since the Unix epoch (UTC).
///
/// Every rule takes the current time as a `Timestamp` argument instead of
/// reading a clock, so each one can be tested at any instant; the
/// application reads the time from its `Clock` port.
///
/// ```
/// use frontrow_domain::Timestamp;
///
/// let opens = Timestamp(1_700_000_000_000);
/// assert_eq!(opens.plus_seconds(300).millis() - opens.millis(), 300_000);
/// assert!(opens < opens.plus_seconds(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch, as stored and compared in SQL and Lua.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The instant `seconds` later, saturating at the end of time, so a
    /// huge configured duration means "never" instead of wrapping into the
    /// past.
    pub fn plus_seconds(self, seconds: u64) -> Timestamp {
        Timestamp(self.0.saturating_add((seconds as i64).saturating_mul(1000)))
    }
}
