//! The texts Meldeweg sends, from `messages.de.toml` and `messages.en.toml`.
//!
//! Files in `messages_dir` win over the copies compiled into the binary, so a municipality edits
//! wording without rebuilding. Loading checks that every text is present and that every
//! `{placeholder}` is one Meldeweg fills in, so a typo fails at start-up, not in a citizen's chat.
//! The notice version is derived from the notice texts: changing them gives a new version.

use std::path::Path;

use meldeweg_workers::conversation::Lang;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Municipality;

const BUILT_IN_DE: &str = include_str!("../config/messages.de.toml");
const BUILT_IN_EN: &str = include_str!("../config/messages.en.toml");

/// Placeholders filled in per message; the municipality's are filled in at load time.
const MESSAGE_PLACEHOLDERS: &[&str] = &[
    "reference",
    "date",
    "status",
    "address",
    "reply",
    "link",
    "reason",
    "body",
    "when",
    "version",
    "count",
    "public",
    "sent",
    "max",
];

#[derive(Debug, thiserror::Error)]
pub enum TextsError {
    #[error("cannot read {file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}: {source}")]
    Parse { file: String, source: toml::de::Error },
    #[error("{file}: text `{key}` uses the unknown placeholder {{{placeholder}}}")]
    Placeholder { file: String, key: &'static str, placeholder: String },
    #[error("{file}: the text `{key}` is not a string")]
    Missing { file: String, key: &'static str },
    #[error("{file}: `{key}` is a button label and may have at most {max} characters")]
    TooLong { file: String, key: &'static str, max: usize },
    #[error("{file}: `{key}` is not a text Meldeweg knows")]
    Unknown { file: String, key: String },
    #[error("whatsapp.templates.{key}: {reason}")]
    Template { key: String, reason: String },
}

/// Every text a reporter can be sent, by name. The names are the keys in the TOML files and
/// the `name` of outbox rows (and of templates in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum TextKey {
    Notice,
    Help,
    LocationRequest,
    AskDescription,
    ReportCreated,
    ConfirmPlace,
    ButtonHere,
    ButtonElsewhere,
    AskCategory,
    CategoryButton,
    ReportKnown,
    ReportOutside,
    ReportForwarded,
    OrderAccepted,
    OrderDone,
    OrderRejected,
    OrderForwarded,
    EmergencyHint,
    OutsideHours,
    PhotoAdded,
    PhotoLimit,
    PhotoUnreadable,
    PhotoTooLarge,
    PhotoUnavailable,
    StatusFormat,
    StatusLine,
    StatusListHeader,
    StatusNone,
    StatusNotFound,
    Stopped,
    Started,
    LanguageChanged,
    UnsupportedAudio,
    UnsupportedVideo,
    UnsupportedDocument,
    UnsupportedContacts,
    UnsupportedOther,
    ConfirmErase,
    ButtonErase,
    ButtonKeep,
    EraseCancelled,
    EraseExpired,
    Erased,
    AccessHeader,
    AccessIdentity,
    AccessNotice,
    AccessOptedOut,
    AccessReport,
    AccessDraft,
    AccessMessages,
    AccessFooter,
    EmailSubject,
    EmailFooter,
}

impl TextKey {
    const ALL: [TextKey; 53] = [
        TextKey::Notice,
        TextKey::Help,
        TextKey::LocationRequest,
        TextKey::AskDescription,
        TextKey::ReportCreated,
        TextKey::ConfirmPlace,
        TextKey::ButtonHere,
        TextKey::ButtonElsewhere,
        TextKey::AskCategory,
        TextKey::CategoryButton,
        TextKey::ReportKnown,
        TextKey::ReportOutside,
        TextKey::ReportForwarded,
        TextKey::OrderAccepted,
        TextKey::OrderDone,
        TextKey::OrderRejected,
        TextKey::OrderForwarded,
        TextKey::EmergencyHint,
        TextKey::OutsideHours,
        TextKey::PhotoAdded,
        TextKey::PhotoLimit,
        TextKey::PhotoUnreadable,
        TextKey::PhotoTooLarge,
        TextKey::PhotoUnavailable,
        TextKey::StatusFormat,
        TextKey::StatusLine,
        TextKey::StatusListHeader,
        TextKey::StatusNone,
        TextKey::StatusNotFound,
        TextKey::Stopped,
        TextKey::Started,
        TextKey::LanguageChanged,
        TextKey::UnsupportedAudio,
        TextKey::UnsupportedVideo,
        TextKey::UnsupportedDocument,
        TextKey::UnsupportedContacts,
        TextKey::UnsupportedOther,
        TextKey::ConfirmErase,
        TextKey::ButtonErase,
        TextKey::ButtonKeep,
        TextKey::EraseCancelled,
        TextKey::EraseExpired,
        TextKey::Erased,
        TextKey::AccessHeader,
        TextKey::AccessIdentity,
        TextKey::AccessNotice,
        TextKey::AccessOptedOut,
        TextKey::AccessReport,
        TextKey::AccessDraft,
        TextKey::AccessMessages,
        TextKey::AccessFooter,
        TextKey::EmailSubject,
        TextKey::EmailFooter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TextKey::Notice => "notice",
            TextKey::Help => "help",
            TextKey::LocationRequest => "location_request",
            TextKey::AskDescription => "ask_description",
            TextKey::ReportCreated => "report_created",
            TextKey::ConfirmPlace => "confirm_place",
            TextKey::ButtonHere => "button_here",
            TextKey::ButtonElsewhere => "button_elsewhere",
            TextKey::AskCategory => "ask_category",
            TextKey::CategoryButton => "category_button",
            TextKey::ReportKnown => "report_known",
            TextKey::ReportOutside => "report_outside",
            TextKey::ReportForwarded => "report_forwarded",
            TextKey::OrderAccepted => "order_accepted",
            TextKey::OrderDone => "order_done",
            TextKey::OrderRejected => "order_rejected",
            TextKey::OrderForwarded => "order_forwarded",
            TextKey::EmergencyHint => "emergency_hint",
            TextKey::OutsideHours => "outside_hours",
            TextKey::PhotoAdded => "photo_added",
            TextKey::PhotoLimit => "photo_limit",
            TextKey::PhotoUnreadable => "photo_unreadable",
            TextKey::PhotoTooLarge => "photo_too_large",
            TextKey::PhotoUnavailable => "photo_unavailable",
            TextKey::StatusFormat => "status_format",
            TextKey::StatusLine => "status_line",
            TextKey::StatusListHeader => "status_list_header",
            TextKey::StatusNone => "status_none",
            TextKey::StatusNotFound => "status_not_found",
            TextKey::Stopped => "stopped",
            TextKey::Started => "started",
            TextKey::LanguageChanged => "language_changed",
            TextKey::UnsupportedAudio => "unsupported_audio",
            TextKey::UnsupportedVideo => "unsupported_video",
            TextKey::UnsupportedDocument => "unsupported_document",
            TextKey::UnsupportedContacts => "unsupported_contacts",
            TextKey::UnsupportedOther => "unsupported_other",
            TextKey::ConfirmErase => "confirm_erase",
            TextKey::ButtonErase => "button_erase",
            TextKey::ButtonKeep => "button_keep",
            TextKey::EraseCancelled => "erase_cancelled",
            TextKey::EraseExpired => "erase_expired",
            TextKey::Erased => "erased",
            TextKey::AccessHeader => "access_header",
            TextKey::AccessIdentity => "access_identity",
            TextKey::AccessNotice => "access_notice",
            TextKey::AccessOptedOut => "access_opted_out",
            TextKey::AccessReport => "access_report",
            TextKey::AccessDraft => "access_draft",
            TextKey::AccessMessages => "access_messages",
            TextKey::AccessFooter => "access_footer",
            TextKey::EmailSubject => "email_subject",
            TextKey::EmailFooter => "email_footer",
        }
    }
}

/// WhatsApp's limit for reply-button titles and the list button.
const MAX_BUTTON_CHARS: usize = 20;

impl TextKey {
    fn is_button(self) -> bool {
        matches!(
            self,
            TextKey::ButtonHere
                | TextKey::ButtonElsewhere
                | TextKey::CategoryButton
                | TextKey::ButtonErase
                | TextKey::ButtonKeep
        )
    }
}

/// How report statuses are named to citizens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusLabels {
    pub received: String,
    pub open: String,
    pub outside_area: String,
    pub forwarded: String,
    pub accepted: String,
    pub in_progress: String,
    pub done: String,
    pub rejected: String,
}

