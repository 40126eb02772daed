//! Photos as staff see them: the cleaned original (what the crew needs to find and judge the
//! damage) and its thumbnail, and the public copy with faces and plates obscured and its
//! thumbnail (the order list's), in whatever state it is (to check it before approving it).
//! For a staff session in the browser, or for the JSON API's token (`Authorization: Bearer`),
//! whose order details link here. Each photo is shown to those who may see its report's or
//! order's depot (a crew sees its own depot's photos); a photo of no report or order is shown
//! to nobody.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::token_user;
use super::session::{NotLoggedIn, Staff};
use super::StaffState;
use crate::http::AppError;
use crate::reports::photos;
use crate::staff::access::{self, Operation};
use crate::storage::{self, Variant};
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

pub async fn public_thumbnail(
    State(state): State<Arc<StaffState>>,
    session: Session,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    file(&state, session, &headers, &token, Variant::PublicThumbnail).await
}

async fn file(
    state: &StaffState,
    session: Session,
    headers: &HeaderMap,
    token: &str,
    variant: Variant,
) -> Result<Response, AppError> {
    let user = match session {
        Ok(staff) => staff.user,
        // A browser without a session goes to the login page; an API client shows its token.
        Err(not_logged_in) if crate::http::bearer_token(headers).is_none() => return Ok(not_logged_in.into_response()),
        Err(_) => token_user(&state.pipeline, headers).await?,
    };
    if !storage::is_token(token) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let owner = {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        photos::owner_depot(&mut conn, token).await?
    };
    let Some(depot) = owner else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    access::check(&user.grant(), Operation::View, depot.as_deref())
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    serve(&state.pipeline.photos.store, token, variant).await
}
