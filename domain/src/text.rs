//! Text people type: names and titles.

/// True for a character that shows nothing: whitespace, controls and the
/// invisible format characters (zero-width space and joiners, the word
/// joiner and invisible operators, the byte-order mark, the soft hyphen).
pub fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
        )
}

/// `raw` trimmed, if it has from 1 to `max` characters, no control
/// characters, and at least one that shows.
///
/// A name made only of zero-width characters would print as nothing on a
/// ticket or in an operator's list, so it is refused like a blank one.
///
/// ```
/// use frontrow_domain::text::visible_text;
///
/// assert_eq!(visible_text("  Ada  ", 10), Some("Ada"));
/// assert_eq!(visible_text("\u{200B}\u{200D}", 10), None); // zero-width only
/// assert_eq!(visible_text("Ada Lovelace", 3), None);     // too long
/// ```
pub fn visible_text(raw: &str, max: usize) -> Option<&str> {
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    let shows = trimmed.chars().any(|c| !invisible(c));
    (chars <= max && shows && !trimmed.chars().any(char::is_control)).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_must_show_something() {
        assert_eq!(visible_text(" ada ", 10), Some("ada"));
        assert_eq!(visible_text("\u{200B}\u{200D}", 10), None);
        assert_eq!(visible_text("\u{FEFF} ", 10), None);
        assert_eq!(visible_text("a\u{0}b", 10), None);
        assert_eq!(visible_text("abc", 2), None);
        assert_eq!(visible_text("a\u{200D}b", 10), Some("a\u{200D}b"));
    }
}
