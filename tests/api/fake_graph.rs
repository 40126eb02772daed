//! A fake WhatsApp Cloud API (Graph API) on a random local port.
//!
//! It accepts `POST /{version}/{phone-number-id}/messages` as Meta does: checks the bearer token,
//! checks the request's shape against the send API (Meta's OpenAPI description, see tests/fixtures/SOURCES.md), records it, and answers
//! with a `wamid` or with the failure a test scripted (HTTP status and Graph error code), after
//! an optional delay. It also serves media as Meta does: `GET /{version}/{media-id}` answers
//! with a short-lived URL, which serves the bytes with the same token. Shared by the
//! integration tests and the benchmarks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const API_VERSION: &str = "v23.0";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const ACCESS_TOKEN: &str = "test-access-token";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: Value,
    /// The HTTP status the fake answered with.
    pub status: u16,
    /// What was wrong with the request's shape, if anything.
    pub invalid: Option<String>,
    /// The message id the fake answered with (a successful send). Like Meta's, it carries the
    /// recipient's number, which Meldeweg must therefore not store in clear (P6).
    pub wamid: Option<String>,
    /// When the request arrived; the end-to-end benchmark, which includes this file, reads it.
    #[cfg_attr(test, allow(dead_code))]
    pub at: std::time::Instant,
}

impl Recorded {
    /// The number or user id the message was addressed to.
    pub fn recipient(&self) -> Option<&str> {
        self.body.get("to").or_else(|| self.body.get("recipient")).and_then(Value::as_str)
    }

    /// The text a person would read: text body, interactive body, image caption, or
    /// "template:<name>:<params>".
    pub fn text(&self) -> String {
        let body = &self.body;
        match body["type"].as_str() {
            Some("text") => body["text"]["body"].as_str().unwrap_or_default().to_string(),
            Some("interactive") => body["interactive"]["body"]["text"].as_str().unwrap_or_default().to_string(),
            Some("image") => body["image"]["caption"].as_str().unwrap_or_default().to_string(),
            Some("template") => {
                let params: Vec<&str> = body["template"]["components"][0]["parameters"]
                    .as_array()
                    .map(|ps| ps.iter().filter_map(|p| p["text"].as_str()).collect())
                    .unwrap_or_default();
                format!("template:{}:{}", body["template"]["name"].as_str().unwrap_or_default(), params.join(","))
            }
            _ => String::new(),
        }
    }

    pub fn succeeded(&self) -> bool {
        self.status == 200
    }
}

/// A scripted answer to the next request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// HTTP status with an empty body.
    Status(u16),
    /// A Graph error body: `{"error": {"code": .., "is_transient": ..}}`.
    GraphError { status: u16, code: i64 },
    /// Never answer (the caller's timeout or death ends the request).
    Hang,
}

#[derive(Default)]
struct GraphState {
    url: String,
    requests: Vec<Recorded>,
    script: VecDeque<Answer>,
    delay: Duration,
    next_id: u64,
    media: HashMap<String, Vec<u8>>,
    /// HTTP statuses for the next media requests, in order.
    media_script: VecDeque<u16>,
    /// Media requests answered with the file or its URL.
    media_served: usize,
    /// Where media objects say the files are, when not here.
    media_base: Option<String>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub url: String,
    state: Arc<Mutex<GraphState>>,
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(GraphState::default()));
        let router = Router::new()
            .route("/{version}/{phone_number_id}/messages", post(messages))
            .route("/messages", post(provider_messages))
            .route("/{version}/{media_id}", get(media_object))
            .route("/media-files/{media_id}", get(media_file))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake graph");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        state.lock().unwrap().url = url.clone();
        tokio::spawn(async move { axum::serve(listener, router).await.expect("fake graph serves") });
        Self { url, state }
    }

    /// Answers the next requests with these, in order; then normally again.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Holds a media file under `media_id`, as if a citizen had sent it.
    pub fn add_media(&self, media_id: &str, bytes: Vec<u8>) {
        self.state.lock().unwrap().media.insert(media_id.to_string(), bytes);
    }

    /// Media objects name files under `base` instead of this fake's own address.
    pub fn media_files_at(&self, base: &str) {
        self.state.lock().unwrap().media_base = Some(base.to_string());
    }

    /// Answers the next media requests with these statuses instead.
    pub fn script_media(&self, statuses: impl IntoIterator<Item = u16>) {
        self.state.lock().unwrap().media_script.extend(statuses);
    }

    /// How many media requests were answered successfully.
    pub fn media_served(&self) -> usize {
        self.state.lock().unwrap().media_served
    }

    /// Forgets answers scripted but not yet given.
    pub fn clear_script(&self) {
        self.state.lock().unwrap().script.clear();
    }

    /// Waits this long before every answer.
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Successfully answered requests to one recipient.
    pub fn delivered_to(&self, recipient: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.succeeded() && r.recipient() == Some(recipient)).collect()
    }

    /// Texts successfully delivered to one recipient, in order.
    pub fn texts_to(&self, recipient: &str) -> Vec<String> {
        self.delivered_to(recipient).iter().map(Recorded::text).collect()
    }

    pub fn invalid_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.invalid.is_some()).collect()
    }
}

