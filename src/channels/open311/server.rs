//! The routes under `/open311/v2/`: each path names its format by its extension
//! (`services.xml`, `requests/M-2026-000003.json`); errors come in that format, and a path
//! without one answers in JSON.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as Shared};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use meldeweg_workers::category::Category;
use meldeweg_workers::message::{Content, InboundMessage, Sender};
use serde_json::json;

use super::format::{error, Document, Format, Record, Refusal, Value};
use super::submit::{self, Fields};
use super::{body, keys, requests, services, Open311Settings, NAME};
use crate::audit::{self, Entry};
use crate::http::uploads::UploadBudget;
use crate::pipeline::intake::{self, SubmitError};
use crate::pipeline::photo_url::{self, PhotoUrlJob};
use crate::pipeline::Pipeline;
use crate::rate_limit::{self, Limit};
use crate::time::now_ms;
use meldeweg_workers::conversation::PhotoProblem;

pub struct State {
    pub pipeline: Arc<Pipeline>,
    pub settings: Open311Settings,
    /// `public_url` without its trailing slash.
    pub base: String,
    /// The process's budget for uploads held in memory, shared with the web form.
    pub uploads: UploadBudget,
}

type Shared311 = Shared<Arc<State>>;
type Params = Vec<(String, String)>;

pub fn router(state: State) -> Router {
    // A photo as large as the cleaner takes, plus the fields around it.
    let limit = state.pipeline.photos.limits.max_input_bytes + 256 * 1024;
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post).layer(DefaultBodyLimit::max(limit)))
        .route("/open311/v2/services/{file}", get(service))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
        .with_state(Arc::new(state))
}

/// A path without a known format answers 404 in JSON.
fn no_format() -> Response {
    error(Format::Json, StatusCode::NOT_FOUND, "paths end in .json or .xml")
}

fn bad(format: Format, reason: impl Into<String>) -> Response {
    error(format, StatusCode::BAD_REQUEST, reason)
}

fn english(params: &Fields, headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    services::english(params.get("locale"), accept)
}

/// Refuses a call whose `jurisdiction_id` is not the configured one.
fn jurisdiction(state: &State, params: &Fields) -> Result<(), Refusal> {
    let wanted = &state.settings.jurisdiction_id;
    match params.get("jurisdiction_id") {
        _ if wanted.is_empty() => Ok(()),
        Some(given) if given == wanted => Ok(()),
        Some(given) => Err(Refusal(StatusCode::NOT_FOUND, format!("jurisdiction_id {given:?} is not served here"))),
        None => Err(Refusal::bad("jurisdiction_id is missing")),
    }
}

fn unavailable(format: Format, what: impl std::fmt::Display) -> Response {
    tracing::warn!(%what, "an Open311 call could not be answered");
    error(format, StatusCode::SERVICE_UNAVAILABLE, "the service cannot answer just now; try again in a minute")
}

/// What every read call starts with: the path's name and format, its fields (the
/// jurisdiction checked) and the language asked for; a refusal in the call's format otherwise.
struct Call {
    name: String,
    format: Format,
    params: Params,
    english: bool,
}

