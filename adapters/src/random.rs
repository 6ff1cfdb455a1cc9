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

/// Where a pre-queued place's secret draw comes from (see
/// `frontrow_domain::queue::SaleOpening`): the OS generator, or a fixed seed
/// for tests that must not flake. Draws are 53 bits, so that a Redis score
/// (a double) holds one exactly.
pub struct Draws(Option<parking_lot::Mutex<rand::rngs::StdRng>>);

impl Draws {
    /// Draws from the OS generator: what production uses.
    pub fn os() -> Self {
        Self(None)
    }

    /// A repeatable sequence from `seed`, for tests of the shuffle.
    pub fn seeded(seed: u64) -> Self {
        use rand::SeedableRng;
        Self(Some(parking_lot::Mutex::new(
            rand::rngs::StdRng::seed_from_u64(seed),
        )))
    }

    /// The next draw, below 2^53; fails only when the OS generator does.
    pub fn next(&self) -> std::io::Result<u64> {
        let raw = match &self.0 {
            None => u64::from_le_bytes(bytes16()?[..8].try_into().map_err(std::io::Error::other)?),
            Some(rng) => {
                use rand::RngCore;
                rng.lock().next_u64()
            }
        };
        Ok(raw >> 11)
    }
}
