//! Ticket buyers, their accounts and their access tokens.
//!
//! The API never trusts a user id in a body: every user-scoped call proves who
//! it is with an access token that `AccessTokens` issued and verifies. The
//! built-in issuer signs HS256 JWTs; an external identity provider plugs in as
//! another `AccessTokens` implementation.
//!
//! An account with a password can sign in anywhere, by its name: such names
//! are unique (case aside, see `UserName::sign_in_key`). Every token issued
//! here names a session, and signing out ends it: the token is refused from
//! then on. A token without a session (issued before sessions existed) is
//! valid until it expires.

use crate::cache::BoundedMap;
use crate::live_sessions::LiveSessions;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::household::{Household, HouseholdWindow};
use frontrow_domain::user::{Password, SessionId, UserError as Rule, UserName};
use frontrow_domain::{Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// Why registration, sign-in or sign-out failed.
#[derive(Debug, Error)]
pub enum UserError {
    /// The name or password breaks its rule; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Rule),
    /// Another account with a password has this name (case aside).
    #[error("this name is taken; choose another or sign in")]
    NameTaken,
    /// Unknown name or wrong password: the same answer for both.
    #[error("name or password is wrong")]
    InvalidCredentials,
    /// Too many failed sign-ins for this name lately: try again later.
    #[error("too many failed sign-ins for this name; retry in {retry_after_seconds} s")]
    TooManyAttempts {
        /// When the next try may be made.
        retry_after_seconds: u64,
    },
    /// The store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where users are kept.
///
/// Contract: `create_user` stores a new user with a zero balance and returns
/// an id never issued before (names need not be unique: a user without a
/// password is known by their tokens only). With a `household`, the user
/// joins it in the same transaction: the household with that network and
/// window start, created if it is the first (one row per pair, however many
/// sign up at once); without one, the user belongs to none. `exists` is true for every id
/// `create_user` returned and false for any other. Both fail only with
/// [`StoreError`]. The user's balance is then the [`Ledger`]'s to change,
/// so a store that serves both ports must keep them on the same rows.
///
/// [`Ledger`]: crate::points::Ledger
///
/// ```
/// use async_trait::async_trait;
/// use frontrow_application::StoreError;
/// use frontrow_application::users::UserStore;
/// use frontrow_domain::household::Household;
/// use frontrow_domain::user::UserName;
/// use frontrow_domain::UserId;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// /// Ids from a counter; the names go nowhere (a test double).
/// #[derive(Default)]
/// struct Counter(AtomicI64);
///
/// #[async_trait]
/// impl UserStore for Counter {
///     async fn create_user<'h>(
///         &self,
///         _name: &UserName,
///         _household: Option<&'h Household>,
///     ) -> Result<UserId, StoreError> {
///         Ok(UserId::from_store(self.0.fetch_add(1, Ordering::SeqCst) + 1))
///     }
///
///     async fn exists(&self, user: UserId) -> Result<bool, StoreError> {
///         Ok(user.get() <= self.0.load(Ordering::SeqCst))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let users = Counter::default();
/// let ada = users.create_user(&UserName::parse("Ada")?, None).await?;
/// let bob = users.create_user(&UserName::parse("Ada")?, None).await?;
/// assert_ne!(ada, bob);
/// # Ok(()) }
/// ```
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user (in `household`, if any) and returns their new id.
    /// (The lifetime is named for mockall, which cannot mock an elided one
    /// inside an `Option`.)
    async fn create_user<'h>(
        &self,
        name: &UserName,
        household: Option<&'h Household>,
    ) -> Result<UserId, StoreError>;
    /// Whether `user` was ever created.
    async fn exists(&self, user: UserId) -> Result<bool, StoreError>;
}

