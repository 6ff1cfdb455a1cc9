//! Who is calling: a buyer (bearer access token) or an operator (admin key).

use super::AppState;
use frontrow_domain::UserId;
use poem::{IntoResponse, Request};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};
use std::sync::Arc;

/// `Authorization: Bearer <accessToken>` from `POST /api/v1/users` or
/// `POST /api/v1/sessions`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_user")]
pub struct Buyer(pub UserId);

/// A forged, expired or signed-out token is a 401; a store that cannot say
/// whether the session is open is a 503, never a 401 that would sign the
/// buyer out.
async fn check_user(req: &Request, bearer: Bearer) -> poem::Result<UserId> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or(poem_openapi::error::AuthorizationError)?;
    match state.users.authenticate(&bearer.token).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(poem_openapi::error::AuthorizationError.into()),
        Err(error) => {
            let problem = super::problem::ProblemResponse::from(error);
            Err(poem::Error::from_response(problem.into_response()))
        }
    }
}

/// `X-Admin-Key: <key>`: operators only.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "X-Admin-Key",
    key_in = "header",
    checker = "check_admin"
)]
pub struct Operator(#[allow(dead_code)] pub ());

async fn check_admin(req: &Request, key: ApiKey) -> Option<()> {
    let state = req.data::<Arc<AppState>>()?;
    let expected = secrecy::ExposeSecret::expose_secret(&state.admin_key).as_bytes();
    let given = key.key.as_bytes();
    // Constant-time comparison: the key's bytes do not leak through timing.
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(())
}
