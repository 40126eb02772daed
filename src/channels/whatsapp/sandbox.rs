//! The sandbox simulator (`whatsapp.mode = "sandbox"` only): a page where a person plays a
//! citizen on WhatsApp and sees Meldeweg's replies as a chat, before the municipality has a
//! WhatsApp account. Places are shared by a tap on the map (drawn from the municipality's own
//! files) or on one of the town's addresses.
//!
//! What the page sends is wrapped into a delivery exactly as Meta would POST it and stored by
//! `ingress::accept`, the same code path as `/webhooks/whatsapp`; replies are read back from the
//! outbox and shown as WhatsApp would render them. The citizen's number travels in request
//! bodies and headers, never in URLs.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use meldeweg_workers::geotag::streets::Found;
use meldeweg_workers::LatLon;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::ingress::accept;
use super::media::SandboxMedia;
use super::render::{render, Body, Choice};
use super::webhook::{Delivery, Interactive, Message};
use super::NAME;
use crate::config::MapSettings;
use crate::http::AppError;
use crate::pipeline::ingress::Received;
use crate::pipeline::Pipeline;
use crate::time::{berlin_date_time, now_ms};
use crate::town::Municipality;
use crate::{inbox, outbox, reporters};
use meldeweg_workers::message::Sender;

const MAX_TEXT_CHARS: usize = 4096;
const MAX_LABEL_CHARS: usize = 200;
/// WhatsApp's limits for what a button or list row carries.
const MAX_CHOICE_ID_CHARS: usize = 256;
const MAX_CHOICE_TITLE_CHARS: usize = 24;
/// How many recent messages of each direction the chat shows.
const CHAT_LENGTH: i64 = 100;
/// Longest a chat request waits for something new.
const LONG_POLL: Duration = Duration::from_secs(25);

/// What the simulator holds besides the pipeline.
pub struct Simulator {
    /// Uploads waiting for the photo job, as WhatsApp's media servers would hold them.
    pub media: SandboxMedia,
    pub municipality: String,
    /// The photo cleaning's input limit: a larger upload gets 413.
    pub max_photo_bytes: usize,
    /// The optional tile server under the place picker's map.
    pub map: MapSettings,
    /// The service is stopping: a waiting chat request answers at once.
    pub shutdown: CancellationToken,
}

#[derive(Clone)]
struct SandboxState {
    pipeline: Arc<Pipeline>,
    simulator: Arc<Simulator>,
}

pub fn router(pipeline: Arc<Pipeline>, simulator: Simulator) -> Router {
    let max_photo_bytes = simulator.max_photo_bytes;
    Router::new()
        .route("/sandbox", get(page))
        .route("/sandbox/api/messages", post(send_message))
        .route("/sandbox/api/photo", post(send_photo).layer(DefaultBodyLimit::max(max_photo_bytes)))
        .route("/sandbox/api/chat", post(chat))
        .with_state(SandboxState { pipeline, simulator: Arc::new(simulator) })
}

#[derive(Template, WebTemplate)]
#[template(path = "sandbox.html")]
struct SandboxPage {
    municipality: String,
    max_photo_bytes: usize,
    presets: Vec<Preset>,
    centre: (f64, f64),
    tile_url: String,
    tile_attribution: String,
}

/// A place the location form offers with one tap, as a shared WhatsApp location carries it.
struct Preset {
    name: String,
    address: String,
    lat: f64,
    lon: f64,
}

/// The demo town's places the form offers (name, address), when the gazetteer knows them.
const PRESETS: [(&str, &str); 3] =
    [("Rathaus", "Marktplatz 1"), ("Lindenweg 4", "Lindenweg 4"), ("Bahnhofstraße 40", "Bahnhofstraße 40")];

/// The presets at the gazetteer's own address points, so that what the form shares and what
/// Meldeweg names agree; for a town without the demo's streets, three of its own addresses.
fn presets(municipality: &Municipality) -> Vec<Preset> {
    let streets = &municipality.town.streets;
    let preset = |name: &str, found: Found| {
        let address = format!("{} {}", found.street, found.number.unwrap_or_default()).trim().to_string();
        Preset { name: name.to_string(), address, lat: found.at.lat(), lon: found.at.lon() }
    };
    let demo: Vec<Preset> = PRESETS
        .iter()
        .filter_map(|(name, address)| streets.find_in_text(address).filter(|f| f.precise).map(|f| preset(name, f)))
        .collect();
    if !demo.is_empty() {
        return demo;
    }
    streets
        .by_street()
        .filter_map(|points| points.first().copied().cloned())
        .take(PRESETS.len())
        .map(|p| {
            let address = format!("{} {}", p.street, p.number).trim().to_string();
            Preset { name: address.clone(), address, lat: p.at.lat(), lon: p.at.lon() }
        })
        .collect()
}

