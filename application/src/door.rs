//! Proof-of-work at the door: a join (and a sign-up beyond the free ones)
//! may have to bring a solved challenge, as hard as the caller looks
//! suspicious (`frontrow_domain::door`).
//!
//! A challenge is stateless: signed, expiring, and bound to what it is for
//! (an account and a concert, or the name being signed up). The only state
//! is the list of challenges already spent, kept until each expires, so a
//! solution opens the door once ([`SpentChallenges`], shared by every
//! instance with Redis).

use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::door::{DoorPolicy, Level, Suspicion};
use frontrow_domain::user::UserName;
use frontrow_domain::{ConcertId, Timestamp, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// What a challenge opens: signed into it, compared when it is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// `user` joins `concert`'s waiting room.
    Join {
        /// The account joining.
        user: UserId,
        /// The concert whose room it joins.
        concert: ConcertId,
    },
    /// An account is made under this sign-in key (`UserName::sign_in_key`).
    SignUp {
        /// The lower-cased name.
        name_key: String,
    },
}

/// A challenge as handed to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    /// How hard it is.
    pub level: Level,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
    /// The challenge itself, as JSON (ALTCHA v2: `{parameters, signature}`).
    pub json: String,
}

/// What a genuine, solved challenge says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solved {
    /// Unique per challenge: what [`SpentChallenges`] remembers.
    pub id: String,
    /// What it was issued for.
    pub purpose: Purpose,
    /// How hard it was.
    pub level: Level,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

/// Makes and checks challenges.
///
/// Contract: `check(p)` is `Some` only for a proof whose challenge `issue`
/// made with this signer's key, unaltered, and whose solution is right; it
/// answers what `issue` was given. It does not judge time or reuse: the
/// use case does. `issue` fails only with [`StoreError`] (e.g. its worker
/// pool is gone).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ChallengeSigner: Send + Sync {
    /// A new challenge of `level` (not [`Level::NONE`]) for `purpose`.
    async fn issue(
        &self,
        purpose: &Purpose,
        level: Level,
        expires_at: Timestamp,
    ) -> Result<Challenge, StoreError>;
    /// The genuine, solved challenge a client's proof carries, if it is one.
    fn check(&self, proof: &str) -> Option<Solved>;
}

/// Remembers spent challenges until they expire.
///
/// Contract: `spend(id, until)` is `true` for the first call with `id`
/// and `false` for every later one until `until`, however many calls race
/// (with several instances: on every instance). After `until` the id may
/// be forgotten (the challenge is refused as expired by then anyway).
/// Fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SpentChallenges: Send + Sync {
    /// Spends `id`: whether this is its first use.
    async fn spend(&self, id: &str, until: Timestamp, now: Timestamp) -> Result<bool, StoreError>;
}

/// Counts sign-ups per client address over a window the adapter keeps.
///
/// Contract: `add` counts one more for `address` and answers the count
/// including it (atomically: n racing calls answer n different counts);
/// `count` answers it without counting. Both fail only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SignUpCounter: Send + Sync {
    /// One more sign-up from `address`; the count including it.
    async fn add(&self, address: &str) -> Result<u64, StoreError>;
    /// The sign-ups from `address` in the window.
    async fn count(&self, address: &str) -> Result<u64, StoreError>;
}

/// When accounts were made.
///
/// Contract: `created_at(u)` is when `UserStore::create_user` (or
/// `AccountStore::create_account`) made `u`, `None` for an unknown id.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AccountAges: Send + Sync {
    /// When `user` was made.
    async fn created_at(&self, user: UserId) -> Result<Option<Timestamp>, StoreError>;
}

/// Each concert's own level, set by its operator.
///
/// Contract: `level(c)` is the last `set_level(c, _)`, or `None` if there
/// was none (the configured default applies). Shared by every instance with
/// Redis. Both fail only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait DoorLevels: Send + Sync {
    /// The concert's own level, if an operator set one.
    async fn level(&self, concert: ConcertId) -> Result<Option<Level>, StoreError>;
    /// Sets the concert's own level.
    async fn set_level(&self, concert: ConcertId, level: Level) -> Result<(), StoreError>;
}

/// Why the door refused a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// None was sent, and one is needed.
    Missing,
    /// Not ours, altered, malformed, or not solved.
    Forged,
    /// Issued for another account, concert or name.
    WrongPurpose,
    /// Past its expiry.
    Expired,
    /// Already spent.
    Replayed,
    /// Easier than the caller must pay now.
    TooEasy,
}

impl Refusal {
    /// Every refusal, for counters.
    pub const ALL: [Refusal; 6] = [
        Refusal::Missing,
        Refusal::Forged,
        Refusal::WrongPurpose,
        Refusal::Expired,
        Refusal::Replayed,
        Refusal::TooEasy,
    ];

    /// A stable name (a metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Forged => "forged",
            Refusal::WrongPurpose => "wrong_purpose",
            Refusal::Expired => "expired",
            Refusal::Replayed => "replayed",
            Refusal::TooEasy => "too_easy",
        }
    }
}

