//! The one infrastructure failure every port may report: its store is
//! unreachable or misbehaving. It is never the caller's fault (a 5xx/503).

use std::sync::Arc;
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
#[error("store failure: {message}")]
pub struct StoreError {
    message: String,
    /// The failure itself (a `sqlx::Error`, a `redis::RedisError`, ...),
    /// kept for the log's cause chain.
    #[source]
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure described in words, with no error value behind it.
    pub fn new(cause: impl std::fmt::Display) -> Self {
        Self {
            message: cause.to_string(),
            cause: None,
        }
    }

    /// A failure of the store's own error type, kept as the `source()`, so
    /// a log line can show the whole chain.
    ///
    /// ```
    /// use frontrow_application::StoreError;
    /// use std::error::Error;
    ///
    /// let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    /// let error = StoreError::caused_by(refused);
    /// assert_eq!(error.to_string(), "store failure: refused");
    /// assert!(error.source().is_some());
    /// ```
    pub fn caused_by(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: cause.to_string(),
            cause: Some(Arc::new(cause)),
        }
    }
}

/// Turns a store's own error into a [`StoreError`] that keeps it as the
/// `source()`: the one conversion every adapter uses, as `.or_store()?`.
///
/// ```
/// use frontrow_application::store::OrStoreError;
/// use frontrow_application::StoreError;
///
/// fn read() -> Result<u64, StoreError> {
///     let parsed: Result<u64, std::num::ParseIntError> = "12x".parse();
///     parsed.or_store()
/// }
/// assert!(read().is_err());
/// ```
pub trait OrStoreError<T> {
    /// `Err(e)` becomes `Err(StoreError::caused_by(e))`.
    fn or_store(self) -> Result<T, StoreError>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrStoreError<T> for Result<T, E> {
    fn or_store(self) -> Result<T, StoreError> {
        self.map_err(StoreError::caused_by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_store_error_keeps_its_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 2 s");
        let error = StoreError::caused_by(cause);
        let source = error.source().expect("the cause");
        assert_eq!(source.to_string(), "no answer in 2 s");
        let described = StoreError::new("lock poisoned");
        assert!(described.source().is_none());
    }
}