/// A password as stored: a PHC string (`$argon2id$v=19$m=...`), which
/// names its algorithm and parameters, so a stronger setting later still
/// verifies the hashes made before it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Accounts with a password, and the sessions of every token.
///
/// Contract:
/// - `create_account` stores a user (as `UserStore::create_user` does) and
///   their password hash (and its household, if any) in one transaction,
///   under `name.sign_in_key()`;
///   it MUST answer `Ok(None)` and write nothing if an account with a
///   password already has that key.
/// - `credentials` finds the account whose key is `name.sign_in_key()`.
/// - `open_session` stores a new session of `user` and returns an id never
///   issued before; `session_live` is true iff that session exists for
///   that user and `end_session` was not called for it; ending one twice,
///   or someone else's, changes nothing.
///
/// Each fails only with [`StoreError`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// A new user with a password, or `None` if the name is taken.
    async fn create_account<'h>(
        &self,
        name: &UserName,
        hash: &PasswordHash,
        household: Option<&'h Household>,
    ) -> Result<Option<UserId>, StoreError>;
    /// The account signing in with `name`: its user and password hash.
    async fn credentials(
        &self,
        name: &UserName,
    ) -> Result<Option<(UserId, PasswordHash)>, StoreError>;
    /// A new session of `user`, opened at `now`.
    async fn open_session(&self, user: UserId, now: Timestamp) -> Result<SessionId, StoreError>;
    /// Whether `session` of `user` is open.
    async fn session_live(&self, session: SessionId, user: UserId) -> Result<bool, StoreError>;
    /// Ends `session` of `user` at `now`.
    async fn end_session(
        &self,
        session: SessionId,
        user: UserId,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Hashes and checks passwords with a deliberately slow, memory-hard
/// function (the shipped `Argon2Passwords`: Argon2id).
///
/// Contract: `verify(p, Some(hash(p)))` is true, and false for any other
/// password; `verify(p, None)` is false and takes about as long as a real
/// check, so an unknown name costs what a known one does and timing does
/// not tell them apart. Both run off the async runtime's worker threads.
/// They fail only with [`StoreError`] (e.g. the hashing pool is gone).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A new salted hash of `password`.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, StoreError>;
    /// Whether `password` matches `hash` (`None`: a decoy check, false).
    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, StoreError>;
}

/// Slows down guessing: counts failed sign-ins per key (the name's
/// sign-in key).
///
/// Contract: `check` is `Err(seconds to wait)` while the key is locked,
/// without counting anything; `failed` records a failure and is
/// `Err(seconds)` when it is one too many (the key is then locked for that
/// long). Memory stays bounded whatever keys are tried.
#[cfg_attr(test, mockall::automock)]
pub trait SignInThrottle: Send + Sync {
    /// May `key` try now?
    fn check(&self, key: &str) -> Result<(), u64>;
    /// A sign-in with `key` just failed.
    fn failed(&self, key: &str) -> Result<(), u64>;
}

/// What a verified access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    /// Who it names.
    pub user: UserId,
    /// The session it belongs to; `None` for tokens issued before sessions.
    pub session: Option<SessionId>,
}

/// Issues and verifies the bearer tokens that identify a user.
///
/// The API never trusts a user id in a body: every user-scoped call is
/// authenticated by `verify`. The shipped issuer is `Hs256Tokens` in
/// frontrow-adapters (HS256 JWTs); to use an external identity provider,
/// implement this trait against its keys.
///
/// Contract: `verify(issue(u, s))` is `Some(AccessClaims { user: u,
/// session: Some(s) })` until the token expires; `verify` is `None` for
/// anything forged, expired, malformed or issued by someone else, and it
/// must not block (it runs on every request). Neither method fails: an
/// issuer that needs IO must do it ahead of time (for example, fetch its
/// keys in the background). Whether the session is still open is
/// [`Users::authenticate`]'s to ask.
///
/// ```
/// use frontrow_application::users::{AccessClaims, AccessTokens};
/// use frontrow_domain::user::SessionId;
/// use frontrow_domain::UserId;
///
/// /// `user.session` in plain text: tests only (anyone can forge one).
/// struct Plain;
///
/// impl AccessTokens for Plain {
///     fn issue(&self, user: UserId, session: SessionId) -> String {
///         format!("{user}.{}", session.get())
///     }
///
///     fn verify(&self, token: &str) -> Option<AccessClaims> {
///         let (user, session) = token.split_once('.')?;
///         Some(AccessClaims {
///             user: UserId::parse(user.parse().ok()?)?,
///             session: Some(SessionId::from_store(session.parse().ok()?)),
///         })
///     }
/// }
///
/// let (ada, session) = (UserId::from_store(1), SessionId::from_store(9));
/// let claims = Plain.verify(&Plain.issue(ada, session));
/// assert_eq!(claims, Some(AccessClaims { user: ada, session: Some(session) }));
/// assert_eq!(Plain.verify("nonsense"), None);
/// ```
#[cfg_attr(test, mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// A new bearer token that names `user` and `session`.
    fn issue(&self, user: UserId, session: SessionId) -> String;
    /// `None` for anything forged, expired or malformed.
    fn verify(&self, token: &str) -> Option<AccessClaims>;
}