fn call(
    state: &State,
    file: &str,
    headers: &HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Call, (Format, Refusal)> {
    let (name, format) = Format::split(file)
        .ok_or((Format::Json, Refusal(StatusCode::NOT_FOUND, "paths end in .json or .xml".into())))?;
    let Ok(Query(params)) = query else { return Err((format, Refusal::bad("the query string cannot be read"))) };
    let fields = Fields(&params);
    jurisdiction(state, &fields).map_err(|refusal| (format, refusal))?;
    let english = english(&fields, headers);
    Ok(Call { name: name.to_string(), format, params, english })
}

/// The requests `query` finds, as the answer lists them.
async fn found(state: &State, query: &requests::Query, english: bool) -> sqlx::Result<Vec<Record>> {
    let mut conn = state.pipeline.db.pool().acquire().await?;
    requests::list(&mut conn, query, &state.pipeline.municipality, &state.base, english, now_ms()).await
}

async fn top(
    Shared(state): Shared311,
    Path(file): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Call { name, format, params, english } = match call(&state, &file, &headers, query) {
        Ok(call) => call,
        Err((format, refusal)) => return refusal.respond(format),
    };
    let fields = Fields(&params);
    let categories = state.pipeline.municipality.town.classifier.categories();
    match name.as_str() {
        "discovery" => services::discovery(&state.base, &state.settings.contact).respond(format, StatusCode::OK),
        "services" => services::list(categories, english).respond(format, StatusCode::OK),
        "requests" => list_requests(&state, format, &fields, english).await,
        "servicerequestupdates" => updates(&state, format, &fields, english).await,
        _ => error(format, StatusCode::NOT_FOUND, format!("there is no {name}")),
    }
}

async fn service(
    Shared(state): Shared311,
    Path(file): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Call { name: code, format, english, .. } = match call(&state, &file, &headers, query) {
        Ok(call) => call,
        Err((format, refusal)) => return refusal.respond(format),
    };
    let categories = state.pipeline.municipality.town.classifier.categories();
    match Category::from_id(&code).and_then(|category| categories.entry(category).map(|entry| (category, entry))) {
        Some((category, entry)) => services::definition(category, entry, english).respond(format, StatusCode::OK),
        None => error(format, StatusCode::NOT_FOUND, format!("there is no service {code:?}")),
    }
}

/// `start_date` and `end_date`, each W3C with a time zone, the first not after the second.
fn span(fields: &Fields) -> Result<(Option<i64>, Option<i64>), Refusal> {
    let time = |name: &str| -> Result<Option<i64>, Refusal> {
        let Some(text) = fields.get(name) else { return Ok(None) };
        requests::parse_time(text).map(Some).ok_or_else(|| {
            Refusal::bad(format!("{name} must be a W3C date and time with a time zone, e.g. 2026-12-07T10:00:00+01:00"))
        })
    };
    let (from, to) = (time("start_date")?, time("end_date")?);
    if from.zip(to).is_some_and(|(from, to)| from > to) {
        return Err(Refusal::bad("start_date lies after end_date"));
    }
    Ok((from, to))
}

/// Checks `requests`' filters into a query.
fn requests_query(fields: &Fields) -> Result<requests::Query, Refusal> {
    let mut query = requests::Query::default();
    if let Some(ids) = fields.get("service_request_id") {
        query.ids = ids.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_string).collect();
        if query.ids.len() > requests::MAX_RESULTS as usize || query.ids.iter().any(|id| id.len() > 40) {
            return Err(Refusal::bad(format!("service_request_id lists at most {} ids", requests::MAX_RESULTS)));
        }
        return Ok(query);
    }
    if let Some(code) = fields.get("service_code") {
        query.category =
            Some(Category::from_id(code).ok_or_else(|| Refusal::bad(format!("there is no service {code:?}")))?);
    }
    (query.from, query.to) = span(fields)?;
    if let Some(status) = fields.get("status") {
        let wanted: Vec<&str> = status.split(',').map(str::trim).collect();
        if let Some(other) = wanted.iter().find(|s| !matches!(**s, "open" | "closed")) {
            return Err(Refusal::bad(format!("status is open or closed, not {other:?}")));
        }
        let (open, closed) = (wanted.contains(&"open"), wanted.contains(&"closed"));
        query.open = if open && closed { None } else { Some(open) };
    }
    Ok(query)
}

async fn list_requests(state: &State, format: Format, fields: &Fields<'_>, english: bool) -> Response {
    let query = match requests_query(fields) {
        Ok(query) => query,
        Err(refusal) => return refusal.respond(format),
    };
    match found(state, &query, english).await {
        Ok(records) => {
            Document::List { root: "service_requests", item: "request", records }.respond(format, StatusCode::OK)
        }
        Err(problem) => unavailable(format, problem),
    }
}

async fn one_request(
    Shared(state): Shared311,
    Path(file): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Call { name: id, format, english, .. } = match call(&state, &file, &headers, query) {
        Ok(call) => call,
        Err((format, refusal)) => return refusal.respond(format),
    };
    if id.len() > 40 {
        return error(format, StatusCode::NOT_FOUND, "there is no such request");
    }
    let query = requests::Query { ids: vec![id.clone()], ..requests::Query::default() };
    match found(&state, &query, english).await {
        Ok(records) if records.is_empty() => {
            error(format, StatusCode::NOT_FOUND, format!("there is no request {id:?}"))
        }
        Ok(records) => {
            Document::List { root: "service_requests", item: "request", records }.respond(format, StatusCode::OK)
        }
        Err(problem) => unavailable(format, problem),
    }
}

/// Requests are placed at once, so a token is never handed out: every token is unknown.
async fn token(Path(file): Path<String>) -> Response {
    match Format::split(&file) {
        Some((_, format)) => {
            error(format, StatusCode::NOT_FOUND, "there is no such token: requests get their id at once")
        }
        None => no_format(),
    }
}

async fn updates(state: &State, format: Format, fields: &Fields<'_>, english: bool) -> Response {
    let (from, to) = match span(fields) {
        Ok((None, None)) => {
            let now = now_ms();
            (now - 24 * 3_600_000, now)
        }
        Ok((Some(from), Some(to))) => (from, to),
        Ok(_) => return bad(format, "start_date and end_date come together"),
        Err(refusal) => return refusal.respond(format),
    };
    let found = async {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        requests::updates(&mut conn, from, to, english).await
    };
    match found.await {
        Ok(records) => Document::List { root: "service_request_updates", item: "request_update", records }
            .respond(format, StatusCode::OK),
        Err(problem) => unavailable(format, problem),
    }
}