impl StatusLabels {
    pub fn label(&self, status: meldeweg_workers::status::ReportStatus) -> &str {
        use meldeweg_workers::status::ReportStatus as S;
        match status {
            S::Received => &self.received,
            S::Open => &self.open,
            S::OutsideArea => &self.outside_area,
            S::Forwarded => &self.forwarded,
            S::Accepted => &self.accepted,
            S::InProgress => &self.in_progress,
            S::Done => &self.done,
            S::Rejected => &self.rejected,
        }
    }
}

/// One language's texts, indexed by `TextKey`.
#[derive(Debug, Clone)]
struct Catalog {
    texts: Vec<String>,
    status: StatusLabels,
}

impl Catalog {
    fn get(&self, key: TextKey) -> &str {
        &self.texts[key as usize]
    }
}

/// The texts in both languages, with the municipality's details filled in.
#[derive(Debug, Clone)]
pub struct Texts {
    de: Catalog,
    en: Catalog,
    notice_version: String,
}

impl Texts {
    pub fn load(dir: &Path, municipality: &Municipality) -> Result<Self, TextsError> {
        let de = load_catalog(&dir.join("messages.de.toml"), BUILT_IN_DE, municipality)?;
        let en = load_catalog(&dir.join("messages.en.toml"), BUILT_IN_EN, municipality)?;
        let digest =
            Sha256::new().chain_update(de.get(TextKey::Notice)).chain_update([0]).chain_update(en.get(TextKey::Notice));
        let notice_version = hex::encode(&digest.finalize()[..6]);
        Ok(Self { de, en, notice_version })
    }

