//! `/webhooks/whatsapp`: the verification handshake and the delivery endpoint.
//!
//! A POST is authenticated on its raw bytes, parsed, and every message in it is stored (sealed,
//! once per provider id) together with its intake job in ONE transaction; only after the commit
//! is it answered 200. Statuses update the outbox in the same transaction. Malformed JSON is
//! answered 400 with the parser's reason and nothing is stored. Never logs message content or
//! sender ids.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::client::WINDOW_CLOSED;
use super::signature::{self, SIGNATURE_HEADER};
use super::webhook::{Contact, Delivery, Message, MessagesValue, Status};
use crate::crypto::Vault;
use crate::db::outbox::{self, DeliveryStatus};
use crate::db::reporters::Identity;
use crate::db::{inbound_events, Db, DbError};
use crate::pipeline::intake::IntakeJob;
use crate::pipeline::notify::NotifyJob;
use crate::queue::{JobKind, Queue, QueueError};
use crate::time::now_ms;
use crate::web::error::AppError;

pub const CHANNEL: &str = "whatsapp";
/// Longest `hub.challenge` echoed back (Meta sends a short number).
const MAX_CHALLENGE_LEN: usize = 128;

/// How webhook POSTs prove they come from the provider.
#[derive(Clone)]
pub enum WebhookAuth {
    /// Meta's HMAC signature with the app secret.
    Signature { app_secret: String },
    /// A shared secret in a header of the provider's choosing.
    Header { name: String, secret: String },
    /// Sandbox without a secret: deliveries are accepted unsigned.
    Open,
}

/// What the webhook needs: storage for events and jobs, and the keys.
pub struct Ingress {
    pub db: Db,
    pub queue: Queue,
    pub vault: Vault,
}

#[derive(Clone)]
struct WebhookState {
    ingress: Arc<Ingress>,
    auth: WebhookAuth,
    verify_token: Option<String>,
}

pub fn router(
    ingress: Arc<Ingress>,
    auth: WebhookAuth,
    verify_token: Option<String>,
    max_body_bytes: usize,
) -> Router {
    Router::new()
        .route("/webhooks/whatsapp", get(handshake).post(receive))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(WebhookState { ingress, auth, verify_token })
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription check: echo the challenge if the verify token is ours.
async fn handshake(
    State(state): State<WebhookState>,
    Query(query): Query<Handshake>,
) -> Result<String, AppError> {
    let expected = state
        .verify_token
        .as_deref()
        .ok_or_else(|| AppError::Forbidden("no verify token is configured".into()))?;
    let token_ok = query
        .verify_token
        .as_deref()
        .is_some_and(|presented| signature::secrets_match(presented, expected));
    if query.mode.as_deref() != Some("subscribe") || !token_ok {
        return Err(AppError::Forbidden("hub.mode or hub.verify_token is wrong".into()));
    }
    match query.challenge {
        Some(challenge)
            if !challenge.is_empty()
                && challenge.len() <= MAX_CHALLENGE_LEN
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(challenge)
        }
        _ => Err(AppError::BadRequest("hub.challenge missing or not a plain token".into())),
    }
}

async fn receive(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, AppError> {
    authenticate(&state.auth, &headers, &body)?;
    let delivery: Delivery = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadRequest(format!("body is not a WhatsApp webhook delivery: {e}")))?;
    let received = store(&state.ingress, delivery).await?;
    tracing::info!(
        messages = received.messages,
        duplicates = received.duplicates,
        invalid = received.invalid,
        statuses = received.statuses,
        "webhook delivery stored"
    );
    Ok(Json(received))
}

fn authenticate(auth: &WebhookAuth, headers: &HeaderMap, body: &[u8]) -> Result<(), AppError> {
    match auth {
        WebhookAuth::Signature { app_secret } => {
            let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
            signature::verify(app_secret.as_bytes(), body, header)
                .map_err(|e| AppError::Unauthorized(e.to_string()))
        }
        WebhookAuth::Header { name, secret } => {
            let presented = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
            match presented {
                Some(value) if signature::secrets_match(value, secret) => Ok(()),
                Some(_) => Err(AppError::Unauthorized(format!("the {name} header is wrong"))),
                None => Err(AppError::Unauthorized(format!("the {name} header is missing"))),
            }
        }
        WebhookAuth::Open => Ok(()),
    }
}

