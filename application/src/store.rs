//! The one infrastructure failure every port may report: its store is
//! unreachable or misbehaving. It is never the caller's fault (a 5xx/503).

use thiserror::Error;

/// A store did not answer, or answered something that cannot be right.
///
/// Every port returns it for failures of its technology (a lost connection,
/// a timeout, a row that does not parse), and only for those: a missing row
/// or a refused move is a feature error or an `Option`, never a
/// `StoreError`. Keeping the two apart is what lets the HTTP adapter answer
/// a `StoreError` with 503 and `Retry-After`, without detail, and never
/// turn an outage into a 404.
///
/// ```
/// use frontrow_application::StoreError;
///
/// let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 2 s");
/// let error = StoreError::new(timeout);
/// assert_eq!(error.to_string(), "store failure: no answer in 2 s");
/// ```
#[derive(Debug, Clone, Error)]
#[error("store failure: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// Keeps the cause's message, for the log; clients never see it.
    pub fn new(cause: impl std::fmt::Display) -> Self {
        Self(cause.to_string())
    }
}