/// Why the door did not open. Nothing was written.
#[derive(Debug, Error)]
pub enum DoorError {
    /// A challenge of at least `level` is needed: none came, or the one that
    /// came is easier. Get one and solve it.
    #[error("solve a challenge of level {} first", level.get())]
    ChallengeRequired {
        /// The level needed now.
        level: Level,
    },
    /// The proof is refused (`Refusal` says why); get a new challenge.
    #[error("the challenge solution is refused ({})", why.as_str())]
    ChallengeRefused {
        /// Why.
        why: Refusal,
    },
    /// An operator's level is out of range.
    #[error(transparent)]
    InvalidLevel(#[from] frontrow_domain::door::LevelOutOfRange),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The door's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorSettings {
    /// Who pays what.
    pub policy: DoorPolicy,
    /// Every concert's level unless its operator set one.
    pub default_level: Level,
    /// How long a challenge is accepted after it is issued (ms): long
    /// enough for a slow phone, short enough that spent ids are few.
    pub challenge_ms: i64,
}

impl Default for DoorSettings {
    fn default() -> Self {
        Self {
            policy: DoorPolicy::default(),
            default_level: Level::NONE,
            challenge_ms: 10 * 60_000,
        }
    }
}

/// Counters for `/metrics`, per instance.
#[derive(Debug, Default)]
pub struct DoorStats {
    issued: AtomicU64,
    solved: AtomicU64,
    refused: [AtomicU64; Refusal::ALL.len()],
}

impl DoorStats {
    /// Challenges issued.
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }
    /// Proofs accepted.
    pub fn solved(&self) -> u64 {
        self.solved.load(Ordering::Relaxed)
    }
    /// Proofs refused (or missing) for `why`.
    pub fn refused(&self, why: Refusal) -> u64 {
        self.refused[why as usize].load(Ordering::Relaxed)
    }
}

/// The door's ports.
pub struct DoorPorts {
    /// Makes and checks challenges.
    pub signer: Arc<dyn ChallengeSigner>,
    /// Remembers spent challenges.
    pub spent: Arc<dyn SpentChallenges>,
    /// Sign-ups per address.
    pub sign_ups: Arc<dyn SignUpCounter>,
    /// Account ages.
    pub ages: Arc<dyn AccountAges>,
    /// Per-concert levels.
    pub levels: Arc<dyn DoorLevels>,
}

/// The door's use cases: hand out challenges, and let a join or a sign-up
/// through with a proof as hard as it must be.
pub struct DoorService {
    ports: DoorPorts,
    settings: DoorSettings,
    clock: Arc<dyn Clock>,
    stats: DoorStats,
}

