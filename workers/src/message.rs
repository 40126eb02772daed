//! What crosses between a channel and the core, in the core's own terms: the messages citizens
//! send, as every channel hands them over (`InboundMessage`), and the replies the core decides,
//! as every channel renders them in its own format (`ReplyIntent`).
//!
//! Nothing here knows a channel's wire format or limits (how many buttons fit, how long a title
//! may be, when a reply must be a pre-approved form): each channel translates both ways.

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::conversation::Lang;
use crate::LatLon;

/// One message from a citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The name of the channel it came on (as registered).
    pub channel: String,
    /// The channel's id for the message: a channel that delivers a message twice gives it the
    /// same id, so it is taken once.
    pub id: String,
    pub sender: Sender,
    /// When the citizen sent it, Unix milliseconds, as the channel says.
    pub sent_at_ms: i64,
    pub content: Content,
}

impl InboundMessage {
    /// The message with every text a person wrote passed through `text::clean` (no control or
    /// invisible format characters): what every channel's messages go through as they enter
    /// the core.
    pub fn cleaned(mut self) -> Self {
        let clean = |text: &mut String| *text = crate::text::clean(text);
        match &mut self.content {
            Content::Text { text } => clean(text),
            Content::Photo { caption, .. } => caption.iter_mut().for_each(clean),
            Content::Location { name, address, .. } => name.iter_mut().chain(address.iter_mut()).for_each(clean),
            Content::Choice { title, .. } => clean(title),
            Content::Report { report } => {
                report.description.iter_mut().for_each(clean);
                report.place.iter_mut().filter_map(|place| place.label.as_mut()).for_each(clean);
            }
            Content::Unsupported { .. } | Content::Ignored => {}
        }
        self
    }
}

/// Who sent a message, as their channel knows them: at least one of the two. The core
/// recognises the person by the account when there is one (it stays when the number changes or
/// is hidden), else by the number; both are kept only sealed and as keyed hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// A number the person can be found by (staff answer requests by letter with it, P9).
    pub phone: Option<String>,
    /// The channel's own id for the person (an account id, an e-mail address).
    pub account: Option<String>,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    /// A photo the channel holds until it is fetched, with what the channel claims about it.
    Photo {
        media: MediaRef,
        caption: Option<String>,
    },
    /// A place the citizen shared, with the name and address their app attached, if any.
    Location {
        point: LatLon,
        name: Option<String>,
        address: Option<String>,
    },
    /// A tap on one of the options a reply offered.
    Choice {
        id: String,
        title: String,
    },
    /// A whole report at once (a form); its photos come with it.
    Report {
        report: FormReport,
    },
    /// Something the core cannot use; the citizen hears what to send instead.
    Unsupported {
        kind: Unsupported,
    },
    /// Needs no answer (a reaction, a sticker).
    Ignored,
}

/// A file a channel announced and can hand over on request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// The channel's id for the file.
    pub id: String,
    /// The type the channel claims (the bytes decide: they are sniffed before decoding).
    pub claimed_type: Option<String>,
    /// The size the channel claims, in bytes, if it says.
    pub claimed_size: Option<u64>,
    /// The SHA-256 the channel announced for the file (hex or base64), checked on arrival.
    pub sha256: Option<String>,
}

/// Kinds of message the dialogue cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unsupported {
    Audio,
    Video,
    /// A document that is not a picture (PDF, office files, ...).
    Document,
    /// A shared contact card: never stored, it is someone else's personal data.
    Contacts,
    /// Any other kind, including ones a channel adds in future.
    Other,
}

/// A whole report in one submission (a form): what, where and, if chosen, the category. It
/// needs no dialogue; its photos arrive with it, and the sender's `account`, if given, is where
/// updates about it go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormReport {
    pub description: Option<String>,
    /// Where, as given; `None` when the place is to come from a photo's position.
    pub place: Option<FormPlace>,
    pub category: Option<Category>,
    /// The language the citizen used, for every later word to them.
    pub lang: Lang,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormPlace {
    pub point: LatLon,
    pub source: FormPlaceSource,
    /// The address as entered, if any.
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormPlaceSource {
    /// A pin on a map, or the position the device gave.
    Pin,
    /// An address found in the street gazetteer.
    Address,
}

/// A reply the core decided, before any channel has rendered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyIntent {
    /// Which text it is (its key in the message files). A channel may keep its own form of a
    /// text under this name (a pre-approved template), and the audit log names it.
    pub name: String,
    /// The text, in the citizen's language.
    pub text: String,
    /// The named values in the text, for channels that send them apart from it.
    #[serde(default)]
    pub params: Vec<(String, String)>,
    pub form: ReplyForm,
    /// An answer in the conversation (it makes sense only while the citizen is writing), as
    /// opposed to an update about a report, which must reach them whenever it happens.
    pub answers_conversation: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyForm {
    Text,
    /// The text with options to choose one of; `menu` labels what opens them when they are
    /// too many to show at once.
    Choices {
        options: Vec<Choice>,
        menu: String,
    },
    /// The text with a way to share a place.
    LocationRequest,
    /// An update about a report, with the crew's after-photo (a stored photo's token) if any.
    Update {
        photo: Option<String>,
    },
}

/// An option a reply offers; its `id` comes back in the citizen's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

impl ReplyIntent {
    /// The value of the named parameter, if the text has one.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_replies_survive_their_stored_form() {
        let message = InboundMessage {
            channel: "chat".into(),
            id: "m1".into(),
            sender: Sender { phone: Some("4915112345678".into()), account: Some("u1".into()) },
            sent_at_ms: 1_700_000_000_000,
            content: Content::Location {
                point: LatLon::new(51.96, 7.62).unwrap(),
                name: None,
                address: Some("Lindenweg 4".into()),
            },
        };
        let stored = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<InboundMessage>(&stored).unwrap(), message);

        let reply = ReplyIntent {
            name: "order_done".into(),
            text: "Erledigt: M-2026-000001".into(),
            params: vec![("reference".into(), "M-2026-000001".into())],
            form: ReplyForm::Update { photo: Some("ab".repeat(16)) },
            answers_conversation: false,
        };
        let stored = serde_json::to_string(&reply).unwrap();
        let read: ReplyIntent = serde_json::from_str(&stored).unwrap();
        assert_eq!(read, reply);
        assert_eq!(read.param("reference"), Some("M-2026-000001"));
        assert_eq!(read.param("link"), None);
    }
}
