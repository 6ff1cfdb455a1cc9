//! Sessions this instance confirmed live lately, so an authenticated
//! request asks the store at most once per [`SESSION_RECHECK_MS`] per
//! session.
//!
//! Signing out through this instance forgets the session at once; through
//! another instance, a token this instance confirmed can still pass here
//! for at most `SESSION_RECHECK_MS`. While the store cannot answer, a
//! session confirmed here before is still trusted (see
//! `Users::authenticate`). At most [`MAX_LIVE_SESSIONS`] are kept; lapsed
//! ones go first.

use crate::cache::BoundedMap;
use frontrow_domain::user::SessionId;
use frontrow_domain::{Timestamp, UserId};

/// How long a confirmed session is trusted without asking the store: the
/// longest a sign-out on one instance may take to reach the others.
pub const SESSION_RECHECK_MS: i64 = 10_000;

/// The most sessions remembered at once.
pub const MAX_LIVE_SESSIONS: usize = 200_000;

#[derive(Clone, Copy)]
struct Confirmed {
    user: UserId,
    until: Timestamp,
}

/// The sessions this instance confirmed live (see the module doc).
pub struct LiveSessions(BoundedMap<SessionId, Confirmed>);

impl Default for LiveSessions {
    fn default() -> Self {
        Self::with_capacity(MAX_LIVE_SESSIONS)
    }
}

impl LiveSessions {
    /// At most `capacity` sessions (tests use a small one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(BoundedMap::new(capacity))
    }

    /// True when the store said `session` of `user` was live within the
    /// last `SESSION_RECHECK_MS`.
    pub fn trusts(&self, session: SessionId, user: UserId, now: Timestamp) -> bool {
        self.0
            .read(&session, |c| c.user == user && now < c.until)
            .unwrap_or(false)
    }

    /// The store just said `session` of `user` is live.
    pub fn confirm(&self, session: SessionId, user: UserId, now: Timestamp) {
        let until = Timestamp(now.millis().saturating_add(SESSION_RECHECK_MS));
        self.0
            .insert(session, Confirmed { user, until }, |_, c| c.until <= now);
    }

    /// Whether the store said `session` of `user` was live at some time
    /// (lapsed confirmations included): what an outage falls back on.
    pub fn known(&self, session: SessionId, user: UserId) -> bool {
        self.0.read(&session, |c| c.user == user).unwrap_or(false)
    }

    /// The session ended (signed out here, or the store said so).
    pub fn forget(&self, session: SessionId) {
        self.0.remove(&session);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmed_session_is_trusted_until_its_recheck_and_not_after_sign_out() {
        let sessions = LiveSessions::default();
        let (session, ada) = (SessionId::from_store(1), UserId::from_store(7));
        sessions.confirm(session, ada, Timestamp(0));
        assert!(sessions.trusts(session, ada, Timestamp(SESSION_RECHECK_MS - 1)));
        assert!(!sessions.trusts(session, ada, Timestamp(SESSION_RECHECK_MS)));
        assert!(!sessions.trusts(session, UserId::from_store(8), Timestamp(1)));
        sessions.forget(session);
        assert!(!sessions.trusts(session, ada, Timestamp(1)));
    }

    #[test]
    fn remembered_sessions_are_bounded() {
        let sessions = LiveSessions::with_capacity(10);
        for n in 0..1_000 {
            sessions.confirm(
                SessionId::from_store(n),
                UserId::from_store(n),
                Timestamp(n),
            );
            assert!(sessions.len() <= 10);
        }
    }
}
