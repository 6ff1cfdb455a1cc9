//! Why a queue call, or the gate in front of a seat call, refused.

use crate::StoreError;
use frontrow_domain::Timestamp;
use frontrow_domain::queue::QueueRuleError;
use thiserror::Error;

/// Why a queue call, or the gate in front of a seat call, refused.
#[derive(Debug, Error)]
pub enum QueueError {
    /// The call needs a queue token and came without one.
    #[error("a queue token is required (X-Queue-Token)")]
    MissingToken,
    /// Malformed, forged, altered, or unknown to the room.
    #[error("unknown queue token")]
    UnknownToken,
    /// A genuine token of another user.
    #[error("this queue token belongs to someone else")]
    NotYourToken,
    /// A token for another concert's room.
    #[error("this queue token is for another concert")]
    WrongConcert,
    /// Still waiting (or pre-queued): not admitted yet.
    #[error("your place in the queue is not active yet")]
    NotActive,
    /// The turn has ended: the place is kept only for the seats already
    /// held, which may be paid or released but not added to.
    #[error("your turn has ended: pay for or release the seats you hold")]
    TurnOver,
    /// The place ended (paid, left, lapsed): join again.
    #[error("this queue token has expired; join the queue again")]
    Expired,
    /// Every seat of the concert is sold; the room is closed.
    #[error("every seat of this concert is sold")]
    SoldOut,
    /// A scheduled sale before its pre-queue: no place was made.
    #[error("this sale's waiting room has not opened yet")]
    SaleNotOpen {
        /// When the sale opens (the pre-queue starts earlier).
        opens_at: Timestamp,
    },
    /// No such concert.
    #[error("concert not found")]
    ConcertNotFound,
    /// An operator's room settings do not parse.
    #[error(transparent)]
    InvalidPolicy(#[from] QueueRuleError),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}
