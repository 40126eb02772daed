//! The HTTP side: one router assembled from the features' own routers.
//!
//! health — /healthz, /readyz · whatsapp ingress — /webhooks/whatsapp (in channels/) ·
//! sandbox — /sandbox (sandbox mode only) · home — /

pub mod error;
mod health;
mod home;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::channels::whatsapp::ingress::{self, Ingress, WebhookAuth};
use crate::config::{Settings, WhatsAppMode};

/// Longest any request may take (the sandbox chat's long poll stays below it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(
    settings: &Settings,
    ingress: Arc<Ingress>,
    auth: WebhookAuth,
    chat_updates: watch::Receiver<u64>,
) -> Router {
    let sandbox = settings.whatsapp.mode == WhatsAppMode::Sandbox;
    let verify_token = crate::config::secret(&settings.whatsapp.verify_token).map(str::to_string);
    let mut router = Router::new()
        .merge(health::router(ingress.db.clone()))
        .merge(home::router(settings.municipality.name.clone(), sandbox))
        .merge(ingress::router(ingress.clone(), auth, verify_token, settings.http.max_body_bytes));
    if sandbox {
        router = router.merge(sandbox::router(ingress, chat_updates, settings.municipality.name.clone()));
    }
    router
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
}
