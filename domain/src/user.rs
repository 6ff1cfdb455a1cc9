//! Ticket buyers.

use thiserror::Error;

pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserError {
    #[error("name must be 1 to {MAX_NAME_CHARS} characters and not blank")]
    InvalidName,
}

/// A display name: trimmed, non-empty, at most `MAX_NAME_CHARS` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, UserError> {
        crate::text::visible_text(raw, MAX_NAME_CHARS)
            .map(|name| Self(name.to_owned()))
            .ok_or(UserError::InvalidName)
    }

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
