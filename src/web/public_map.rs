//! The public map of known problems at `/karte`: open work orders and those done in the last
//! 30 days, filterable by category, so that a citizen sees a problem is known before reporting
//! it again. Each shows its category, status, place in words, the day it was reported and a
//! photo only where its public copy may be shown; no report text and no personal data. The
//! list under the map carries the same entries for readers without a map. Also the map
//! background every interactive map draws (`/karte/grundlage.geojson`).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use meldeweg_workers::category::Category;
use meldeweg_workers::LatLon;
use serde::{Deserialize, Serialize};

use super::public::{lang_of, PublicFrame};
use crate::config::MapSettings;
use crate::http::AppError;
use crate::orders::public_map::{self, DONE_SHOWN_DAYS};
use crate::pipeline::Pipeline;
use crate::time::{berlin_date, now_ms};
use crate::web::staff::{category_choices, ui, Choice};

/// How many entries the list under the map shows; the map shows them all.
const LISTED: usize = 100;

struct MapState {
    pipeline: Arc<Pipeline>,
    map: MapSettings,
    municipality: String,
    report_url: String,
    /// The map background, made once at start.
    basemap: String,
}

pub fn router(pipeline: Arc<Pipeline>, map: MapSettings, municipality: String, report_url: String) -> Router {
    let basemap = pipeline.municipality.basemap.geojson();
    let state = Arc::new(MapState { pipeline, map, municipality, report_url, basemap });
    Router::new().route("/karte", get(page)).route("/karte/grundlage.geojson", get(background)).with_state(state)
}

async fn background(State(state): State<Arc<MapState>>) -> Response {
    let headers = [(CONTENT_TYPE, "application/geo+json"), (CACHE_CONTROL, "public, max-age=3600")];
    (headers, state.basemap.clone()).into_response()
}

/// One known problem, in the list and as a marker.
#[derive(Debug, Clone, Serialize)]
struct Known {
    category: String,
    status: String,
    status_label: &'static str,
    place: String,
    reported: String,
    lat: f64,
    lon: f64,
    photo: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public_map.html")]
struct MapPage {
    frame: PublicFrame,
    categories: Vec<Choice>,
    selected: String,
    /// How many are known; the list shows the most recent of them.
    total: usize,
    listed: Vec<Known>,
    /// The markers as JSON for the map script (askama escapes it into the attribute).
    markers: String,
    legend: Vec<(&'static str, &'static str)>,
    done_days: i64,
    tile_url: String,
    tile_attribution: String,
    centre: (f64, f64),
}

#[derive(Deserialize)]
struct MapQuery {
    lang: Option<String>,
    kategorie: Option<String>,
}

async fn page(State(state): State<Arc<MapState>>, Query(query): Query<MapQuery>) -> Result<Response, AppError> {
    let lang = lang_of(query.lang.as_deref());
    let ui = ui::for_lang(lang.code());
    let chosen = query.kategorie.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let category = match chosen {
        Some(id) => Some(Category::from_id(id).ok_or_else(|| {
            AppError::BadRequest(if ui.lang == "en" {
                "unknown category".into()
            } else {
                "unbekannte Kategorie".into()
            })
        })?),
        None => None,
    };
    let municipality = &state.pipeline.municipality;
    let categories = municipality.town.classifier.categories();
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let known: Vec<Known> = public_map::shown(&mut conn, category, now_ms())
        .await?
        .into_iter()
        .map(|order| Known {
            category: ui.category(categories, &order.category).to_string(),
            status_label: ui.status(&order.status),
            place: LatLon::new(order.lat, order.lon)
                .map(|at| municipality.place_with_district(at, lang))
                .unwrap_or_default(),
            reported: berlin_date(order.created_at),
            status: order.status,
            lat: order.lat,
            lon: order.lon,
            photo: order.photo,
        })
        .collect();
    let markers = serde_json::to_string(&known).map_err(|e| AppError::Unavailable(e.to_string()))?;
    let centre = municipality.town.area.centre();
    let selected = category.map(|c| c.id().to_string()).unwrap_or_default();
    let page = MapPage {
        frame: PublicFrame::new(lang, &state.municipality, &state.report_url, "/karte", &[("kategorie", &selected)]),
        categories: category_choices(municipality, ui),
        selected,
        total: known.len(),
        listed: known.iter().take(LISTED).cloned().collect(),
        markers,
        legend: ["open", "accepted", "in_progress", "done"].map(|s| (s, ui.status(s))).to_vec(),
        done_days: DONE_SHOWN_DAYS,
        tile_url: state.map.tile_url.clone(),
        tile_attribution: state.map.tile_attribution.clone(),
        centre: (centre.lat(), centre.lon()),
    };
    Ok(([(CACHE_CONTROL, "no-cache")], page).into_response())
}