/// A signed-in user: registered or signed in.
pub struct NewUser {
    /// The user's id.
    pub user: UserId,
    /// What the client sends as `Authorization: Bearer ...` from now on.
    pub access_token: String,
}

/// The ports [`Users`] works with.
pub struct UserPorts {
    /// Users without a password.
    pub users: Arc<dyn UserStore>,
    /// Accounts with a password, and sessions.
    pub accounts: Arc<dyn AccountStore>,
    /// Token issuer and verifier.
    pub tokens: Arc<dyn AccessTokens>,
    /// Password hashing.
    pub passwords: Arc<dyn PasswordHasher>,
    /// Failed sign-in counting.
    pub throttle: Arc<dyn SignInThrottle>,
    /// The service's clock.
    pub clock: Arc<dyn Clock>,
}

/// Most users an instance remembers as registered.
const MAX_REGISTERED: usize = 200_000;

/// Registration, sign-in, sign-out and authentication.
pub struct Users {
    ports: UserPorts,
    live: LiveSessions,
    /// Users known to exist: a session the store confirmed belongs to a
    /// user it stores, and users are never deleted, so a positive answer
    /// never goes stale (bounded; a forgotten one costs one read).
    registered: BoundedMap<UserId, ()>,
    /// How long a sign-up window of a household is
    /// ([`frontrow_domain::household`]).
    household_window: HouseholdWindow,
}

impl Users {
    /// The use cases over their ports.
    pub fn new(ports: UserPorts) -> Self {
        Self {
            ports,
            live: LiveSessions::default(),
            registered: BoundedMap::new(MAX_REGISTERED),
            household_window: HouseholdWindow::HOUR,
        }
    }

    /// The same use cases with households of `window`.
    pub fn with_household_window(mut self, window: HouseholdWindow) -> Self {
        self.household_window = window;
        self
    }

