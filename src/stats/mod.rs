//! Resolution statistics for managers: how many reports, how fast they are fixed, where it is
//! slow. `compute` derives every figure from the raw rows (reports and work orders) for a
//! period of Berlin calendar days and optional filters; the page, `/stats.csv` and
//! `/api/v1/stats` all show its result, so they cannot disagree. The definitions shown on the
//! page are in `DEFINITIONS`.

pub mod figures;
mod load;

use std::collections::BTreeMap;

use jiff::civil::Date;
use meldeweg_workers::category::Category;
use meldeweg_workers::classify::Priority;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::time::{berlin_civil_date, berlin_iso_week, berlin_midnight};
use crate::town::Municipality;
use figures::{street_of, AgeBuckets, Sla, Spread};

/// Longest period one request may ask for.
pub const MAX_DAYS: i64 = 1100;

/// What each figure means; shown on the page.
pub const DEFINITIONS: &[(&str, &str)] = &[
    ("period", "Calendar days in Europe/Berlin, from the first to the last day inclusive. Times in the database are UTC."),
    ("received", "Reports whose report time lies in the period (all channels, also outside the area and forwarded ones)."),
    ("opened", "Work orders opened in the period. Orders merged into another are not counted anywhere."),
    ("done", "Work orders marked done in the period (by the time they were marked done)."),
    ("rejected / forwarded", "Work orders whose status is rejected / forwarded and that were closed in the period."),
    ("duplicate share", "Of the reports received in the period that belong to a work order, the share that joined an order another report had opened."),
    ("backlog", "Work orders open, accepted or in progress at the end of the period (or now, for a period that has not ended), by whole days since they were opened: 0–7, 8–30, 31–90, more than 90. Judged by the orders' current record: an order closed then but reopened since counts as open."),
    ("time to acceptance", "For orders accepted in the period: time from opening to acceptance. Median and 90th percentile by nearest rank."),
    ("time to done", "For orders done in the period: time from opening to done. Median and 90th percentile by nearest rank."),
    ("SLA compliance", "Of the orders done in the period, the share done by their due date: opening time plus the SLA hours of their priority, recomputed when the priority was raised and restarted when the order was reopened."),
    ("weeks", "ISO weeks (Monday to Sunday, Europe/Berlin) touching the period; reports received and orders done in each, within the period."),
    ("hotspots", "Reports received in the period, counted per cell of about 200 m."),
    ("top streets", "Streets (from the nearest address of the order) with the most orders in the backlog."),
    ("previous period", "The same number of days immediately before the period, with the same filters."),
    ("filters", "Category, district, priority and depot apply to reports and orders by their own values (a report's depot is its order's); the channel applies to reports, and to orders by the report that opened them."),
];

#[derive(Debug, Default, Deserialize)]
pub struct StatsQueryText {
    pub from: Option<String>,
    pub to: Option<String>,
    pub category: Option<String>,
    pub district: Option<String>,
    pub depot: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
}

/// A checked statistics request: days and filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsQuery {
    pub from: Date,
    pub to: Date,
    pub category: Option<Category>,
    pub district: Option<String>,
    pub depot: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<Priority>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl StatsQueryText {
    /// Checks the request against the municipality's districts and depots; the default
    /// period is the twelve months up to `today`.
    pub fn parse(&self, municipality: &Municipality, today: Date) -> Result<StatsQuery, String> {
        let date = |value: &Option<String>, name: &str| {
            given(value)
                .map(|text| text.parse::<Date>().map_err(|_| format!("{name} must be a date like 2026-01-31")))
                .transpose()
        };
        let to = date(&self.to, "to")?.unwrap_or(today);
        let from = match date(&self.from, "from")? {
            Some(from) => from,
            None => to.checked_sub(jiff::Span::new().years(1)).and_then(|d| d.tomorrow()).map_err(|e| e.to_string())?,
        };
        if from > to {
            return Err("from must not be after to".into());
        }
        if (to - from).get_days() as i64 >= MAX_DAYS {
            return Err(format!("a period may have at most {MAX_DAYS} days"));
        }
        let known = |value: &Option<String>, name: &str, ids: &[&str]| -> Result<Option<String>, String> {
            match given(value) {
                None => Ok(None),
                Some(id) if ids.contains(&id) => Ok(Some(id.to_string())),
                Some(id) => Err(format!("unknown {name} {id:?}")),
            }
        };
        let districts: Vec<&str> = municipality.town.area.districts().iter().map(|d| d.id.as_str()).collect();
        let depots: Vec<&str> = municipality.routing.depots().iter().map(|d| d.id.as_str()).collect();
        Ok(StatsQuery {
            from,
            to,
            category: given(&self.category)
                .map(|id| Category::from_id(id).ok_or_else(|| format!("unknown category {id:?}")))
                .transpose()?,
            district: known(&self.district, "district", &districts)?,
            depot: known(&self.depot, "depot", &depots)?,
            channel: known(&self.channel, "channel", &["whatsapp", "web", "open311"])?,
            priority: given(&self.priority)
                .map(|p| Priority::parse(p).ok_or_else(|| format!("unknown priority {p:?}")))
                .transpose()?,
        })
    }
}

