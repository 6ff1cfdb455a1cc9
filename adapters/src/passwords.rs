//! Passwords stored as Argon2id hashes (RFC 9106), the memory-hard function
//! the Password Hashing Competition chose and OWASP recommends: guessing
//! a stolen hash costs each guess 19 MiB of memory and several passes over
//! it, which GPUs and ASICs cannot cut short the way they cut SHA-256.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use frontrow_application::StoreError;
use frontrow_application::store::OrStoreError;
use frontrow_application::users::{PasswordHash, PasswordHasher};
use frontrow_domain::user::Password;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// OWASP's first Argon2id setting: 19 MiB, 2 passes, 1 lane. About 50 ms
/// per hash on one core of the project's 2-core machine in a debug build,
/// less in release (`a_hash_takes_tens_of_milliseconds_not_seconds`).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;

/// Argon2id hashing and checking, off the async runtime: each hash runs on
/// tokio's blocking pool (`spawn_blocking`), and at most as many run at once
/// as the machine has cores, so a burst of sign-ups queues instead of
/// taking all memory (each hash holds `MEMORY_KIB`) or starving requests.
#[derive(Clone)]
pub struct Argon2Passwords(Arc<Inner>);

struct Inner {
    argon2: Argon2<'static>,
    /// Hashes running at once.
    running: Semaphore,
    /// What an unknown name is checked against, so it costs what a known
    /// one does; made on first use.
    decoy: OnceLock<String>,
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self::with_cost(MEMORY_KIB, ITERATIONS)
    }
}

impl Argon2Passwords {
    /// Argon2id with `memory_kib` of memory and `iterations` passes (tests
    /// use less; hashes made with other costs still verify, since each
    /// stored hash names its own).
    ///
    /// ```
    /// use frontrow_adapters::passwords::Argon2Passwords;
    /// use frontrow_application::users::PasswordHasher;
    /// use frontrow_domain::user::Password;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let passwords = Argon2Passwords::with_cost(1024, 1);
    /// let right = Password::parse("correct horse")?;
    /// let hash = passwords.hash(&right).await?;
    /// assert!(hash.0.starts_with("$argon2id$"));
    /// assert!(passwords.verify(&right, Some(hash.clone())).await?);
    /// assert!(!passwords.verify(&Password::parse("wrong horse")?, Some(hash)).await?);
    /// # Ok(()) }
    /// ```
    pub fn with_cost(memory_kib: u32, iterations: u32) -> Self {
        // Out-of-range costs fall back to the library's defaults (which are
        // OWASP's), never to something weaker.
        let params = Params::new(memory_kib, iterations, 1, None).unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self(Arc::new(Inner {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            running: Semaphore::new(cores),
            decoy: OnceLock::new(),
        }))
    }

    /// Runs `work` on the blocking pool, once a hashing permit is free.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self.0.running.acquire().await.or_store()?;
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .or_store()?
    }
}

impl Inner {
    fn hash(&self, password: &str) -> Result<String, StoreError> {
        let salt = SaltString::encode_b64(&crate::random::bytes16().or_store()?).or_store()?;
        let hash = self
            .argon2
            .hash_password(password.as_bytes(), &salt)
            .or_store()?;
        Ok(hash.to_string())
    }

    fn verify(&self, password: &str, stored: &str) -> Result<bool, StoreError> {
        // A stored hash that does not parse is a broken store, not a wrong
        // password.
        let parsed = argon2::password_hash::PasswordHash::new(stored).or_store()?;
        Ok(self
            .argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    }

    fn decoy(&self) -> Result<&str, StoreError> {
        if let Some(decoy) = self.decoy.get() {
            return Ok(decoy);
        }
        let made = self.hash("a password nobody has")?;
        Ok(self.decoy.get_or_init(|| made))
    }
}

#[async_trait]
impl PasswordHasher for Argon2Passwords {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, StoreError> {
        let password = password.clone();
        let hash = self.blocking(move |inner| inner.hash(password.expose()));
        Ok(PasswordHash(hash.await?))
    }

    async fn verify(
        &self,
        password: &Password,
        hash: Option<PasswordHash>,
    ) -> Result<bool, StoreError> {
        let password = password.clone();
        let stored = hash.map(|h| h.0);
        self.blocking(move |inner| match stored {
            Some(stored) => inner.verify(password.expose(), &stored),
            None => {
                let decoy = inner.decoy()?.to_owned();
                inner.verify(password.expose(), &decoy).map(|_| false)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn password(text: &str) -> Password {
        Password::parse(text).unwrap()
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_and_both_verify() {
        let passwords = Argon2Passwords::with_cost(1024, 1);
        let right = password("correct horse");
        let (a, b) = (
            passwords.hash(&right).await.unwrap(),
            passwords.hash(&right).await.unwrap(),
        );
        assert_ne!(a, b, "each hash has its own salt");
        assert!(passwords.verify(&right, Some(a.clone())).await.unwrap());
        assert!(passwords.verify(&right, Some(b)).await.unwrap());
        assert!(
            !passwords
                .verify(&password("correct horsf"), Some(a))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_decoy_check_is_false_and_costs_what_a_real_one_does() {
        let passwords = Argon2Passwords::default();
        let right = password("correct horse");
        let hash = passwords.hash(&right).await.unwrap();
        assert!(!passwords.verify(&right, None).await.unwrap());
        let timed = |stored: Option<PasswordHash>| {
            let passwords = passwords.clone();
            let right = right.clone();
            async move {
                let start = Instant::now();
                for _ in 0..3 {
                    passwords.verify(&right, stored.clone()).await.unwrap();
                }
                start.elapsed()
            }
        };
        let (real, decoy) = (timed(Some(hash)).await, timed(None).await);
        let ratio = real.as_secs_f64() / decoy.as_secs_f64();
        assert!(
            (0.5..2.0).contains(&ratio),
            "real {real:?}, decoy {decoy:?}"
        );
    }

    #[tokio::test]
    async fn a_hash_takes_tens_of_milliseconds_not_seconds() {
        let passwords = Argon2Passwords::default();
        let start = Instant::now();
        let hash = passwords.hash(&password("correct horse")).await.unwrap();
        let took = start.elapsed();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(took < Duration::from_secs(1), "{took:?}");
    }

    #[tokio::test]
    async fn a_stored_hash_that_does_not_parse_is_a_store_failure() {
        let passwords = Argon2Passwords::with_cost(1024, 1);
        let broken = PasswordHash("not a phc string".into());
        assert!(
            passwords
                .verify(&password("correct horse"), Some(broken))
                .await
                .is_err()
        );
    }
}
