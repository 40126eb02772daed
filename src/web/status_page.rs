//! The public status page of one report at `/m/<token>` (the link in the acknowledgement):
//! status, category, district, cleaned photos and the timeline, in German or English. Nothing
//! on it identifies the reporter (P13); pages are not indexed by search engines.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header::{HeaderName, CACHE_CONTROL};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use meldeweg_workers::conversation::Lang;
use serde::Deserialize;

use crate::http::AppError;
use crate::pipeline::Pipeline;
use crate::reports::public::{self as status_pages, PublicPhoto};
use crate::storage;
use crate::time::berlin_date_time;
use crate::web::staff::ui;
use meldeweg_workers::status::ReportStatus;

pub fn router(pipeline: Arc<Pipeline>, municipality: String) -> Router {
    Router::new().route("/m/{token}", get(page)).with_state((pipeline, municipality))
}

#[derive(Template, WebTemplate)]
#[template(path = "status.html")]
struct StatusPage {
    lang: &'static str,
    municipality: String,
    reference: String,
    status: String,
    status_class: String,
    category: String,
    district: String,
    created: String,
    photos: Vec<PublicPhoto>,
    after_photo: Option<PublicPhoto>,
    reason: Option<String>,
    forwarded_to: Option<String>,
    timeline: Vec<(String, &'static str)>,
}

#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

async fn page(
    State((pipeline, municipality)): State<(Arc<Pipeline>, String)>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    if !storage::is_token(&token) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mut conn = pipeline.db.pool().acquire().await?;
    let Some(report) = status_pages::by_token(&mut conn, &token).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let lang = if query.lang.as_deref() == Some("en") { Lang::En } else { Lang::De };
    let ui = ui::for_lang(lang.code());
    let town = &pipeline.municipality.town;
    let status = ReportStatus::parse(&report.status).unwrap_or(ReportStatus::Received);
    let district = report.district.as_deref().and_then(|id| pipeline.municipality.district(id));
    let received = if lang == Lang::En { "report received" } else { "Meldung eingegangen" };
    let mut timeline = vec![(berlin_date_time(report.created_at), received)];
    timeline.extend(report.timeline.iter().map(|(kind, at)| (berlin_date_time(*at), ui.event(kind))));
    let page = StatusPage {
        lang: lang.code(),
        municipality,
        reference: report.reference,
        status: pipeline.texts.status_labels(lang).label(status).to_string(),
        status_class: status.as_str().to_string(),
        category: report
            .category
            .as_deref()
            .map(|c| ui.category(town.classifier.categories(), c).to_string())
            .unwrap_or_default(),
        district: district.map(|d| d.name.clone()).unwrap_or_default(),
        created: berlin_date_time(report.created_at),
        photos: report.photos,
        after_photo: report.after_photo,
        reason: report.reason,
        forwarded_to: report.forwarded_to,
        timeline,
    };
    let headers = [
        (CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
        (HeaderName::from_static("referrer-policy"), "no-referrer"),
    ];
    Ok((headers, page).into_response())
}
