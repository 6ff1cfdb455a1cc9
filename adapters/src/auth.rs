//! The built-in access-token issuer: HS256-signed JWTs (RFC 7519) whose `sub`
//! is the user id and `sid` the session (see `Users::sign_out`). To use an external identity provider instead, implement
//! `AccessTokens::verify` against its keys (e.g. RS256 with its JWKS) and
//! wire that in `bin/` in place of `Hs256Tokens`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use frontrow_application::Clock;
use frontrow_application::StoreError;
use frontrow_application::queue::{QueueClaims, QueueTokenSeal};
use frontrow_application::store::OrStoreError;
use frontrow_application::users::{AccessClaims, AccessTokens};
use frontrow_domain::queue::QueueToken;
use frontrow_domain::user::SessionId;
use frontrow_domain::{ConcertId, Timestamp, UserId};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

/// The fixed JOSE header of every token we issue.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    /// The session; absent from tokens issued before sessions, which stay
    /// valid until `exp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<i64>,
    iat: i64,
    exp: i64,
}

/// The built-in `AccessTokens`: HS256 JWTs with `sub` (the user id), `sid`
/// (the session), `iat` and `exp`, signed with one shared secret. Every instance must share the
/// secret; `verify` accepts only tokens with exactly this issuer's header,
/// so `alg: none` and algorithm confusion are refused by construction.
pub struct Hs256Tokens {
    key: Hmac<Sha256>,
    ttl_seconds: i64,
    /// `HEADER` as it appears in every token we issue; compared as text, so
    /// a token's header is never decoded.
    encoded_header: String,
    /// Issue and expiry times come from here: the service's clock.
    clock: Arc<dyn Clock>,
}

