//! `meldeweg demo seed --reports N`: a realistic history for a municipality to look at the
//! statistics before go-live, and for the statistics benchmark. Seasonal categories (winter
//! service in January, green spaces in summer, potholes after the frost), resolution times per
//! category and depot, duplicates, rejections and forwards, a tail of open and overdue orders.
//! Reports have no reporter and their descriptions are lines of the shipped training texts:
//! nothing personal is generated. Deterministic for a given seed. The staff search indexes them.

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{corpus_lines, Priority};
use meldeweg_workers::geotag::{Placement, Route};
use meldeweg_workers::LatLon;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

use crate::config::SlaSettings;
use crate::db::{Backend, Db};
use crate::town::Municipality;
use meldeweg_workers::status::OrderStatus;
use meldeweg_workers::status::ReportStatus;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Rows per INSERT statement (at most 19 values each: 9,500 parameters, under both databases' limits).
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds reports or work orders; seed an empty database")]
    NotEmpty,
    #[error(
        "{0} reports in one year would exceed the 999,999 reference numbers a year has; spread them over more days"
    )]
    TooMany(u32),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// Relative frequency of each category in a month (1–12): the seasons a Bauhof knows.
fn season(category: Category, month: i8) -> f64 {
    let winter = matches!(month, 12 | 1 | 2);
    let summer = matches!(month, 6..=8);
    match category {
        Category::Winterdienst => match month {
            1 => 14.0,
            12 | 2 => 8.0,
            3 | 11 => 1.5,
            _ => 0.05,
        },
        Category::Gruen => {
            if summer {
                9.0
            } else if matches!(month, 4 | 5 | 9) {
                5.0
            } else {
                1.5
            }
        }
        Category::Strassenschaden => {
            if matches!(month, 2..=4) {
                11.0
            } else {
                6.0
            }
        }
        Category::Beleuchtung => {
            if winter || matches!(month, 11) {
                7.0
            } else {
                3.0
            }
        }
        Category::Muell => {
            if summer {
                7.0
            } else {
                5.0
            }
        }
        Category::Spielplatz => {
            if summer {
                3.0
            } else {
                1.0
            }
        }
        Category::Graffiti => 2.5,
        Category::Verkehrszeichen => 2.5,
        Category::Kanal => {
            if matches!(month, 6..=9) {
                3.0
            } else {
                2.0
            }
        }
        Category::Sonstiges => 1.5,
    }
}

/// Typical hours until a depot accepts, and until it is done, per category.
fn resolution_hours(category: Category) -> (f64, f64) {
    match category {
        Category::Winterdienst => (1.0, 6.0),
        Category::Muell => (6.0, 36.0),
        Category::Strassenschaden => (18.0, 96.0),
        Category::Beleuchtung => (24.0, 120.0),
        Category::Kanal => (12.0, 72.0),
        Category::Verkehrszeichen => (24.0, 96.0),
        Category::Graffiti => (48.0, 240.0),
        Category::Gruen => (48.0, 240.0),
        Category::Spielplatz => (24.0, 168.0),
        Category::Sonstiges => (36.0, 168.0),
    }
}

/// A duration around `mean` hours with a long tail (exponential), in milliseconds.
fn around(rng: &mut StdRng, mean_hours: f64) -> i64 {
    let u: f64 = rng.random_range(0.0001..1.0);
    (-u.ln() * mean_hours * HOUR as f64) as i64 + 5 * 60_000
}

struct SeedOrder {
    number: String,
    depot: String,
    category: Category,
    district: String,
    at: LatLon,
    address: Option<String>,
    status: OrderStatus,
    priority: Priority,
    created: i64,
    due: i64,
    accepted: Option<i64>,
    done: Option<i64>,
    closed: Option<i64>,
    reason: Option<&'static str>,
    forwarded_to: Option<&'static str>,
    /// The channel of the report that opened it.
    channel: &'static str,
}

struct SeedReport {
    reference: String,
    token: String,
    category: Category,
    priority: Priority,
    district: Option<String>,
    at: LatLon,
    created: i64,
    status: ReportStatus,
    /// Index into the orders and whether this report opened the order.
    order: Option<(usize, bool)>,
    forwarded_to: Option<String>,
    address: Option<String>,
    /// What the citizen wrote: a line of the shipped training texts of its category.
    description: &'static str,
    /// How it came: one report in eight through the web form, the others by WhatsApp.
    channel: &'static str,
}

