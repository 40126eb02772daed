//! The HTTP side: one router assembled from the features' own routers and each channel's.
//!
//! health — /healthz, /readyz · photos — /photos/{token} · status_page — /m/{token} (public,
//! per report) · public_map — /karte (known problems, and the map background) · staff — /staff (the Bauhof UI) · api — /api/v1 (JSON for other software) ·
//! assets — /assets · metrics — /metrics (Prometheus; here or on its own address) · home — / ·
//! and the channels' own: the WhatsApp webhook and sandbox, the web form at /melden.

pub mod api;
mod assets;
mod errors;
mod headers;
mod health;
mod home;
pub mod metrics;
mod photos;
mod public;
mod public_map;
pub mod staff;
mod status_page;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::Router;
use tower_http::timeout::{TimeoutBody, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::channels::Routes;
use crate::config::Settings;
use crate::http::uploads::UploadBudget;
use crate::pipeline::Pipeline;

/// The whole HTTP side: the pages and APIs here, and each channel's own routes.
pub fn router(settings: &Settings, pipeline: Arc<Pipeline>, channels: Vec<Routes>, uploads: UploadBudget) -> Router {
    let entrances = channels.iter().map(|channel| channel.entrance.clone()).collect();
    let db = pipeline.db.clone();
    let mut router = Router::new()
        .merge(health::router(db.clone()))
        .merge(home::router(settings.municipality.name.clone(), entrances))
        .merge(photos::router(pipeline.photos.store.clone(), db.clone()))
        .merge(assets::router())
        .merge(status_page::router(pipeline.clone(), &settings.municipality))
        .merge(public_map::router(
            pipeline.clone(),
            settings.map.clone(),
            settings.municipality.name.clone(),
            settings.municipality.web_form_url.clone(),
        ))
        .merge(staff::router(Arc::new(staff::StaffState::new(settings, pipeline.clone(), uploads))))
        .merge(api::router(pipeline.clone()));
    for channel in channels {
        router = router.merge((channel.make)(&pipeline));
    }
    if settings.metrics.listen().is_none() {
        let token = crate::config::secret(&settings.metrics.token).map(str::to_string);
        router = router.merge(metrics::router(db, token, true));
    }
    // A body that pauses longer than body_timeout ends its request; no request takes longer
    // than request_timeout (the sandbox chat's long poll stays below it).
    let body_timeout = Duration::from_secs(settings.http.body_timeout_seconds);
    let request_timeout = Duration::from_secs(settings.http.request_timeout_seconds);
    let router = router
        .layer(axum::middleware::map_request(move |request: Request| async move {
            request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)))
        }))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout));
    headers::on_every_answer(router, &settings.map.tile_url)
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::http::request_tag::tag))
}
