//! The public status page of one report at `/m/<token>` (the link in the acknowledgement):
//! status, category, the place in words with a small map, the public copies of its photos and
//! the timeline, in German or English, with the way to report another problem and to the map
//! of known problems. Nothing on it identifies the reporter, and the citizen's own words are
//! not on it (P13, docs/privacy.md); pages are not indexed by search engines. An unknown link
//! gets a page that says so.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header::{HeaderName, CACHE_CONTROL};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use meldeweg_workers::basemap::{status_colour, Pin, View};
use meldeweg_workers::LatLon;
use serde::Deserialize;

use super::public::{lang_of, PublicFrame};
use crate::config::Municipality as MunicipalitySettings;
use crate::http::AppError;
use crate::pipeline::Pipeline;
use crate::reports::public::{self as status_pages, PublicPhoto};
use crate::storage;
use crate::time::berlin_date_time;
use crate::web::staff::ui;
use meldeweg_workers::status::ReportStatus;

/// The width and height of the page's map, in metres.
const MAP_SIZE_M: (f64, f64) = (640.0, 400.0);

struct PageState {
    pipeline: Arc<Pipeline>,
    municipality: String,
    report_url: String,
    /// Where citizens reach this server, for the page's own address.
    public_base: String,
}

pub fn router(pipeline: Arc<Pipeline>, municipality: &MunicipalitySettings) -> Router {
    let state = PageState {
        public_base: pipeline.public_base.clone(),
        pipeline,
        municipality: municipality.name.clone(),
        report_url: municipality.web_form_url.clone(),
    };
    Router::new().route("/m/{token}", get(page)).with_state(Arc::new(state))
}

#[derive(Template, WebTemplate)]
#[template(path = "status.html")]
struct StatusPage {
    frame: PublicFrame,
    reference: String,
    status: String,
    status_class: String,
    category: String,
    place: String,
    district: String,
    /// The map around the place as inline SVG (drawn here, from the municipality's files).
    map_svg: String,
    created: String,
    photos: Vec<PublicPhoto>,
    after_photo: Option<PublicPhoto>,
    reason: Option<String>,
    forwarded_to: Option<String>,
    timeline: Vec<(String, &'static str)>,
    /// Just reported on the web form: the confirmation, and this page's address to keep.
    new: Option<New>,
    link: String,
}

/// How a citizen who has just reported on the web form hears how it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum New {
    /// By e-mail, to the address they gave.
    Mail,
    /// Only through this page: they must keep its link.
    Link,
}

#[derive(Template, WebTemplate)]
#[template(path = "status_unknown.html")]
struct UnknownPage {
    frame: PublicFrame,
}

#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
    /// Set by the web form after a report: `mail` or `link`.
    neu: Option<String>,
}

async fn page(
    State(state): State<Arc<PageState>>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let lang = lang_of(query.lang.as_deref());
    let frame = PublicFrame::new(lang, &state.municipality, &state.report_url, &format!("/m/{token}"), &[]);
    let headers = [
        (CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
        (HeaderName::from_static("referrer-policy"), "no-referrer"),
    ];
    let report = if storage::is_token(&token) {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        status_pages::by_token(&mut conn, &token).await?
    } else {
        None
    };
    let Some(report) = report else {
        return Ok((StatusCode::NOT_FOUND, headers, UnknownPage { frame }).into_response());
    };
    let ui = ui::for_lang(lang.code());
    let municipality = &state.pipeline.municipality;
    let status = ReportStatus::parse(&report.status).unwrap_or(ReportStatus::Received);
    let district = report.district.as_deref().and_then(|id| municipality.district(id));
    let received = if frame.en() { "report received" } else { "Meldung eingegangen" };
    let mut timeline = vec![(berlin_date_time(report.created_at), received)];
    timeline.extend(report.timeline.iter().map(|(kind, at)| (berlin_date_time(*at), ui.event(kind))));
    let (place, map_svg) = match LatLon::new(report.lat, report.lon) {
        Ok(at) => {
            let place = municipality.place_words(at, lang);
            let label = if frame.en() { format!("Map: {place}") } else { format!("Karte: {place}") };
            let view = View { centre: at, width_m: MAP_SIZE_M.0, height_m: MAP_SIZE_M.1 };
            let svg =
                municipality.basemap.svg(view, &[Pin { at, colour: status_colour(status.as_str()) }], &label, "place");
            (place, svg)
        }
        Err(_) => (String::new(), String::new()),
    };
    let page = StatusPage {
        reference: report.reference,
        status: state.pipeline.texts.status_labels(lang).label(status).to_string(),
        status_class: status.as_str().to_string(),
        category: report
            .category
            .as_deref()
            .map(|c| ui.category(municipality.town.classifier.categories(), c).to_string())
            .unwrap_or_default(),
        place,
        district: district.map(|d| d.name.clone()).unwrap_or_default(),
        map_svg,
        created: berlin_date_time(report.created_at),
        photos: report.photos,
        after_photo: report.after_photo,
        reason: report.reason,
        forwarded_to: report.forwarded_to,
        timeline,
        new: match query.neu.as_deref() {
            Some("mail") => Some(New::Mail),
            Some("link") => Some(New::Link),
            _ => None,
        },
        link: format!("{}/m/{token}", state.public_base),
        frame,
    };
    Ok((headers, page).into_response())
}
