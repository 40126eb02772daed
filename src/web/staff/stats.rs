//! The managers' statistics: `/staff/stats` (page with definitions, chart, tables and hotspot
//! map), `/stats.csv` (the same figures for a council report) — both from `stats::compute`,
//! for managers and administrators only. `/api/v1/stats` serves the JSON (web/api).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::session::Staff;
use super::views::{category_choices, depot_choices, district_choices, query_string, Choice, Frame};
use super::StaffState;
use crate::channels::open311;
use crate::http::AppError;
use crate::staff::access::{self, Operation};
use crate::staff::StaffUser;
use crate::stats::{self, Statistics, StatsQueryText, Totals};
use crate::time::now_ms;

/// Checks the role, parses the request and computes the figures.
pub async fn figures(
    state: &crate::pipeline::Pipeline,
    user: &StaffUser,
    text: &StatsQueryText,
) -> Result<Statistics, AppError> {
    access::check(&user.grant(), Operation::Statistics, None).map_err(|r| AppError::Forbidden(r.into()))?;
    let now = now_ms();
    let query = text.parse(&state.municipality, stats::today(now)).map_err(AppError::BadRequest)?;
    Ok(stats::compute(&state.db, &query, now).await?)
}

/// "3,5 h" below two days, "4,2 Tage" from then on; "–" for none.
fn duration(ms: Option<i64>, en: bool) -> String {
    let Some(ms) = ms else { return "–".into() };
    let hours = ms as f64 / 3_600_000.0;
    let (value, unit) = if hours < 48.0 { (hours, "h") } else { (hours / 24.0, if en { "days" } else { "Tage" }) };
    let text = format!("{value:.1} {unit}");
    if en {
        text
    } else {
        text.replace('.', ",")
    }
}

fn share(value: Option<f64>, en: bool) -> String {
    match value {
        None => "–".into(),
        Some(v) if en => format!("{:.1} %", v * 100.0),
        Some(v) => format!("{:.1} %", v * 100.0).replace('.', ","),
    }
}

/// A day as people write it here: 06.12.2026.
fn display_date(date: jiff::civil::Date) -> String {
    date.strftime("%d.%m.%Y").to_string()
}

/// A line of the headline table: figure, this period, previous period.
pub struct Line {
    pub figure: &'static str,
    pub now: String,
    pub before: String,
}

/// The headline figures: German and English name, and how to show the value.
type Measure = fn(&Totals, bool) -> String;
const LINES: [(&str, &str, Measure); 11] = [
    ("Meldungen eingegangen", "reports received", |t, _| t.received.to_string()),
    ("Aufträge angelegt", "orders opened", |t, _| t.opened.to_string()),
    ("Aufträge erledigt", "orders done", |t, _| t.done.to_string()),
    ("Aufträge abgelehnt", "orders rejected", |t, _| t.rejected.to_string()),
    ("Aufträge weitergegeben", "orders forwarded", |t, _| t.forwarded.to_string()),
    ("Anteil Doppelmeldungen", "duplicate share", |t, en| share(t.duplicate_share, en)),
    ("Zeit bis Übernahme, Median", "time to acceptance, median", |t, en| duration(t.to_acceptance.median_ms, en)),
    ("Zeit bis Übernahme, 90. Perzentil", "time to acceptance, 90th percentile", |t, en| {
        duration(t.to_acceptance.p90_ms, en)
    }),
    ("Zeit bis erledigt, Median", "time to done, median", |t, en| duration(t.to_done.median_ms, en)),
    ("Zeit bis erledigt, 90. Perzentil", "time to done, 90th percentile", |t, en| duration(t.to_done.p90_ms, en)),
    ("fristgerecht erledigt", "done within the SLA", |t, en| share(t.sla.share(), en)),
];

fn lines(now: &Totals, before: &Totals, en: bool) -> Vec<Line> {
    LINES
        .iter()
        .map(|(de, english, measure)| Line {
            figure: if en { english } else { de },
            now: measure(now, en),
            before: measure(before, en),
        })
        .collect()
}

