//! View models shared by the staff pages: an order row with its labels in the reader's
//! language and times in Europe/Berlin, and the page frame (navigation, CSRF token).

use meldeweg_workers::conversation::Lang;
use meldeweg_workers::LatLon;
use serde::Serialize;

use super::session::Staff;
use super::ui::{self, Ui};
use super::StaffState;
use crate::orders::board::OrderRow;
use crate::staff::Role;
use crate::time::berlin_date_time;
use crate::town::Municipality;

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
    /// The first words of the first description (lists only).
    #[serde(skip)]
    pub excerpt: String,
    /// Where the list's thumbnail comes from: the public copy once it exists, else the cleaned
    /// photo's thumbnail.
    #[serde(skip)]
    pub thumb: Option<String>,
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
            place: place_words(state, row.lat, row.lon, ui),
            lat: row.lat,
            lon: row.lon,
            created: berlin_date_time(row.created_at),
            due: row.due_at.map(berlin_date_time).unwrap_or_default(),
            overdue: row.overdue,
            report_count: row.report_count,
            photos_waiting: row.photos_waiting,
            excerpt: row.excerpt.as_deref().map(excerpt).unwrap_or_default(),
            thumb: row.photo.as_ref().map(|photo| {
                let copy = if photo.has_copy { "/public" } else { "" };
                format!("/staff/photos/{}{copy}/thumb", photo.token)
            }),
        }
    }
}

/// Longest excerpt of a description in a list line, in characters.
const EXCERPT_CHARS: usize = 90;

/// The first words of `text`, cut at a word boundary with "…" when longer than a list line takes.
fn excerpt(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= EXCERPT_CHARS {
        return text;
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let words = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", words.trim_end_matches([',', '.', ';', ':', '-']))
}

/// The place of stored coordinates in words in the reader's language.
pub fn place_words(state: &StaffState, lat: f64, lon: f64, ui: &Ui) -> String {
    let lang = Lang::from_code(ui.lang).unwrap_or(Lang::De);
    match LatLon::new(lat, lon) {
        Ok(at) => state.pipeline.municipality.place_words(at, lang),
        Err(_) => format!("{lat:.5}, {lon:.5}"),
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

pub fn category_choices(municipality: &Municipality, ui: &Ui) -> Vec<Choice> {
    let categories = municipality.town.classifier.categories();
    categories
        .iter()
        .map(|(category, _)| Choice {
            id: category.id().to_string(),
            label: ui.category(categories, category.id()).to_string(),
        })
        .collect()
}

/// A query value percent-encoded: letters, digits, `_`, `-` and `.` stay.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `name=value&…` of the given, non-empty values, for links that keep a page's filters.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    pairs
        .iter()
        .filter_map(|(name, value)| {
            value.filter(|v| !v.is_empty()).map(|v| format!("{name}={}", encode_query_value(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn an_excerpt_ends_at_a_word() {
        assert_eq!(excerpt("Schlagloch  vor\nder Schule"), "Schlagloch vor der Schule");
        let long = "Ein tiefes Schlagloch direkt vor dem Eingang der Grundschule, die Kinder laufen jeden Morgen daran vorbei und stolpern";
        let short = excerpt(long);
        assert!(short.ends_with('…') && short.chars().count() <= 91, "{short}");
        assert!(long.starts_with(short.trim_end_matches('…')), "{short}");
        assert!(!short.trim_end_matches('…').ends_with(' '));
    }
}