async fn page(State(state): State<SandboxState>) -> impl IntoResponse {
    let simulator = &state.simulator;
    let municipality = &state.pipeline.municipality;
    let centre = municipality.town.area.centre();
    SandboxPage {
        municipality: simulator.municipality.clone(),
        max_photo_bytes: simulator.max_photo_bytes,
        presets: presets(municipality),
        centre: (centre.lat(), centre.lon()),
        tile_url: simulator.map.tile_url.clone(),
        tile_attribution: simulator.map.tile_attribution.clone(),
    }
}

/// The simulated citizen: a number, a business-scoped user id, or both.
#[derive(Debug, Clone, Deserialize)]
struct Citizen {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

impl Citizen {
    fn validate(self) -> Result<Self, AppError> {
        let from = self.from.filter(|s| !s.is_empty());
        let user_id = self.user_id.filter(|s| !s.is_empty());
        if let Some(number) = &from {
            if !(6..=15).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AppError::BadRequest(
                    "the number must be 6 to 15 digits in international form without + (e.g. 4915112345678)".into(),
                ));
            }
        }
        if let Some(id) = &user_id {
            let ok = (1..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !ok {
                return Err(AppError::BadRequest(
                    "the user id may hold up to 64 letters, digits, '.', '-' and '_'".into(),
                ));
            }
        }
        if from.is_none() && user_id.is_none() {
            return Err(AppError::BadRequest("give the citizen a number or a user id".into()));
        }
        Ok(Self { from, user_id })
    }

    fn sender(&self) -> Sender {
        Sender { phone: self.from.clone(), account: self.user_id.clone() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Input {
    Text {
        text: String,
    },
    Location {
        lat: f64,
        lon: f64,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
    },
    /// A tap on a reply button (`list: false`) or a list row (`list: true`).
    Choice {
        id: String,
        title: String,
        #[serde(default)]
        list: bool,
    },
}

#[derive(Debug, Deserialize)]
struct SendRequest {
    #[serde(flatten)]
    citizen: Citizen,
    #[serde(flatten)]
    input: Input,
}

async fn send_message(
    State(state): State<SandboxState>,
    Json(request): Json<SendRequest>,
) -> Result<Json<Received>, AppError> {
    let citizen = request.citizen.validate()?;
    let content = match request.input {
        Input::Text { text } => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                return Err(AppError::BadRequest(format!("a message holds 1 to {MAX_TEXT_CHARS} characters")));
            }
            json!({ "type": "text", "text": { "body": text } })
        }
        Input::Location { lat, lon, name, address } => {
            let point = LatLon::new(lat, lon).map_err(|e| AppError::BadRequest(e.to_string()))?;
            let bounded = |s: Option<String>| {
                s.map(|s| s.trim().chars().take(MAX_LABEL_CHARS).collect::<String>()).filter(|s| !s.is_empty())
            };
            let mut location = json!({ "latitude": point.lat(), "longitude": point.lon() });
            if let Some(name) = bounded(name) {
                location["name"] = json!(name);
            }
            if let Some(address) = bounded(address) {
                location["address"] = json!(address);
            }
            json!({ "type": "location", "location": location })
        }
        Input::Choice { id, title, list } => {
            let bounded = |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max;
            if !bounded(&id, MAX_CHOICE_ID_CHARS) || !bounded(&title, MAX_CHOICE_TITLE_CHARS) {
                return Err(AppError::BadRequest(format!(
                    "a choice needs an id of 1 to {MAX_CHOICE_ID_CHARS} and a title of 1 to {MAX_CHOICE_TITLE_CHARS} characters"
                )));
            }
            let kind = if list { "list_reply" } else { "button_reply" };
            json!({ "type": "interactive", "interactive": { "type": kind, kind: { "id": id, "title": title } } })
        }
    };
    inject(&state, &citizen, content).await
}

async fn send_photo(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let citizen = Citizen { from: header("x-sandbox-from"), user_id: header("x-sandbox-user-id") }.validate()?;
    let mime_type = meldeweg_workers::photo::sniff(&body)
        .map_err(|_| AppError::UnsupportedMediaType("please choose a JPEG, PNG or WebP photo".into()))?
        .mime_type();
    let caption = match header("x-sandbox-caption") {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| AppError::BadRequest("x-sandbox-caption must be base64 of UTF-8 text".into()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| AppError::BadRequest("x-sandbox-caption must be base64 of UTF-8 text".into()))?;
            Some(text.trim().chars().take(MAX_TEXT_CHARS).collect::<String>()).filter(|c| !c.is_empty())
        }
        None => None,
    };
    // Held in memory only, until the photo job has cleaned it (P5); announced like Meta does.
    let hashed = body.clone();
    let digest = tokio::task::spawn_blocking(move || Sha256::digest(&hashed))
        .await
        .map_err(|e| AppError::Unavailable(format!("hashing the upload stopped: {e}")))?;
    let media_id = format!("sandbox-media-{}", random_hex(12));
    let mut image = json!({
        "id": media_id,
        "mime_type": mime_type,
        "sha256": base64::engine::general_purpose::STANDARD.encode(digest),
    });
    state.simulator.media.put(media_id, body);
    if let Some(caption) = caption {
        image["caption"] = json!(caption);
    }
    inject(&state, &citizen, json!({ "type": "image", "image": image })).await
}

