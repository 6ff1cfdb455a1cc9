//! Ticket buyers and their access tokens.
//!
//! The API never trusts a user id in a body: every user-scoped call proves who
//! it is with an access token that `AccessTokens` issued and verifies. The
//! built-in issuer signs HS256 JWTs; an external identity provider plugs in as
//! another `AccessTokens` implementation.

use crate::StoreError;
use async_trait::async_trait;
use frontrow_domain::UserId;
use frontrow_domain::user::{UserError as NameError, UserName};
use std::sync::Arc;
use thiserror::Error;

/// Why a registration failed.
#[derive(Debug, Error)]
pub enum UserError {
    /// The name is blank, invisible or too long; nothing was written.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// The store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where users are kept.
///
/// Contract: `create_user` stores a new user with a zero balance and returns
/// an id never issued before (names need not be unique); `exists` is true
/// for every id `create_user` returned and false for any other. Both fail
/// only with [`StoreError`]. The user's balance is then the [`Ledger`]'s to change,
/// so a store that serves both ports must keep them on the same rows.
///
/// [`Ledger`]: crate::points::Ledger
///
/// ```
/// use async_trait::async_trait;
/// use frontrow_application::StoreError;
/// use frontrow_application::users::{UserStore, Users};
/// use frontrow_domain::user::UserName;
/// use frontrow_domain::UserId;
/// use std::sync::atomic::{AtomicI64, Ordering};
/// use std::sync::Arc;
/// # use frontrow_application::users::AccessTokens;
/// # struct Plain;
/// # impl AccessTokens for Plain {
/// #     fn issue(&self, user: UserId) -> String { format!("user-{user}") }
/// #     fn verify(&self, token: &str) -> Option<UserId> {
/// #         UserId::parse(token.strip_prefix("user-")?.parse().ok()?)
/// #     }
/// # }
///
/// /// Ids from a counter; the names go nowhere (a test double).
/// #[derive(Default)]
/// struct Counter(AtomicI64);
///
/// #[async_trait]
/// impl UserStore for Counter {
///     async fn create_user(&self, _name: &UserName) -> Result<UserId, StoreError> {
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
/// let users = Users::new(Arc::new(Counter::default()), Arc::new(Plain));
/// let ada = users.register("Ada").await?;
/// let bob = users.register("Bob").await?;
/// assert_ne!(ada.user, bob.user);
/// assert_eq!(users.authenticate(&ada.access_token), Some(ada.user));
/// # Ok(()) }
/// ```
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user and returns their new id.
    async fn create_user(&self, name: &UserName) -> Result<UserId, StoreError>;
    /// Whether `user` was ever created.
    async fn exists(&self, user: UserId) -> Result<bool, StoreError>;
}

/// Issues and verifies the bearer tokens that identify a user.
///
/// The API never trusts a user id in a body: every user-scoped call is
/// authenticated by `verify`. The shipped issuer is `Hs256Tokens` in
/// frontrow-adapters (HS256 JWTs); to use an external identity provider,
/// implement this trait against its keys.
///
/// Contract: `verify(issue(u))` is `Some(u)` until the token expires;
/// `verify` is `None` for anything forged, expired, malformed or issued
/// by someone else, and it must not block (it runs on every request, with
/// no store call). Neither method fails: an issuer that needs IO must do it
/// ahead of time (for example, fetch its keys in the background).
///
/// ```
/// use frontrow_application::users::AccessTokens;
/// use frontrow_domain::UserId;
/// use std::collections::HashMap;
/// use std::sync::RwLock;
///
/// /// Opaque tokens remembered in memory: one process, tests only (the
/// /// tokens are guessable and never expire).
/// #[derive(Default)]
/// struct Sessions(RwLock<HashMap<String, UserId>>);
///
/// impl AccessTokens for Sessions {
///     fn issue(&self, user: UserId) -> String {
///         let mut sessions = self.0.write().unwrap_or_else(|e| e.into_inner());
///         let token = format!("session-{}-{user}", sessions.len());
///         sessions.insert(token.clone(), user);
///         token
///     }
///
///     fn verify(&self, token: &str) -> Option<UserId> {
///         self.0.read().ok()?.get(token).copied()
///     }
/// }
///
/// let sessions = Sessions::default();
/// let ada = UserId::from_store(1);
/// let token = sessions.issue(ada);
/// assert_eq!(sessions.verify(&token), Some(ada));
/// assert_eq!(sessions.verify("session-0-2"), None);
/// ```
#[cfg_attr(test, mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// A new bearer token that names `user`.
    fn issue(&self, user: UserId) -> String;
    /// `None` for anything forged, expired or malformed.
    fn verify(&self, token: &str) -> Option<UserId>;
}

/// A registered user and their first access token.
pub struct NewUser {
    /// The id the store issued.
    pub user: UserId,
    /// What the client sends as `Authorization: Bearer ...` from now on.
    pub access_token: String,
}

/// Registration and authentication (see [`UserStore`] for an example).
pub struct Users {
    store: Arc<dyn UserStore>,
    tokens: Arc<dyn AccessTokens>,
}

impl Users {
    /// The use cases over a user store and a token issuer.
    pub fn new(store: Arc<dyn UserStore>, tokens: Arc<dyn AccessTokens>) -> Self {
        Self { store, tokens }
    }

    /// Parses the name (a bad one writes nothing), stores the user and
    /// issues their first token.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, name: &str) -> Result<NewUser, UserError> {
        let name = UserName::parse(name)?;
        let user = self.store.create_user(&name).await?;
        Ok(NewUser {
            user,
            access_token: self.tokens.issue(user),
        })
    }

    /// The user a bearer token names, or `None` (a 401): no store is asked.
    pub fn authenticate(&self, token: &str) -> Option<UserId> {
        self.tokens.verify(token)
    }

    /// Whether an authenticated user is registered: false only for a token
    /// signed with the service's key for an id it never issued.
    pub async fn is_registered(&self, user: UserId) -> Result<bool, StoreError> {
        self.store.exists(user).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_blank_name_writes_nothing() {
        let store = MockUserStore::new(); // no expectations: any call fails the test
        let users = Users::new(Arc::new(store), Arc::new(MockAccessTokens::new()));
        assert!(matches!(
            users.register("  ").await,
            Err(UserError::InvalidName(_))
        ));
    }

    #[tokio::test]
    async fn a_new_user_gets_a_token_for_their_id() {
        let mut store = MockUserStore::new();
        store
            .expect_create_user()
            .times(1)
            .returning(|_| Ok(UserId::from_store(7)));
        let mut tokens = MockAccessTokens::new();
        tokens
            .expect_issue()
            .withf(|u| u.get() == 7)
            .returning(|_| "tok".into());
        let users = Users::new(Arc::new(store), Arc::new(tokens));
        let created = users.register("ada").await.unwrap();
        assert_eq!(
            (created.user.get(), created.access_token.as_str()),
            (7, "tok")
        );
    }
}