    fn catalog(&self, lang: Lang) -> &Catalog {
        match lang {
            Lang::De => &self.de,
            Lang::En => &self.en,
        }
    }

    /// The text with its `{placeholders}` filled in from `params`.
    pub fn render(&self, lang: Lang, key: TextKey, params: &[(&str, &str)]) -> String {
        fill(self.catalog(lang).get(key), params)
    }

    pub fn status_labels(&self, lang: Lang) -> &StatusLabels {
        &self.catalog(lang).status
    }

    /// Checks that each configured template stands in for a text Meldeweg sends and fills only
    /// parameters Meldeweg knows, so a typo fails at start-up rather than at sending time.
    /// Each template is given by the name of the text it stands in for and its parameters.
    pub fn check_templates<'a>(templates: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Result<(), TextsError> {
        for (key, params) in templates {
            if !TextKey::ALL.iter().any(|k| k.as_str() == key) {
                return Err(TextsError::Template { key: key.to_string(), reason: "no message has this name".into() });
            }
            if let Some(param) = params.iter().find(|p| !MESSAGE_PLACEHOLDERS.contains(&p.as_str())) {
                let reason = format!("{param:?} is not a parameter; use {}", MESSAGE_PLACEHOLDERS.join(", "));
                return Err(TextsError::Template { key: key.to_string(), reason });
            }
        }
        Ok(())
    }

    /// Identifies the current first-contact notice (P3, P4): stored per reporter.
    pub fn notice_version(&self) -> &str {
        &self.notice_version
    }
}

fn load_catalog(path: &Path, built_in: &str, municipality: &Municipality) -> Result<Catalog, TextsError> {
    let file = path.display().to_string();
    let source = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => built_in.to_string(),
        Err(source) => return Err(TextsError::Read { file, source }),
    };
    let mut table: toml::Table =
        toml::from_str(&source).map_err(|source| TextsError::Parse { file: file.clone(), source })?;
    // A file written for an earlier version lacks the texts added since: those come from the
    // built-in copy (with a warning), so an upgrade never stops a municipality's service.
    let mut defaults: toml::Table = toml::from_str(built_in).expect("the built-in messages are valid TOML");
    let mut status = match defaults.remove("status") {
        Some(toml::Value::Table(labels)) => labels,
        _ => unreachable!("the built-in messages have a [status] table"),
    };
    match table.remove("status") {
        Some(toml::Value::Table(labels)) => status.extend(labels),
        Some(_) => return Err(TextsError::Missing { file, key: "status" }),
        None => {}
    }
    let status: StatusLabels =
        toml::Value::Table(status).try_into().map_err(|source| TextsError::Parse { file: file.clone(), source })?;
    let mut from_built_in = Vec::new();
    let municipal = [
        ("municipality", municipality.name.as_str()),
        ("privacy_url", municipality.privacy_url.as_str()),
        ("web_form_url", municipality.web_form_url.as_str()),
        ("phone", municipality.phone.as_str()),
        ("email", municipality.email.as_str()),
    ];
    let mut texts = Vec::with_capacity(TextKey::ALL.len());
    for key in TextKey::ALL {
        let text = match table.remove(key.as_str()) {
            Some(toml::Value::String(text)) => text,
            Some(_) => return Err(TextsError::Missing { file, key: key.as_str() }),
            None => {
                from_built_in.push(key.as_str());
                match defaults.remove(key.as_str()) {
                    Some(toml::Value::String(text)) => text,
                    _ => return Err(TextsError::Missing { file, key: key.as_str() }),
                }
            }
        };
        let text = fill(text.trim(), &municipal);
        if let Some(placeholder) = placeholders(&text).find(|p| !MESSAGE_PLACEHOLDERS.contains(&p.as_str())) {
            return Err(TextsError::Placeholder { file, key: key.as_str(), placeholder });
        }
        if key.is_button() && (text.is_empty() || text.chars().count() > MAX_BUTTON_CHARS) {
            return Err(TextsError::TooLong { file, key: key.as_str(), max: MAX_BUTTON_CHARS });
        }
        texts.push(text);
    }
    if let Some(unknown) = table.keys().next() {
        return Err(TextsError::Unknown { file, key: unknown.clone() });
    }
    if !from_built_in.is_empty() {
        tracing::warn!(%file, texts = from_built_in.join(", "), "texts missing from the file; using the built-in wording");
    }
    Ok(Catalog { texts, status })
}