/// The shipped training texts, one made-up message per line, as the demo's descriptions.
const TEXTS: [(Category, &str); 10] = [
    (Category::Strassenschaden, include_str!("../config/training/strassenschaden.txt")),
    (Category::Beleuchtung, include_str!("../config/training/beleuchtung.txt")),
    (Category::Muell, include_str!("../config/training/muell.txt")),
    (Category::Graffiti, include_str!("../config/training/graffiti.txt")),
    (Category::Verkehrszeichen, include_str!("../config/training/verkehrszeichen.txt")),
    (Category::Gruen, include_str!("../config/training/gruen.txt")),
    (Category::Spielplatz, include_str!("../config/training/spielplatz.txt")),
    (Category::Kanal, include_str!("../config/training/kanal.txt")),
    (Category::Winterdienst, include_str!("../config/training/winterdienst.txt")),
    (Category::Sonstiges, include_str!("../config/training/sonstiges.txt")),
];

/// Writes `reports` reports (and the orders they lead to) spread over the `days` days before
/// `now`; returns the number of orders.
pub async fn seed(
    db: &Db,
    municipality: &Municipality,
    sla: &SlaSettings,
    reports: usize,
    days: i64,
    seed: u64,
    now: i64,
) -> Result<usize, SeedError> {
    let mut conn = db.pool().acquire().await?;
    let existing: i64 =
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM reports) + (SELECT COUNT(*) FROM work_orders)")
            .fetch_one(&mut *conn)
            .await?;
    if existing > 0 {
        return Err(SeedError::NotEmpty);
    }
    drop(conn);
    let mut history = History {
        municipality,
        sla,
        now,
        rng: StdRng::seed_from_u64(seed),
        orders: Vec::new(),
        reports: Vec::with_capacity(reports),
        counters: BTreeMap::new(),
        texts: TEXTS.iter().map(|(category, text)| (*category, corpus_lines(text).collect())).collect(),
    };
    // Reports arrive in time order, so references count up like real ones.
    let start = now - days * DAY;
    let mut times: Vec<i64> = (0..reports).map(|_| history.rng.random_range(start..now)).collect();
    times.sort_unstable();
    for created in times {
        history.report(created);
    }
    if let Some(too_many) = history.counters.values().find(|n| **n > 999_999) {
        return Err(SeedError::TooMany(*too_many));
    }
    write(db, &history.orders, &history.reports, &history.counters).await?;
    crate::reports::search::index_all_after(db, 0).await?;
    if db.backend() == Backend::Postgres {
        // Planner statistics and the visibility map after a bulk load (index-only scans skip
        // the table), as autovacuum would do a while later.
        sqlx::query("VACUUM ANALYZE").execute(db.pool()).await?;
    }
    Ok(history.orders.len())
}

/// The history being made up, report by report.
struct History<'a> {
    municipality: &'a Municipality,
    sla: &'a SlaSettings,
    now: i64,
    rng: StdRng,
    orders: Vec<SeedOrder>,
    reports: Vec<SeedReport>,
    /// The last number given, per kind ('M' reports, 'A' orders) and year.
    counters: BTreeMap<(char, u16), u32>,
    /// The lines of `TEXTS` per category.
    texts: Vec<(Category, Vec<&'static str>)>,
}

