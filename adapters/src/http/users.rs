//! `POST /api/v1/users` (sign up), `POST /api/v1/sessions` (sign in) and
//! `DELETE /api/v1/sessions/current` (sign out).

use super::client_address::ClientAddress;
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::text::Text;
use super::{AppState, Tag};
use frontrow_domain::user::{MAX_NAME_CHARS, MAX_PASSWORD_CHARS};
use poem::http::header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct UsersApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct NewUser {
    /// 1 to 100 characters, at least one of which shows (not only spaces or
    /// zero-width characters); a JSON string, not a number or a boolean.
    /// With a password it must be free (case aside): it is what signs in.
    name: Text<MAX_NAME_CHARS>,
    /// 8 to 128 characters, kept exactly as typed. With it the account can
    /// sign in on any device (`POST /api/v1/sessions`); without it, the
    /// access token is the only way in.
    password: Option<Text<MAX_PASSWORD_CHARS>>,
    /// A solved door challenge for this name (`POST
    /// /api/v1/users/challenge`), in the same form as a join's. Needed
    /// only beyond the free sign-ups from one address; without it such a
    /// sign-up is 428 `CHALLENGE_REQUIRED`.
    proof_of_work: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Credentials {
    /// The name the account signed up with (case does not matter).
    name: Text<MAX_NAME_CHARS>,
    /// The account's password.
    password: Text<MAX_PASSWORD_CHARS>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CreatedUser {
    user_id: i64,
    /// Send as `Authorization: Bearer <accessToken>`.
    access_token: String,
}

#[derive(ApiResponse)]
enum CreateUserResponse {
    /// The user and their access token.
    #[oai(status = 201)]
    Created(Json<CreatedUser>),
}

#[derive(ApiResponse)]
enum SignOutResponse {
    /// The session has ended: its access token is refused from now on.
    #[oai(status = 204)]
    SignedOut,
}

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// Register a ticket buyer
    ///
    /// With a password, the name must be free (409 `NAME_TAKEN`). The
    /// account joins the household of the network it signs up from and
    /// the hour it signs up in: the household's accounts together hold or
    /// own at most `--household-seats` seats of a show (409
    /// `HOUSEHOLD_LIMIT` on a hold past it).
    #[oai(path = "/api/v1/users", method = "post")]
    async fn create(
        &self,
        body: Json<NewUser>,
        request: &poem::Request,
    ) -> Result<CreateUserResponse, ProblemResponse> {
        let address = super::door::client_address(request);
        let proof = body.proof_of_work.as_deref();
        self.0
            .door
            .pass_sign_up(&body.name, &address, proof)
            .await?;
        let password = body.password.as_deref();
        // The household's key: the address the limits saw (see
        // `client_address::identify`); none when it is not known (a
        // connection with no socket address reads as unspecified).
        let network = request
            .data::<ClientAddress>()
            .filter(|address| !address.0.is_unspecified())
            .map(|address| address.household_network().to_string());
        let created = self
            .0
            .users
            .register(&body.name, password, network.as_deref())
            .await?;
        Ok(CreateUserResponse::Created(Json(CreatedUser {
            user_id: created.user.get(),
            access_token: created.access_token,
        })))
    }

    /// Sign in with a name and password
    ///
    /// A wrong name or password is 401 `INVALID_CREDENTIALS` (the same for
    /// both); after 5 failures for one name, more are 429
    /// `TOO_MANY_ATTEMPTS` with `Retry-After` (one more every 30 s).
    #[oai(path = "/api/v1/sessions", method = "post")]
    async fn sign_in(
        &self,
        body: Json<Credentials>,
    ) -> Result<CreateUserResponse, ProblemResponse> {
        let signed_in = self.0.users.sign_in(&body.name, &body.password).await?;
        Ok(CreateUserResponse::Created(Json(CreatedUser {
            user_id: signed_in.user.get(),
            access_token: signed_in.access_token,
        })))
    }

    /// Sign out
    ///
    /// Ends the session of the access token sent: it is refused from then
    /// on (at once on this instance, within 10 s on every other). A token
    /// issued before sessions existed cannot be ended; it lapses when it
    /// expires.
    #[oai(path = "/api/v1/sessions/current", method = "delete")]
    async fn sign_out(
        &self,
        _buyer: Buyer,
        request: &poem::Request,
    ) -> Result<SignOutResponse, ProblemResponse> {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        self.0.users.sign_out(token).await?;
        Ok(SignOutResponse::SignedOut)
    }
}
