//! Messages Meldeweg sends, as stored in the outbox and as put on the wire.
//!
//! The outbox keeps a `Body` without its recipient; `to_cloud_json` adds the address when the
//! message is sent. The JSON follows Meta's send API (`POST /{version}/{phone-number-id}/messages`)
//! as Meta's OpenAPI description of the Cloud API gives them: a text, a location request, reply buttons or a list (the
//! interactive kinds), or a template.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long after a citizen's last message free-form replies are allowed.
pub const SERVICE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Text {
        text: String,
    },
    /// Shows the text with a "Send location" button.
    LocationRequest {
        text: String,
    },
    /// The text with up to three reply buttons (titles ≤ 20 characters).
    Buttons {
        text: String,
        buttons: Vec<Choice>,
    },
    /// The text with a button (≤ 20 characters) that opens a list of up to ten rows.
    List {
        text: String,
        button: String,
        rows: Vec<Choice>,
    },
    /// A photo (fetched by WhatsApp from `link`, which must be reachable from outside) with
    /// the text as its caption (≤ 1024 characters).
    Image {
        link: String,
        caption: String,
    },
    /// An approved template, the only thing allowed outside the 24-hour window.
    Template {
        name: String,
        language: String,
        params: Vec<String>,
    },
}

/// A reply button or list row: the id comes back in the citizen's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a message goes: the number, or the business-scoped user id of a citizen who hides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Phone(String),
    UserId(String),
}

impl Body {
    pub fn is_template(&self) -> bool {
        matches!(self, Body::Template { .. })
    }

    /// The text a person would read (templates show their name and parameters).
    pub fn display_text(&self) -> String {
        match self {
            Body::Text { text } | Body::LocationRequest { text } => text.clone(),
            Body::Buttons { text, buttons: choices } | Body::List { text, rows: choices, .. } => {
                let titles: Vec<&str> = choices.iter().map(|c| c.title.as_str()).collect();
                format!("{text}\n[{}]", titles.join(" | "))
            }
            Body::Image { caption, .. } => format!("{caption}\n[Foto]"),
            Body::Template { name, params, .. } => format!("[{name}] {}", params.join(" · ")),
        }
    }

    pub fn to_cloud_json(&self, address: &Address) -> Value {
        let mut message = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
        });
        match address {
            Address::Phone(number) => message["to"] = json!(number),
            Address::UserId(user_id) => message["recipient"] = json!(user_id),
        }
        match self {
            Body::Text { text } => {
                message["type"] = json!("text");
                message["text"] = json!({ "body": text, "preview_url": false });
            }
            Body::LocationRequest { text } => {
                message["type"] = json!("interactive");
                message["interactive"] = json!({
                    "type": "location_request_message",
                    "body": { "text": text },
                    "action": { "name": "send_location" },
                });
            }
            Body::Buttons { text, buttons } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }))
                    .collect();
                message["type"] = json!("interactive");
                message["interactive"] =
                    json!({ "type": "button", "body": { "text": text }, "action": { "buttons": buttons } });
            }
            Body::List { text, button, rows } => {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|row| {
                        let mut value = json!({ "id": row.id, "title": row.title });
                        if let Some(description) = &row.description {
                            value["description"] = json!(description);
                        }
                        value
                    })
                    .collect();
                message["type"] = json!("interactive");
                message["interactive"] = json!({
                    "type": "list",
                    "body": { "text": text },
                    "action": { "button": button, "sections": [{ "title": button, "rows": rows }] },
                });
            }
            Body::Image { link, caption } => {
                message["type"] = json!("image");
                message["image"] = json!({ "link": link, "caption": caption });
            }
            Body::Template { name, language, params } => {
                let mut template = json!({
                    "name": name,
                    "language": { "policy": "deterministic", "code": language },
                });
                if !params.is_empty() {
                    let parameters: Vec<Value> = params.iter().map(|p| json!({ "type": "text", "text": p })).collect();
                    template["components"] = json!([{ "type": "body", "parameters": parameters }]);
                }
                message["type"] = json!("template");
                message["template"] = template;
            }
        }
        message
    }
}

/// Whether a free-form message may still be sent (the citizen wrote within 24 hours).
pub fn window_open(last_inbound_ms: i64, now_ms: i64) -> bool {
    now_ms - last_inbound_ms < SERVICE_WINDOW_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_has_the_envelope_meta_requires() {
        let json = Body::Text { text: "Hallo".into() }.to_cloud_json(&Address::Phone("4915".into()));
        assert_eq!(
            json,
            json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"4915",
                   "type":"text","text":{"body":"Hallo","preview_url":false}})
        );
    }

    #[test]
    fn a_citizen_without_a_number_is_addressed_by_user_id() {
        let json = Body::Text { text: "x".into() }.to_cloud_json(&Address::UserId("US.1".into()));
        assert_eq!(json["recipient"], "US.1");
        assert!(json.get("to").is_none());
    }

    #[test]
    fn location_requests_and_templates_have_their_shapes() {
        let json = Body::LocationRequest { text: "Wo?".into() }.to_cloud_json(&Address::Phone("1".into()));
        assert_eq!(json["interactive"]["type"], "location_request_message");
        assert_eq!(json["interactive"]["action"]["name"], "send_location");

        let template = Body::Template { name: "t".into(), language: "de".into(), params: vec!["M-1".into()] };
        let json = template.to_cloud_json(&Address::Phone("1".into()));
        assert_eq!(json["template"]["language"], json!({"policy":"deterministic","code":"de"}));
        assert_eq!(json["template"]["components"][0]["parameters"][0]["text"], "M-1");
        let bare = Body::Template { name: "t".into(), language: "de".into(), params: vec![] };
        assert!(bare.to_cloud_json(&Address::Phone("1".into()))["template"].get("components").is_none());
    }

    #[test]
    fn an_image_is_sent_by_link_with_its_caption() {
        let body = Body::Image { link: "https://x.de/photos/ab".into(), caption: "Erledigt".into() };
        let json = body.to_cloud_json(&Address::Phone("1".into()));
        assert_eq!(json["type"], "image");
        assert_eq!(json["image"], json!({"link":"https://x.de/photos/ab","caption":"Erledigt"}));
    }

    #[test]
    fn buttons_and_lists_have_the_interactive_shapes() {
        let yes = Choice { id: "place:yes".into(), title: "Ja, hier".into(), description: None };
        let body = Body::Buttons { text: "Hier?".into(), buttons: vec![yes.clone()] };
        let json = body.to_cloud_json(&Address::Phone("1".into()));
        assert_eq!(json["interactive"]["type"], "button");
        assert_eq!(
            json["interactive"]["action"]["buttons"][0],
            json!({"type":"reply","reply":{"id":"place:yes","title":"Ja, hier"}})
        );
        let row = Choice { description: Some("Schlaglöcher".into()), ..yes };
        let body = Body::List { text: "Worum geht es?".into(), button: "Auswählen".into(), rows: vec![row] };
        let json = body.to_cloud_json(&Address::Phone("1".into()));
        assert_eq!(json["interactive"]["type"], "list");
        assert_eq!(json["interactive"]["action"]["button"], "Auswählen");
        let row = &json["interactive"]["action"]["sections"][0]["rows"][0];
        assert_eq!(row, &json!({"id":"place:yes","title":"Ja, hier","description":"Schlaglöcher"}));
    }

    #[test]
    fn the_window_closes_after_24_hours() {
        assert!(window_open(0, SERVICE_WINDOW_MS - 1));
        assert!(!window_open(0, SERVICE_WINDOW_MS));
    }
}
