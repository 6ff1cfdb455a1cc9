//! Rate limits at the edge: which requests count against which limit, and
//! the 429 a refused one gets. The limits themselves, their budgets and
//! their failing open are `frontrow_application::limits`.
//!
//! Per client address (`client_address`), before any handler runs: sign-up
//! (per address and per /24 or /64), sign-in, join, status polls and stream
//! opens, holds and payments. Per account, in the handlers once the token
//! is checked ([`per_account`]): join, status and stream opens, holds and
//! payments. Failed credentials, per address, in `security`.

use super::AppState;
use super::client_address::ClientAddress;
use super::problem::ProblemResponse;
use frontrow_application::limits::{Limit, Refused};
use frontrow_domain::UserId;
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

/// The 429 for a request over `refused`'s limit: problem+json with code
/// `RATE_LIMITED`, `Retry-After`, and the limit in `RateLimit-Policy` and
/// `RateLimit` (draft-ietf-httpapi-ratelimit-headers).
pub fn too_many(refused: &Refused) -> ProblemResponse {
    let name = refused.limit.name();
    let seconds = refused.retry_after_seconds();
    let window = ((refused.rule.period_ms() + 999) / 1000).max(1);
    ProblemResponse::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        format!("too many requests ({name}); retry in {seconds} s"),
    )
    .retry_after(seconds)
    .rate_limited(
        format!("\"{name}\";q={};w={window}", refused.rule.burst()),
        format!("\"{name}\";r=0;t={seconds}"),
    )
}

/// One request of `user` under a per-account `limit`: a 429 when over.
pub async fn per_account(
    state: &AppState,
    limit: Limit,
    user: UserId,
) -> Result<(), ProblemResponse> {
    state
        .rate_limits
        .check(limit, &user.get().to_string())
        .await
        .map_err(|refused| too_many(&refused))
}

/// The per-address limits a request counts against (none for most).
fn address_limits(method: &Method, path: &str) -> &'static [Limit] {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["", "api", "v1", "users"]) => &[Limit::SignUpPerAddress, Limit::SignUpPerNetwork],
        ("POST", ["", "api", "v1", "sessions"]) => &[Limit::SignInPerAddress],
        ("POST", ["", "api", "v1", "queue", "tokens"]) => &[Limit::JoinPerAddress],
        ("GET", ["", "api", "v1", "queue", "status" | "stream"])
        | ("GET", ["", "api", "v1", "schedules", _, "seats", "stream"]) => {
            &[Limit::StatusPerAddress]
        }
        ("POST", ["", "api", "v1", "reservations"]) => &[Limit::HoldPerAddress],
        ("POST", ["", "api", "v1", "payments"]) => &[Limit::PaymentPerAddress],
        _ => &[],
    }
}

/// Middleware (after `client_address::identify`): refuses a request over
/// one of its per-address limits with [`too_many`], before its handler.
pub async fn around<E: Endpoint>(
    endpoint: E,
    request: Request,
    state: &AppState,
) -> poem::Result<Response> {
    let limits = address_limits(request.method(), request.uri().path());
    if let Some(address) = request.data::<ClientAddress>().copied() {
        for &limit in limits {
            let subject = match limit {
                Limit::SignUpPerNetwork => address.network().to_string(),
                _ => address.0.to_string(),
            };
            if let Err(refused) = state.rate_limits.check(limit, &subject).await {
                return Ok(too_many(&refused).into_response());
            }
        }
    }
    endpoint
        .call(request)
        .await
        .map(IntoResponse::into_response)
}

/// A failed credential from `request`'s address under `limit`: a 429 once
/// the address is over it, else `None` (answer the failure as usual).
pub async fn failed(state: &AppState, request: &Request, limit: Limit) -> Option<ProblemResponse> {
    let address = request.data::<ClientAddress>()?;
    let refused = state
        .rate_limits
        .check(limit, &address.0.to_string())
        .await
        .err()?;
    Some(too_many(&refused))
}

/// Whether `request`'s address may still fail under `limit` (spends
/// nothing): a 429 when it may not.
pub async fn may_fail(
    state: &AppState,
    request: &Request,
    limit: Limit,
) -> Option<ProblemResponse> {
    let address = request.data::<ClientAddress>()?;
    let refused = state
        .rate_limits
        .peek(limit, &address.0.to_string())
        .await
        .err()?;
    Some(too_many(&refused))
}
