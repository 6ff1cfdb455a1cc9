//! Who is calling: a buyer (bearer access token) or an operator (admin key).

use super::AppState;
use frontrow_domain::UserId;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};
use std::sync::Arc;

/// `Authorization: Bearer <accessToken>` from `POST /api/v1/users`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_user")]
pub struct Buyer(pub UserId);

async fn check_user(req: &Request, bearer: Bearer) -> Option<UserId> {
    req.data::<Arc<AppState>>()?
        .users
        .authenticate(&bearer.token)
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