/// Wraps a message into a delivery as Meta sends it and stores it like the webhook does.
async fn inject(state: &SandboxState, citizen: &Citizen, content: Value) -> Result<Json<Received>, AppError> {
    let mut message = json!({
        "id": format!("wamid.sandbox.{}", random_hex(16)),
        "timestamp": (now_ms() / 1000).to_string(),
    });
    let mut contact = json!({ "profile": { "name": "Sandbox" } });
    if let Some(from) = &citizen.from {
        message["from"] = json!(from);
        contact["wa_id"] = json!(from);
    }
    if let Some(user_id) = &citizen.user_id {
        message["from_user_id"] = json!(user_id);
        contact["user_id"] = json!(user_id);
    }
    if let (Some(target), Value::Object(fields)) = (message.as_object_mut(), content) {
        target.extend(fields);
    }
    let delivery = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "sandbox", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "sandbox", "phone_number_id": "sandbox" },
            "contacts": [contact],
            "messages": [message],
        }}]}],
    });
    let delivery: Delivery = serde_json::from_value(delivery)
        .map_err(|e| AppError::BadRequest(format!("cannot build the delivery: {e}")))?;
    Ok(Json(accept(&state.pipeline, delivery).await?))
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

#[derive(Debug, Deserialize)]
struct ChatRequest {
    #[serde(flatten)]
    citizen: Citizen,
    /// The fingerprint of what the page shows; the answer waits until there is something else.
    #[serde(default)]
    known: Option<String>,
}

#[derive(Debug, Serialize)]
struct Chat {
    fingerprint: String,
    items: Vec<ChatItem>,
}

#[derive(Debug, Serialize)]
struct ChatItem {
    direction: &'static str,
    at: String,
    #[serde(skip)]
    at_ms: i64,
    kind: String,
    text: String,
    /// For replies: queued, sent, undeliverable, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Value>,
    /// For buttons and lists: what the citizen can tap.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    choices: Vec<Choice>,
    /// For photos Meldeweg sent: where this server serves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    photo: Option<String>,
}

async fn chat(State(state): State<SandboxState>, Json(request): Json<ChatRequest>) -> Result<Json<Chat>, AppError> {
    let citizen = request.citizen.validate()?;
    let mut updates = state.pipeline.conversation_changes.subscribe();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        updates.borrow_and_update();
        let chat = load_chat(&state.pipeline, &citizen).await?;
        if request.known.as_deref() != Some(chat.fingerprint.as_str()) {
            return Ok(Json(chat));
        }
        // Wake on a change in this process; look again every second for other processes.
        let wait = tokio::time::timeout(Duration::from_secs(1), updates.changed());
        tokio::select! {
            waited = tokio::time::timeout_at(deadline, wait) => if waited.is_err() {
                return Ok(Json(chat));
            },
            () = state.simulator.shutdown.cancelled() => return Ok(Json(chat)),
        }
    }
}

