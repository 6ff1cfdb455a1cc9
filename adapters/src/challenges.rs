//! The door's challenges: ALTCHA v2 proof-of-work (the `altcha` crate),
//! PBKDF2/SHA-256, in its deterministic (counter) mode.
//!
//! # The format (what a client solves and sends back)
//!
//! A challenge is ALTCHA v2's `{"parameters": {...}, "signature": "..."}`:
//! `parameters` holds `algorithm` (`PBKDF2/SHA-256`), `cost` (iterations per
//! attempt), `nonce`, `salt` (hex), `keyLength` (32), `keyPrefix` (hex),
//! `keySignature` and `data`, which binds it and says when it expires:
//! `{"for": "join", "user": 7, "concert": 3, "level": 2, "expiresAtMs": ..}`
//! or `{"for": "signup", "name": "ada", "level": 1, "expiresAtMs": ..}`.
//! The client tries counters 0, 1, 2, ...: for each, the password is the
//! nonce's bytes followed by the counter as a 4-byte big-endian integer,
//! and the key is PBKDF2-HMAC-SHA-256(password, salt's bytes, cost, 32
//! bytes); the first key whose hex starts with `keyPrefix` solves it. The
//! proof sent back is the standard base64 (with padding) of the JSON
//! `{"challenge": <the challenge as received>, "solution": {"counter": n,
//! "derivedKey": "<hex>"}}`, as ALTCHA's widget sends it. `altcha::
//! solve_challenge` solves it in Rust.
//!
//! The signature (HMAC-SHA-256 over the canonical JSON of `parameters`)
//! covers the binding, the level and the expiry, so none can be changed;
//! the derived key is checked against `keySignature` (an HMAC under a
//! second key), so checking costs two HMACs, not a derivation.

