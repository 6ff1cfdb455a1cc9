//! The door of a room and of sign-up: a join or a sign-up, after waiting
//! out a 429 and solving the server's proof-of-work challenge when it asks
//! for one (428 `CHALLENGE_REQUIRED`), as a person's browser and a
//! determined farm both would.
//!
//! The challenge is ALTCHA v2 (`POST /api/v1/concerts/{id}/challenge` for a
//! join, `POST /api/v1/users/challenge` for a sign-up); the `altcha` crate
//! solves it on a blocking thread, timed, and the proof goes back as
//! `proofOfWork`: the standard base64 of `{"challenge", "solution"}`, the
//! widget's payload.

use crate::record::Recorder;
use crate::retry::wait_out;
use base64::Engine;
use frontrow_client::{Buyer, Client, Observer, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many challenges one join or sign-up solves at most (a proof can
/// expire or be refused; a server that keeps asking is refusing).
const MOST_CHALLENGES: u64 = 3;

/// Joins rooms and signs up, paying what the door asks; what it sends
/// beyond the typed client's calls is told to `recorder`.
#[derive(Clone)]
pub(crate) struct Door {
    pub(crate) recorder: Arc<Recorder>,
}

/// What a join came to.
pub(crate) enum Joined {
    /// A place: its queue token and the status the join answered.
    Place { token: String, status: Value },
    /// Every seat is sold: no place will come.
    SoldOut,
    /// Refused for good, or still refused when the caller's time ran out.
    Refused,
}

/// What an answer and the challenges before it cost at the door.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Paid {
    /// Time spent solving challenges (on one of this process's cores).
    pub(crate) solving: Duration,
    pub(crate) challenges: u64,
}

impl Door {
    /// Joins `concert`, waiting out 429s until `until` (`None`: no limit).
    pub(crate) async fn join(
        &self,
        api: &Client,
        buyer: &Buyer,
        concert: i64,
        until: Option<Instant>,
    ) -> Result<(Joined, Paid), reqwest::Error> {
        let path = format!("/api/v1/concerts/{concert}/challenge");
        let ask = || {
            api.request(Method::POST, &path)
                .bearer_auth(&buyer.access_token)
        };
        let send = |proof: Option<&str>| {
            api.request(Method::POST, "/api/v1/queue/tokens")
                .bearer_auth(&buyer.access_token)
                .json(&json!({ "concertId": concert, "proofOfWork": proof }))
        };
        let (reply, paid) = self.through("queue_join", send, ask, until).await?;
        let joined = match (reply.status, reply.code()) {
            (StatusCode::OK | StatusCode::CREATED, _) => match reply.body["token"].as_str() {
                Some(token) => Joined::Place {
                    token: token.to_owned(),
                    status: reply.body.clone(),
                },
                None => Joined::Refused,
            },
            (StatusCode::CONFLICT, "SOLD_OUT") => Joined::SoldOut,
            _ => Joined::Refused,
        };
        Ok((joined, paid))
    }

    /// Signs up `name` (with `password`, if any), waiting out 429s until
    /// `until`: the buyer, or `None` when refused.
    pub(crate) async fn sign_up(
        &self,
        api: &Client,
        name: &str,
        password: Option<&str>,
        until: Option<Instant>,
    ) -> Result<(Option<Buyer>, Paid), reqwest::Error> {
        let ask = || {
            api.request(Method::POST, "/api/v1/users/challenge")
                .json(&json!({ "name": name }))
        };
        let send = |proof: Option<&str>| {
            let mut user = json!({ "name": name, "proofOfWork": proof });
            if let Some(password) = password {
                user["password"] = password.into();
            }
            api.request(Method::POST, "/api/v1/users").json(&user)
        };
        let (reply, paid) = self.through("users", send, ask, until).await?;
        Ok((reply.buyer(), paid))
    }

    /// Sends `send(proof)`: first without a proof; on a 428 asks for a
    /// challenge with `ask`, solves it and sends again with its proof; on
    /// a 429 waits and sends again. The last answer, and what was paid.
    async fn through(
        &self,
        endpoint: &'static str,
        send: impl Fn(Option<&str>) -> reqwest::RequestBuilder,
        ask: impl Fn() -> reqwest::RequestBuilder,
        until: Option<Instant>,
    ) -> Result<(Reply, Paid), reqwest::Error> {
        let mut paid = Paid::default();
        let mut proof: Option<String> = None;
        loop {
            let reply = self.observed(endpoint, send(proof.as_deref())).await?;
            let needs_proof = reply.status == StatusCode::PRECONDITION_REQUIRED
                || matches!(reply.code(), "CHALLENGE_EXPIRED" | "CHALLENGE_REPLAYED");
            if reply.status == StatusCode::TOO_MANY_REQUESTS && wait_out(&reply, until).await {
                continue;
            }
            if !needs_proof || paid.challenges >= MOST_CHALLENGES {
                return Ok((reply, paid));
            }
            let challenge = loop {
                let answer = self.observed("challenge", ask()).await?;
                if answer.status == StatusCode::TOO_MANY_REQUESTS && wait_out(&answer, until).await
                {
                    continue;
                }
                break answer;
            };
            if !challenge.status.is_success() || challenge.body["required"] != true {
                // Nothing to solve (or no challenge to be had): the send
                // without a proof answers for itself.
                return Ok((reply, paid));
            }
            let started = Instant::now();
            let solved = solve(challenge.body["challenge"].clone()).await;
            paid.solving += started.elapsed();
            paid.challenges += 1;
            match solved {
                Some(solved) => proof = Some(solved),
                None => return Ok((reply, paid)),
            }
        }
    }

    /// Sends `request` and tells the recorder, as the typed client would.
    async fn observed(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, reqwest::Error> {
        let started = Instant::now();
        let reply = Reply::read(request.send().await?).await?;
        self.recorder
            .observe(endpoint, reply.status, started.elapsed());
        Ok(reply)
    }
}

/// Solves an ALTCHA v2 challenge off the runtime's threads: the proof to
/// send, or `None` when it cannot be solved.
async fn solve(challenge: Value) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let challenge: altcha::Challenge = serde_json::from_value(challenge).ok()?;
        let options = altcha::SolveChallengeOptions::new(&challenge);
        let solution = altcha::solve_challenge(options).ok()??;
        let payload = serde_json::to_vec(&altcha::Payload {
            challenge,
            solution,
        })
        .ok()?;
        Some(base64::engine::general_purpose::STANDARD.encode(payload))
    })
    .await
    .ok()?
}