    /// Parses the name (and the password, if any: a bad one writes
    /// nothing), stores the user and signs them in. With a password the
    /// name must be free ([`UserError::NameTaken`]); without one, the user
    /// is known by their tokens alone, as before accounts had passwords.
    /// `network` is where the sign-up came from, as the edge keys it (see
    /// [`frontrow_domain::household`]): the account joins that network's
    /// household of this window; `None` (not known) joins none.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        name: &str,
        password: Option<&str>,
        network: Option<&str>,
    ) -> Result<NewUser, UserError> {
        let name = UserName::parse(name)?;
        let password = password.map(Password::parse).transpose()?;
        let now = self.ports.clock.now();
        let household = network.map(|network| Household::of(network, now, self.household_window));
        let household = household.as_ref();
        let user = match password {
            None => self.ports.users.create_user(&name, household).await?,
            Some(password) => {
                let hash = self.ports.passwords.hash(&password).await?;
                let created = self
                    .ports
                    .accounts
                    .create_account(&name, &hash, household)
                    .await?;
                created.ok_or(UserError::NameTaken)?
            }
        };
        self.signed_in(user).await
    }

    /// A new session for the account named `name`, if `password` is its
    /// password. Unknown names and wrong passwords get the same
    /// [`UserError::InvalidCredentials`] after the same work; a name with
    /// too many failures lately gets [`UserError::TooManyAttempts`] without
    /// any password being checked.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<NewUser, UserError> {
        // Malformed input is a wrong credential too: a shorter password
        // than the rule allows can never be right, and the answer must not
        // tell which part was wrong.
        let (Ok(name), Ok(password)) = (UserName::parse(name), Password::parse(password)) else {
            return Err(UserError::InvalidCredentials);
        };
        let key = name.sign_in_key();
        self.ports
            .throttle
            .check(&key)
            .map_err(|retry_after_seconds| UserError::TooManyAttempts {
                retry_after_seconds,
            })?;
        let found = self.ports.accounts.credentials(&name).await?;
        let hash = found.as_ref().map(|(_, hash)| hash.clone());
        let genuine = self.ports.passwords.verify(&password, hash).await?;
        match found {
            Some((user, _)) if genuine => self.signed_in(user).await,
            _ => Err(match self.ports.throttle.failed(&key) {
                Ok(()) => UserError::InvalidCredentials,
                Err(retry_after_seconds) => UserError::TooManyAttempts {
                    retry_after_seconds,
                },
            }),
        }
    }

    /// Ends the session of `token`: the token is refused from then on, on
    /// this instance at once and on every other within
    /// [`SESSION_RECHECK_MS`](crate::live_sessions::SESSION_RECHECK_MS).
    /// A token without a session cannot be ended (it lapses when it
    /// expires); `false` then, and for a token that does not verify.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, token: &str) -> Result<bool, UserError> {
        let Some(AccessClaims {
            user,
            session: Some(session),
        }) = self.ports.tokens.verify(token)
        else {
            return Ok(false);
        };
        self.live.forget(session);
        let now = self.ports.clock.now();
        self.ports.accounts.end_session(session, user, now).await?;
        // A request that confirmed the session while it was being ended
        // may have put it back: forget it again now that the store agrees.
        self.live.forget(session);
        Ok(true)
    }

    /// The user a bearer token names, or `None` (a 401): forged, expired,
    /// or its session ended. A session confirmed open within
    /// `SESSION_RECHECK_MS` is not asked about again. When the store cannot
    /// answer, a session this instance confirmed before (and did not see
    /// end) still passes, so buyers keep polling their place in line
    /// through a database blip; any other is a [`StoreError`] (a 503, never
    /// a 401 that would sign the buyer out).
    pub async fn authenticate(&self, token: &str) -> Result<Option<UserId>, StoreError> {
        let Some(claims) = self.ports.tokens.verify(token) else {
            return Ok(None);
        };
        let Some(session) = claims.session else {
            return Ok(Some(claims.user)); // issued before sessions: valid until it expires
        };
        let now = self.ports.clock.now();
        if self.live.trusts(session, claims.user, now) {
            return Ok(Some(claims.user));
        }
        match self.ports.accounts.session_live(session, claims.user).await {
            Ok(true) => {
                self.live.confirm(session, claims.user, now);
                self.registered.insert(claims.user, (), |_, _| false);
                Ok(Some(claims.user))
            }
            Ok(false) => {
                self.live.forget(session);
                Ok(None)
            }
            Err(error) if self.live.known(session, claims.user) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "session check failed; trusting a session confirmed here before"
                );
                Ok(Some(claims.user))
            }
            Err(error) => Err(error),
        }
    }

    async fn signed_in(&self, user: UserId) -> Result<NewUser, UserError> {
        let now = self.ports.clock.now();
        let session = self.ports.accounts.open_session(user, now).await?;
        // The store just opened it: this instance need not ask again for
        // the first request the new token makes (in a rush, every buyer's
        // first join would otherwise read the sessions table once more).
        self.live.confirm(session, user, now);
        self.registered.insert(user, (), |_, _| false);
        Ok(NewUser {
            user,
            access_token: self.ports.tokens.issue(user, session),
        })
    }

    /// Whether an authenticated user is registered: false only for a token
    /// signed with the service's key for an id it never issued.
    /// A user whose session the store confirmed costs no read: in a rush
    /// every join would otherwise read the users table once more.
    pub async fn is_registered(&self, user: UserId) -> Result<bool, StoreError> {
        if self.registered.contains(&user) {
            return Ok(true);
        }
        let exists = self.ports.users.exists(user).await?;
        if exists {
            self.registered.insert(user, (), |_, _| false);
        }
        Ok(exists)
    }
}

#[cfg(test)]
mod tests;
