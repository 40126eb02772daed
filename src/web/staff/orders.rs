//! The order list, its map and its printout, all from the same filters. The list is the
//! page a crew lives in: most urgent first, overdue orders marked, big touch targets.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::filters::FilterQuery;
use super::session::Staff;
use super::ui::Ui;
use super::views::{category_choices, depot_choices, district_choices, query_string, Choice, Frame, OrderView};
use super::StaffState;
use crate::http::AppError;
use crate::orders::board::{self as order_board, Filter, OrderDetail};
use crate::reports::search::Search;
use crate::staff::Role;
use crate::time::now_ms;
use meldeweg_workers::basemap::{status_colour, Pin, View};
use meldeweg_workers::status::OrderStatus;
use meldeweg_workers::LatLon;

/// The filter form's current values, for re-rendering it and for links to map and print.
pub struct Selected {
    pub status: String,
    pub category: String,
    pub district: String,
    pub depot: String,
    pub overdue: bool,
    pub q: String,
    pub query: String,
    pub next_offset: Option<i64>,
    pub prev_offset: Option<i64>,
    /// Orders matching on all pages (for a list sorted newest first at most the cap or as far
    /// as this page), and this page's number and the number of pages.
    pub total: i64,
    /// More orders match than were counted: the list should be narrowed.
    pub more: bool,
    pub page: i64,
    pub pages: i64,
}

struct Options {
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    districts: Vec<Choice>,
    depots: Vec<Choice>,
    choose_depot: bool,
}

fn options(state: &StaffState, staff: &Staff, ui: &Ui) -> Options {
    let mut statuses = vec![
        Choice { id: "active".into(), label: ui.active.into() },
        Choice { id: "all".into(), label: ui.all.into() },
    ];
    statuses.extend(OrderStatus::ALL.map(|s| Choice { id: s.as_str().into(), label: ui.status(s.as_str()).into() }));
    Options {
        statuses,
        categories: category_choices(&state.pipeline.municipality, ui),
        districts: district_choices(state),
        depots: depot_choices(state),
        choose_depot: staff.user.role != Role::Depot,
    }
}

fn selected(query: &FilterQuery, filter: &Filter, (total, complete): (i64, bool)) -> Selected {
    // A list sorted newest first counts only so far; then there is at least one more page
    // than counted.
    let more = !complete;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let query_string = query_string(&[
        ("q", query.q.as_deref().map(str::trim)),
        ("status", query.status.as_deref()),
        ("category", query.category.as_deref()),
        ("district", query.district.as_deref()),
        ("depot", query.depot.as_deref()),
        ("overdue", filter.overdue.then_some("1")),
    ]);
    Selected {
        status: value(&query.status),
        category: value(&query.category),
        district: value(&query.district),
        depot: value(&query.depot),
        overdue: filter.overdue,
        q: query.q.as_deref().map(str::trim).unwrap_or_default().to_string(),
        query: query_string,
        next_offset: (filter.offset + filter.limit < total || more).then_some(filter.offset + filter.limit),
        prev_offset: (filter.offset > 0).then_some((filter.offset - filter.limit).max(0)),
        total,
        more,
        page: filter.offset / filter.limit + 1,
        pages: (total + filter.limit - 1) / filter.limit + i64::from(more),
    }
}

/// Orders per page of the list.
const PAGE_SIZE: i64 = 50;