/// One week's bars in the chart (coordinates in the SVG's own units).
pub struct Bar {
    /// "KW 48/2026" / "week 48 of 2026".
    pub week: String,
    pub x: f64,
    pub width: f64,
    pub received_y: f64,
    pub received_h: f64,
    pub done_x: f64,
    pub done_y: f64,
    pub done_h: f64,
    pub received: u64,
    pub done: u64,
}

/// The weekly chart: bars, the value axis (ticks with labels) and the months under the weeks.
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub baseline: f64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<(f64, u64)>,
    pub months: Vec<(f64, String)>,
    pub max: u64,
}

const CHART_WIDTH: f64 = 480.0;
const CHART_TOP: f64 = 8.0;
const PLOT_HEIGHT: f64 = 160.0;
const CHART_LEFT: f64 = 34.0;
const CHART_RIGHT: f64 = 6.0;
/// Room under the bars for the month names.
const CHART_BOTTOM: f64 = 22.0;

const MONTHS_DE: [&str; 12] = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"];
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The Monday of an ISO week written "2026-W48".
fn monday(week: &str) -> Option<jiff::civil::Date> {
    let (year, number) = week.split_once("-W")?;
    let date =
        jiff::civil::ISOWeekDate::new(year.parse().ok()?, number.parse().ok()?, jiff::civil::Weekday::Monday).ok()?;
    Some(date.date())
}

