//! Ticket buyers.

use thiserror::Error;

/// The longest display name, in characters (not bytes).
pub const MAX_NAME_CHARS: usize = 100;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserError {
    /// Blank, invisible, too long, or holding control characters.
    #[error("name must be 1 to {MAX_NAME_CHARS} characters and not blank")]
    InvalidName,
    /// Shorter than [`MIN_PASSWORD_CHARS`] or longer than [`MAX_PASSWORD_CHARS`].
    #[error("password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    InvalidPassword,
}

/// The shortest password accepted: NIST SP 800-63B's floor for a
/// memorised secret chosen by its owner.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The longest password accepted, in characters: long passphrases fit,
/// while the hash's input stays small.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A display name: trimmed, non-empty, at most [`MAX_NAME_CHARS`]
/// characters, with at least one that shows (see
/// [`visible_text`](crate::text::visible_text)).
///
/// ```
/// use frontrow_domain::user::{UserError, UserName};
///
/// assert_eq!(UserName::parse("  ada ")?.as_str(), "ada");
/// assert_eq!(UserName::parse("   "), Err(UserError::InvalidName));
/// # Ok::<(), UserError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    /// The name as typed, trimmed; [`UserError::InvalidName`] if nothing
    /// printable is left or it is too long.
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        crate::text::visible_text(raw, MAX_NAME_CHARS)
            .map(|name| Self(name.to_owned()))
            .ok_or(UserError::InvalidName)
    }

    /// The trimmed name, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl UserName {
    /// What sign-in compares: the name in lower case, so "Ada" signs in as
    /// the "ada" who signed up (a phone capitalises the first letter on its
    /// own) and two accounts cannot differ by case alone.
    ///
    /// ```
    /// use frontrow_domain::user::UserName;
    ///
    /// assert_eq!(UserName::parse(" Ada ")?.sign_in_key(), "ada");
    /// # Ok::<(), frontrow_domain::user::UserError>(())
    /// ```
    pub fn sign_in_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A password as typed, kept exactly (spaces count): its `Debug` never
/// shows it, so it cannot reach a log.
///
/// ```
/// use frontrow_domain::user::{Password, UserError};
///
/// let password = Password::parse("correct horse")?;
/// assert_eq!(format!("{password:?}"), "Password(..)");
/// assert_eq!(Password::parse("short").err(), Some(UserError::InvalidPassword));
/// # Ok::<(), UserError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// [`UserError::InvalidPassword`] unless it has from
    /// [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters.
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        let chars = raw.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(UserError::InvalidPassword)
        }
    }

    /// The password, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// One signed-in session: what an access token names beside its user, so
/// that signing out can end it. Issued by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(i64);

impl SessionId {
    /// The id as the store issued it.
    pub const fn from_store(id: i64) -> Self {
        Self(id)
    }

    /// The id as stored and as carried in a token.
    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            UserName::parse("  ada ").map(|n| n.as_str().to_owned()),
            Ok("ada".into())
        );
        assert_eq!(UserName::parse("   "), Err(UserError::InvalidName));
        assert_eq!(UserName::parse(""), Err(UserError::InvalidName));
        assert_eq!(UserName::parse("a\u{0}b"), Err(UserError::InvalidName));
        assert_eq!(
            UserName::parse("\u{200B}\u{200B}"),
            Err(UserError::InvalidName)
        );
        assert!(UserName::parse(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert_eq!(
            UserName::parse(&"x".repeat(MAX_NAME_CHARS + 1)),
            Err(UserError::InvalidName)
        );
    }

    #[test]
    fn a_password_is_bounded_kept_as_typed_and_never_printed() {
        assert_eq!(
            Password::parse("1234567").err(),
            Some(UserError::InvalidPassword)
        );
        assert_eq!(
            Password::parse(" spaced out ").map(|p| p.expose().to_owned()),
            Ok(" spaced out ".into())
        );
        assert!(Password::parse(&"é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(MAX_PASSWORD_CHARS + 1)).err(),
            Some(UserError::InvalidPassword)
        );
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[test]
    fn names_sign_in_whatever_their_case() {
        let typed = UserName::parse("ÉLODIE").unwrap();
        let stored = UserName::parse("élodie").unwrap();
        assert_eq!(typed.sign_in_key(), stored.sign_in_key());
    }
}
