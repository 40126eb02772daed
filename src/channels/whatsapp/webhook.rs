//! The webhook wire format: what Meta POSTs to `/webhooks/whatsapp`.
//!
//! Only the fields Meldeweg uses are typed; unknown fields are ignored and unknown message
//! types are kept as their type name, so a new WhatsApp feature never fails a delivery. Each
//! message and status is parsed on its own, so one unreadable item does not lose the others.
//! `Message` is also the form an inbound message is stored in (sealed), minus what we do not
//! keep: profile names and shared contact cards are dropped here (P5 minimisation).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::http::error::json_error;

/// One POST: entries of changes, each carrying messages and/or statuses.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    #[serde(default)]
    pub object: String,
    pub entry: Vec<Entry>,
}

impl Delivery {
    /// A webhook POST body as the endpoint reads it; the reason, without the values the body
    /// held, is answered with a 400 (also the entry point of the `webhook_body` fuzz target).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("body is not a WhatsApp webhook delivery: {}", json_error(&e)))
    }
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    pub field: String,
    pub value: Box<RawValue>,
}

/// The `value` of a `messages` change.
#[derive(Debug, Default, Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Box<RawValue>>,
    #[serde(default)]
    pub statuses: Vec<Box<RawValue>>,
    #[serde(default)]
    pub errors: Vec<ErrorInfo>,
}

/// The sender as WhatsApp describes them. The profile name is not read.
#[derive(Debug, Deserialize)]
pub struct Contact {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user_id: Option<String>,
    /// Unix seconds (Meta sends a string of digits).
    #[serde(deserialize_with = "unix_seconds")]
    pub timestamp: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<Button>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Media {
    pub id: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A tap on a reply button or list row we sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interactive {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub button_reply: Option<Choice>,
    #[serde(default)]
    pub list_reply: Option<Choice>,
}

impl Interactive {
    /// The button or list row the citizen tapped.
    pub fn choice(&self) -> Option<&Choice> {
        self.button_reply.as_ref().or(self.list_reply.as_ref())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
}

/// A quick-reply button of a template message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub payload: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: i64,
    #[serde(default)]
    pub title: String,
}

/// A delivery status of a message we sent.
#[derive(Debug, Deserialize)]
pub struct Status {
    pub id: String,
    pub status: String,
    #[serde(deserialize_with = "unix_seconds")]
    pub timestamp: i64,
    #[serde(default)]
    pub errors: Vec<ErrorInfo>,
}

/// Longest provider id we accept (Meta's `wamid.` ids are well under 200 characters).
pub const MAX_ID_LEN: usize = 256;

impl Message {
    /// Checks what storage and the conversation rely on; the reason is kept with the event.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.id.is_empty() || self.id.len() > MAX_ID_LEN {
            return Err("message id missing or too long");
        }
        if self.from.is_none() && self.from_user_id.is_none() {
            return Err("message has neither `from` nor `from_user_id`");
        }
        let bounded = |v: &Option<String>, max: usize| v.as_ref().is_none_or(|s| !s.is_empty() && s.len() <= max);
        if !bounded(&self.from, 32) || !bounded(&self.from_user_id, 128) {
            return Err("sender id empty or too long");
        }
        if self.timestamp <= 0 {
            return Err("timestamp missing or not positive");
        }
        Ok(())
    }
}

fn unix_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(i64),
        Text(String),
    }
    match Seconds::deserialize(deserializer)? {
        Seconds::Number(n) => Ok(n),
        Seconds::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_types_are_kept_as_far_as_known() {
        let message: Message = serde_json::from_str(
            r#"{"from":"4915","id":"wamid.1","timestamp":"1700000000","type":"hologram",
                "hologram":{"x":1},"brand_new_field":true}"#,
        )
        .unwrap();
        assert_eq!(message.kind, "hologram");
        assert_eq!(message.timestamp, 1_700_000_000);
        assert!(message.validate().is_ok());
    }

    #[test]
    fn timestamps_may_be_numbers_or_strings_but_not_words() {
        let with = |ts: &str| {
            serde_json::from_str::<Message>(&format!(r#"{{"from":"1","id":"x","timestamp":{ts},"type":"text"}}"#))
        };
        assert_eq!(with("1700000000").unwrap().timestamp, 1_700_000_000);
        assert_eq!(with("\"1700000000\"").unwrap().timestamp, 1_700_000_000);
        assert!(with("\"yesterday\"").is_err());
    }

    #[test]
    fn messages_without_sender_or_id_are_refused() {
        let message = |json: &str| serde_json::from_str::<Message>(json).unwrap();
        let no_sender = message(r#"{"id":"x","timestamp":"1","type":"text"}"#);
        assert!(no_sender.validate().is_err());
        let long_id =
            message(&format!(r#"{{"from":"1","id":"{}","timestamp":"1","type":"text"}}"#, "x".repeat(MAX_ID_LEN + 1)));
        assert!(long_id.validate().is_err());
        let user_only = message(r#"{"from_user_id":"US.1","id":"x","timestamp":"1","type":"text"}"#);
        assert!(user_only.validate().is_ok());
    }
}