impl History<'_> {
    /// The next reference of `kind` in the year of `at`.
    fn next_number(&mut self, kind: char, at: i64) -> String {
        let year = crate::time::berlin_year(at);
        let n = self.counters.entry((kind, year)).or_default();
        *n += 1;
        format!("{kind}-{year}-{:06}", *n)
    }

    /// A report made at `created`, routed as triage would: forwarded, joined to an open order
    /// of the same problem nearby, or opening one.
    fn report(&mut self, created: i64) {
        let category = self.category(created);
        let priority = match self.rng.random_range(0..100) {
            0..=4 => Priority::Urgent,
            5..=19 => Priority::High,
            _ => Priority::Normal,
        };
        let (at, district) = self.place();
        let mut report = SeedReport {
            reference: self.next_number('M', created),
            token: crate::secrets::random_hex128(),
            category,
            priority,
            district: Some(district.clone()),
            at,
            created,
            status: ReportStatus::Open,
            order: None,
            forwarded_to: None,
            address: self.municipality.address_near(at),
            description: self.description(category),
            channel: if self.reports.len() % 8 == 7 { "web" } else { "whatsapp" },
        };
        match self.municipality.routing.route(category, &district) {
            Some(Route::Forward { to, .. }) => {
                report.status = ReportStatus::Forwarded;
                report.forwarded_to = Some(to.to_string());
            }
            Some(Route::Depot(depot)) => self.dispatch(&mut report, &depot.id, &district),
            None => {}
        }
        self.reports.push(report);
    }

    /// A made-up message about `category`.
    fn description(&mut self, category: Category) -> &'static str {
        let lines = self.texts.iter().find(|(c, _)| *c == category).map_or(&[][..], |(_, lines)| lines.as_slice());
        if lines.is_empty() {
            return "";
        }
        lines[self.rng.random_range(0..lines.len())]
    }

    /// A category by the season of `created`.
    fn category(&mut self, created: i64) -> Category {
        let month = crate::time::berlin_civil_date(created).month();
        let weights: Vec<f64> = Category::ALL.iter().map(|c| season(*c, month)).collect();
        let mut pick = self.rng.random_range(0.0..weights.iter().sum());
        Category::ALL
            .into_iter()
            .zip(&weights)
            .find(|(_, w)| {
                pick -= **w;
                pick < 0.0
            })
            .map_or(Category::Sonstiges, |(c, _)| c)
    }

    /// A point in one of the town's districts, and the district.
    fn place(&mut self) -> (LatLon, String) {
        let (south_west, north_east) = self.municipality.town.area.bounds();
        loop {
            let lat = self.rng.random_range(south_west.lat()..north_east.lat());
            let lon = self.rng.random_range(south_west.lon()..north_east.lon());
            if let Ok(point) = LatLon::new(lat, lon) {
                if let Placement::Inside(Some(district)) = self.municipality.town.area.locate(point) {
                    return (point, district.id.clone());
                }
            }
        }
    }

    /// Joins the report to a recent open order of its problem in its district (about one report
    /// in four, where there is one), or opens a new order for `depot`.
    fn dispatch(&mut self, report: &mut SeedReport, depot: &str, district: &str) {
        let created = report.created;
        // Orders are in time order: look back only over the last ten days.
        let recent = self
            .orders
            .iter()
            .enumerate()
            .rev()
            .take_while(|(_, o)| created - o.created < 10 * DAY)
            .find(|(_, o)| {
                o.category == report.category && o.district == district && o.closed.is_none_or(|c| c > created)
            })
            .map(|(index, _)| index);
        if let Some(index) = recent.filter(|_| self.rng.random_range(0..4) == 0) {
            report.order = Some((index, false));
            report.status = of_order(self.orders[index].status);
            return;
        }
        let resolved = resolve(&mut self.rng, report.category, depot, report.priority, created, self.now, self.sla);
        let order = SeedOrder {
            number: self.next_number('A', created),
            depot: depot.to_string(),
            district: district.to_string(),
            at: report.at,
            address: report.address.clone(),
            channel: report.channel,
            ..resolved
        };
        report.status = of_order(order.status);
        self.orders.push(order);
        report.order = Some((self.orders.len() - 1, true));
    }
}

fn of_order(status: OrderStatus) -> ReportStatus {
    ReportStatus::of_order(status).unwrap_or(ReportStatus::Open)
}

/// How an order of this kind went: accepted and done after typical times (slower at the
/// southern depot), some rejected or forwarded, recent ones still being worked on.
fn resolve(
    rng: &mut StdRng,
    category: Category,
    depot: &str,
    priority: Priority,
    created: i64,
    now: i64,
    sla: &SlaSettings,
) -> SeedOrder {
    let (accept_hours, done_hours) = resolution_hours(category);
    let pace = if depot.ends_with("sued") { 1.4 } else { 1.0 }
        * match priority {
            Priority::Urgent => 0.15,
            Priority::High => 0.5,
            Priority::Normal => 1.0,
        };
    let accepted = created + around(rng, accept_hours * pace);
    let done = accepted + around(rng, done_hours * pace);
    let mut order = SeedOrder {
        number: String::new(),
        depot: String::new(),
        category,
        district: String::new(),
        at: LatLon::new(0.0, 0.0).expect("0,0 is a valid position"),
        address: None,
        status: OrderStatus::Done,
        priority,
        created,
        due: sla.due(priority, created),
        accepted: Some(accepted),
        done: Some(done),
        closed: Some(done),
        reason: None,
        forwarded_to: None,
        channel: "",
    };
    match rng.random_range(0..100) {
        0..=3 => {
            order.status = OrderStatus::Rejected;
            order.done = None;
            order.reason = Some("Privatgrundstück – bitte an die Eigentümer wenden");
        }
        4..=5 => {
            order.status = OrderStatus::Forwarded;
            order.done = None;
            order.forwarded_to = Some("Landesbetrieb Straßenbau");
        }
        _ => {}
    }
    // Whatever lies in the future has not happened yet; and a few orders are simply forgotten.
    let forgotten = rng.random_range(0..200) == 0;
    if accepted > now || forgotten {
        order.status = OrderStatus::Open;
        order.accepted = None;
        order.done = None;
        order.closed = None;
        order.reason = None;
        order.forwarded_to = None;
    } else if order.closed.is_some_and(|c| c > now) {
        order.status = if rng.random_bool(0.5) { OrderStatus::Accepted } else { OrderStatus::InProgress };
        order.done = None;
        order.closed = None;
        order.reason = None;
        order.forwarded_to = None;
    }
    order
}

