//! Photos as staff see them: the cleaned original (what the crew needs to find and judge the
//! damage) and its thumbnail, and the public copy with faces and plates obscured, in whatever
//! state it is (to check it before approving it). For a staff session in the browser, or for
//! the JSON API's token (`Authorization: Bearer`), whose order details link here.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::{NotLoggedIn, Staff};
use super::StaffState;
use crate::http::AppError;
use crate::staff::store as accounts;
use crate::storage::{self, Variant};
use crate::time::now_ms;
use crate::web::photos::serve;

type Session = Result<Staff, NotLoggedIn>;

pub async fn original(
    State(state): State<Arc<StaffState>>,
    session: Session,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    file(&state, session, &headers, &token, Variant::Image).await
}

pub async fn thumbnail(
    State(state): State<Arc<StaffState>>,
    session: Session,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    file(&state, session, &headers, &token, Variant::Thumbnail).await
}

pub async fn public_copy(
    State(state): State<Arc<StaffState>>,
    session: Session,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    file(&state, session, &headers, &token, Variant::PublicImage).await
}

async fn file(
    state: &StaffState,
    session: Session,
    headers: &HeaderMap,
    token: &str,
    variant: Variant,
) -> Result<Response, AppError> {
    if let Err(not_logged_in) = session {
        let Some(api_token) = crate::http::bearer_token(headers) else { return Ok(not_logged_in.into_response()) };
        let mut conn = state.pipeline.db.pool().acquire().await?;
        let user = accounts::by_token(&mut conn, &crate::secrets::stored_hash(api_token), now_ms()).await?;
        if user.is_none() {
            return Err(AppError::Unauthorized("the API token is unknown, revoked, or its account is disabled".into()));
        }
    }
    if !storage::is_token(token) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    serve(&state.pipeline.photos.store, token, variant).await
}
