//! The HTTP side: one router assembled from the features' own routers.
//!
//! health — /healthz, /readyz · whatsapp ingress — /webhooks/whatsapp (in channels/) ·
//! photos — /photos/{token} · status_page — /m/{token} (public, per report) · report_form —
//! /melden (the public web form, P12) · staff — /staff
//! (the Bauhof UI) · api — /api/v1 (JSON for other software) · assets — /assets ·
//! metrics — /metrics (Prometheus; here or on its own address) · sandbox — /sandbox (sandbox
//! mode only) · home — /

mod api;
mod assets;
mod client;
pub mod error;
mod health;
mod home;
pub mod metrics;
mod photos;
mod report_form;
mod sandbox;
pub mod staff;
mod status_page;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::channels::whatsapp::ingress::{self, Ingress, WebhookAuth};
use crate::channels::whatsapp::media::SandboxMedia;
use crate::config::{Settings, WhatsAppMode};
use crate::pipeline::Pipeline;
use crate::storage::PhotoStore;

/// Longest any request may take (the sandbox chat's long poll stays below it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the routes serve from, built at start-up.
pub struct Parts {
    pub ingress: Arc<Ingress>,
    pub auth: WebhookAuth,
    pub chat_updates: watch::Receiver<u64>,
    pub photos: PhotoStore,
    pub sandbox_media: SandboxMedia,
    pub pipeline: Arc<Pipeline>,
    /// Cancelled when the service stops: long polls answer at once instead of holding it up.
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// The token of an `Authorization: Bearer <token>` header (trimmed, at most 256 characters).
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ")?.trim()).filter(|t| !t.is_empty() && t.len() <= 256)
}

pub fn router(settings: &Settings, parts: Parts) -> Router {
    let Parts { ingress, auth, chat_updates, photos, sandbox_media, pipeline, shutdown } = parts;
    let sandbox = settings.whatsapp.mode == WhatsAppMode::Sandbox;
    let verify_token = crate::config::secret(&settings.whatsapp.verify_token).map(str::to_string);
    let mut router = Router::new()
        .merge(health::router(ingress.db.clone()))
        .merge(home::router(settings.municipality.name.clone(), sandbox))
        .merge(ingress::router(ingress.clone(), auth, verify_token, settings.http.max_body_bytes))
        .merge(photos::router(photos))
        .merge(assets::router())
        .merge(status_page::router(pipeline.clone(), settings.municipality.name.clone()))
        .merge(report_form::router(Arc::new(report_form::FormState {
            pipeline: pipeline.clone(),
            municipality: settings.municipality.name.clone(),
            map: settings.map.clone(),
            trusted_proxies: settings.http.trusted_proxies.clone(),
            recent: Default::default(),
        })))
        .merge(staff::router(Arc::new(staff::StaffState::new(settings, pipeline.clone()))))
        .merge(api::router(pipeline));
    if settings.metrics.listen().is_none() {
        let token = crate::config::secret(&settings.metrics.token).map(str::to_string);
        router = router.merge(metrics::router(ingress.db.clone(), token, true));
    }
    if sandbox {
        let max_photo_bytes = settings.photos.limits().max_input_bytes;
        router = router.merge(sandbox::router(
            ingress,
            chat_updates,
            settings.municipality.name.clone(),
            sandbox_media,
            max_photo_bytes,
            shutdown,
        ));
    }
    router
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
}
