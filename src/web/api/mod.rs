//! The JSON API under /api/v1 for a municipality's own Bauhof software: the same orders and
//! operations as the staff UI, authenticated by per-user API tokens (`Authorization: Bearer`),
//! with the same permission checks. Described by /api/v1/openapi.json.

pub mod orders;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::pipeline::Pipeline;
use crate::staff::StaffUser;
use crate::web::staff::session::token_user;

const OPENAPI: &str = include_str!("openapi.json");
/// Largest JSON body the API accepts (a comment is at most 2000 characters).
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(pipeline: Arc<Pipeline>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { ([(CONTENT_TYPE, "application/json")], OPENAPI) }))
        .route("/api/v1/orders", get(orders::list))
        .route("/api/v1/orders/{number}", get(orders::show))
        .route("/api/v1/orders/{number}/transitions", post(orders::transition))
        .route("/api/v1/orders/{number}/comments", post(orders::comment))
        .route("/api/v1/orders/{number}/reroute", post(orders::reroute))
        .route("/api/v1/orders/{number}/merge", post(orders::merge))
        .route("/api/v1/reports/{reference}", get(orders::report))
        .route("/api/v1/stats", get(orders::stats))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(pipeline)
}

/// The staff member an API token belongs to.
pub struct ApiUser(pub StaffUser);

impl FromRequestParts<Arc<Pipeline>> for ApiUser {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, pipeline: &Arc<Pipeline>) -> Result<Self, Self::Rejection> {
        token_user(pipeline, &parts.headers).await.map(ApiUser).map_err(IntoResponse::into_response)
    }
}