/// The `{name}` placeholders in a text.
fn placeholders(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('{').skip(1).filter_map(|part| {
        let name = part.split_once('}')?.0;
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')).then(|| name.to_string())
    })
}

fn fill(text: &str, params: &[(&str, &str)]) -> String {
    params.iter().fold(text.to_string(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn municipality() -> Municipality {
        Municipality {
            name: "Teststadt".into(),
            privacy_url: "https://teststadt.de/ds".into(),
            web_form_url: "https://teststadt.de/melden".into(),
            phone: "0123".into(),
            email: "bauhof@teststadt.de".into(),
        }
    }

    fn built_in() -> Texts {
        Texts::load(Path::new("/nonexistent"), &municipality()).unwrap()
    }

    #[test]
    fn the_built_in_texts_load_with_the_municipality_filled_in() {
        let texts = built_in();
        let notice = texts.render(Lang::De, TextKey::Notice, &[]);
        assert!(notice.contains("Teststadt"));
        assert!(notice.contains("https://teststadt.de/ds"), "privacy statement (P3)");
        assert!(notice.contains("110 oder 112"), "emergency numbers (P3)");
        assert!(notice.contains("https://teststadt.de/melden"), "other channels (P3, P12)");
        assert!(texts.render(Lang::En, TextKey::Notice, &[]).contains("110 or 112"));
        let params = [("reference", "M-2026-000001"), ("link", "https://x.de/m/ab")];
        let created = texts.render(Lang::De, TextKey::ReportCreated, &params);
        assert!(created.contains("M-2026-000001"));
        assert!(!created.contains('{'));
    }

    #[test]
    fn a_changed_notice_gets_a_new_version() {
        let dir = std::env::temp_dir().join(format!("meldeweg-texts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let changed = BUILT_IN_DE.replace("Willkommen", "Hallo und willkommen");
        std::fs::write(dir.join("messages.de.toml"), changed).unwrap();
        let edited = Texts::load(&dir, &municipality()).unwrap();
        assert_ne!(edited.notice_version(), built_in().notice_version());
        assert!(edited.render(Lang::De, TextKey::Notice, &[]).starts_with("Hallo und willkommen"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unknown_placeholder_or_missing_text_is_refused_with_its_name() {
        let dir = std::env::temp_dir().join(format!("meldeweg-texts-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let typo = BUILT_IN_DE.replace("{reference}. Wir", "{referenz}. Wir");
        std::fs::write(dir.join("messages.de.toml"), typo).unwrap();
        let error = Texts::load(&dir, &municipality()).unwrap_err().to_string();
        assert!(error.contains("report_created") && error.contains("{referenz}"), "{error}");

        let long =
            BUILT_IN_DE.replace("button_here = \"Ja, hier\"", "button_here = \"Ja, genau hier an dieser Stelle\"");
        std::fs::write(dir.join("messages.de.toml"), long).unwrap();
        let error = Texts::load(&dir, &municipality()).unwrap_err().to_string();
        assert!(error.contains("button_here") && error.contains("20"), "{error}");

        let typo = BUILT_IN_DE.replace("photo_limit =", "photo_limits =");
        std::fs::write(dir.join("messages.de.toml"), typo).unwrap();
        let error = Texts::load(&dir, &municipality()).unwrap_err().to_string();
        assert!(error.contains("photo_limits") && error.contains("not a text Meldeweg knows"), "{error}");

        // A file from an earlier version, without the texts added since, still loads.
        let older: String = BUILT_IN_DE
            .lines()
            .filter(|l| !l.starts_with("order_done =") && !l.starts_with("done ="))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.join("messages.de.toml"), older).unwrap();
        let texts = Texts::load(&dir, &municipality()).unwrap();
        assert!(texts.render(Lang::De, TextKey::OrderDone, &[]).starts_with("Erledigt!"));
        assert_eq!(texts.status_labels(Lang::De).done, "erledigt");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
