//! Who is calling: a buyer (bearer access token) or an operator (admin key).

use super::AppState;
use super::rate_limits;
use frontrow_application::limits::Limit;
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
        // A forged, expired or signed-out token counts against its address:
        // past the limit, 429 instead of 401 (a valid token is never refused
        // by it, so a neighbour behind the same NAT is not locked out).
        Ok(None) => match rate_limits::failed(state, req, Limit::TokenFailures).await {
            Some(refused) => Err(poem::Error::from_response(refused.into_response())),
            None => Err(poem_openapi::error::AuthorizationError.into()),
        },
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

/// A wrong key counts against its address; an address over the limit gets
/// 429 before its key is even compared, so guessing stops there.
async fn check_admin(req: &Request, key: ApiKey) -> poem::Result<()> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or(poem_openapi::error::AuthorizationError)?;
    if let Some(refused) = rate_limits::may_fail(state, req, Limit::AdminKeyFailures).await {
        return Err(poem::Error::from_response(refused.into_response()));
    }
    let expected = secrecy::ExposeSecret::expose_secret(&state.admin_key).as_bytes();
    let given = key.key.as_bytes();
    // Constant-time comparison: the key's bytes do not leak through timing.
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        return Ok(());
    }
    match rate_limits::failed(state, req, Limit::AdminKeyFailures).await {
        Some(refused) => Err(poem::Error::from_response(refused.into_response())),
        None => Err(poem_openapi::error::AuthorizationError.into()),
    }
}
