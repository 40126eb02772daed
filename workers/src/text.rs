//! Text from outside (citizens, staff, providers) made safe: `clean` for what Meldeweg stores
//! and shows, `for_log` for what it writes into its log.
//!
//! `clean` keeps what people write and drops what only hides or reorders it: control characters
//! other than line breaks and tabs, and the invisible format characters (Unicode category Cf:
//! bidi overrides and isolates such as U+202E and U+2066, marks such as U+200F, zero-width
//! spaces, tag characters, the byte-order mark, the soft hyphen). A right-to-left override in a
//! reject reason would otherwise turn the words around on the public status page. The two
//! joiners (U+200C, U+200D) stay: emoji sequences and some scripts need them, and they move
//! nothing.
//!
//! `for_log` escapes every control, format and line-separator character (a forged log line
//! needs CR, LF or ESC) as `\u{…}` and bounds the length.

/// Longest outside text one log field carries, in characters.
pub const MAX_LOG_CHARS: usize = 1000;

/// `text` without hidden or reordering characters, line breaks normalised to `\n`, trimmed.
pub fn clean(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    cleaned.push('\n');
                }
            }
            '\u{2028}' | '\u{2029}' => cleaned.push('\n'),
            '\n' | '\t' => cleaned.push(c),
            c if c.is_control() || is_hidden_format(c) => {}
            c => cleaned.push(c),
        }
    }
    cleaned.trim().to_string()
}

/// Whether `c` is a format character that shows nothing or reorders text (category Cf, but for
/// the joiners).
pub fn is_hidden_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}'
        | '\u{08E2}' | '\u{180E}' | '\u{200B}' | '\u{200E}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// `text` as one harmless log value: control, format and separator characters written as
/// `\u{…}`, at most `MAX_LOG_CHARS` characters (then `…`).
pub fn for_log(text: &str) -> String {
    let mut safe = String::with_capacity(text.len().min(MAX_LOG_CHARS * 4));
    for (n, c) in text.chars().enumerate() {
        if n == MAX_LOG_CHARS {
            safe.push('…');
            break;
        }
        if c.is_control() || is_hidden_format(c) || matches!(c, '\u{200C}' | '\u{200D}' | '\u{2028}' | '\u{2029}') {
            safe.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            safe.push(c);
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::{clean, for_log, MAX_LOG_CHARS};

    #[test]
    fn clean_drops_what_hides_or_reorders_and_keeps_the_words() {
        assert_eq!(clean("  Schlagloch\u{202E}ssaB\u{202C} \u{2066}x\u{2069}\u{200F}  "), "SchlaglochssaB x");
        assert_eq!(clean("a\u{200B}b\u{FEFF}c\u{E0041}d\u{00AD}e"), "abcde");
        assert_eq!(clean("Zeile 1\r\nZeile 2\rZeile 3\u{2028}Zeile 4\tTab"), "Zeile 1\nZeile 2\nZeile 3\nZeile 4\tTab");
        assert_eq!(clean("\u{1b}[31mrot\u{7}\u{0}"), "[31mrot");
        // Emoji sequences keep their joiner; umlauts and other scripts are untouched.
        assert_eq!(clean("👨\u{200D}👩\u{200D}👧 Straße العربية"), "👨\u{200D}👩\u{200D}👧 Straße العربية");
    }

    #[test]
    fn a_forged_log_line_stays_one_escaped_value() {
        let forged = "x\r\n2026-12-06T00:00:00Z ERROR meldeweg: \u{1b}[31mpwned\u{202E}";
        let safe = for_log(forged);
        assert!(!safe.chars().any(|c| c.is_control() || c == '\u{202E}'), "{safe}");
        assert_eq!(safe, "x\\u{d}\\u{a}2026-12-06T00:00:00Z ERROR meldeweg: \\u{1b}[31mpwned\\u{202e}");
        let long = "a".repeat(MAX_LOG_CHARS + 10);
        assert_eq!(for_log(&long).chars().count(), MAX_LOG_CHARS + 1);
    }
}