impl DoorService {
    /// The door over its ports.
    pub fn new(ports: DoorPorts, settings: DoorSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            ports,
            settings,
            clock,
            stats: DoorStats::default(),
        }
    }

    /// What this instance issued, accepted and refused.
    pub fn stats(&self) -> &DoorStats {
        &self.stats
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &DoorSettings {
        &self.settings
    }

    /// A challenge for `user` to join `concert` from `address`, or `None`
    /// when the join costs nothing.
    pub async fn join_challenge(
        &self,
        user: UserId,
        concert: ConcertId,
        address: &str,
    ) -> Result<Option<Challenge>, DoorError> {
        let level = self.join_level(user, concert, address).await?;
        self.issue(Purpose::Join { user, concert }, level).await
    }

    /// Lets `user` join `concert` when `proof` is good enough, spending it.
    pub async fn pass_join(
        &self,
        user: UserId,
        concert: ConcertId,
        address: &str,
        proof: Option<&str>,
    ) -> Result<(), DoorError> {
        let level = self.join_level(user, concert, address).await?;
        self.pass(Purpose::Join { user, concert }, level, proof)
            .await
    }

    /// A challenge for signing up `name` from `address`, or `None` when the
    /// next sign-up from there is free (or `name` breaks its rule: the
    /// sign-up itself says why).
    pub async fn sign_up_challenge(
        &self,
        name: &str,
        address: &str,
    ) -> Result<Option<Challenge>, DoorError> {
        let Some(name_key) = self.sign_up_key(name) else {
            return Ok(None);
        };
        let next = self.ports.sign_ups.count(address).await? + 1;
        let level = self.settings.policy.sign_up_level(next);
        self.issue(Purpose::SignUp { name_key }, level).await
    }

    /// Counts a sign-up of `name` from `address` and lets it through when
    /// it is free or `proof` pays for it. A refused attempt counts too: it
    /// is one more try from that address. A name that breaks its rule
    /// passes untouched, for the sign-up to refuse.
    pub async fn pass_sign_up(
        &self,
        name: &str,
        address: &str,
        proof: Option<&str>,
    ) -> Result<(), DoorError> {
        let Some(name_key) = self.sign_up_key(name) else {
            return Ok(());
        };
        // Counting fails open, as the rate limits do: a store outage must
        // not stop people signing up; the door then asks what a first
        // sign-up from the address pays.
        let nth = match self.ports.sign_ups.add(address).await {
            Ok(nth) => nth,
            Err(error) => {
                tracing::warn!(%error, "cannot count a sign-up; letting it through as the first");
                1
            }
        };
        let level = self.settings.policy.sign_up_level(nth);
        self.pass(Purpose::SignUp { name_key }, level, proof).await
    }

    /// An operator sets `concert`'s own level (0 to `Level::MAX`).
    pub async fn set_concert_level(&self, concert: ConcertId, level: u8) -> Result<(), DoorError> {
        let level = Level::new(level)?;
        self.ports.levels.set_level(concert, level).await?;
        Ok(())
    }

    /// `concert`'s own level, or the default.
    pub async fn concert_level(&self, concert: ConcertId) -> Result<Level, DoorError> {
        let own = self.ports.levels.level(concert).await?;
        Ok(own.unwrap_or(self.settings.default_level))
    }

    /// The sign-in key of a name the door counts: `None` when the door
    /// does not count sign-ups at all (every rule that would use the count
    /// is off) or the name breaks its rule.
    fn sign_up_key(&self, name: &str) -> Option<String> {
        let policy = &self.settings.policy;
        let counted = policy.sign_up > Level::NONE
            || (policy.crowded > Level::NONE && policy.crowded_after_sign_ups > 0);
        let name = UserName::parse(name).ok()?;
        counted.then(|| name.sign_in_key())
    }

    /// The level a join pays now; the stores are asked only for the rules
    /// that are on.
    async fn join_level(
        &self,
        user: UserId,
        concert: ConcertId,
        address: &str,
    ) -> Result<Level, DoorError> {
        let policy = &self.settings.policy;
        let base = self.concert_level(concert).await?;
        let account_age_ms = if policy.young_account_ms > 0 && policy.young > base {
            let made = self.ports.ages.created_at(user).await?;
            made.map_or(0, |made| self.clock.now().millis() - made.millis())
        } else {
            i64::MAX
        };
        let sign_ups_from_address = if policy.crowded_after_sign_ups > 0 && policy.crowded > base {
            // Fails open, as counting a sign-up does.
            self.ports
                .sign_ups
                .count(address)
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "cannot count an address's sign-ups; not crowded");
                    0
                })
        } else {
            0
        };
        let caller = Suspicion {
            account_age_ms,
            sign_ups_from_address,
        };
        Ok(policy.join_level(base, caller))
    }

    async fn issue(&self, purpose: Purpose, level: Level) -> Result<Option<Challenge>, DoorError> {
        if level == Level::NONE {
            return Ok(None);
        }
        let expires_at = Timestamp(
            self.clock
                .now()
                .millis()
                .saturating_add(self.settings.challenge_ms),
        );
        let challenge = self.ports.signer.issue(&purpose, level, expires_at).await?;
        self.stats.issued.fetch_add(1, Ordering::Relaxed);
        Ok(Some(challenge))
    }

    /// The proof's verdict for `purpose` at `required`; a good one is spent.
    async fn pass(
        &self,
        purpose: Purpose,
        required: Level,
        proof: Option<&str>,
    ) -> Result<(), DoorError> {
        if required == Level::NONE {
            return Ok(());
        }
        let verdict = self.judge(&purpose, required, proof).await;
        match &verdict {
            Ok(()) => {
                self.stats.solved.fetch_add(1, Ordering::Relaxed);
            }
            Err(DoorError::ChallengeRequired { .. }) if proof.is_none() => {
                self.stats.refused[Refusal::Missing as usize].fetch_add(1, Ordering::Relaxed);
            }
            Err(DoorError::ChallengeRequired { .. }) => {
                self.stats.refused[Refusal::TooEasy as usize].fetch_add(1, Ordering::Relaxed);
            }
            Err(DoorError::ChallengeRefused { why }) => {
                self.stats.refused[*why as usize].fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        verdict
    }

    /// Checks in the order that spends nothing on a proof that fails:
    /// genuine, for this, in time, hard enough, and only then spent.
    async fn judge(
        &self,
        purpose: &Purpose,
        required: Level,
        proof: Option<&str>,
    ) -> Result<(), DoorError> {
        let refused = |why| Err(DoorError::ChallengeRefused { why });
        let Some(proof) = proof else {
            return Err(DoorError::ChallengeRequired { level: required });
        };
        let Some(solved) = self.ports.signer.check(proof) else {
            return refused(Refusal::Forged);
        };
        if solved.purpose != *purpose {
            return refused(Refusal::WrongPurpose);
        }
        let now = self.clock.now();
        if solved.expires_at <= now {
            return refused(Refusal::Expired);
        }
        if !DoorPolicy::satisfies(solved.level, required) {
            return Err(DoorError::ChallengeRequired { level: required });
        }
        if !self
            .ports
            .spent
            .spend(&solved.id, solved.expires_at, now)
            .await?
        {
            return refused(Refusal::Replayed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