async fn post(Shared(state): Shared311, Path(file): Path<String>, request: Request) -> Response {
    let (name, format) = match Format::split(&file) {
        Some(split) => split,
        None => return no_format(),
    };
    if name != "requests" {
        return error(format, StatusCode::NOT_FOUND, format!("nothing is posted to {name}"));
    }
    let headers = request.headers().clone();
    let max_media_bytes = state.pipeline.photos.limits.max_input_bytes;
    let posted = match body::read(request, &state.uploads, max_media_bytes).await {
        Ok(posted) => posted,
        Err(refusal) => return refusal.respond(format),
    };
    let fields = Fields(&posted.fields);
    let Some(key) = fields.get("api_key") else { return error(format, StatusCode::FORBIDDEN, "api_key is missing") };
    let now = now_ms();
    let checked = async {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        let Some(name) = keys::check(&mut conn, key, now).await? else { return Ok::<_, keys::KeyError>(None) };
        let limit = Limit { max: state.settings.requests_per_minute, window_ms: 60_000 };
        let within = rate_limit::charge(&mut conn, &format!("open311:{name}"), limit, now).await?;
        Ok(Some((name, within)))
    };
    let key_name = match checked.await {
        Ok(None) => return error(format, StatusCode::FORBIDDEN, "the api_key is unknown or revoked"),
        Ok(Some((_, false))) => {
            return error(
                format,
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests with this api_key; try again in a minute",
            )
        }
        Ok(Some((name, true))) => name,
        Err(problem) => return unavailable(format, problem),
    };
    if let Err(refusal) = jurisdiction(&state, &fields) {
        return refusal.respond(format);
    }
    let english = english(&fields, &headers);
    let report = match submit::check(&fields, &state.pipeline.municipality, english) {
        Ok(report) => report,
        Err(reason) => return bad(format, reason),
    };
    let urls: Vec<String> = posted
        .fields
        .iter()
        .filter(|(name, value)| name == "media_url" && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_string())
        .collect();
    if urls.len() > photo_url::MAX_URLS {
        return bad(format, format!("a request names at most {} media_url", photo_url::MAX_URLS));
    }
    let message = InboundMessage {
        // Each key is a channel of its own in the statistics ("open311:stadt-app").
        channel: format!("{NAME}:{key_name}"),
        id: crate::secrets::random_hex128(),
        sender: Sender { phone: None, account: None },
        sent_at_ms: now,
        content: Content::Report { report },
    };
    let submitted = match intake::submit(
        &state.pipeline,
        message,
        posted.media.iter().map(|upload| upload.bytes.clone()).collect(),
    )
    .await
    {
        Ok(submitted) => submitted,
        Err(SubmitError::NoPlace) => return bad(format, "a request needs lat and long or address_string"),
        Err(SubmitError::Photo(PhotoProblem::TooLarge)) => {
            return error(format, StatusCode::PAYLOAD_TOO_LARGE, "the media file is too large")
        }
        Err(SubmitError::Photo(problem)) => return bad(format, format!("the media file cannot be used: {problem:?}")),
        Err(problem) => return unavailable(format, problem),
    };
    if let Err(problem) = after_post(&state, &submitted.reference, &key_name, urls, now).await {
        tracing::warn!(%problem, "an Open311 request's audit entry or photo job could not be written");
    }
    let record = Record::default()
        .with("service_request_id", submitted.reference)
        .with("service_notice", Value::Null)
        .with("account_id", Value::Null);
    Document::List { root: "service_requests", item: "request", records: vec![record] }.respond(format, StatusCode::OK)
}

/// What follows a stored report: the audit entry with the key's name, and the job that fetches
/// its `media_url`s (the report stands without them if this fails).
async fn after_post(state: &State, reference: &str, key_name: &str, urls: Vec<String>, now: i64) -> Result<(), String> {
    let mut tx = state.pipeline.db.begin().await.map_err(|e| e.to_string())?;
    let report_id: i64 = sqlx::query_scalar("SELECT id FROM reports WHERE reference = $1")
        .bind(reference)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| e.to_string())?;
    let entry = Entry {
        kind: "open311.request",
        report_id: Some(report_id),
        order_id: None,
        reporter_id: None,
        actor: Some(format!("open311:{key_name}")),
        detail: json!({ "service_request_id": reference, "media_urls": urls.len() }),
    };
    audit::record(tx.conn(), entry, now).await.map_err(|e| e.to_string())?;
    if !urls.is_empty() {
        let job = PhotoUrlJob { report_id, urls, plain_hosts: state.settings.media_plain_hosts.clone(), waited: 0 };
        job.enqueue(&state.pipeline.queue, &mut tx, now).await.map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