/// What a delivery contained, as answered to the provider.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// New messages stored, each with an intake job.
    pub messages: usize,
    /// Messages seen before (the provider redelivered).
    pub duplicates: usize,
    /// Messages kept as `invalid` events because they could not be read.
    pub invalid: usize,
    pub statuses: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error("{0}")]
    BadPayload(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<sqlx::Error> for IngressError {
    fn from(error: sqlx::Error) -> Self {
        IngressError::Db(DbError::Sql(error))
    }
}

/// The sealed form of an inbound message, as the intake job reads it back.
pub type StoredMessage = Message;

/// Stores every message and status of a delivery in one transaction.
pub async fn store(ingress: &Ingress, delivery: Delivery) -> Result<Received, IngressError> {
    let now = now_ms();
    let mut received = Received::default();
    let mut tx = ingress.db.begin().await?;
    for change in delivery.entry.iter().flat_map(|entry| &entry.changes) {
        if change.field != "messages" {
            tracing::debug!(field = %change.field, "ignoring webhook change");
            continue;
        }
        let value: MessagesValue = serde_json::from_str(change.value.get())
            .map_err(|e| IngressError::BadPayload(format!("a `messages` change is malformed: {e}")))?;
        for error in &value.errors {
            tracing::warn!(code = error.code, title = %error.title, "WhatsApp reported an error in a delivery");
        }
        for raw in &value.messages {
            let (provider_id, kind, payload, series, error) = match read_message(raw.get(), &value.contacts) {
                Ok(message) => {
                    let json = serde_json::to_vec(&message).expect("serialising a Message cannot fail");
                    // One citizen's messages go through the conversation one at a time, in order.
                    let identity = Identity { phone: message.from.as_deref(), user_id: message.from_user_id.as_deref() };
                    let series = identity.key_hash(&ingress.vault).map(|hash| format!("in:{hash}"));
                    (message.id.clone(), message.kind.clone(), json, series, None)
                }
                Err(reason) => {
                    let digest = hex::encode(Sha256::digest(raw.get().as_bytes()));
                    let raw_bytes = raw.get().as_bytes().to_vec();
                    (format!("invalid:{digest}"), "invalid".to_string(), raw_bytes, None, Some(reason))
                }
            };
            let event = inbound_events::NewEvent {
                channel: CHANNEL,
                provider_id: &provider_id,
                kind: &kind,
                payload_enc: ingress.vault.seal(&payload),
                error: error.as_deref(),
            };
            match inbound_events::insert(tx.conn(), event, now).await? {
                None => received.duplicates += 1,
                Some(_) if error.is_some() => {
                    tracing::warn!(reason = error.as_deref().unwrap_or_default(), "kept an unreadable message as an invalid event");
                    received.invalid += 1;
                }
                Some(event_id) => {
                    let job = IntakeJob { event_id };
                    ingress.queue.enqueue(&mut tx, JobKind::Intake, series.as_deref(), &job, now).await?;
                    received.messages += 1;
                }
            }
        }
        for raw in &value.statuses {
            match serde_json::from_str::<Status>(raw.get()) {
                Ok(status) => {
                    apply_status(ingress, &mut tx, &status, now).await?;
                    received.statuses += 1;
                }
                Err(error) => tracing::warn!(%error, "ignoring an unreadable status"),
            }
        }
    }
    tx.commit().await?;
    Ok(received)
}

fn read_message(raw: &str, contacts: &[Contact]) -> Result<Message, String> {
    let mut message: Message = serde_json::from_str(raw).map_err(|e| format!("unreadable message: {e}"))?;
    fill_sender(&mut message, contacts);
    message.validate()?;
    Ok(message)
}

/// Completes the sender from `contacts`, which carry the number and the business-scoped user id.
fn fill_sender(message: &mut Message, contacts: &[Contact]) {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let contact = contacts
        .iter()
        .find(|c| same(&c.wa_id, &message.from) || same(&c.user_id, &message.from_user_id))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        });
    if let Some(contact) = contact {
        if message.from.is_none() {
            message.from = contact.wa_id.clone();
        }
        if message.from_user_id.is_none() {
            message.from_user_id = contact.user_id.clone();
        }
    }
}

async fn apply_status(
    ingress: &Ingress,
    tx: &mut crate::db::Tx,
    status: &Status,
    now: i64,
) -> Result<(), IngressError> {
    let delivery_status = match status.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        other => {
            tracing::debug!(status = other, "ignoring a status Meldeweg does not track");
            return Ok(());
        }
    };
    let error = status.errors.first().map(|e| (e.code, e.title.as_str()));
    let at = status.timestamp.saturating_mul(1000).min(now);
    let Some((outbox_id, reporter_id)) =
        outbox::apply_status(tx.conn(), &status.id, delivery_status, at, error).await?
    else {
        return Ok(());
    };
    if delivery_status == DeliveryStatus::Failed {
        let code = error.map(|e| e.0);
        tracing::warn!(outbox = outbox_id, code, "WhatsApp reports a message failed");
        // The window closed before the message arrived: send the template instead, if any.
        if code == Some(WINDOW_CLOSED) && outbox::switch_to_template(tx.conn(), outbox_id).await? {
            let job = NotifyJob { outbox_ids: vec![outbox_id] };
            job.enqueue(&ingress.queue, tx, reporter_id, now).await?;
        }
    }
    Ok(())
}

impl From<IngressError> for AppError {
    fn from(error: IngressError) -> Self {
        match error {
            IngressError::BadPayload(reason) => AppError::BadRequest(reason),
            IngressError::Db(e) => AppError::Unavailable(e.to_string()),
            IngressError::Queue(e) => AppError::Unavailable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: &str) -> Message {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_sender_is_completed_from_the_matching_contact() {
        let contacts = vec![
            Contact { wa_id: Some("111".into()), user_id: Some("US.1".into()) },
            Contact { wa_id: Some("222".into()), user_id: Some("US.2".into()) },
        ];
        let mut m = message(r#"{"from":"222","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from_user_id.as_deref(), Some("US.2"));

        let mut m = message(r#"{"from_user_id":"US.1","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from.as_deref(), Some("111"));
    }

    #[test]
    fn a_citizen_without_a_number_keeps_none() {
        let contacts = vec![Contact { wa_id: None, user_id: Some("US.9".into()) }];
        let mut m = message(r#"{"id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!((m.from, m.from_user_id.as_deref()), (None, Some("US.9")));
    }
}
