//! Unguessable identifiers from the operating system's CSPRNG.

/// 16 random bytes. The OS generator failing is unrecoverable and never the
/// caller's fault, so it falls back to time-and-address entropy rather than
/// panic on a request path; the fallback is logged.
pub fn bytes16() -> [u8; 16] {
    let mut buf = [0u8; 16];
    if let Err(error) = getrandom::getrandom(&mut buf) {
        tracing::error!(%error, "OS random source failed; using a weaker fallback");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        buf = (nanos ^ (&buf as *const _ as usize as u128)).to_le_bytes();
    }
    buf
}

/// 32 lowercase hex characters.
pub fn hex32() -> String {
    bytes16().iter().map(|b| format!("{b:02x}")).collect()
}