async fn load(
    state: &StaffState,
    staff: &Staff,
    query: &FilterQuery,
) -> Result<(Frame, Filter, Vec<OrderView>, (i64, bool)), AppError> {
    let frame = Frame::new(state, staff);
    let filter = query.parse(&staff.user, &state.pipeline.municipality).map_err(AppError::BadRequest)?;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let (rows, total) = order_board::page(&mut conn, &filter, now_ms()).await?;
    let orders = rows.iter().map(|row| OrderView::new(row, frame.ui, state)).collect();
    Ok((frame, filter, orders, total))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/orders.html")]
pub struct ListPage {
    frame: Frame,
    options: Options,
    selected: Selected,
    orders: Vec<OrderView>,
}

pub async fn list(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Query(mut query): Query<FilterQuery>,
) -> Result<Response, AppError> {
    query.limit.get_or_insert_with(|| PAGE_SIZE.to_string());
    let (frame, filter, orders, total) = load(&state, &staff, &query).await?;
    // A reference read out on the phone leads straight to its order.
    if let (Some(Search::Reference(_)), [order]) = (&filter.search, orders.as_slice()) {
        return Ok(Redirect::to(&format!("/staff/orders/{}", order.number)).into_response());
    }
    let options = options(&state, &staff, frame.ui);
    let selected = selected(&query, &filter, total);
    Ok(ListPage { frame, options, selected, orders }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/map.html")]
pub struct MapPage {
    frame: Frame,
    options: Options,
    selected: Selected,
    orders: Vec<OrderView>,
    /// The markers as JSON for the map script (askama escapes it into the attribute).
    markers: String,
    /// Status colours of the markers, with their labels.
    legend: Vec<(&'static str, &'static str)>,
    tile_url: String,
    tile_attribution: String,
    centre: (f64, f64),
}

pub async fn map(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Query(query): Query<FilterQuery>,
) -> Result<MapPage, AppError> {
    let (frame, filter, orders, total) = load(&state, &staff, &query).await?;
    let options = options(&state, &staff, frame.ui);
    let selected = selected(&query, &filter, total);
    let markers = serde_json::to_string(&orders).map_err(|e| AppError::Unavailable(e.to_string()))?;
    let centre = state.pipeline.municipality.town.area.centre();
    let legend = OrderStatus::ACTIVE
        .iter()
        .chain([&OrderStatus::Done])
        .map(|s| (s.as_str(), frame.ui.status(s.as_str())))
        .collect();
    Ok(MapPage {
        legend,
        frame,
        options,
        selected,
        orders,
        markers,
        tile_url: state.map.tile_url.clone(),
        tile_attribution: state.map.tile_attribution.clone(),
        centre: (centre.lat(), centre.lon()),
    })
}

/// One printed sheet: the order, its reports and a QR code that opens it.
pub struct Sheet {
    pub order: OrderView,
    /// The place on a small map (SVG drawn from the municipality's files).
    pub map_svg: String,
    pub detail: OrderDetail,
    pub qr_svg: String,
    pub url: String,
}

impl Sheet {
    pub fn new(state: &StaffState, ui: &Ui, detail: OrderDetail) -> Self {
        let url = format!("{}/staff/orders/{}", state.pipeline.public_base, detail.row.number);
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(140, 140).quiet_zone(true).build())
            .unwrap_or_default();
        let map_svg = LatLon::new(detail.row.lat, detail.row.lon)
            .map(|at| {
                let view = View { centre: at, width_m: 360.0, height_m: 240.0 };
                let pin = Pin { at, colour: status_colour(&detail.row.status) };
                let label = format!("{} {}", ui.map, detail.row.number);
                state.pipeline.municipality.basemap.svg(view, &[pin], &label, &detail.row.number)
            })
            .unwrap_or_default();
        Self { order: OrderView::new(&detail.row, ui, state), map_svg, detail, qr_svg, url }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/print.html")]
pub struct PrintPage {
    pub frame: Frame,
    pub sheets: Vec<Sheet>,
}

/// Most sheets one print request renders (a day's work for a crew, not the whole archive).
const MAX_SHEETS: usize = 50;

/// The filtered orders, one per printed page (the first `MAX_SHEETS`).
pub async fn print(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Query(query): Query<FilterQuery>,
) -> Result<PrintPage, AppError> {
    let (frame, _, orders, _) = load(&state, &staff, &query).await?;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let mut sheets = Vec::with_capacity(orders.len());
    let now = now_ms();
    for order in orders.iter().take(MAX_SHEETS) {
        if let Some(detail) = order_board::detail(&mut conn, &order.number, now).await? {
            sheets.push(Sheet::new(&state, frame.ui, detail));
        }
    }
    Ok(PrintPage { frame, sheets })
}
