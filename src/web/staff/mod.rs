//! The staff web UI under /staff: server-rendered, mobile-first pages that work without
//! JavaScript for everything a crew does (the map is the one enhancement that needs it).
//!
//! login — log in and out · orders — the list, the map and printing · order — one order and
//! its actions · photo_review — checking a photo's public copy, moderation · photos — cleaned
//! originals and public copies · admin — users, tokens, failed jobs and configuration (admins only) · rights —
//! access and erasure requests that came by letter (admins only) · error_page — refusals as
//! pages for browsers.
//! Every page needs a session (`session::Staff`); every form that changes something carries
//! the session's CSRF token.

mod admin;
mod error_page;
mod filters;
mod login;
mod order;
mod orders;
mod photo_review;
mod photos;
mod rights;
pub mod session;
pub mod stats;
pub mod ui;
mod views;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

pub use filters::FilterQuery;
pub use views::{category_choices, encode_query_value, Choice};

use crate::config::{MapSettings, Settings, StaffSettings};
use crate::http::uploads::UploadBudget;
use crate::pipeline::Pipeline;

/// Largest body of a staff form without an upload.
const FORM_LIMIT: usize = 64 * 1024;

pub struct StaffState {
    pub pipeline: Arc<Pipeline>,
    pub settings: StaffSettings,
    pub map: MapSettings,
    pub municipality: String,
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Uploads held in memory at once (after-photos, with the citizens' form photos).
    pub uploads: UploadBudget,
    /// Password checks running at once (each takes ~19 MiB and a core).
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

impl StaffState {
    pub fn new(settings: &Settings, pipeline: Arc<Pipeline>, uploads: UploadBudget) -> Self {
        Self {
            uploads,
            pipeline,
            settings: settings.staff.clone(),
            map: settings.map.clone(),
            municipality: settings.municipality.name.clone(),
            secure_cookies: settings.public_url.starts_with("https://"),
            trusted_proxies: settings.http.trusted_proxies.clone(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(2)),
        }
    }
}

pub fn router(state: Arc<StaffState>) -> Router {
    // An after-photo may be as large as a citizen's photo, plus the form around it.
    let upload_limit = state.pipeline.photos.limits.max_input_bytes + 64 * 1024;
    Router::new()
        .route("/staff", get(|| async { Redirect::to("/staff/orders") }))
        .route("/staff/login", get(login::form).post(login::submit))
        .route("/staff/logout", post(login::logout))
        .route("/staff/orders", get(orders::list))
        .route("/staff/map", get(orders::map))
        .route("/staff/print", get(orders::print))
        .route("/staff/orders/{number}", get(order::show))
        .route("/staff/orders/{number}/print", get(order::print))
        .route("/staff/orders/{number}/transition", post(order::transition))
        .route("/staff/orders/{number}/done", post(order::done).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/staff/orders/{number}/comment", post(order::comment))
        .route("/staff/orders/{number}/reroute", post(order::reroute))
        .route("/staff/orders/{number}/merge", post(order::merge))
        .route("/staff/orders/{number}/recategorise", post(order::recategorise))
        .route("/staff/orders/{number}/photos/{token}", get(photo_review::show).post(photo_review::act))
        .route("/staff/photos/{token}", get(photos::original))
        .route("/staff/photos/{token}/thumb", get(photos::thumbnail))
        .route("/staff/photos/{token}/public", get(photos::public_copy))
        .route("/staff/photos/{token}/public/thumb", get(photos::public_thumbnail))
        .route("/staff/admin", get(admin::page))
        .route("/staff/rights", get(rights::form).post(rights::look_up))
        .route("/staff/rights/erase", post(rights::erase))
        .route("/staff/stats", get(stats::page))
        .route("/stats.csv", get(stats::csv_download))
        .route("/staff/{*rest}", get(error_page::unknown))
        // The plain forms carry a few fields; only the after-photo form (above) takes more.
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error_page::as_pages))
        .with_state(state)
}
