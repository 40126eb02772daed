//! Chat commands a citizen can type, in German and English, case-insensitive.
//!
//! A message is a command only when the whole message is the command (punctuation aside):
//! "Stop" is a command, "Stop, hier liegt Müll" is a description. `STATUS` takes an optional
//! reference number.

use super::Lang;
use crate::Reference;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HILFE` / `HELP`: how the channel works. Carries the language the word was in.
    Help(Lang),
    /// `STATUS` alone (list own reports) or `STATUS <reference>`.
    Status(Option<Reference>),
    /// `STATUS <something short that is not a reference>`: answered with the expected format.
    StatusUnrecognised,
    /// `STOP`: no further messages until the citizen writes again (PRIVACY P10).
    Stop,
    /// `START`: messages resume.
    Start,
    /// `DEUTSCH` / `ENGLISH`: switch the reply language.
    Language(Lang),
    /// `AUSKUNFT` / `DATEN`: what is stored about the citizen (Art. 15 DSGVO, PRIVACY P9).
    Access,
    /// `LÖSCHEN`: erase the citizen's personal data (Art. 17 DSGVO, P9), after a confirmation.
    Erase,
}

/// Longest argument after `STATUS` still read as a (mistyped) reference rather than prose.
const MAX_STATUS_ARGUMENT: usize = 24;

/// Reads a whole chat message as a command, or `None` when it is ordinary text.
pub fn parse(text: &str) -> Option<Command> {
    let text = text.trim().trim_end_matches(['.', '!', '?', ' ']);
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    let word = word.trim_end_matches([':', ',']).to_uppercase();
    match (word.as_str(), rest.is_empty()) {
        ("HILFE", true) => Some(Command::Help(Lang::De)),
        ("HELP", true) => Some(Command::Help(Lang::En)),
        ("STOP" | "STOPP" | "ABMELDEN" | "UNSUBSCRIBE", true) => Some(Command::Stop),
        ("START" | "ANMELDEN", true) => Some(Command::Start),
        ("DEUTSCH", true) => Some(Command::Language(Lang::De)),
        ("ENGLISH" | "ENGLISCH", true) => Some(Command::Language(Lang::En)),
        ("AUSKUNFT" | "DATEN" | "DATENAUSKUNFT", true) => Some(Command::Access),
        ("MEINE" | "MY", false) if matches!(rest.to_uppercase().as_str(), "DATEN" | "DATA") => Some(Command::Access),
        ("LÖSCHEN" | "LOESCHEN" | "LOSCHEN" | "DELETE" | "ERASE", true) => Some(Command::Erase),
        ("DATEN" | "DELETE", false) if matches!(rest.to_uppercase().as_str(), "LÖSCHEN" | "LOESCHEN" | "MY DATA") => {
            Some(Command::Erase)
        }
        ("STATUS", true) => Some(Command::Status(None)),
        ("STATUS", false) => match rest.parse::<Reference>() {
            Ok(reference) => Some(Command::Status(Some(reference))),
            Err(_) if rest.chars().count() <= MAX_STATUS_ARGUMENT => Some(Command::StatusUnrecognised),
            Err(_) => None,
        },
        _ => None,
    }
}

/// Whether a message only says hello, so it should not become a report's description.
pub fn is_greeting(text: &str) -> bool {
    const GREETINGS: &[&str] = &[
        "hallo",
        "hallo zusammen",
        "hi",
        "hey",
        "moin",
        "moin moin",
        "servus",
        "guten tag",
        "guten morgen",
        "guten abend",
        "grüß gott",
        "grüss gott",
        "hello",
        "good morning",
    ];
    let words = plain_words(text);
    !words.is_empty() && GREETINGS.contains(&words.as_str())
}

/// Lower-case words without punctuation, separated by single spaces.
fn plain_words(text: &str) -> String {
    let cleaned: String =
        text.chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect::<String>().to_lowercase();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A typed answer to "really erase everything?": only a plain yes or no counts ("Ja, aber erst
/// das Schlagloch" is not a yes; anything that is not an answer withdraws the request).
pub fn erase_confirmation(text: &str) -> Option<bool> {
    const YES: &[&str] =
        &["ja", "ja löschen", "ja bitte", "ja bitte löschen", "yes", "yes erase", "yes delete", "yes please"];
    const NO: &[&str] = &["nein", "nein danke", "abbrechen", "no", "no thanks", "cancel"];
    let words = plain_words(text);
    if YES.contains(&words.as_str()) {
        Some(true)
    } else if NO.contains(&words.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// A typed answer to "is this the place?": `Some(true)` for yes, `Some(false)` for no.
pub fn yes_or_no(text: &str) -> Option<bool> {
    // "ja, genau da" / "nein, weiter vorne": a leading ja or nein answers; other words only alone.
    const YES: &[&str] = &["jo", "jep", "genau", "stimmt", "richtig", "korrekt"];
    const NO: &[&str] = &["anderer ort", "woanders", "falsch", "other place"];
    let words = plain_words(text);
    let first = words.split(' ').next().unwrap_or_default();
    if YES.contains(&words.as_str()) || matches!(first, "ja" | "yes") {
        Some(true)
    } else if NO.contains(&words.as_str()) || matches!(first, "nein" | "no") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_answers_to_the_place_question() {
        assert_eq!(yes_or_no("Ja, hier!"), Some(true));
        assert_eq!(yes_or_no("genau"), Some(true));
        assert_eq!(yes_or_no("Nein."), Some(false));
        assert_eq!(yes_or_no("anderer Ort"), Some(false));
        assert_eq!(yes_or_no("ja das ist genau da"), Some(true));
        assert_eq!(yes_or_no("Nein, weiter vorne"), Some(false));
        assert_eq!(yes_or_no("genau gegenüber vom Bäcker"), None);
    }

    #[test]
    fn only_a_plain_yes_confirms_an_erasure() {
        assert_eq!(erase_confirmation("Ja, löschen!"), Some(true));
        assert_eq!(erase_confirmation("yes"), Some(true));
        assert_eq!(erase_confirmation("Nein"), Some(false));
        assert_eq!(erase_confirmation("Abbrechen"), Some(false));
        assert_eq!(erase_confirmation("Ja, aber erst das Schlagloch"), None);
        assert_eq!(erase_confirmation("genau"), None);
    }

    #[test]
    fn recognises_commands_in_any_case_and_with_punctuation() {
        assert_eq!(parse("stop"), Some(Command::Stop));
        assert_eq!(parse("  Stopp! "), Some(Command::Stop));
        assert_eq!(parse("START"), Some(Command::Start));
        assert_eq!(parse("Hilfe?"), Some(Command::Help(Lang::De)));
        assert_eq!(parse("help"), Some(Command::Help(Lang::En)));
        assert_eq!(parse("English"), Some(Command::Language(Lang::En)));
        assert_eq!(parse("deutsch"), Some(Command::Language(Lang::De)));
    }

    #[test]
    fn data_subject_requests_in_german_and_english() {
        for access in ["AUSKUNFT", "daten", "Meine Daten", "my data", "Auskunft?"] {
            assert_eq!(parse(access), Some(Command::Access), "{access}");
        }
        for erase in ["LÖSCHEN", "löschen!", "Loeschen", "Daten löschen", "delete my data", "delete"] {
            assert_eq!(parse(erase), Some(Command::Erase), "{erase}");
        }
        assert_eq!(parse("Bitte löschen Sie das Graffiti"), None);
        assert_eq!(parse("Daten zur Ampel"), None);
    }

    #[test]
    fn status_takes_an_optional_reference() {
        let reference = Reference::new(2026, 42).unwrap();
        assert_eq!(parse("status"), Some(Command::Status(None)));
        assert_eq!(parse("STATUS M-2026-000042"), Some(Command::Status(Some(reference))));
        assert_eq!(parse("Status: m 2026 42"), Some(Command::Status(Some(reference))));
        assert_eq!(parse("status M-2026-XYZ"), Some(Command::StatusUnrecognised));
    }

    #[test]
    fn prose_that_starts_like_a_command_is_not_one() {
        assert_eq!(parse("Stop, hier liegt Müll"), None);
        assert_eq!(parse("Hilfe, ein Schlagloch in der Lindenstraße"), None);
        assert_eq!(parse("Status der Ampel an der Schule ist seit Tagen unverändert kaputt"), None);
        assert_eq!(parse("Schlagloch"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn greetings_are_recognised_but_descriptions_are_not() {
        assert!(is_greeting("Hallo"));
        assert!(is_greeting("Moin moin!"));
        assert!(is_greeting("Guten Tag,"));
        assert!(is_greeting("👋 hi"));
        assert!(!is_greeting("Hallo, hier ist ein Schlagloch"));
        assert!(!is_greeting(""));
        assert!(!is_greeting("😀"));
    }
}
