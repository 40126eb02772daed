//! Cleaned photos over HTTP: `/photos/{token}` and `/photos/{token}/thumb`. The token is a
//! 128-bit keyed hash, so URLs cannot be guessed or enumerated; anything that is not a
//! well-formed token is a plain 404. Files never change, so they may be cached for a year,
//! but only privately (they show citizens' surroundings).

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::http::AppError;
use crate::storage::{self, PhotoStore, Variant};

pub fn router(store: PhotoStore) -> Router {
    Router::new().route("/photos/{token}", get(image)).route("/photos/{token}/thumb", get(thumbnail)).with_state(store)
}

async fn image(State(store): State<PhotoStore>, Path(token): Path<String>) -> Result<Response, AppError> {
    serve(&store, &token, Variant::Image).await
}

async fn thumbnail(State(store): State<PhotoStore>, Path(token): Path<String>) -> Result<Response, AppError> {
    serve(&store, &token, Variant::Thumbnail).await
}

async fn serve(store: &PhotoStore, token: &str, variant: Variant) -> Result<Response, AppError> {
    if !storage::is_token(token) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let Some(bytes) = store.get(token, variant).await.map_err(|e| AppError::Unavailable(e.to_string()))? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let headers = [
        (CONTENT_TYPE, "image/jpeg"),
        (CACHE_CONTROL, "private, max-age=31536000, immutable"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, bytes).into_response())
}
