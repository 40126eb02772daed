//! Reply intents as WhatsApp messages: `render` picks the message kind and keeps WhatsApp's
//! limits (three reply buttons of 20 characters, else a list of ten rows of 24; 1024 characters
//! in interactive messages and captions, 4096 in texts), `template` gives the approved template
//! a reply has for outside the 24-hour window, and `to_cloud_json` adds the recipient when it is
//! sent. The JSON follows Meta's send API (`POST /{version}/{phone-number-id}/messages`) as
//! Meta's OpenAPI description of the Cloud API gives it.

use std::collections::BTreeMap;

use meldeweg_workers::message::{ReplyForm, ReplyIntent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::settings::TemplateSettings;

const MAX_TEXT: usize = 4096;
/// Interactive bodies and image captions.
const MAX_SHORT_TEXT: usize = 1024;
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_ROWS: usize = 10;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_ID: usize = 200;

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

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A reply as a free-form WhatsApp message; `public_base` is where WhatsApp fetches photos.
pub fn render(reply: &ReplyIntent, public_base: &str) -> Body {
    match &reply.form {
        ReplyForm::Text => Body::Text { text: cut(&reply.text, MAX_TEXT) },
        ReplyForm::LocationRequest => Body::LocationRequest { text: cut(&reply.text, MAX_SHORT_TEXT) },
        ReplyForm::Update { photo: Some(token) } => Body::Image {
            link: crate::public_copies::url(public_base, token),
            caption: cut(&reply.text, MAX_SHORT_TEXT),
        },
        ReplyForm::Update { photo: None } => Body::Text { text: cut(&reply.text, MAX_TEXT) },
        ReplyForm::Choices { options, menu } => {
            let text = cut(&reply.text, MAX_SHORT_TEXT);
            let fit_buttons = options.len() <= MAX_BUTTONS
                && options.iter().all(|o| o.title.chars().count() <= MAX_BUTTON_TITLE && o.description.is_none());
            let choice = |o: &meldeweg_workers::message::Choice, title: usize| Choice {
                id: cut(&o.id, MAX_ID),
                title: cut(&o.title, title),
                description: o.description.as_deref().map(|d| cut(d, MAX_ROW_DESCRIPTION)),
            };
            if fit_buttons {
                Body::Buttons { text, buttons: options.iter().map(|o| choice(o, MAX_BUTTON_TITLE)).collect() }
            } else {
                let rows = options.iter().take(MAX_ROWS).map(|o| choice(o, MAX_ROW_TITLE)).collect();
                Body::List { text, button: cut(menu, MAX_BUTTON_TITLE), rows }
            }
        }
    }
}

/// The approved template a reply has for outside the 24-hour window, with its parameters.
pub fn template(reply: &ReplyIntent, templates: &BTreeMap<String, TemplateSettings>) -> Option<Body> {
    let template = templates.get(&reply.name)?;
    Some(Body::Template {
        name: template.name.clone(),
        language: template.language.clone(),
        params: template.params.iter().map(|name| reply.param(name).unwrap_or_default().to_string()).collect(),
    })
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

    fn intent(form: ReplyForm) -> ReplyIntent {
        ReplyIntent {
            name: "order_done".into(),
            text: "Erledigt".into(),
            params: vec![("reference".into(), "M-2026-000001".into())],
            form,
            answers_conversation: false,
        }
    }

    #[test]
    fn replies_become_the_message_kind_that_fits_within_whatsapps_limits() {
        use meldeweg_workers::message::Choice as Option_;
        let option = |n: usize, title: &str| Option_ { id: format!("o{n}"), title: title.into(), description: None };
        let two = ReplyForm::Choices {
            options: vec![option(1, "Ja, hier"), option(2, "Anderer Ort")],
            menu: "Auswählen".into(),
        };
        assert!(matches!(render(&intent(two), "https://x.de"), Body::Buttons { buttons, .. } if buttons.len() == 2));
        let long_title = ReplyForm::Choices {
            options: vec![option(1, "Ein sehr langer Titel für einen Knopf")],
            menu: "Auswählen".into(),
        };
        let Body::List { rows, button, .. } = render(&intent(long_title), "https://x.de") else { panic!("a list") };
        assert_eq!(rows[0].title.chars().count(), MAX_ROW_TITLE);
        assert_eq!(button, "Auswählen");
        let many = ReplyForm::Choices {
            options: (0..12).map(|n| option(n, "Kategorie")).collect(),
            menu: "Auswählen".into(),
        };
        assert!(matches!(render(&intent(many), "https://x.de"), Body::List { rows, .. } if rows.len() == MAX_ROWS));
        let photo = render(&intent(ReplyForm::Update { photo: Some("ab".repeat(16)) }), "https://x.de");
        assert_eq!(
            photo,
            Body::Image { link: format!("https://x.de/photos/{}", "ab".repeat(16)), caption: "Erledigt".into() }
        );
        let long = ReplyIntent { text: "x".repeat(5000), ..intent(ReplyForm::Text) };
        assert!(matches!(render(&long, "https://x.de"), Body::Text { text } if text.chars().count() == MAX_TEXT));
    }

    #[test]
    fn a_template_takes_its_parameters_from_the_reply() {
        let templates = BTreeMap::from([(
            "order_done".to_string(),
            TemplateSettings {
                name: "meldeweg_erledigt".into(),
                language: "de".into(),
                params: vec!["reference".into(), "link".into()],
            },
        )]);
        let body = template(&intent(ReplyForm::Text), &templates).unwrap();
        assert_eq!(
            body,
            Body::Template {
                name: "meldeweg_erledigt".into(),
                language: "de".into(),
                params: vec!["M-2026-000001".into(), String::new()]
            }
        );
        assert_eq!(template(&ReplyIntent { name: "help".into(), ..intent(ReplyForm::Text) }, &templates), None);
    }

    #[test]
    fn the_window_closes_after_24_hours() {
        assert!(window_open(0, SERVICE_WINDOW_MS - 1));
        assert!(!window_open(0, SERVICE_WINDOW_MS));
    }
}
