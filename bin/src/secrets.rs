//! Secrets: the admin key, the access-token key, the queue-token seal and
//! the ticket-signing key.
//!
//! With MySQL every instance must share them, so each is required as a flag.
//! The embedded default generates each once into `--data-dir`, in a file
//! readable by its owner only from the first byte on; failing to create it
//! so is an error, never a secret left readable.

use crate::config::Config;
use anyhow::{Context, bail};
use frontrow_adapters::auth::{HmacQueueSeal, derive_key};
use frontrow_adapters::challenges::AltchaSigner;
use frontrow_adapters::sql::Backend;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;

/// The secrets the service runs with, each shown by nothing but an
/// explicit `expose_secret` where it is used.
pub(crate) struct Secrets {
    /// `X-Admin-Key` of the admin API.
    pub admin_key: SecretString,
    /// The HS256 key of access tokens.
    pub jwt_secret: SecretString,
    /// What the Ed25519 key of ticket codes is derived from.
    pub ticket_signing_key: SecretString,
}

impl Secrets {
    /// From the flags, or (embedded only) from files generated once.
    pub(crate) fn read(config: &Config, backend: Backend) -> anyhow::Result<Self> {
        let jwt_secret = secret(
            config,
            &config.jwt_secret,
            "jwt-secret",
            "--jwt-secret / FRONTROW_JWT_SECRET",
            backend,
        )?;
        // With MySQL every instance already shares the JWT secret, so a key
        // derived from it (under its own label) signs alike everywhere
        // without one more required flag; embedded, it is its own file.
        let ticket_signing_key = match &config.ticket_signing_key {
            Some(given) if !given.expose_secret().is_empty() => given.clone(),
            _ if backend == Backend::MySql => {
                derive_key(jwt_secret.expose_secret(), "frontrow ticket codes").into()
            }
            _ => read_or_create_secret(&config.data_dir.join("ticket-signing-key"))?.into(),
        };
        Ok(Self {
            ticket_signing_key,
            jwt_secret,
            admin_key: secret(
                config,
                &config.admin_key,
                "admin-key",
                "--admin-key / FRONTROW_ADMIN_KEY",
                backend,
            )?,
        })
    }

    /// The door's challenge signer: two keys derived from the JWT secret
    /// (which every instance shares) under labels of their own, one for
    /// challenges and one for the derived keys they expect.
    pub(crate) fn door_signer(&self) -> AltchaSigner {
        let key = |label| derive_key(self.jwt_secret.expose_secret(), label).into();
        AltchaSigner::new(
            key("frontrow door challenges"),
            key("frontrow door challenge keys"),
        )
    }

    /// The queue-token seal: the configured key, or one derived from the JWT
    /// secret (an HMAC of a fixed label, so the two keys are never the same).
    pub(crate) fn queue_seal(&self, config: &Config) -> HmacQueueSeal {
        let given = |secret: &Option<SecretString>| {
            secret.clone().filter(|s| !s.expose_secret().is_empty())
        };
        let current = given(&config.queue_token_secret).unwrap_or_else(|| {
            derive_key(self.jwt_secret.expose_secret(), "frontrow queue tokens").into()
        });
        let previous = given(&config.queue_token_previous_secret);
        HmacQueueSeal::new(
            current.expose_secret().as_bytes(),
            previous.as_ref().map(|key| key.expose_secret().as_bytes()),
        )
    }
}

/// A secret from its flag, or (embedded only) from a file generated once.
fn secret(
    config: &Config,
    given: &Option<SecretString>,
    file: &str,
    flag: &str,
    backend: Backend,
) -> anyhow::Result<SecretString> {
    if let Some(secret) = given.as_ref().filter(|s| !s.expose_secret().is_empty()) {
        return Ok(secret.clone());
    }
    if backend == Backend::MySql {
        bail!(
            "{flag} is required when DATABASE_URL points at MySQL (every instance must share it)"
        );
    }
    read_or_create_secret(&config.data_dir.join(file)).map(SecretString::from)
}

fn read_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().to_owned());
    }
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let secret = format!(
        "{}{}",
        frontrow_adapters::random::hex32()?,
        frontrow_adapters::random::hex32()?
    );
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        file.mode(0o600);
    }
    use std::io::Write;
    file.open(path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

/// Creates `dir` (and its missing parents) readable by its owner only
/// (0700). A folder that already exists is left as the operator made it.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes `path` a file readable by its owner only (0600): created so when
/// missing (the mode is set at creation, so no byte is ever readable by
/// others), and narrowed when an older version left it wider.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        file.mode(0o600);
    }
    let file = file.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::read_or_create_secret;

    #[test]
    fn a_generated_secret_is_kept_and_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("frontrow-secret-{}", std::process::id()));
        let path = dir.join("jwt-secret");
        let _ = std::fs::remove_file(&path);
        let first = read_or_create_secret(&path).expect("created");
        assert_eq!(first.len(), 64);
        assert_eq!(read_or_create_secret(&path).expect("read back"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
