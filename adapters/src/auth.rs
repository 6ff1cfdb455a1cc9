//! The built-in access-token issuer: HS256-signed JWTs (RFC 7519) whose `sub`
//! is the user id. To use an external identity provider instead, implement
//! `AccessTokens::verify` against its keys (e.g. RS256 with its JWKS) and
//! wire that in `bin/` in place of `Hs256Tokens`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use frontrow_application::users::AccessTokens;
use frontrow_application::{Clock, clock::SystemClock};
use frontrow_domain::UserId;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The fixed JOSE header of every token we issue.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

pub struct Hs256Tokens {
    key: Hmac<Sha256>,
    ttl_seconds: i64,
    /// `HEADER` as it appears in every token we issue; compared as text, so
    /// a token's header is never decoded.
    encoded_header: String,
}

impl Hs256Tokens {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let key = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        Self {
            key,
            ttl_seconds,
            encoded_header: B64.encode(HEADER),
        }
    }

    fn signature(&self, signing_input: &str) -> Vec<u8> {
        let mut mac = self.key.clone();
        mac.update(signing_input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl AccessTokens for Hs256Tokens {
    fn issue(&self, user: UserId) -> String {
        let now = SystemClock.now().millis() / 1000;
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        let claims = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!("{}.{}", self.encoded_header, B64.encode(claims));
        let signature = B64.encode(self.signature(&signing_input));
        format!("{signing_input}.{signature}")
    }

    fn verify(&self, token: &str) -> Option<UserId> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, claims) = signing_input.split_once('.')?;
        if header != self.encoded_header {
            return None; // only our own alg: no "none", no algorithm confusion
        }
        let mut mac = self.key.clone();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&B64.decode(signature).ok()?).ok()?;
        let claims: Claims = serde_json::from_slice(&B64.decode(claims).ok()?).ok()?;
        if claims.exp <= SystemClock.now().millis() / 1000 {
            return None;
        }
        UserId::parse(claims.sub.parse().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_own_secret() {
        let tokens = Hs256Tokens::new(b"secret-one", 3600);
        let token = tokens.issue(UserId::from_store(42));
        assert_eq!(tokens.verify(&token), Some(UserId::from_store(42)));
        assert_eq!(Hs256Tokens::new(b"secret-two", 3600).verify(&token), None);
    }

    #[test]
    fn a_tampered_or_expired_token_is_refused() {
        let tokens = Hs256Tokens::new(b"s", 3600);
        let token = tokens.issue(UserId::from_store(1));
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_claims = B64.encode(r#"{"sub":"2","iat":0,"exp":99999999999}"#);
        assert_eq!(
            tokens.verify(&format!("{head}.{forged_claims}.{sig}")),
            None
        );
        assert_eq!(tokens.verify("not-a-token"), None);
        assert_eq!(tokens.verify(""), None);
        let expired = Hs256Tokens::new(b"s", -1).issue(UserId::from_store(1));
        assert_eq!(tokens.verify(&expired), None);
    }
}
