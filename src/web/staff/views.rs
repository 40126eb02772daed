//! View models shared by the staff pages: an order row with its labels in the reader's
//! language and times in Europe/Berlin, and the page frame (navigation, CSRF token).

use serde::Serialize;

use super::session::Staff;
use super::ui::{self, Ui};
use super::StaffState;
use crate::orders::board::OrderRow;
use crate::staff::Role;
use crate::time::berlin_date_time;

/// What every staff page's frame shows.
pub struct Frame {
    pub ui: &'static Ui,
    pub municipality: String,
    pub email: String,
    pub csrf: String,
    pub is_admin: bool,
    /// Whether the statistics are in the menu (managers and admins).
    pub can_stats: bool,
    /// The name of the one depot whose orders a depot account sees.
    pub depot_scope: Option<String>,
}

impl Frame {
    pub fn new(state: &StaffState, staff: &Staff) -> Self {
        Self {
            ui: ui::for_lang(&staff.user.lang),
            municipality: state.municipality.clone(),
            email: staff.user.email.clone(),
            csrf: staff.csrf.clone(),
            is_admin: staff.user.role == Role::Admin,
            can_stats: matches!(staff.user.role, Role::Manager | Role::Admin),
            depot_scope: staff
                .user
                .depot
                .as_deref()
                .filter(|_| staff.user.role == Role::Depot)
                .map(|id| state.pipeline.municipality.depot(id).map_or(id, |depot| depot.name.as_str()).to_string()),
        }
    }
}

/// An order as a list line, a map marker or a printed sheet header.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub number: String,
    pub category: String,
    pub status: String,
    pub status_label: &'static str,
    pub priority: String,
    pub priority_label: &'static str,
    /// The depot's name.
    pub depot: String,
    pub district: String,
    pub place: String,
    pub lat: f64,
    pub lon: f64,
    pub created: String,
    pub due: String,
    pub overdue: bool,
    pub report_count: i64,
    pub photos_waiting: i64,
}

impl OrderView {
    pub fn new(row: &OrderRow, ui: &Ui, state: &StaffState) -> Self {
        let categories = state.pipeline.municipality.town.classifier.categories();
        let district = state.pipeline.municipality.district(&row.district);
        let depot = state.pipeline.municipality.depot(&row.depot);
        Self {
            number: row.number.clone(),
            category: ui.category(categories, &row.category).to_string(),
            status: row.status.clone(),
            status_label: ui.status(&row.status),
            priority: row.priority.clone(),
            priority_label: ui.priority(&row.priority),
            depot: depot.map(|d| d.name.clone()).unwrap_or_else(|| row.depot.clone()),
            district: district.map(|d| d.name.clone()).unwrap_or_else(|| row.district.clone()),
            place: row.address.clone().unwrap_or_else(|| format!("{:.5}, {:.5}", row.lat, row.lon)),
            lat: row.lat,
            lon: row.lon,
            created: berlin_date_time(row.created_at),
            due: row.due_at.map(berlin_date_time).unwrap_or_default(),
            overdue: row.overdue,
            report_count: row.report_count,
            photos_waiting: row.photos_waiting,
        }
    }
}

/// An id and the label shown for it (filter and form options).
pub struct Choice {
    pub id: String,
    pub label: String,
}

pub fn depot_choices(state: &StaffState) -> Vec<Choice> {
    let routing = &state.pipeline.municipality.routing;
    routing.depots().iter().map(|d| Choice { id: d.id.clone(), label: d.name.clone() }).collect()
}

pub fn district_choices(state: &StaffState) -> Vec<Choice> {
    let area = &state.pipeline.municipality.town.area;
    area.districts().iter().map(|d| Choice { id: d.id.clone(), label: d.name.clone() }).collect()
}

pub fn category_choices(state: &StaffState, ui: &Ui) -> Vec<Choice> {
    let categories = state.pipeline.municipality.town.classifier.categories();
    categories
        .iter()
        .map(|(category, _)| Choice {
            id: category.id().to_string(),
            label: ui.category(categories, category.id()).to_string(),
        })
        .collect()
}

/// `name=value&…` of the given, non-empty values, for links that keep a page's filters.
/// Values are ids and dates; anything beyond letters, digits, `_`, `-` and `.` is
/// percent-encoded.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let encode = |value: &str| -> String {
        value
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| format!("{name}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}