async fn messages(
    State(state): State<Arc<Mutex<GraphState>>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if version != API_VERSION || phone_number_id != PHONE_NUMBER_ID {
        return graph_error(StatusCode::NOT_FOUND, 100, "Unknown path components");
    }
    answer(&state, bearer_ok(&headers), &body).await
}

/// An EU provider in the style of 360dialog: `POST /messages` with a `D360-API-KEY` header.
async fn provider_messages(State(state): State<Arc<Mutex<GraphState>>>, headers: HeaderMap, body: String) -> Response {
    let authorised = headers.get("d360-api-key").and_then(|v| v.to_str().ok()) == Some(ACCESS_TOKEN);
    answer(&state, authorised, &body).await
}

async fn answer(state: &Mutex<GraphState>, authorised: bool, body: &str) -> Response {
    if !authorised {
        return graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token");
    }
    let parsed: Result<Value, _> = serde_json::from_str(body);
    let (body, invalid) = match parsed {
        Ok(value) => {
            let invalid = check_shape(&value).err();
            (value, invalid)
        }
        Err(e) => (Value::Null, Some(format!("not JSON: {e}"))),
    };
    let (answer, delay, id) = {
        let mut state = state.lock().unwrap();
        state.next_id += 1;
        let answer = if invalid.is_some() { None } else { state.script.pop_front() };
        (answer, state.delay, state.next_id)
    };
    let status = match (&invalid, &answer) {
        (Some(_), _) => 400,
        (None, Some(Answer::Status(s))) | (None, Some(Answer::GraphError { status: s, .. })) => *s,
        (None, Some(Answer::Hang)) => 0,
        (None, None) => 200,
    };
    let at = std::time::Instant::now();
    let input = body.get("to").or_else(|| body.get("recipient")).cloned().unwrap_or(Value::Null);
    let wamid = (status == 200).then(|| format!("wamid.fake.{}.{id}", input.as_str().unwrap_or_default()));
    let recorded = Recorded { body: body.clone(), status, invalid: invalid.clone(), wamid: wamid.clone(), at };
    state.lock().unwrap().requests.push(recorded);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(reason) = invalid {
        return graph_error(StatusCode::BAD_REQUEST, 100, &reason);
    }
    match answer {
        Some(Answer::Hang) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Answer::Status(status)) => StatusCode::from_u16(status).expect("status").into_response(),
        Some(Answer::GraphError { status, code }) => {
            graph_error(StatusCode::from_u16(status).expect("status"), code, "scripted failure")
        }
        None => Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": input, "wa_id": input }],
            "messages": [{ "id": wamid, "message_status": "accepted" }],
        }))
        .into_response(),
    }
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(format!("Bearer {ACCESS_TOKEN}").as_str())
}

