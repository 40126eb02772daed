//! /api/v1 orders and reports: list, detail, transitions, comments, re-route, merge, and one
//! report by reference. Bodies are JSON; every refusal is `{"error": ...}` with its status.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{ApiUser, MAX_BODY_BYTES};
use crate::http::error::json_error;
use crate::http::AppError;
use crate::orders::board::{self as order_board, OrderDetail};
use crate::orders::lifecycle::Command;
use crate::pipeline::updates;
use crate::pipeline::Pipeline;
use crate::reports;
use crate::staff::access::{self, Operation};
use crate::time::now_ms;
use crate::web::staff::FilterQuery;
use meldeweg_workers::status::Transition;

/// The request a JSON body holds, or the refusal answered for it (its reason without the body's
/// values). Public, like `transition_command`, for the `staff_api_json` fuzz target.
pub fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    payload.map(|Json(value)| value).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(format!("the body is longer than {MAX_BODY_BYTES} bytes")),
        _ => AppError::BadRequest(format!("the JSON body is not valid: {}", json_reason(&e))),
    })
}

/// What serde_json said, without the values it quotes. axum's own text of the rejection also
/// names the path of keys it was reading, and a key is text from the body (it could be a name
/// or a number), so only the innermost JSON error is used.
fn json_reason(rejection: &JsonRejection) -> String {
    let mut source = std::error::Error::source(rejection);
    while let Some(error) = source {
        if let Some(json) = error.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return json_error(json.inner());
        }
        source = error.source();
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => "the content type must be application/json".into(),
        _ => "the body could not be read as JSON".into(),
    }
}

pub async fn list(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Query(query): Query<FilterQuery>,
) -> Result<Response, AppError> {
    let filter = query.parse(&user, &pipeline.municipality).map_err(AppError::BadRequest)?;
    let mut conn = pipeline.db.pool().acquire().await?;
    let orders = order_board::list(&mut conn, &filter, now_ms()).await?;
    Ok(Json(json!({ "orders": orders })).into_response())
}

/// The order if `user` may see it.
async fn visible(pipeline: &Pipeline, user: &crate::staff::StaffUser, number: &str) -> Result<OrderDetail, AppError> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let detail = order_board::detail(&mut conn, number, now_ms())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no work order {number}")))?;
    access::check(&user.grant(), Operation::View, Some(&detail.row.depot))
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    Ok(detail)
}

pub async fn show(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(number): Path<String>,
) -> Result<Json<OrderDetail>, AppError> {
    Ok(Json(visible(&pipeline, &user, &number).await?))
}

async fn perform(
    pipeline: &Pipeline,
    user: &crate::staff::StaffUser,
    number: &str,
    command: Command,
    status: StatusCode,
) -> Result<Response, AppError> {
    updates::perform(pipeline, user, number, command, now_ms()).await?;
    Ok((status, Json(visible(pipeline, user, number).await?)).into_response())
}

#[derive(Deserialize)]
pub struct TransitionRequest {
    transition: String,
    reason: Option<String>,
    to: Option<String>,
}

pub async fn transition(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(number): Path<String>,
    payload: Result<Json<TransitionRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let command = transition_command(body(payload)?)?;
    perform(&pipeline, &user, &number, command, StatusCode::OK).await
}

/// The command a transition request asks for, checked before the database is asked.
pub fn transition_command(request: TransitionRequest) -> Result<Command, AppError> {
    // The answer does not repeat what was sent: refusals are logged.
    let transition = Transition::parse(&request.transition).ok_or_else(|| {
        AppError::BadRequest("unknown transition; use accept, start, done, reject, forward or reopen".into())
    })?;
    let note = match transition {
        Transition::Reject => request.reason,
        Transition::Forward => request.to,
        _ => None,
    };
    Ok(Command::Transition { transition, note, after_photo: None })
}

#[derive(Deserialize)]
pub struct CommentRequest {
    text: String,
}

pub async fn comment(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(number): Path<String>,
    payload: Result<Json<CommentRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let request = body(payload)?;
    perform(&pipeline, &user, &number, Command::Comment(request.text), StatusCode::CREATED).await
}

#[derive(Deserialize)]
pub struct RerouteRequest {
    depot: String,
}

pub async fn reroute(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(number): Path<String>,
    payload: Result<Json<RerouteRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let request = body(payload)?;
    perform(&pipeline, &user, &number, Command::Reroute { depot: request.depot }, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct MergeRequest {
    into: String,
}

pub async fn merge(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(number): Path<String>,
    payload: Result<Json<MergeRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let into = body(payload)?.into.trim().to_string();
    updates::perform(&pipeline, &user, &number, Command::Merge { into: into.clone() }, now_ms()).await?;
    Ok(Json(visible(&pipeline, &user, &into).await?).into_response())
}

pub async fn report(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Path(reference): Path<String>,
) -> Result<Response, AppError> {
    let parsed = reference
        .parse()
        .map_err(|_| AppError::NotFound(format!("{reference:?} is not a report reference like M-2026-000123")))?;
    let mut conn = pipeline.db.pool().acquire().await?;
    let report = reports::for_staff(&mut conn, parsed)
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .ok_or_else(|| AppError::NotFound(format!("there is no report {reference}")))?;
    // A report without an order (outside the area, forwarded by routing) is for dispatchers.
    access::check(&user.grant(), Operation::View, Some(report.depot.as_deref().unwrap_or_default()))
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    Ok(Json(report.listing).into_response())
}

/// The statistics as JSON (managers and administrators), the same figures as /staff/stats.
pub async fn stats(
    State(pipeline): State<Arc<Pipeline>>,
    ApiUser(user): ApiUser,
    Query(text): Query<crate::stats::StatsQueryText>,
) -> Result<Json<crate::stats::Statistics>, AppError> {
    Ok(Json(crate::web::staff::stats::figures(&pipeline, &user, &text).await?))
}