/// A half-open span of time [start, end) in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl StatsQuery {
    pub fn window(&self) -> Window {
        let after = self.to.tomorrow().unwrap_or(self.to);
        Window { start: berlin_midnight(self.from), end: berlin_midnight(after) }
    }

    /// The same number of days just before.
    pub fn previous(&self) -> StatsQuery {
        let days = (self.to - self.from).get_days() + 1;
        let to = self.from.yesterday().unwrap_or(self.from);
        let from = to.checked_sub(jiff::Span::new().days(days - 1)).unwrap_or(to);
        StatsQuery { from, to, ..self.clone() }
    }
}

/// The headline figures of one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub received: u64,
    pub opened: u64,
    pub done: u64,
    pub rejected: u64,
    pub forwarded: u64,
    /// Reports received in the period that belong to an order, and those of them that joined one.
    pub linked: u64,
    pub duplicates: u64,
    pub duplicate_share: Option<f64>,
    pub to_acceptance: Spread,
    pub to_done: Spread,
    pub sla: Sla,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub id: String,
    pub received: u64,
    pub opened: u64,
    pub done: u64,
    pub to_done: Spread,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// ISO week, e.g. "2026-W48".
    pub week: String,
    pub received: u64,
    pub done: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    pub lat: f64,
    pub lon: f64,
    pub reports: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub query: StatsQuery,
    pub totals: Totals,
    pub previous: Totals,
    /// As of the end of the period (or now).
    pub backlog: AgeBuckets,
    pub sla_by_priority: BTreeMap<String, Sla>,
    pub weeks: Vec<Week>,
    pub by_category: Vec<Breakdown>,
    pub by_district: Vec<Breakdown>,
    pub hotspots: Vec<Hotspot>,
    pub top_streets: Vec<(String, u64)>,
}

/// Hotspot cells are this many degrees of latitude and longitude (about 200 m and 140 m here).
const CELL_DEGREES: f64 = 0.002;
const MAX_HOTSPOTS: usize = 2000;
const TOP_STREETS: usize = 10;

/// Every figure for `query`, from the raw rows, as of `now`.
pub async fn compute(conn: &mut AnyConnection, query: &StatsQuery, now: i64) -> Result<Statistics, sqlx::Error> {
    let window = query.window();
    let previous_query = query.previous();
    let previous_window = previous_query.window();
    let reports = load::reports(conn, query, window).await?;
    let orders = load::orders(conn, query, previous_window.start, window.end).await?;
    let previous_reports = load::reports(conn, &previous_query, previous_window).await?;

    let totals = totals_of(&reports, &orders, window);
    let previous = totals_of(&previous_reports, &orders, previous_window);
    let as_of = window.end.min(now);
    let mut backlog = AgeBuckets::default();
    let mut streets: BTreeMap<String, u64> = BTreeMap::new();
    for order in orders.iter().filter(|o| o.open_at(as_of)) {
        backlog.add(order.created_at, as_of);
        if let Some(address) = &order.address {
            *streets.entry(street_of(address).to_string()).or_default() += 1;
        }
    }
    let mut top_streets: Vec<(String, u64)> = streets.into_iter().collect();
    top_streets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_streets.truncate(TOP_STREETS);

    let mut sla_by_priority: BTreeMap<String, Sla> = BTreeMap::new();
    for order in orders.iter().filter(|o| o.done_in(window)) {
        let done_at = order.done_at.unwrap_or_default();
        sla_by_priority.entry(order.priority.clone()).or_default().add(done_at, order.due_at);
    }

    Ok(Statistics {
        totals,
        previous,
        backlog,
        sla_by_priority,
        weeks: weeks(query, &reports, &orders, window),
        by_category: breakdown(&reports, &orders, window, |r| r.category.clone(), |o| Some(o.category.clone())),
        by_district: breakdown(&reports, &orders, window, |r| r.district.clone(), |o| Some(o.district.clone())),
        hotspots: hotspots(&reports),
        top_streets,
        query: query.clone(),
    })
}

