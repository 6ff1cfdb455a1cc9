//! Read leases: after the room confirms a token ACTIVE, this instance
//! trusts it for read-only seat calls (the seat map, the schedules list) for
//! [`READ_LEASE_MS`] without asking the room again.
//!
//! Leaving or paying through this instance ends the lease once the room
//! has ended the place; a token ended through another instance, or
//! re-leased by a read that raced its end, can still read for at most
//! `READ_LEASE_MS`. Holds and payments never use a lease: they always ask
//! the room. At most [`MAX_READ_LEASES`] are kept; lapsed ones go first.

use crate::cache::BoundedMap;
use frontrow_domain::queue::QueueToken;
use frontrow_domain::{ConcertId, Timestamp, UserId};

/// How long a confirmed ACTIVE token is trusted for reads: short, because
/// another instance may end it meanwhile.
pub const READ_LEASE_MS: i64 = 1_000;

/// The most leases kept at once.
pub const MAX_READ_LEASES: usize = 200_000;

#[derive(Clone, Copy)]
struct ReadLease {
    user: UserId,
    concert: ConcertId,
    until: Timestamp,
}

/// The read leases of this instance.
pub struct ReadLeases(BoundedMap<QueueToken, ReadLease>);

impl Default for ReadLeases {
    fn default() -> Self {
        Self::with_capacity(MAX_READ_LEASES)
    }
}

impl ReadLeases {
    /// At most `capacity` leases (tests use a small one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(BoundedMap::new(capacity))
    }

    /// True when `token` was confirmed ACTIVE here for `user` and `concert`
    /// within the last `READ_LEASE_MS`.
    pub fn allows(
        &self,
        token: &QueueToken,
        user: UserId,
        concert: ConcertId,
        now: Timestamp,
    ) -> bool {
        self.0
            .read(token, |l| {
                l.user == user && l.concert == concert && now < l.until
            })
            .unwrap_or(false)
    }

    /// Whether `token` holds a lease, live or lapsed: a hint that it was
    /// ACTIVE here lately.
    pub fn seen(&self, token: &QueueToken) -> bool {
        self.0.contains(token)
    }

    /// The room confirmed `token` ACTIVE now. A lease with more than half
    /// its time left is kept as it is: every ACTIVE poll and gate call
    /// lands here, and the write lock is shared.
    pub fn grant(&self, token: &QueueToken, user: UserId, concert: ConcertId, now: Timestamp) {
        let fresh = self
            .0
            .read(token, |l| {
                l.user == user
                    && l.concert == concert
                    && l.until.millis() - now.millis() > READ_LEASE_MS / 2
            })
            .unwrap_or(false);
        if fresh {
            return;
        }
        let until = Timestamp(now.millis().saturating_add(READ_LEASE_MS));
        let lease = ReadLease {
            user,
            concert,
            until,
        };
        self.0.insert(token.clone(), lease, |_, l| l.until <= now);
    }

    /// The place behind `token` ended (or was found not ACTIVE).
    pub fn end(&self, token: &QueueToken) {
        self.0.remove(token);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: i64) -> QueueToken {
        QueueToken::parse(&format!("1.{n}.0.ab")).expect("a token")
    }

    #[test]
    fn a_lease_lets_its_holder_read_until_it_lapses() {
        let leases = ReadLeases::default();
        let (user, concert) = (UserId::from_store(7), ConcertId::from_store(1));
        leases.grant(&token(7), user, concert, Timestamp(0));
        assert!(leases.allows(&token(7), user, concert, Timestamp(READ_LEASE_MS - 1)));
        assert!(!leases.allows(&token(7), user, concert, Timestamp(READ_LEASE_MS)));
        assert!(!leases.allows(&token(7), UserId::from_store(8), concert, Timestamp(1)));
        leases.end(&token(7));
        assert!(!leases.allows(&token(7), user, concert, Timestamp(1)));
    }

    #[test]
    fn leases_are_bounded_and_lapsed_ones_go_first() {
        let leases = ReadLeases::with_capacity(10);
        let concert = ConcertId::from_store(1);
        for n in 0..10 {
            leases.grant(&token(n), UserId::from_store(n), concert, Timestamp(0));
        }
        // Later, all ten have lapsed: the next grant makes room for itself.
        let later = Timestamp(READ_LEASE_MS);
        leases.grant(&token(99), UserId::from_store(99), concert, later);
        assert_eq!(leases.len(), 1);
        for n in 100..1_000 {
            leases.grant(&token(n), UserId::from_store(n), concert, later);
            assert!(leases.len() <= 10);
        }
    }
}
