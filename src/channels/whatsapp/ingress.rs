//! `/webhooks/whatsapp`: the verification handshake and the delivery endpoint.
//!
//! A POST is authenticated on its raw bytes, parsed, translated (`translate::batch`) and handed
//! to the core's ingress, which commits every message (sealed, once per provider id) with its
//! intake job, and applies statuses, before the POST is answered 200. Malformed JSON is answered
//! 400 with the parser's reason and nothing is stored. Never logs message content or sender ids.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::signature::{self, SIGNATURE_HEADER};
use super::translate;
use super::webhook::Delivery;
use crate::http::uploads::{Upload, UploadBudget, UploadError};
use crate::http::AppError;
use crate::pipeline::ingress::{IngressError, Received};
use crate::pipeline::Pipeline;
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

/// Stores a delivery, from the webhook and from the sandbox alike; returns what it held once
/// everything is committed.
pub async fn accept(pipeline: &Pipeline, delivery: Delivery) -> Result<Received, AppError> {
    let batch = translate::batch(delivery, &pipeline.vault).map_err(AppError::BadRequest)?;
    pipeline.ingress.accept(batch).await.map_err(unavailable)
}

fn unavailable(error: IngressError) -> AppError {
    AppError::Unavailable(error.to_string())
}

#[derive(Clone)]
struct WebhookState {
    pipeline: Arc<Pipeline>,
    auth: WebhookAuth,
    verify_token: Option<String>,
    /// Bodies are read before their signature can be checked: each takes room here first.
    bodies: UploadBudget,
    max_body_bytes: usize,
}

/// Webhook bodies of the largest size held at once (a delivery is a few KB; Meta retries a
/// POST answered 503).
const BODIES_IN_FLIGHT: usize = 16;

pub fn router(
    pipeline: Arc<Pipeline>,
    auth: WebhookAuth,
    verify_token: Option<String>,
    max_body_bytes: usize,
) -> Router {
    let bodies = UploadBudget::new(max_body_bytes * BODIES_IN_FLIGHT);
    Router::new().route("/webhooks/whatsapp", get(handshake).post(receive)).with_state(WebhookState {
        pipeline,
        auth,
        verify_token,
        bodies,
        max_body_bytes,
    })
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
async fn handshake(State(state): State<WebhookState>, Query(query): Query<Handshake>) -> Result<String, AppError> {
    let expected =
        state.verify_token.as_deref().ok_or_else(|| AppError::Forbidden("no verify token is configured".into()))?;
    let token_ok = query.verify_token.as_deref().is_some_and(|presented| signature::secrets_match(presented, expected));
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
    body: Body,
) -> Result<Json<Received>, AppError> {
    let result = match read(&state, &headers, body).await {
        Ok(body) => store(&state, &headers, &body.bytes).await,
        Err(refused) => Err(refused),
    };
    crate::telemetry::webhook_delivery(match &result {
        Ok(_) => "ok",
        Err(AppError::Unauthorized(_)) => "unauthorized",
        Err(AppError::Unavailable(_)) => "unavailable",
        Err(_) => "malformed",
    });
    result
}

/// The body, within its limit and the budget of bodies in flight.
async fn read(state: &WebhookState, headers: &HeaderMap, body: Body) -> Result<Upload, AppError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    state.bodies.read_body(body, declared, state.max_body_bytes).await.map_err(|error| match error {
        UploadError::TooLarge(max) => AppError::TooLarge(format!("the body is longer than {max} bytes")),
        UploadError::Busy => AppError::Unavailable("too many webhook bodies at once".into()),
        UploadError::Unreadable(reason) => AppError::BadRequest(format!("the body could not be read: {reason}")),
    })
}

async fn store(state: &WebhookState, headers: &HeaderMap, body: &Bytes) -> Result<Json<Received>, AppError> {
    authenticate(&state.auth, headers, body)?;
    let delivery = Delivery::parse(body).map_err(AppError::BadRequest)?;
    let received = accept(&state.pipeline, delivery).await?;
    tracing::debug!(
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
            signature::verify(app_secret.as_bytes(), body, header).map_err(|e| AppError::Unauthorized(e.to_string()))
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
