//! Ticket codes a door scanner checks offline: Ed25519 signatures over a
//! fixed 40-byte payload, published key at `GET /api/v1/tickets/public-key`.
//!
//! A code is `FRT1.` followed by base64url (no padding) of
//! `payload (40 bytes) || signature (64 bytes)`; the payload is five
//! big-endian `i64`s: reservation id, schedule id, seat number, user id,
//! and the performance's start in Unix seconds. The signature covers the
//! prefix too, so a code of another format version cannot pass as this one.
//! [`verify`] is the one place the rule lives; a scanner in another
//! language copies it (see `docs/architecture.md`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// What every code starts with; the `1` is the payload's version.
pub const PREFIX: &str = "FRT1.";
const PAYLOAD_LEN: usize = 40;
const SIGNATURE_LEN: usize = 64;

/// What a ticket code says: who may enter, for which seat and performance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketClaims {
    /// The paid reservation.
    pub reservation: i64,
    /// The performance.
    pub schedule: i64,
    /// The seat.
    pub seat: i64,
    /// The holder.
    pub user: i64,
    /// When the performance starts (Unix seconds): a scanner refuses
    /// a code for another day without asking anyone.
    pub starts_at: i64,
}

impl TicketClaims {
    fn to_bytes(self) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        let fields = [
            self.reservation,
            self.schedule,
            self.seat,
            self.user,
            self.starts_at,
        ];
        for (chunk, field) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&field.to_be_bytes());
        }
        out
    }

    fn from_bytes(bytes: &[u8; PAYLOAD_LEN]) -> Self {
        let mut fields = [0i64; 5];
        for (field, chunk) in fields.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut be = [0u8; 8];
            be.copy_from_slice(chunk);
            *field = i64::from_be_bytes(be);
        }
        let [reservation, schedule, seat, user, starts_at] = fields;
        Self {
            reservation,
            schedule,
            seat,
            user,
            starts_at,
        }
    }
}

/// Why a code was refused. A scanner treats every variant the same (no
/// entry); they differ only for its log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TicketCodeError {
    /// Not `FRT1.` + base64url of 104 bytes.
    #[error("not a frontrow ticket code")]
    Malformed,
    /// The public key is not 32 base64url bytes of a valid Ed25519 point.
    #[error("not an Ed25519 public key")]
    BadKey,
    /// Altered, forged, or signed with another key.
    #[error("the signature does not match")]
    BadSignature,
}

/// Signs ticket codes with the service's key.
pub struct TicketSigner {
    // Never printed: `Debug` below shows the public half only.
    key: SigningKey,
}

impl std::fmt::Debug for TicketSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketSigner")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl TicketSigner {
    /// The key from a secret of any length: its SHA-256 is the Ed25519
    /// seed, so an operator may supply any long random string (like the
    /// other secrets) and every instance given it signs alike.
    pub fn from_secret(secret: &str) -> Self {
        let seed: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key, base64url without padding (32 bytes).
    pub fn public_key(&self) -> String {
        B64.encode(self.key.verifying_key().as_bytes())
    }

    /// The code for `claims`.
    pub fn sign(&self, claims: TicketClaims) -> String {
        let payload = claims.to_bytes();
        let signature = self.key.sign(&signed_message(&payload));
        let mut raw = Vec::with_capacity(PAYLOAD_LEN + SIGNATURE_LEN);
        raw.extend_from_slice(&payload);
        raw.extend_from_slice(&signature.to_bytes());
        format!("{PREFIX}{}", B64.encode(raw))
    }
}

/// What is signed: the prefix, then the payload.
fn signed_message(payload: &[u8; PAYLOAD_LEN]) -> Vec<u8> {
    let mut message = Vec::with_capacity(PREFIX.len() + PAYLOAD_LEN);
    message.extend_from_slice(PREFIX.as_bytes());
    message.extend_from_slice(payload);
    message
}

/// The claims of `code` when the key published as `public_key` (base64url)
/// signed it. Strict verification: rejects malleable and small-order
/// signatures as well as any altered byte.
pub fn verify(code: &str, public_key: &str) -> Result<TicketClaims, TicketCodeError> {
    let key: [u8; 32] = B64
        .decode(public_key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(TicketCodeError::BadKey)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| TicketCodeError::BadKey)?;
    let raw = code
        .trim()
        .strip_prefix(PREFIX)
        .and_then(|body| B64.decode(body).ok())
        .filter(|raw| raw.len() == PAYLOAD_LEN + SIGNATURE_LEN)
        .ok_or(TicketCodeError::Malformed)?;
    let (payload, signature) = raw.split_at(PAYLOAD_LEN);
    let payload: [u8; PAYLOAD_LEN] = payload.try_into().map_err(|_| TicketCodeError::Malformed)?;
    let signature = Signature::from_slice(signature).map_err(|_| TicketCodeError::Malformed)?;
    key.verify_strict(&signed_message(&payload), &signature)
        .map_err(|_| TicketCodeError::BadSignature)?;
    Ok(TicketClaims::from_bytes(&payload))
}

/// `code` as a QR code, an SVG document (black on white, with the quiet
/// zone) that scales to its box.
pub fn qr_svg(code: &str) -> Result<String, qrcode::types::QrError> {
    let qr = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M)?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIMS: TicketClaims = TicketClaims {
        reservation: 7,
        schedule: 3,
        seat: 12,
        user: 42,
        starts_at: 1_800_000_000,
    };

    #[test]
    fn a_signed_code_verifies_with_the_published_key() {
        let signer = TicketSigner::from_secret("door key");
        let code = signer.sign(CLAIMS);
        assert!(code.starts_with(PREFIX));
        assert_eq!(verify(&code, &signer.public_key()), Ok(CLAIMS));
    }

    #[test]
    fn an_altered_forged_or_other_key_code_is_refused() {
        let signer = TicketSigner::from_secret("door key");
        let key = signer.public_key();
        let code = signer.sign(CLAIMS);

        // One payload character changed (the seat, say).
        let mut altered = code.clone().into_bytes();
        let at = PREFIX.len() + 30;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert_eq!(verify(&altered, &key), Err(TicketCodeError::BadSignature));

        // Another key's code for the same seat.
        let other = TicketSigner::from_secret("someone else").sign(CLAIMS);
        assert_eq!(verify(&other, &key), Err(TicketCodeError::BadSignature));

        // A forged code: a payload with no valid signature.
        let forged = format!("{PREFIX}{}", B64.encode([0u8; 104]));
        assert!(verify(&forged, &key).is_err());

        assert_eq!(verify("hello", &key), Err(TicketCodeError::Malformed));
        assert_eq!(verify(&code, "short"), Err(TicketCodeError::BadKey));
    }

    #[test]
    fn the_qr_is_an_svg_with_no_script() {
        let svg = qr_svg(&TicketSigner::from_secret("k").sign(CLAIMS)).expect("fits");
        assert!(svg.contains("<svg"));
        assert!(!svg.contains("<script"));
    }
}