/// A round step for about four value ticks up to `max`.
fn tick_step(max: u64) -> u64 {
    let rough = (max as f64 / 4.0).max(1.0);
    let magnitude = 10f64.powi(rough.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(rough);
    step as u64
}

fn chart(statistics: &Statistics, en: bool) -> Chart {
    let max = statistics.weeks.iter().map(|w| w.received.max(w.done)).max().unwrap_or(0).max(1);
    let step = tick_step(max);
    let top = max.div_ceil(step) * step;
    let baseline = CHART_TOP + PLOT_HEIGHT;
    let y = |n: u64| baseline - n as f64 / top as f64 * PLOT_HEIGHT;
    let slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / statistics.weeks.len().max(1) as f64;
    let bar = (slot * 0.42).min(14.0);
    let months = if en { MONTHS_EN } else { MONTHS_DE };
    let mut month_labels = Vec::new();
    let mut last_month = None;
    let mut bars = Vec::with_capacity(statistics.weeks.len());
    for (i, w) in statistics.weeks.iter().enumerate() {
        let x = CHART_LEFT + i as f64 * slot + (slot - 2.0 * bar) / 2.0;
        let date = monday(&w.week);
        if let Some(date) = date {
            let month = (date.year(), date.month());
            if last_month != Some(month) {
                let name = months[usize::try_from(date.month() - 1).unwrap_or(0)];
                let label = if last_month.is_none() || date.month() == 1 {
                    format!("{name} {}", date.year())
                } else {
                    name.to_string()
                };
                month_labels.push((CHART_LEFT + i as f64 * slot, label));
                last_month = Some(month);
            }
        }
        let (year, number) = w.week.split_once("-W").unwrap_or((&w.week, ""));
        bars.push(Bar {
            week: if en { format!("week {number} of {year}") } else { format!("KW {number}/{year}") },
            x,
            width: bar,
            received_y: y(w.received),
            received_h: baseline - y(w.received),
            done_x: x + bar,
            done_y: y(w.done),
            done_h: baseline - y(w.done),
            received: w.received,
            done: w.done,
        });
    }
    // A month label needs room: drop those that would overlap the one before.
    let mut months: Vec<(f64, String)> = Vec::new();
    for (x, label) in month_labels {
        if months.last().is_none_or(|(last, text)| x - last >= text.chars().count() as f64 * 7.0 + 4.0) {
            months.push((x, label));
        }
    }
    Chart {
        width: CHART_WIDTH,
        height: baseline + CHART_BOTTOM,
        left: CHART_LEFT,
        right: CHART_WIDTH - CHART_RIGHT,
        baseline,
        bars,
        ticks: (0..=top / step).map(|k| (y(k * step), k * step)).collect(),
        months,
        max,
    }
}

/// A breakdown table.
pub struct Table {
    pub title: &'static str,
    pub id: &'static str,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub label: String,
    pub received: u64,
    pub opened: u64,
    pub done: u64,
    pub median: String,
}

/// The filter values as chosen, for re-rendering the form.
pub struct Selected {
    pub category: String,
    pub district: String,
    pub depot: String,
    pub channel: String,
    pub priority: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/stats.html")]
pub struct StatsPage {
    frame: Frame,
    selected: Selected,
    statistics: Statistics,
    lines: Vec<Line>,
    definitions: &'static [(&'static str, &'static str)],
    chart: Chart,
    /// The period as "01.11.2026 – 30.11.2026".
    period: String,
    /// Each channel's id and label.
    channels: Vec<(String, String)>,
    tables: Vec<Table>,
    sla: Vec<(&'static str, String, u64)>,
    query: String,
    categories: Vec<Choice>,
    districts: Vec<Choice>,
    depots: Vec<Choice>,
    hotspots: String,
    tile_url: String,
    tile_attribution: String,
    centre: (f64, f64),
}

fn links(text: &StatsQueryText) -> String {
    query_string(&[
        ("from", text.from.as_deref()),
        ("to", text.to.as_deref()),
        ("category", text.category.as_deref()),
        ("district", text.district.as_deref()),
        ("depot", text.depot.as_deref()),
        ("channel", text.channel.as_deref()),
        ("priority", text.priority.as_deref()),
    ])
}

pub async fn page(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Query(text): Query<StatsQueryText>,
) -> Result<StatsPage, AppError> {
    let statistics = figures(&state.pipeline, &staff.user, &text).await?;
    let frame = Frame::new(&state, &staff);
    let en = frame.ui.lang == "en";
    let categories = state.pipeline.municipality.town.classifier.categories();
    let municipality = &state.pipeline.municipality;
    let row = |label: String, b: &stats::Breakdown| Row {
        label,
        received: b.received,
        opened: b.opened,
        done: b.done,
        median: duration(b.to_done.median_ms, en),
    };
    let by_category: Vec<Row> =
        statistics.by_category.iter().map(|b| row(frame.ui.category(categories, &b.id).to_string(), b)).collect();
    let by_district: Vec<Row> = statistics
        .by_district
        .iter()
        .map(|b| row(municipality.district(&b.id).map(|d| d.name.clone()).unwrap_or_else(|| b.id.clone()), b))
        .collect();
    let sla = statistics
        .sla_by_priority
        .iter()
        .map(|(priority, sla)| (frame.ui.priority(priority), share(sla.share(), en), sla.done))
        .collect();
    let chart = chart(&statistics, en);
    let period = format!("{} – {}", display_date(statistics.query.from), display_date(statistics.query.to));
    let mut channels: Vec<(String, String)> =
        ["whatsapp", "web", "open311"].map(|c| (c.to_string(), frame.ui.channel(c).to_string())).to_vec();
    // Each Open311 key's reports on their own.
    let keys = {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        open311::keys::list(&mut conn).await.map_err(|e| AppError::Unavailable(e.to_string()))?
    };
    channels.extend(keys.into_iter().map(|key| (format!("open311:{}", key.name), format!("Open311: {}", key.name))));
    let centre = state.pipeline.municipality.town.area.centre();
    let hotspots = serde_json::to_string(
        &statistics
            .hotspots
            .iter()
            .map(|h| serde_json::json!({ "lat": h.lat, "lon": h.lon, "count": h.reports }))
            .collect::<Vec<_>>(),
    )
    .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let q = &statistics.query;
    let selected = Selected {
        category: q.category.map(|c| c.id().to_string()).unwrap_or_default(),
        district: q.district.clone().unwrap_or_default(),
        depot: q.depot.clone().unwrap_or_default(),
        channel: q.channel.clone().unwrap_or_default(),
        priority: q.priority.map(|p| p.as_str().to_string()).unwrap_or_default(),
    };
    Ok(StatsPage {
        selected,
        lines: lines(&statistics.totals, &statistics.previous, en),
        definitions: stats::definitions(en),
        chart,
        period,
        channels,
        tables: vec![
            Table { title: frame.ui.category, id: "by-category", rows: by_category },
            Table { title: frame.ui.district, id: "by-district", rows: by_district },
        ],
        sla,
        query: links(&text),
        categories: category_choices(&state.pipeline.municipality, frame.ui),
        districts: district_choices(&state),
        depots: depot_choices(&state),
        hotspots,
        tile_url: state.map.tile_url.clone(),
        tile_attribution: state.map.tile_attribution.clone(),
        centre: (centre.lat(), centre.lon()),
        statistics,
        frame,
    })
}

/// The figures as CSV: `section,item,figure,value` (counts, shares 0–1, times in hours).
pub fn csv(statistics: &Statistics) -> String {
    // UTF-8 with a byte order mark, so spreadsheets show umlauts right.
    let mut out = String::from("\u{feff}section,item,figure,value\n");
    let mut line = |section: &str, item: &str, figure: &str, value: String| {
        // A spreadsheet runs a cell starting with = + - @ as a formula: street names come from
        // outside (OpenStreetMap), so such text is prefixed with an apostrophe.
        let quote = |s: &str| {
            let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        };
        out.push_str(&format!("{},{},{},{}\n", quote(section), quote(item), quote(figure), quote(&value)));
    };
    let hours = |ms: Option<i64>| ms.map(|ms| format!("{:.2}", ms as f64 / 3_600_000.0)).unwrap_or_default();
    let ratio = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let q = &statistics.query;
    line("period", "", "from", q.from.to_string());
    line("period", "", "to", q.to.to_string());
    for (section, t) in [("period", &statistics.totals), ("previous_period", &statistics.previous)] {
        line(section, "", "received", t.received.to_string());
        line(section, "", "opened", t.opened.to_string());
        line(section, "", "done", t.done.to_string());
        line(section, "", "rejected", t.rejected.to_string());
        line(section, "", "forwarded", t.forwarded.to_string());
        line(section, "", "duplicate_share", ratio(t.duplicate_share));
        line(section, "", "to_acceptance_median_hours", hours(t.to_acceptance.median_ms));
        line(section, "", "to_acceptance_p90_hours", hours(t.to_acceptance.p90_ms));
        line(section, "", "to_done_median_hours", hours(t.to_done.median_ms));
        line(section, "", "to_done_p90_hours", hours(t.to_done.p90_ms));
        line(section, "", "sla_share", ratio(t.sla.share()));
    }
    let b = &statistics.backlog;
    for (bucket, n) in
        [("0-7", b.days_0_7), ("8-30", b.days_8_30), ("31-90", b.days_31_90), ("over_90", b.days_over_90)]
    {
        line("backlog", bucket, "orders", n.to_string());
    }
    for (priority, sla) in &statistics.sla_by_priority {
        line("sla", priority, "done", sla.done.to_string());
        line("sla", priority, "on_time", sla.on_time.to_string());
    }
    for week in &statistics.weeks {
        line("week", &week.week, "received", week.received.to_string());
        line("week", &week.week, "done", week.done.to_string());
    }
    for (section, rows) in [("category", &statistics.by_category), ("district", &statistics.by_district)] {
        for r in rows {
            line(section, &r.id, "received", r.received.to_string());
            line(section, &r.id, "opened", r.opened.to_string());
            line(section, &r.id, "done", r.done.to_string());
            line(section, &r.id, "to_done_median_hours", hours(r.to_done.median_ms));
        }
    }
    for (street, n) in &statistics.top_streets {
        line("street", street, "open_orders", n.to_string());
    }
    out
}

pub async fn csv_download(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Query(text): Query<StatsQueryText>,
) -> Result<Response, AppError> {
    let statistics = figures(&state.pipeline, &staff.user, &text).await?;
    let name = format!("attachment; filename=\"meldeweg-{}-{}.csv\"", statistics.query.from, statistics.query.to);
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (CONTENT_DISPOSITION, name)], csv(&statistics))
        .into_response())
}
