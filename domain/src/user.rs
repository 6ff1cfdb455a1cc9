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
}

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
}
