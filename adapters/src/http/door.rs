//! Proof-of-work at the door: the challenges a buyer solves before joining
//! a room or signing up beyond the free allowance, and the operator's
//! per-concert level. The proof format is in `crate::challenges`.

use super::client_address::ClientAddress;
use super::problem::ProblemResponse;
use super::security::{Buyer, Operator};
use super::text::Text;
use super::{AppState, Tag};
use frontrow_application::door::Challenge;
use frontrow_domain::door::Level;
use frontrow_domain::ids::ConcertId;
use frontrow_domain::user::MAX_NAME_CHARS;
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

pub struct DoorApi(pub Arc<AppState>);

/// The client's address, as the door counts it: the one `ClientAddress`
/// decided for the request (the peer, or behind a trusted proxy the
/// forwarded address), else the socket's peer.
pub(super) fn client_address(request: &Request) -> String {
    if let Some(address) = request.data::<ClientAddress>() {
        return address.0.to_string();
    }
    match request.remote_addr().as_socket_addr() {
        Some(peer) => peer.ip().to_canonical().to_string(),
        None => request.remote_addr().to_string(),
    }
}

/// What the caller must solve first, if anything.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct DoorChallenge {
    /// Whether the call needs a solved challenge now (false: send nothing).
    required: bool,
    /// 0 (none) to 10; each level doubles the work.
    level: u8,
    /// An ALTCHA v2 challenge (`{"parameters": {...}, "signature": ...}`,
    /// algorithm `PBKDF2/SHA-256`, counter mode), or null when none is
    /// required. Solve it and send, as `proofOfWork`, the standard base64
    /// of the JSON `{"challenge": <this object>, "solution": {"counter":
    /// n, "derivedKey": "<hex>"}}`: ALTCHA's widget payload; the
    /// `altcha` crate's `solve_challenge` makes one. It is accepted once,
    /// until `expiresAt`, for this account and concert (or this name).
    #[oai(nullable)]
    challenge: Option<serde_json::Value>,
    /// When the challenge stops being accepted; null with no challenge.
    #[oai(nullable)]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The answer to a challenge request; the challenge's JSON is ours, so a
/// failure to read it back is an internal error (`unreadable`).
fn answer(challenge: Option<Challenge>) -> Result<Json<DoorChallenge>, serde_json::Error> {
    let Some(challenge) = challenge else {
        return Ok(Json(DoorChallenge {
            required: false,
            level: 0,
            challenge: None,
            expires_at: None,
        }));
    };
    Ok(Json(DoorChallenge {
        required: true,
        level: challenge.level.get(),
        challenge: Some(serde_json::from_str(&challenge.json)?),
        expires_at: Some(super::catalogue::datetime(challenge.expires_at)),
    }))
}

fn unreadable(error: serde_json::Error) -> ProblemResponse {
    tracing::error!(%error, "a challenge is not JSON");
    ProblemResponse::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "the challenge could not be made",
    )
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SignUpName {
    /// The name the account will be made with (the challenge is bound to
    /// it, case aside).
    name: Text<MAX_NAME_CHARS>,
}

/// A concert's own door level.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct DoorLevel {
    /// 0 (nobody pays unless they look suspicious) to 10: what every join
    /// pays at least. Young accounts and crowded addresses pay their own
    /// levels when higher (see `docs/operations.md`).
    level: u8,
}

#[OpenApi(tag = "Tag::Queue")]
impl DoorApi {
    /// A challenge to solve before joining a concert's room
    ///
    /// Ask when the buyer opens the concert (during a scheduled sale's
    /// pre-queue it costs no place); `required: false` means the join needs
    /// nothing. The level depends on the concert, the account's age and the
    /// sign-ups from the caller's address.
    #[oai(path = "/api/v1/concerts/:concert_id/challenge", method = "post")]
    async fn join_challenge(
        &self,
        buyer: Buyer,
        concert_id: Path<i64>,
        request: &Request,
    ) -> Result<Json<DoorChallenge>, ProblemResponse> {
        let address = client_address(request);
        let concert = ConcertId::from_store(concert_id.0);
        let challenge = self
            .0
            .door
            .join_challenge(buyer.0, concert, &address)
            .await?;
        answer(challenge).map_err(unreadable)
    }

    /// A challenge to solve before signing up
    ///
    /// Sign-ups from one address beyond a free allowance must bring a
    /// solved challenge bound to the name (`proofOfWork` in `POST
    /// /api/v1/users`); `required: false` means the next one is free.
    #[oai(path = "/api/v1/users/challenge", method = "post")]
    async fn sign_up_challenge(
        &self,
        body: Json<SignUpName>,
        request: &Request,
    ) -> Result<Json<DoorChallenge>, ProblemResponse> {
        let address = client_address(request);
        let challenge = self.0.door.sign_up_challenge(&body.name, &address).await?;
        answer(challenge).map_err(unreadable)
    }
}

/// The operator's side, under the admin tag.
pub struct DoorAdminApi(pub Arc<AppState>);

#[OpenApi(tag = "Tag::Admin")]
impl DoorAdminApi {
    /// Set a concert's door level
    #[oai(path = "/api/v1/admin/concerts/:concert_id/door", method = "put")]
    async fn set_level(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
        body: Json<DoorLevel>,
    ) -> Result<Json<DoorLevel>, ProblemResponse> {
        let concert = self.existing(concert_id.0).await?;
        self.0.door.set_concert_level(concert, body.level).await?;
        Ok(Json(DoorLevel { level: body.level }))
    }

    /// A concert's door level (its own, or the default)
    #[oai(path = "/api/v1/admin/concerts/:concert_id/door", method = "get")]
    async fn level(
        &self,
        _operator: Operator,
        concert_id: Path<i64>,
    ) -> Result<Json<DoorLevel>, ProblemResponse> {
        let concert = self.existing(concert_id.0).await?;
        let level: Level = self.0.door.concert_level(concert).await?;
        Ok(Json(DoorLevel { level: level.get() }))
    }
}

impl DoorAdminApi {
    async fn existing(&self, concert: i64) -> Result<ConcertId, ProblemResponse> {
        let concert = ConcertId::from_store(concert);
        if self.0.catalogue.concert_exists(concert).await? {
            Ok(concert)
        } else {
            Err(ProblemResponse::new(
                StatusCode::NOT_FOUND,
                "CONCERT_NOT_FOUND",
                "concert not found",
            ))
        }
    }
}