fn totals_of(reports: &[load::ReportRow], orders: &[load::OrderRow], window: Window) -> Totals {
    let mut totals = Totals { received: reports.len() as u64, ..Totals::default() };
    for report in reports {
        match report.order_link.as_deref() {
            Some("duplicate") => {
                totals.linked += 1;
                totals.duplicates += 1;
            }
            Some(_) => totals.linked += 1,
            None => {}
        }
    }
    totals.duplicate_share = (totals.linked > 0).then(|| totals.duplicates as f64 / totals.linked as f64);
    let mut to_acceptance = Vec::new();
    let mut to_done = Vec::new();
    for order in orders {
        if window.contains(order.created_at) {
            totals.opened += 1;
        }
        if let Some(accepted_at) = order.accepted_at.filter(|at| window.contains(*at)) {
            to_acceptance.push(accepted_at - order.created_at);
        }
        if order.done_in(window) {
            let done_at = order.done_at.unwrap_or_default();
            totals.done += 1;
            to_done.push(done_at - order.created_at);
            totals.sla.add(done_at, order.due_at);
        }
        if order.closed_at.is_some_and(|at| window.contains(at)) {
            match order.status.as_str() {
                "rejected" => totals.rejected += 1,
                "forwarded" => totals.forwarded += 1,
                _ => {}
            }
        }
    }
    totals.to_acceptance = Spread::of(to_acceptance);
    totals.to_done = Spread::of(to_done);
    totals
}

impl Window {
    pub fn contains(&self, at: i64) -> bool {
        self.start <= at && at < self.end
    }
}

fn weeks(query: &StatsQuery, reports: &[load::ReportRow], orders: &[load::OrderRow], window: Window) -> Vec<Week> {
    let mut weeks: Vec<Week> = Vec::new();
    let mut day = query.from;
    while day <= query.to {
        let (year, week) = berlin_iso_week(berlin_midnight(day));
        let label = format!("{year}-W{week:02}");
        if weeks.last().is_none_or(|w| w.week != label) {
            weeks.push(Week { week: label, received: 0, done: 0 });
        }
        day = match day.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    let index = |at: i64| {
        let (year, week) = berlin_iso_week(at);
        let label = format!("{year}-W{week:02}");
        weeks.iter().position(|w| w.week == label)
    };
    let received: Vec<Option<usize>> = reports.iter().map(|r| index(r.created_at)).collect();
    let done: Vec<Option<usize>> =
        orders.iter().filter(|o| o.done_in(window)).map(|o| index(o.done_at.unwrap_or_default())).collect();
    for i in received.into_iter().flatten() {
        weeks[i].received += 1;
    }
    for i in done.into_iter().flatten() {
        weeks[i].done += 1;
    }
    weeks
}

fn breakdown(
    reports: &[load::ReportRow],
    orders: &[load::OrderRow],
    window: Window,
    report_key: impl Fn(&load::ReportRow) -> Option<String>,
    order_key: impl Fn(&load::OrderRow) -> Option<String>,
) -> Vec<Breakdown> {
    type Group = (Breakdown, Vec<i64>);
    fn group(groups: &mut BTreeMap<String, Group>, id: String) -> &mut Group {
        groups.entry(id.clone()).or_insert_with(|| (Breakdown { id, ..Breakdown::default() }, Vec::new()))
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for report in reports {
        if let Some(id) = report_key(report) {
            group(&mut groups, id).0.received += 1;
        }
    }
    for order in orders {
        let Some(id) = order_key(order) else { continue };
        if window.contains(order.created_at) {
            group(&mut groups, id.clone()).0.opened += 1;
        }
        if order.done_in(window) {
            let entry = group(&mut groups, id);
            entry.0.done += 1;
            entry.1.push(order.done_at.unwrap_or_default() - order.created_at);
        }
    }
    groups
        .into_values()
        .map(|(mut breakdown, durations)| {
            breakdown.to_done = Spread::of(durations);
            breakdown
        })
        .collect()
}

fn hotspots(reports: &[load::ReportRow]) -> Vec<Hotspot> {
    let mut cells: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for report in reports {
        let cell = ((report.lat / CELL_DEGREES).floor() as i64, (report.lon / CELL_DEGREES).floor() as i64);
        *cells.entry(cell).or_default() += 1;
    }
    let mut spots: Vec<Hotspot> = cells
        .into_iter()
        .map(|((lat, lon), reports)| Hotspot {
            lat: (lat as f64 + 0.5) * CELL_DEGREES,
            lon: (lon as f64 + 0.5) * CELL_DEGREES,
            reports,
        })
        .collect();
    spots.sort_by_key(|spot| std::cmp::Reverse(spot.reports));
    spots.truncate(MAX_HOTSPOTS);
    spots
}

/// Today in Europe/Berlin.
pub fn today(now_ms: i64) -> Date {
    berlin_civil_date(now_ms)
}
