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

#[derive(Debug, Error)]
pub enum UserError {
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, name: &UserName) -> Result<UserId, StoreError>;
}

/// Issues and verifies the bearer tokens that identify a user.
#[cfg_attr(test, mockall::automock)]
pub trait AccessTokens: Send + Sync {
    fn issue(&self, user: UserId) -> String;
    /// `None` for anything forged, expired or malformed.
    fn verify(&self, token: &str) -> Option<UserId>;
}

pub struct NewUser {
    pub user: UserId,
    pub access_token: String,
}

pub struct Users {
    store: Arc<dyn UserStore>,
    tokens: Arc<dyn AccessTokens>,
}

impl Users {
    pub fn new(store: Arc<dyn UserStore>, tokens: Arc<dyn AccessTokens>) -> Self {
        Self { store, tokens }
    }

    #[tracing::instrument(skip_all)]
    pub async fn register(&self, name: &str) -> Result<NewUser, UserError> {
        let name = UserName::parse(name)?;
        let user = self.store.create_user(&name).await?;
        Ok(NewUser {
            user,
            access_token: self.tokens.issue(user),
        })
    }

    pub fn authenticate(&self, token: &str) -> Option<UserId> {
        self.tokens.verify(token)
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
