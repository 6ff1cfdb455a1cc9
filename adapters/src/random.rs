//! Unguessable identifiers from the operating system's CSPRNG.
//!
//! Queue tokens and event ids are bearer values: when the OS generator
//! fails there is no safe substitute, so these fail too (a request then gets
//! 503) instead of falling back to guessable entropy.

/// 16 random bytes from the OS.
pub fn bytes16() -> std::io::Result<[u8; 16]> {
    let mut buf = [0u8; 16];
    getrandom::getrandom(&mut buf).map_err(std::io::Error::other)?;
    Ok(buf)
}

/// 32 lowercase hex characters.
pub fn hex32() -> std::io::Result<String> {
    Ok(bytes16()?.iter().map(|b| format!("{b:02x}")).collect())
}