impl Hs256Tokens {
    /// Tokens signed with `secret` (any length; use at least 32 random
    /// bytes) that expire `ttl_seconds` after issue, by `clock`.
    ///
    /// ```
    /// use frontrow_adapters::auth::Hs256Tokens;
    /// use frontrow_application::clock::SystemClock;
    /// use frontrow_application::users::AccessTokens;
    /// use frontrow_domain::user::SessionId;
    /// use frontrow_domain::UserId;
    /// use std::sync::Arc;
    ///
    /// let clock = Arc::new(SystemClock);
    /// let tokens = Hs256Tokens::new(b"a secret every instance shares", 86_400, clock.clone());
    /// let ada = UserId::from_store(7);
    /// let token = tokens.issue(ada, SessionId::from_store(1));
    /// assert_eq!(tokens.verify(&token).map(|c| c.user), Some(ada));
    /// assert_eq!(Hs256Tokens::new(b"another secret", 86_400, clock).verify(&token), None);
    /// ```
    pub fn new(secret: &[u8], ttl_seconds: i64, clock: Arc<dyn Clock>) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let key = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        Self {
            key,
            ttl_seconds,
            encoded_header: B64.encode(HEADER),
            clock,
        }
    }

    fn signature(&self, signing_input: &str) -> Vec<u8> {
        let mut mac = self.key.clone();
        mac.update(signing_input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl AccessTokens for Hs256Tokens {
    fn issue(&self, user: UserId, session: SessionId) -> String {
        let now = self.clock.now().millis() / 1000;
        let claims = Claims {
            sub: user.to_string(),
            sid: Some(session.get()),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        let claims = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!("{}.{}", self.encoded_header, B64.encode(claims));
        let signature = B64.encode(self.signature(&signing_input));
        format!("{signing_input}.{signature}")
    }

    fn verify(&self, token: &str) -> Option<AccessClaims> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, claims) = signing_input.split_once('.')?;
        if header != self.encoded_header {
            return None; // only our own alg: no "none", no algorithm confusion
        }
        let mut mac = self.key.clone();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&B64.decode(signature).ok()?).ok()?;
        let claims: Claims = serde_json::from_slice(&B64.decode(claims).ok()?).ok()?;
        if claims.exp <= self.clock.now().millis() / 1000 {
            return None;
        }
        Some(AccessClaims {
            user: UserId::parse(claims.sub.parse().ok()?)?,
            session: claims.sid.map(SessionId::from_store),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_application::clock::SystemClock;

    const SID: SessionId = SessionId::from_store(3);

    struct At(std::sync::atomic::AtomicI64);

    impl Clock for At {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
        }
    }

    #[test]
    fn an_access_token_expires_by_the_clock_it_was_given() {
        let clock = Arc::new(At(std::sync::atomic::AtomicI64::new(1_000_000)));
        let tokens = Hs256Tokens::new(b"s", 60, clock.clone());
        let token = tokens.issue(UserId::from_store(1), SID);
        clock
            .0
            .store(1_000_000 + 59_000, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            tokens.verify(&token).map(|c| c.user),
            Some(UserId::from_store(1))
        );
        clock
            .0
            .store(1_000_000 + 60_000, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(tokens.verify(&token), None);
    }

    #[test]
    fn a_token_verifies_only_with_its_own_secret() {
        let tokens = Hs256Tokens::new(b"secret-one", 3600, Arc::new(SystemClock));
        let token = tokens.issue(UserId::from_store(42), SID);
        assert_eq!(
            tokens.verify(&token).map(|c| c.user),
            Some(UserId::from_store(42))
        );
        assert_eq!(
            Hs256Tokens::new(b"secret-two", 3600, Arc::new(SystemClock)).verify(&token),
            None
        );
    }

    #[test]
    fn a_tampered_or_expired_token_is_refused() {
        let tokens = Hs256Tokens::new(b"s", 3600, Arc::new(SystemClock));
        let token = tokens.issue(UserId::from_store(1), SID);
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_claims = B64.encode(r#"{"sub":"2","iat":0,"exp":99999999999}"#);
        assert_eq!(
            tokens.verify(&format!("{head}.{forged_claims}.{sig}")),
            None
        );
        assert_eq!(tokens.verify("not-a-token"), None);
        assert_eq!(tokens.verify(""), None);
        let expired =
            Hs256Tokens::new(b"s", -1, Arc::new(SystemClock)).issue(UserId::from_store(1), SID);
        assert_eq!(tokens.verify(&expired), None);
    }

    #[test]
    fn a_token_names_its_session_and_one_from_before_sessions_still_verifies() {
        let tokens = Hs256Tokens::new(b"s", 3600, Arc::new(SystemClock));
        let claims = tokens.verify(&tokens.issue(UserId::from_store(1), SID));
        assert_eq!(claims.and_then(|c| c.session), Some(SID));
        // What the issuer signed before sessions: no `sid` claim.
        let old_claims = B64.encode(r#"{"sub":"1","iat":0,"exp":99999999999}"#);
        let input = format!("{}.{old_claims}", tokens.encoded_header);
        let old = format!("{input}.{}", B64.encode(tokens.signature(&input)));
        let claims = tokens.verify(&old).unwrap();
        assert_eq!((claims.user, claims.session), (UserId::from_store(1), None));
    }
}

/// Queue tokens sealed with HMAC-SHA256: `concert.user.issued_ms.nonce.mac`,
/// where the nonce is 64 random bits (hex) and the mac is the first 128 bits
/// (hex) of HMAC(key, "concert.user.issued_ms.nonce"). A token names its
/// concert, so a store can find its room from the token alone, and a forged
/// or altered one is refused without asking any store.
///
/// Keys rotate: tokens are issued under the current key and accepted under
/// it or the previous one, so an operator can deploy a new key with the old
/// one as previous, and drop the previous one once every live token has been
/// reissued (a token lives as long as its place, at most a day).
pub struct HmacQueueSeal {
    current: Hmac<Sha256>,
    previous: Option<Hmac<Sha256>>,
}

/// A key for one purpose derived from a secret kept for another: the hex
/// HMAC of `label` under `secret`, so the two keys are never the same.
pub fn derive_key(secret: &str, label: &str) -> String {
    let key =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    hex(&HmacQueueSeal::mac(&key, label).finalize().into_bytes())
}

/// Bytes of the mac kept in a token: 128 bits.
const QUEUE_MAC_BYTES: usize = 16;

impl HmacQueueSeal {
    /// Seals under `current` and also opens tokens sealed under `previous`
    /// (during a key rotation). Every instance must share the keys.
    ///
    /// ```
    /// use frontrow_adapters::auth::HmacQueueSeal;
    /// use frontrow_application::queue::QueueTokenSeal;
    /// use frontrow_application::StoreError;
    /// use frontrow_domain::{ConcertId, Timestamp, UserId};
    ///
    /// let old = HmacQueueSeal::new(b"last month's key", None);
    /// let token = old.issue(ConcertId::from_store(1), UserId::from_store(7), Timestamp(0))?;
    ///
    /// let rotated = HmacQueueSeal::new(b"this month's key", Some(b"last month's key"));
    /// assert_eq!(rotated.open(&token).map(|c| c.user), Some(UserId::from_store(7)));
    /// assert_eq!(HmacQueueSeal::new(b"this month's key", None).open(&token), None);
    /// # Ok::<(), StoreError>(())
    /// ```
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let key = |secret: &[u8]| {
            <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
        };
        Self {
            current: key(current),
            previous: previous.map(key),
        }
    }

    fn mac(key: &Hmac<Sha256>, body: &str) -> Hmac<Sha256> {
        let mut mac = key.clone();
        mac.update(body.as_bytes());
        mac
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl QueueTokenSeal for HmacQueueSeal {
    fn issue(
        &self,
        concert: ConcertId,
        user: UserId,
        now: Timestamp,
    ) -> Result<QueueToken, StoreError> {
        let nonce = crate::random::bytes16().or_store()?;
        let claims = QueueClaims {
            concert,
            user,
            issued_at: now,
        };
        let body = format!("{}.{}", claims.spelled(), hex(&nonce[..8]));
        let mac = Self::mac(&self.current, &body).finalize().into_bytes();
        let token = format!("{body}.{}", hex(&mac[..QUEUE_MAC_BYTES]));
        QueueToken::parse(&token).ok_or_else(|| StoreError::new("a queue token too long"))
    }

    fn open(&self, token: &QueueToken) -> Option<QueueClaims> {
        let (body, mac) = token.as_str().rsplit_once('.')?;
        let mac = unhex(mac).filter(|m| m.len() == QUEUE_MAC_BYTES)?;
        let genuine = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .any(|key| Self::mac(key, body).verify_truncated_left(&mac).is_ok());
        if !genuine {
            return None;
        }
        QueueClaims::read(token)
    }
}

#[cfg(test)]
mod seal_tests {
    use super::*;

    fn issue(seal: &HmacQueueSeal) -> QueueToken {
        seal.issue(
            ConcertId::from_store(7),
            UserId::from_store(42),
            Timestamp(1_700_000_000_000),
        )
        .unwrap()
    }

    #[test]
    fn a_sealed_token_names_its_concert_and_holder() {
        let seal = HmacQueueSeal::new(b"key", None);
        let claims = seal.open(&issue(&seal)).unwrap();
        assert_eq!(claims.concert, ConcertId::from_store(7));
        assert_eq!(claims.user, UserId::from_store(42));
        assert_eq!(claims.issued_at, Timestamp(1_700_000_000_000));
    }

    #[test]
    fn an_altered_or_forged_token_does_not_open() {
        let seal = HmacQueueSeal::new(b"key", None);
        let token = issue(&seal);
        let altered = token.as_str().replacen("7.42.", "7.43.", 1);
        assert!(seal.open(&QueueToken::parse(&altered).unwrap()).is_none());
        let other = HmacQueueSeal::new(b"another key", None);
        assert!(seal.open(&issue(&other)).is_none());
        let truncated = &token.as_str()[..token.as_str().len() - 2];
        assert!(seal.open(&QueueToken::parse(truncated).unwrap()).is_none());
    }

    #[test]
    fn a_rotated_key_keeps_old_tokens_valid_until_it_is_dropped() {
        let old = HmacQueueSeal::new(b"old", None);
        let token = issue(&old);
        let rotated = HmacQueueSeal::new(b"new", Some(b"old"));
        assert!(rotated.open(&token).is_some());
        assert!(rotated.open(&issue(&rotated)).is_some());
        let dropped = HmacQueueSeal::new(b"new", None);
        assert!(dropped.open(&token).is_none());
    }
}
