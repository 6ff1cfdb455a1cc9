//! The one infrastructure failure every port may report: its store is
//! unreachable or misbehaving. It is never the caller's fault (a 5xx/503).

use thiserror::Error;

#[derive(Debug, Clone, Error)]
#[error("store failure: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    pub fn new(cause: impl std::fmt::Display) -> Self {
        Self(cause.to_string())
    }
}