/// `(..), (..)` with `$N` placeholders for `rows` rows of `columns` values (the Any driver's
/// query builder writes `?`, which PostgreSQL does not take).
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let values: Vec<String> = (1..=columns).map(|c| format!("${}", row * columns + c)).collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the history: orders, then the reports linked to them, then the counters live numbering
/// continues from.
async fn write(
    db: &Db,
    orders: &[SeedOrder],
    reports: &[SeedReport],
    counters: &BTreeMap<(char, u16), u32>,
) -> Result<(), SeedError> {
    let order_ids = write_orders(db, orders).await?;
    write_reports(db, reports, orders, &order_ids).await?;
    write_counters(db, counters).await
}

/// Inserts the orders, many to a statement; returns their ids by number.
async fn write_orders(db: &Db, orders: &[SeedOrder]) -> Result<HashMap<String, i64>, SeedError> {
    let mut order_ids = HashMap::with_capacity(orders.len());
    for chunk in orders.chunks(BATCH) {
        let mut tx = db.begin().await?;
        let sql = format!(
            "INSERT INTO work_orders (number, depot, category, district, lat, lon, address, status, priority,
                                      created_at, updated_at, due_at, accepted_at, done_at, closed_at,
                                      reason, forwarded_to, channel) VALUES {} RETURNING id, number",
            placeholders(chunk.len(), 18)
        );
        let mut insert = sqlx::query(&sql);
        for o in chunk {
            insert = insert
                .bind(o.number.clone())
                .bind(o.depot.clone())
                .bind(o.category.id())
                .bind(o.district.clone())
                .bind(o.at.lat())
                .bind(o.at.lon())
                .bind(o.address.clone())
                .bind(o.status.as_str())
                .bind(o.priority.as_str())
                .bind(o.created)
                .bind(o.closed.or(o.accepted).unwrap_or(o.created))
                .bind(o.due)
                .bind(o.accepted)
                .bind(o.done)
                .bind(o.closed)
                .bind(o.reason)
                .bind(o.forwarded_to)
                .bind(o.channel);
        }
        for row in insert.fetch_all(tx.conn()).await? {
            order_ids.insert(row.try_get("number")?, row.try_get("id")?);
        }
        tx.commit().await?;
    }
    Ok(order_ids)
}

/// Inserts the reports, many to a statement, linked to their orders.
async fn write_reports(
    db: &Db,
    reports: &[SeedReport],
    orders: &[SeedOrder],
    order_ids: &HashMap<String, i64>,
) -> Result<(), SeedError> {
    for chunk in reports.chunks(BATCH) {
        let mut tx = db.begin().await?;
        let sql = format!(
            "INSERT INTO reports (reference, channel, lat, lon, location_source, status, created_at, category,
                                  confidence, category_source, priority, district, address, forwarded_to,
                                  work_order_id, order_link, triaged_at, public_token, description) VALUES {}",
            placeholders(chunk.len(), 19)
        );
        let mut insert = sqlx::query(&sql);
        for r in chunk {
            let order = r.order.map(|(index, opened)| {
                (order_ids.get(&orders[index].number).copied(), if opened { "opened" } else { "duplicate" })
            });
            insert = insert
                .bind(r.reference.clone())
                .bind(r.channel)
                .bind(r.at.lat())
                .bind(r.at.lon())
                .bind("shared_location")
                .bind(r.status.as_str())
                .bind(r.created)
                .bind(r.category.id())
                .bind(0.9f64)
                .bind("classifier")
                .bind(r.priority.as_str())
                .bind(r.district.clone())
                .bind(r.address.clone())
                .bind(r.forwarded_to.clone())
                .bind(order.and_then(|o| o.0))
                .bind(order.map(|o| o.1))
                .bind(r.created)
                .bind(r.token.clone())
                .bind(r.description);
        }
        insert.execute(tx.conn()).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Live numbering continues after the history.
async fn write_counters(db: &Db, counters: &BTreeMap<(char, u16), u32>) -> Result<(), SeedError> {
    let mut tx = db.begin().await?;
    for ((kind, year), last) in counters {
        let (sql, name) = match kind {
            'M' => (
                "INSERT INTO reference_counters (year, last_number) VALUES ($1, $2)
                 ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number",
                None,
            ),
            _ => (
                "INSERT INTO counters (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                Some(format!("work_orders.number.{year}")),
            ),
        };
        let query = match name {
            Some(name) => sqlx::query(sql).bind(name),
            None => sqlx::query(sql).bind(i64::from(*year)),
        };
        query.bind(i64::from(*last)).execute(tx.conn()).await?;
    }
    tx.commit().await?;
    Ok(())
}