use altcha::{
    Challenge as AltchaChallenge, CreateChallengeOptions, Payload, VerifySolutionOptions,
    create_challenge, verify_solution,
};
use async_trait::async_trait;
use base64::Engine;
use frontrow_application::StoreError;
use frontrow_application::door::{Challenge, ChallengeSigner, Purpose, Solved};
use frontrow_application::store::OrStoreError;
use frontrow_domain::door::Level;
use frontrow_domain::{ConcertId, Timestamp, UserId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The ALTCHA algorithm every challenge uses: WebCrypto has it in every
/// browser, so the web app needs no solver library.
pub const ALGORITHM: &str = "PBKDF2/SHA-256";

/// The shipped [`ChallengeSigner`]: ALTCHA v2 under two HMAC keys (one
/// signs challenges, one signs the expected derived key). Every instance
/// must share them.
#[derive(Clone)]
pub struct AltchaSigner(Arc<Keys>);

struct Keys {
    challenges: SecretString,
    derived_keys: SecretString,
}

impl AltchaSigner {
    /// A signer under two independent keys.
    pub fn new(challenge_key: SecretString, derived_key_key: SecretString) -> Self {
        Self(Arc::new(Keys {
            challenges: challenge_key,
            derived_keys: derived_key_key,
        }))
    }
}

fn binding(purpose: &Purpose, level: Level, expires_at: Timestamp) -> BTreeMap<String, Value> {
    let mut data = match purpose {
        Purpose::Join { user, concert } => BTreeMap::from([
            ("for".to_owned(), json!("join")),
            ("user".to_owned(), json!(user.get())),
            ("concert".to_owned(), json!(concert.get())),
        ]),
        Purpose::SignUp { name_key } => BTreeMap::from([
            ("for".to_owned(), json!("signup")),
            ("name".to_owned(), json!(name_key)),
        ]),
    };
    data.insert("level".to_owned(), json!(level.get()));
    data.insert("expiresAtMs".to_owned(), json!(expires_at.millis()));
    data
}

fn unbound(data: &BTreeMap<String, Value>) -> Option<(Purpose, Level, Timestamp)> {
    let number = |key: &str| data.get(key).and_then(Value::as_i64);
    let purpose = match data.get("for").and_then(Value::as_str)? {
        "join" => Purpose::Join {
            user: UserId::from_store(number("user")?),
            concert: ConcertId::from_store(number("concert")?),
        },
        "signup" => Purpose::SignUp {
            name_key: data.get("name").and_then(Value::as_str)?.to_owned(),
        },
        _ => return None,
    };
    let level = Level::new(u8::try_from(number("level")?).ok()?).ok()?;
    Some((purpose, level, Timestamp(number("expiresAtMs")?)))
}

/// The secret counter: uniform in the level's range, from the OS.
fn secret_counter(attempts: &std::ops::RangeInclusive<u32>) -> std::io::Result<u32> {
    let mut bytes = [0u8; 4];
    getrandom::getrandom(&mut bytes).map_err(std::io::Error::other)?;
    let span = attempts.end() - attempts.start() + 1;
    Ok(attempts.start() + u32::from_be_bytes(bytes) % span)
}

impl Keys {
    fn issue(
        &self,
        purpose: &Purpose,
        level: Level,
        expires_at: Timestamp,
    ) -> Result<Challenge, StoreError> {
        let work = level
            .work()
            .ok_or_else(|| StoreError::new("a challenge of level 0 was asked for"))?;
        let options = CreateChallengeOptions {
            algorithm: ALGORITHM.to_owned(),
            cost: work.iterations,
            counter: Some(secret_counter(&work.attempts).or_store()?),
            data: Some(binding(purpose, level, expires_at)),
            // No ALTCHA `expiresAt`: the library would judge it by the
            // system clock, in whole seconds, and call a late proof forged.
            // The expiry is `expiresAtMs` in the signed `data`, judged by
            // the door at the service's clock.
            expires_at: None,
            hmac_signature_secret: Some(self.challenges.expose_secret().to_owned()),
            hmac_key_signature_secret: Some(self.derived_keys.expose_secret().to_owned()),
            ..CreateChallengeOptions::default()
        };
        let challenge = create_challenge(options).or_store()?;
        Ok(Challenge {
            level,
            expires_at,
            json: serde_json::to_string(&challenge).or_store()?,
        })
    }

    fn check(&self, proof: &str) -> Option<Solved> {
        let json = base64::engine::general_purpose::STANDARD
            .decode(proof.trim())
            .ok()?;
        let Payload {
            challenge,
            solution,
        } = serde_json::from_slice(&json).ok()?;
        let mut options =
            VerifySolutionOptions::new(&challenge, &solution, self.challenges.expose_secret());
        options.hmac_key_signature_secret = Some(self.derived_keys.expose_secret().to_owned());
        let verified = verify_solution(options).ok()?.verified;
        // Only challenges signed in counter mode are ours: without the key
        // signature, ALTCHA would re-derive the key (a derivation per
        // forged proof) instead of checking two HMACs.
        let ours = challenge.parameters.key_signature.is_some();
        if !(verified && ours) {
            return None;
        }
        let AltchaChallenge {
            parameters,
            signature,
        } = challenge;
        let (purpose, level, expires_at) = unbound(parameters.data.as_ref()?)?;
        Some(Solved {
            id: signature?,
            purpose,
            level,
            expires_at,
        })
    }
}

#[async_trait]
impl ChallengeSigner for AltchaSigner {
    async fn issue(
        &self,
        purpose: &Purpose,
        level: Level,
        expires_at: Timestamp,
    ) -> Result<Challenge, StoreError> {
        // Issuing derives the key once (the counter mode's expected
        // answer): milliseconds of CPU, kept off the request threads.
        let keys = self.0.clone();
        let purpose = purpose.clone();
        tokio::task::spawn_blocking(move || keys.issue(&purpose, level, expires_at))
            .await
            .or_store()?
    }

    fn check(&self, proof: &str) -> Option<Solved> {
        self.0.check(proof)
    }
}

/// Solves a challenge as a client would, and answers the proof to send:
/// for tests and the load test (`altcha::solve_challenge`).
pub fn solve(challenge_json: &str) -> Option<String> {
    let challenge: AltchaChallenge = serde_json::from_str(challenge_json).ok()?;
    let solution =
        altcha::solve_challenge(altcha::SolveChallengeOptions::new(&challenge)).ok()??;
    let payload = serde_json::to_vec(&Payload {
        challenge,
        solution,
    })
    .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(key: &str) -> AltchaSigner {
        AltchaSigner::new(key.to_owned().into(), format!("{key}-derived").into())
    }

    const NOW: Timestamp = Timestamp(4_000_000_000_000);

    fn join() -> Purpose {
        Purpose::Join {
            user: UserId::from_store(7),
            concert: ConcertId::from_store(3),
        }
    }

    #[tokio::test]
    async fn a_solved_challenge_says_what_it_was_issued_for() {
        let signer = signer("k");
        let level = Level::new(1).unwrap();
        let challenge = signer.issue(&join(), level, NOW).await.unwrap();
        let proof = solve(&challenge.json).unwrap();
        let solved = signer.check(&proof).unwrap();
        assert_eq!(solved.purpose, join());
        assert_eq!(solved.level, level);
        assert_eq!(solved.expires_at, NOW);
    }

    #[tokio::test]
    async fn a_proof_under_another_key_an_altered_binding_or_a_wrong_key_is_forged() {
        let ours = signer("k");
        let challenge = signer("other")
            .issue(&join(), Level::new(1).unwrap(), NOW)
            .await;
        let theirs = solve(&challenge.unwrap().json).unwrap();
        assert_eq!(ours.check(&theirs), None);

        let challenge = ours
            .issue(&join(), Level::new(1).unwrap(), NOW)
            .await
            .unwrap();
        let proof = solve(&challenge.json).unwrap();
        let decode = |p: &str| -> Value {
            serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(p).unwrap())
                .unwrap()
        };
        let encode = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
        let mut altered = decode(&proof);
        altered["challenge"]["parameters"]["data"]["concert"] = json!(4);
        assert_eq!(ours.check(&encode(&altered)), None);
        let mut wrong = decode(&proof);
        wrong["solution"]["derivedKey"] = json!("00".repeat(32));
        assert_eq!(ours.check(&encode(&wrong)), None);
        assert_eq!(ours.check("not base64 at all"), None);
        assert!(ours.check(&proof).is_some());
    }
}
