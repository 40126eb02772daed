//! Resolution statistics for managers: how many reports, how fast they are fixed, where it is
//! slow. `compute` derives every figure from the roll-ups of the raw rows (reports and work
//! orders) for a period of Berlin calendar days and optional filters; the page, `/stats.csv` and
//! `/api/v1/stats` all show its result, so they cannot disagree. The definitions shown on the
//! page are in `definitions`.

mod buckets;
mod counted;
mod entries;
pub mod figures;
mod filter;
mod load;
pub mod rollup;

use std::collections::BTreeMap;

use jiff::civil::Date;
use meldeweg_workers::category::Category;
use meldeweg_workers::classify::Priority;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::db::{Db, DbError};
use crate::time::{berlin_civil_date, berlin_iso_week, berlin_midnight};
use crate::town::Municipality;
use buckets::CELL_DEGREES;
use counted::{Backlog, Counted, ReportKey};
use figures::{street_of, AgeBuckets, Sla, Spread};

/// Longest period one request may ask for.
pub const MAX_DAYS: i64 = 1100;

/// What each figure means, in English; shown on the page (`definitions`).
const DEFINITIONS_EN: &[(&str, &str)] = &[
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

/// "open311:NAME", NAME as an Open311 key is named.
fn is_key_channel(channel: &str) -> bool {
    channel.strip_prefix("open311:").is_some_and(|name| {
        (1..=40).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    })
}

/// The same definitions in German, in the same order.
const DEFINITIONS_DE: &[(&str, &str)] = &[
    ("Zeitraum", "Kalendertage in Europe/Berlin, vom ersten bis einschließlich zum letzten Tag. Zeiten sind in der Datenbank in UTC gespeichert."),
    ("eingegangen", "Meldungen, deren Meldezeit im Zeitraum liegt (alle Kanäle, auch Meldungen außerhalb des Gebiets und weitergegebene)."),
    ("angelegt", "Im Zeitraum angelegte Aufträge. In einen anderen Auftrag zusammengeführte Aufträge zählen nirgends."),
    ("erledigt", "Im Zeitraum als erledigt markierte Aufträge (nach dem Zeitpunkt der Markierung)."),
    ("abgelehnt / weitergegeben", "Aufträge mit dem Status abgelehnt bzw. weitergegeben, die im Zeitraum abgeschlossen wurden."),
    ("Anteil Doppelmeldungen", "Von den im Zeitraum eingegangenen Meldungen mit Auftrag der Anteil, der einem Auftrag zugeordnet wurde, den eine andere Meldung angelegt hatte."),
    ("offene Aufträge", "Aufträge, die am Ende des Zeitraums (oder jetzt, wenn er noch läuft) offen, übernommen oder in Arbeit sind, nach ganzen Tagen seit dem Anlegen: 0–7, 8–30, 31–90, mehr als 90. Maßgeblich ist der heutige Stand: Ein damals abgeschlossener, inzwischen wieder geöffneter Auftrag zählt als offen."),
    ("Zeit bis Übernahme", "Für im Zeitraum übernommene Aufträge: Zeit vom Anlegen bis zur Übernahme. Median und 90. Perzentil nach dem Rang-Verfahren (nearest rank)."),
    ("Zeit bis erledigt", "Für im Zeitraum erledigte Aufträge: Zeit vom Anlegen bis zur Erledigung. Median und 90. Perzentil nach dem Rang-Verfahren (nearest rank)."),
    ("Fristeinhaltung", "Von den im Zeitraum erledigten Aufträgen der Anteil, der bis zur Frist erledigt wurde: Anlegezeit plus die Stunden der Frist ihrer Priorität, neu berechnet bei höherer Priorität und neu begonnen beim Wiedereröffnen."),
    ("Wochen", "Kalenderwochen nach ISO (Montag bis Sonntag, Europe/Berlin), die den Zeitraum berühren; je Woche die eingegangenen Meldungen und erledigten Aufträge innerhalb des Zeitraums."),
    ("Brennpunkte", "Im Zeitraum eingegangene Meldungen, gezählt je Zelle von etwa 200 m."),
    ("Straßen", "Straßen (nach der nächsten Adresse des Auftrags) mit den meisten offenen Aufträgen."),
    ("Vorperiode", "Gleich viele Tage unmittelbar vor dem Zeitraum, mit denselben Filtern."),
    ("Filter", "Kategorie, Bezirk, Priorität und Betriebshof gelten für Meldungen und Aufträge nach ihren eigenen Werten (der Betriebshof einer Meldung ist der ihres Auftrags); der Kanal gilt für Meldungen und für Aufträge nach der Meldung, die sie angelegt hat."),
];

/// What each figure means, in German or in English.
pub fn definitions(en: bool) -> &'static [(&'static str, &'static str)] {
    if en {
        DEFINITIONS_EN
    } else {
        DEFINITIONS_DE
    }
}

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
        let (category, district, depot) = municipality.selection(&self.category, &self.district, &self.depot)?;
        let channel = match given(&self.channel) {
            None => None,
            Some(channel @ ("whatsapp" | "web" | "open311")) => Some(channel.to_string()),
            // One Open311 key's reports.
            Some(channel) if is_key_channel(channel) => Some(channel.to_string()),
            Some(other) => return Err(format!("unknown channel {other:?}")),
        };
        Ok(StatsQuery {
            from,
            to,
            category,
            district,
            depot,
            channel,
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

const MAX_HOTSPOTS: usize = 2000;
const TOP_STREETS: usize = 10;
const HOUR_MS: i64 = 3_600_000;

/// Every figure for `query` as of `now`, from the roll-ups (what the pages use): first the
/// buckets changed since the last time are rebuilt.
pub async fn compute(db: &Db, query: &StatsQuery, now: i64) -> Result<Statistics, DbError> {
    rollup::refresh(db).await?;
    let mut conn = db.pool().acquire().await?;
    let window = query.window();
    let previous = query.previous().window();
    let (current, previous) = Counted::from_rollups(&mut conn, query, window, previous).await?;
    let backlog = Backlog::query(&mut conn, query, window.end.min(now)).await?;
    Ok(assemble(query, current, previous, backlog))
}

/// The same figures by the plain recomputation from every raw row: the reference `compute`
/// is tested against.
pub async fn compute_from_rows(
    conn: &mut AnyConnection,
    query: &StatsQuery,
    now: i64,
) -> Result<Statistics, sqlx::Error> {
    let window = query.window();
    let previous_query = query.previous();
    let previous_window = previous_query.window();
    let reports = load::reports(conn, query, window).await?;
    let orders = load::orders(conn, query, previous_window.start, window.end).await?;
    let previous_reports = load::reports(conn, &previous_query, previous_window).await?;
    let current = Counted::from_rows(&reports, &orders, window, true);
    let previous = Counted::from_rows(&previous_reports, &orders, previous_window, false);
    let backlog = Backlog::from_rows(&orders, window.end.min(now));
    Ok(assemble(query, current, previous, backlog))
}

fn assemble(query: &StatsQuery, current: Counted, previous: Counted, backlog_rows: Backlog) -> Statistics {
    let mut backlog = AgeBuckets::default();
    for (days, n) in &backlog_rows.by_age_days {
        backlog.add_days(*days, *n);
    }
    let mut streets: BTreeMap<String, u64> = BTreeMap::new();
    for (address, n) in &backlog_rows.by_address {
        *streets.entry(street_of(address).to_string()).or_default() += n;
    }
    let mut top_streets: Vec<(String, u64)> = streets.into_iter().collect();
    top_streets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_streets.truncate(TOP_STREETS);
    let mut sla_by_priority: BTreeMap<String, Sla> = BTreeMap::new();
    for ((_, _, priority), group) in &current.done {
        let sla = sla_by_priority.entry(priority.clone()).or_default();
        sla.done += group.sla.done;
        sla.on_time += group.sla.on_time;
    }
    Statistics {
        totals: totals_of(&current),
        previous: totals_of(&previous),
        backlog,
        sla_by_priority,
        weeks: weeks(query, &current),
        by_category: breakdown(&current, |(category, _, _)| category.clone(), |(category, _)| category.clone()),
        by_district: breakdown(&current, |(_, district, _)| district.clone(), |(_, district)| district.clone()),
        hotspots: hotspots(&current),
        top_streets,
        query: query.clone(),
    }
}

fn totals_of(counted: &Counted) -> Totals {
    let mut totals = Totals::default();
    for ((_, _, link), n) in &counted.reports {
        totals.received += n;
        match link.as_deref() {
            Some("duplicate") => {
                totals.linked += n;
                totals.duplicates += n;
            }
            Some(_) => totals.linked += n,
            None => {}
        }
    }
    totals.duplicate_share = (totals.linked > 0).then(|| totals.duplicates as f64 / totals.linked as f64);
    totals.opened = counted.opened.values().sum();
    totals.rejected = counted.rejected;
    totals.forwarded = counted.forwarded;
    let mut to_done = Vec::new();
    for group in counted.done.values() {
        totals.done += group.sla.done;
        totals.sla.done += group.sla.done;
        totals.sla.on_time += group.sla.on_time;
        to_done.extend_from_slice(&group.durations);
    }
    totals.to_acceptance = Spread::of(counted.acceptance.clone());
    totals.to_done = Spread::of(to_done);
    totals
}

impl Window {
    pub fn contains(&self, at: i64) -> bool {
        self.start <= at && at < self.end
    }
}

fn weeks(query: &StatsQuery, counted: &Counted) -> Vec<Week> {
    let mut weeks: Vec<Week> = Vec::new();
    let mut index: BTreeMap<(i16, i8), usize> = BTreeMap::new();
    let mut day = query.from;
    while day <= query.to {
        let key = berlin_iso_week(berlin_midnight(day));
        if let std::collections::btree_map::Entry::Vacant(entry) = index.entry(key) {
            entry.insert(weeks.len());
            weeks.push(Week { week: format!("{}-W{:02}", key.0, key.1), received: 0, done: 0 });
        }
        day = match day.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    for (hour, n) in &counted.received_by_hour {
        if let Some(&i) = index.get(&berlin_iso_week(hour * HOUR_MS)) {
            weeks[i].received += n;
        }
    }
    for (hour, n) in &counted.done_by_hour {
        if let Some(&i) = index.get(&berlin_iso_week(hour * HOUR_MS)) {
            weeks[i].done += n;
        }
    }
    weeks
}

fn breakdown(
    counted: &Counted,
    report_key: impl Fn(&ReportKey) -> Option<String>,
    order_key: impl Fn(&(String, String)) -> String,
) -> Vec<Breakdown> {
    type Group = (Breakdown, Vec<i64>);
    fn group(groups: &mut BTreeMap<String, Group>, id: String) -> &mut Group {
        groups.entry(id.clone()).or_insert_with(|| (Breakdown { id, ..Breakdown::default() }, Vec::new()))
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (key, n) in &counted.reports {
        if let Some(id) = report_key(key) {
            group(&mut groups, id).0.received += n;
        }
    }
    for (key, n) in &counted.opened {
        group(&mut groups, order_key(key)).0.opened += n;
    }
    for ((category, district, _), done) in &counted.done {
        let entry = group(&mut groups, order_key(&(category.clone(), district.clone())));
        entry.0.done += done.sla.done;
        entry.1.extend_from_slice(&done.durations);
    }
    groups
        .into_values()
        .map(|(mut breakdown, durations)| {
            breakdown.to_done = Spread::of(durations);
            breakdown
        })
        .collect()
}

/// The busiest cells, most reports first (ties in cell order, so the page does not change
/// between requests).
fn hotspots(counted: &Counted) -> Vec<Hotspot> {
    let mut cells: Vec<((i64, i64), u64)> = counted.cells.iter().map(|(&cell, &reports)| (cell, reports)).collect();
    cells.sort_unstable_by_key(|&(cell, reports)| (std::cmp::Reverse(reports), cell));
    cells.truncate(MAX_HOTSPOTS);
    cells
        .into_iter()
        .map(|((lat, lon), reports)| Hotspot {
            lat: (lat as f64 + 0.5) * CELL_DEGREES,
            lon: (lon as f64 + 0.5) * CELL_DEGREES,
            reports,
        })
        .collect()
}

/// Today in Europe/Berlin.
pub fn today(now_ms: i64) -> Date {
    berlin_civil_date(now_ms)
}
