//! Queue tokens: what a token says of itself, and the seal that issues
//! and checks them.

use crate::StoreError;
use frontrow_domain::queue::QueueToken;
use frontrow_domain::{ConcertId, Timestamp, UserId};

/// What a genuine queue token says of itself: it names its concert (so a
/// store can find the token's room from the token alone) and its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClaims {
    /// The room the token belongs to.
    pub concert: ConcertId,
    /// The holder: only they may use it.
    pub user: UserId,
    /// When it was issued.
    pub issued_at: Timestamp,
}

impl QueueClaims {
    /// The claims as a token spells them before its random part and seal:
    /// `concert.user.issued_ms`. The one place the token's layout is written.
    pub fn spelled(&self) -> String {
        format!("{}.{}.{}", self.concert, self.user, self.issued_at.millis())
    }

    /// What a token says of itself, read from its text and not checked:
    /// only a `QueueTokenSeal` says whether it is genuine, so use this on a
    /// token the seal has opened (or to implement a seal).
    pub fn read(token: &QueueToken) -> Option<Self> {
        let mut parts = token.as_str().split('.');
        let mut number = || parts.next()?.parse::<i64>().ok();
        Some(Self {
            concert: ConcertId::parse(number()?)?,
            user: UserId::from_store(number()?),
            issued_at: Timestamp(number()?),
        })
    }
}

/// Issues and checks queue tokens: a forged or altered token is refused
/// here, before any store is asked; the room still decides the place.
///
/// Contract:
/// - `issue` returns an unguessable token, valid for [`QueueToken::parse`],
///   that `open` maps back to exactly these claims; it fails only when its
///   randomness does.
/// - `open` is `Some` only for a token this service issued (current key, or
///   the previous one while keys rotate); it runs on every queue and seat
///   call, so it must not block or do IO.
/// - Every instance opens the tokens any of them issued.
#[cfg_attr(test, mockall::automock)]
pub trait QueueTokenSeal: Send + Sync {
    /// A new, unguessable token for this holder's place in this concert's
    /// room. Fails only when the OS random source does.
    fn issue(
        &self,
        concert: ConcertId,
        user: UserId,
        now: Timestamp,
    ) -> Result<QueueToken, StoreError>;
    /// The claims of a token this service issued, under its current key or
    /// the previous one while keys rotate; `None` for any other token.
    fn open(&self, token: &QueueToken) -> Option<QueueClaims>;
}