async fn load_chat(pipeline: &Pipeline, citizen: &Citizen) -> Result<Chat, AppError> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let reporter = reporters::find_id(&mut conn, &pipeline.vault, NAME, &citizen.sender())
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let mut items = Vec::new();
    if let Some(reporter_id) = reporter {
        for event in inbox::recent_for_reporter(&mut conn, reporter_id, CHAT_LENGTH).await? {
            let message = pipeline
                .vault
                .open(&event.payload_enc)
                .ok()
                .and_then(|json| serde_json::from_slice::<Message>(&json).ok());
            if let Some(message) = message {
                items.push(inbound_item(&message, event.received_at));
            }
        }
        for message in outbox::recent_for_reporter(&mut conn, reporter_id, CHAT_LENGTH).await? {
            // A row from before reply intents holds the WhatsApp message it was rendered to.
            let body: Option<Body> = match message.reply() {
                Some(reply) => Some(render(&reply, "")),
                None => serde_json::from_str(&message.body).ok(),
            };
            let photo = match &body {
                Some(Body::Image { link, .. }) => link.find("/photos/").map(|at| link[at..].to_string()),
                _ => None,
            };
            let (kind, text, choices) = match body {
                Some(Body::LocationRequest { text }) => ("location_request", text, Vec::new()),
                Some(Body::Buttons { text, buttons }) => ("buttons", text, buttons),
                Some(Body::List { text, rows, .. }) => ("list", text, rows),
                Some(template @ Body::Template { .. }) => ("template", template.display_text(), Vec::new()),
                Some(Body::Text { text }) => ("text", text, Vec::new()),
                Some(Body::Image { caption, .. }) => ("photo", caption, Vec::new()),
                None => ("text", String::new(), Vec::new()),
            };
            items.push(ChatItem {
                direction: "out",
                at: berlin_date_time(message.created_at),
                at_ms: message.created_at,
                kind: kind.to_string(),
                text,
                state: Some(message.state.as_str()),
                location: None,
                choices,
                photo,
            });
        }
    }
    items.sort_by_key(|item| item.at_ms);
    let mut digest = Sha256::new();
    for item in &items {
        digest.update(format!("{}|{}|{}|{:?}\n", item.at_ms, item.direction, item.text, item.state));
    }
    Ok(Chat { fingerprint: hex::encode(&digest.finalize()[..8]), items })
}

fn inbound_item(message: &Message, received_at: i64) -> ChatItem {
    let (text, location) = match message.kind.as_str() {
        "text" => (message.text.as_ref().map(|t| t.body.clone()).unwrap_or_default(), None),
        "image" => (
            format!("📷 {}", message.image.as_ref().and_then(|m| m.caption.clone()).unwrap_or_else(|| "Foto".into())),
            None,
        ),
        "location" => match &message.location {
            Some(l) => {
                let label =
                    [l.name.as_deref(), l.address.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
                (
                    format!(
                        "📍 {}",
                        if label.is_empty() { format!("{:.5}, {:.5}", l.latitude, l.longitude) } else { label }
                    ),
                    Some(json!({ "lat": l.latitude, "lon": l.longitude })),
                )
            }
            None => (String::new(), None),
        },
        "interactive" => {
            let choice = message.interactive.as_ref().and_then(Interactive::choice);
            (format!("↩ {}", choice.map(|c| c.title.as_str()).unwrap_or("?")), None)
        }
        other => (format!("[{other}]"), None),
    };
    ChatItem {
        direction: "in",
        at: berlin_date_time(received_at),
        at_ms: received_at,
        kind: message.kind.clone(),
        text,
        state: None,
        location,
        choices: Vec::new(),
        photo: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_citizens_are_validated() {
        let citizen = |from: Option<&str>, user_id: Option<&str>| {
            Citizen { from: from.map(Into::into), user_id: user_id.map(Into::into) }.validate()
        };
        assert!(citizen(Some("4915112345678"), None).is_ok());
        assert!(citizen(None, Some("US.1349")).is_ok());
        assert!(citizen(Some("+4915112345678"), None).is_err());
        assert!(citizen(Some("123"), None).is_err());
        assert!(citizen(None, Some("a b")).is_err());
        assert!(citizen(Some(""), Some("")).is_err());
    }
}