/// Checks auth and the media script; on success returns the file and the fake's URL.
fn media_request(
    state: &Mutex<GraphState>,
    headers: &HeaderMap,
    media_id: &str,
) -> Result<(Vec<u8>, String), Box<Response>> {
    if !bearer_ok(headers) {
        return Err(Box::new(graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token")));
    }
    let mut state = state.lock().unwrap();
    if let Some(status) = state.media_script.pop_front() {
        return Err(Box::new(graph_error(StatusCode::from_u16(status).expect("status"), 2, "scripted media failure")));
    }
    let Some(bytes) = state.media.get(media_id).cloned() else {
        return Err(Box::new(graph_error(StatusCode::NOT_FOUND, 100, "Unsupported get request")));
    };
    state.media_served += 1;
    Ok((bytes, state.media_base.clone().unwrap_or_else(|| state.url.clone())))
}

async fn media_object(
    State(state): State<Arc<Mutex<GraphState>>>,
    Path((version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if version != API_VERSION {
        return graph_error(StatusCode::NOT_FOUND, 100, "Unknown version");
    }
    match media_request(&state, &headers, &media_id) {
        Ok((bytes, url)) => {
            use sha2::Digest;
            Json(json!({
                "messaging_product": "whatsapp",
                "url": format!("{url}/media-files/{media_id}"),
                "mime_type": "image/jpeg",
                "sha256": hex::encode(sha2::Sha256::digest(&bytes)),
                "file_size": bytes.len().to_string(),
                "id": media_id,
            }))
            .into_response()
        }
        Err(response) => *response,
    }
}

async fn media_file(
    State(state): State<Arc<Mutex<GraphState>>>,
    Path(media_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match media_request(&state, &headers, &media_id) {
        Ok((bytes, _)) => bytes.into_response(),
        Err(response) => *response,
    }
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({ "error": {
        "message": message, "type": "OAuthException", "code": code,
        "fbtrace_id": "fake", "is_transient": false,
    }});
    (status, Json(body)).into_response()
}

/// The checks Meta's send API applies to the messages Meldeweg sends.
fn check_shape(message: &Value) -> Result<(), String> {
    let field = |name: &str| message.get(name).and_then(Value::as_str);
    if field("messaging_product") != Some("whatsapp") {
        return Err("messaging_product must be \"whatsapp\"".into());
    }
    if field("recipient_type") != Some("individual") {
        return Err("recipient_type must be \"individual\"".into());
    }
    match (field("to"), field("recipient")) {
        (Some(to), None) if !to.is_empty() && to.bytes().all(|b| b.is_ascii_digit()) => {}
        (None, Some(user_id)) if !user_id.is_empty() => {}
        _ => return Err("exactly one of `to` (digits) or `recipient` is required".into()),
    }
    let chars = |v: &Value| v.as_str().map(|s| s.chars().count());
    match field("type") {
        Some("text") => match chars(&message["text"]["body"]) {
            Some(1..=4096) => Ok(()),
            _ => Err("text.body must hold 1 to 4096 characters".into()),
        },
        Some("interactive") => {
            let interactive = &message["interactive"];
            let body_ok = matches!(chars(&interactive["body"]["text"]), Some(1..=1024));
            match interactive["type"].as_str() {
                Some("location_request_message") if body_ok && interactive["action"]["name"] == "send_location" => {
                    Ok(())
                }
                Some("button") if body_ok => {
                    let buttons = interactive["action"]["buttons"].as_array().cloned().unwrap_or_default();
                    let valid = |b: &Value| {
                        b["type"] == "reply"
                            && matches!(chars(&b["reply"]["id"]), Some(1..=256))
                            && matches!(chars(&b["reply"]["title"]), Some(1..=20))
                    };
                    if (1..=3).contains(&buttons.len()) && buttons.iter().all(valid) {
                        Ok(())
                    } else {
                        Err("1 to 3 reply buttons with id (≤ 256) and title (≤ 20) are required".into())
                    }
                }
                Some("list") if body_ok => {
                    let action = &interactive["action"];
                    let sections = action["sections"].as_array().cloned().unwrap_or_default();
                    let rows: Vec<Value> =
                        sections.iter().flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default()).collect();
                    let row_ok = |r: &Value| {
                        matches!(chars(&r["id"]), Some(1..=200))
                            && matches!(chars(&r["title"]), Some(1..=24))
                            && r.get("description").is_none_or(|d| matches!(chars(d), Some(0..=72)))
                    };
                    let sections_ok = (1..=10).contains(&sections.len())
                        && sections.iter().all(|s| s.get("title").is_none_or(|t| matches!(chars(t), Some(1..=24))));
                    if matches!(chars(&action["button"]), Some(1..=20))
                        && sections_ok
                        && (1..=10).contains(&rows.len())
                        && rows.iter().all(row_ok)
                    {
                        Ok(())
                    } else {
                        Err("a list needs a button (≤ 20), 1-10 sections and 1-10 rows (title ≤ 24, description ≤ 72)"
                            .into())
                    }
                }
                _ => Err("unsupported or malformed interactive message".into()),
            }
        }
        Some("image") => {
            let image = &message["image"];
            let link = image["link"].as_str().unwrap_or_default();
            let has_id = image["id"].as_str().is_some_and(|id| !id.is_empty());
            let caption_ok = image.get("caption").is_none_or(|c| matches!(chars(c), Some(0..=1024)));
            if (link.starts_with("https://") || link.starts_with("http://") || has_id) && caption_ok {
                Ok(())
            } else {
                Err("image needs a link (http/https) or an id, and a caption of at most 1024 characters".into())
            }
        }
        Some("template") => {
            let template = &message["template"];
            let named = template["name"].as_str().is_some_and(|n| !n.is_empty());
            let language = &template["language"];
            if !named || language["code"].as_str().is_none() || language["policy"] != "deterministic" {
                return Err("template needs name and language {policy, code}".into());
            }
            Ok(())
        }
        other => Err(format!("unsupported message type {other:?}")),
    }
}
