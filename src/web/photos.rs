//! Photos over HTTP. `/photos/{token}` and `/photos/{token}/thumb` are public and serve only a
//! photo's public copy (faces and plates obscured, issue 22), and only once it may be seen
//! (`public_copies::State::Public`); a photo still being checked, waiting for approval or
//! hidden is a plain 404, as is anything that is not a well-formed token. The cleaned originals
//! are for staff only (`web::staff::photos`). The token is a 128-bit keyed hash, so URLs cannot
//! be guessed or enumerated. Files may be cached only privately and briefly: a photo that is
//! public now may be hidden later.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::db::Db;
use crate::http::AppError;
use crate::public_copies;
use crate::storage::{self, PhotoStore, Variant};

#[derive(Clone)]
struct Photos {
    store: PhotoStore,
    db: Db,
}

pub fn router(store: PhotoStore, db: Db) -> Router {
    Router::new()
        .route("/photos/{token}", get(image))
        .route("/photos/{token}/thumb", get(thumbnail))
        .with_state(Photos { store, db })
}

async fn image(State(photos): State<Photos>, Path(token): Path<String>) -> Result<Response, AppError> {
    public(&photos, &token, Variant::PublicImage).await
}

async fn thumbnail(State(photos): State<Photos>, Path(token): Path<String>) -> Result<Response, AppError> {
    public(&photos, &token, Variant::PublicThumbnail).await
}

async fn public(photos: &Photos, token: &str, variant: Variant) -> Result<Response, AppError> {
    if !storage::is_token(token) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mut conn = photos.db.pool().acquire().await?;
    if !public_copies::is_public(&mut conn, token).await? {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    drop(conn);
    serve(&photos.store, token, variant).await
}

/// One file of a photo as a JPEG answer, or 404 when the store has none.
pub async fn serve(store: &PhotoStore, token: &str, variant: Variant) -> Result<Response, AppError> {
    let Some(bytes) = store.get(token, variant).await.map_err(|e| AppError::Unavailable(e.to_string()))? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let headers =
        [(CONTENT_TYPE, "image/jpeg"), (CACHE_CONTROL, "private, max-age=300"), (X_CONTENT_TYPE_OPTIONS, "nosniff")];
    Ok((headers, bytes).into_response())
}
