//! What the figures are assembled from: counts and durations per group for one window, and
//! the backlog at one instant. Two ways fill them — `from_rows` from the raw rows (the plain
//! recomputation, kept as the reference) and `query` with the database doing the grouping (what
//! the page uses: only a few hundred rows cross from the database instead of every report).
//! A test checks both give the same figures on a seeded history.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::figures::Sla;
use super::filter::Filter;
use super::load::{OrderRow, ReportRow};
use super::{StatsQuery, Window};
use crate::db::Backend;
use crate::orders::status::OrderStatus;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// Hotspot cells are this many degrees of latitude and longitude (about 200 m and 140 m here).
pub const CELL_DEGREES: f64 = 0.002;

/// Orders done, per (category, district, priority).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DoneGroup {
    pub durations: Vec<i64>,
    pub sla: Sla,
}

/// A report group: (category, district, order link).
pub type ReportKey = (Option<String>, Option<String>, Option<String>);

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counted {
    /// Reports received per UTC hour (`created_at / 3,600,000`); Berlin days and weeks are
    /// whole hours, so weeks come out exact.
    pub received_by_hour: BTreeMap<i64, u64>,
    /// Reports per (category, district, order link).
    pub reports: BTreeMap<ReportKey, u64>,
    /// Reports per hotspot cell (floor of lat and lon over `CELL_DEGREES`).
    pub cells: BTreeMap<(i64, i64), u64>,
    /// Orders opened per (category, district).
    pub opened: BTreeMap<(String, String), u64>,
    /// Opening-to-acceptance times of the orders accepted in the window.
    pub acceptance: Vec<i64>,
    pub done: BTreeMap<(String, String, String), DoneGroup>,
    pub done_by_hour: BTreeMap<i64, u64>,
    pub rejected: u64,
    pub forwarded: u64,
}

/// Orders open at an instant: per whole day of age, and per address.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Backlog {
    pub by_age_days: BTreeMap<i64, u64>,
    pub by_address: BTreeMap<String, u64>,
}

pub fn cell(lat: f64, lon: f64) -> (i64, i64) {
    ((lat / CELL_DEGREES).floor() as i64, (lon / CELL_DEGREES).floor() as i64)
}

impl Counted {
    /// The plain recomputation: every row looked at in Rust. Without `detail`, as `query`.
    pub fn from_rows(reports: &[ReportRow], orders: &[OrderRow], window: Window, detail: bool) -> Self {
        let mut counted = Counted::default();
        for r in reports {
            *counted.reports.entry((r.category.clone(), r.district.clone(), r.order_link.clone())).or_default() += 1;
            if detail {
                *counted.received_by_hour.entry(r.created_at.div_euclid(HOUR_MS)).or_default() += 1;
                *counted.cells.entry(cell(r.lat, r.lon)).or_default() += 1;
            }
        }
        for o in orders {
            if window.contains(o.created_at) {
                *counted.opened.entry((o.category.clone(), o.district.clone())).or_default() += 1;
            }
            if let Some(accepted) = o.accepted_at.filter(|at| window.contains(*at)) {
                counted.acceptance.push(accepted - o.created_at);
            }
            if o.done_in(window) {
                let done_at = o.done_at.unwrap_or_default();
                let group =
                    counted.done.entry((o.category.clone(), o.district.clone(), o.priority.clone())).or_default();
                group.durations.push(done_at - o.created_at);
                group.sla.add(done_at, o.due_at);
                if detail {
                    *counted.done_by_hour.entry(done_at.div_euclid(HOUR_MS)).or_default() += 1;
                }
            }
            if o.closed_at.is_some_and(|at| window.contains(at)) {
                match o.status {
                    OrderStatus::Rejected => counted.rejected += 1,
                    OrderStatus::Forwarded => counted.forwarded += 1,
                    _ => {}
                }
            }
        }
        counted.acceptance.sort_unstable();
        for group in counted.done.values_mut() {
            group.durations.sort_unstable();
        }
        counted
    }

    /// The same, grouped by the database. Without `detail` (the previous period) only what
    /// the headline figures need: no hours, no cells.
    pub async fn query(
        conn: &mut AnyConnection,
        backend: Backend,
        query: &StatsQuery,
        window: Window,
        detail: bool,
    ) -> sqlx::Result<Self> {
        let mut counted = Counted::default();
        let reports = Filter::reports(query);
        let base = format!(
            "FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
             WHERE r.created_at >= $1 AND r.created_at < $2{}",
            reports.sql
        );
        let hour = "r.created_at / 3600000";
        let by_hour = format!("SELECT {hour} AS k, COUNT(*) AS n {base} GROUP BY {hour}");
        for row in reports.run_if(detail, conn, &by_hour, window).await? {
            counted.received_by_hour.insert(row.try_get("k")?, count(&row)?);
        }
        let grouped = format!("SELECT r.category, r.district, r.order_link, COUNT(*) AS n {base} GROUP BY r.category, r.district, r.order_link");
        for row in reports.run(conn, &grouped, window).await? {
            let key = (row.try_get("category")?, row.try_get("district")?, row.try_get("order_link")?);
            counted.reports.insert(key, count(&row)?);
        }
        let floor = |column: &str| match backend {
            Backend::Postgres => format!("CAST(FLOOR({column} / 0.002) AS BIGINT)"),
            // CAST truncates towards zero; one less for negative values that are not whole.
            Backend::Sqlite => {
                format!("(CAST({column} / 0.002 AS INTEGER) - ({column} / 0.002 < CAST({column} / 0.002 AS INTEGER)))")
            }
        };
        let (lat, lon) = (floor("r.lat"), floor("r.lon"));
        let cells = format!("SELECT {lat} AS la, {lon} AS lo, COUNT(*) AS n {base} GROUP BY {lat}, {lon}");
        for row in reports.run_if(detail, conn, &cells, window).await? {
            counted.cells.insert((row.try_get("la")?, row.try_get("lo")?), count(&row)?);
        }

        let orders = Filter::orders(query);
        let opened = format!(
            "SELECT o.category, o.district, COUNT(*) AS n FROM work_orders o
             WHERE o.status <> 'merged' AND o.created_at >= $1 AND o.created_at < $2{} GROUP BY o.category, o.district",
            orders.sql
        );
        for row in orders.run(conn, &opened, window).await? {
            counted.opened.insert((row.try_get("category")?, row.try_get("district")?), count(&row)?);
        }
        let packed = |expression: &str| match backend {
            Backend::Postgres => format!("STRING_AGG(CAST({expression} AS TEXT), ',')"),
            Backend::Sqlite => format!("GROUP_CONCAT({expression}, ',')"),
        };
        let accepted = format!(
            "SELECT {} AS d FROM work_orders o
             WHERE o.status <> 'merged' AND o.accepted_at >= $1 AND o.accepted_at < $2{}",
            packed("o.accepted_at - o.created_at"),
            orders.sql
        );
        for row in orders.run(conn, &accepted, window).await? {
            counted.acceptance.extend(unpack(row.try_get("d")?));
        }
        counted.acceptance.sort_unstable();
        let done = format!(
            "SELECT o.category, o.district, o.priority, {} AS d, COUNT(*) AS n,
                    SUM(CASE WHEN o.due_at IS NOT NULL AND o.done_at <= o.due_at THEN 1 ELSE 0 END) AS on_time
             FROM work_orders o WHERE o.status = 'done' AND o.done_at >= $1 AND o.done_at < $2{}
             GROUP BY o.category, o.district, o.priority",
            packed("o.done_at - o.created_at"),
            orders.sql
        );
        for row in orders.run(conn, &done, window).await? {
            let mut durations = unpack(row.try_get("d")?);
            durations.sort_unstable();
            let on_time: i64 = row.try_get("on_time")?;
            let group = DoneGroup { durations, sla: Sla { done: count(&row)?, on_time: on_time as u64 } };
            counted.done.insert((row.try_get("category")?, row.try_get("district")?, row.try_get("priority")?), group);
        }
        let done_hours = format!(
            "SELECT o.done_at / 3600000 AS k, COUNT(*) AS n FROM work_orders o
             WHERE o.status = 'done' AND o.done_at >= $1 AND o.done_at < $2{} GROUP BY o.done_at / 3600000",
            orders.sql
        );
        for row in orders.run_if(detail, conn, &done_hours, window).await? {
            counted.done_by_hour.insert(row.try_get("k")?, count(&row)?);
        }
        let closed = format!(
            "SELECT o.status, COUNT(*) AS n FROM work_orders o
             WHERE o.status IN ('rejected', 'forwarded') AND o.closed_at >= $1 AND o.closed_at < $2{} GROUP BY o.status",
            orders.sql
        );
        for row in orders.run(conn, &closed, window).await? {
            match row.try_get::<String, _>("status")?.as_str() {
                "rejected" => counted.rejected = count(&row)?,
                _ => counted.forwarded = count(&row)?,
            }
        }
        Ok(counted)
    }
}

impl Backlog {
    pub fn from_rows(orders: &[OrderRow], as_of: i64) -> Self {
        let mut backlog = Backlog::default();
        for order in orders.iter().filter(|o| o.open_at(as_of)) {
            *backlog.by_age_days.entry((as_of - order.created_at).max(0) / DAY_MS).or_default() += 1;
            if let Some(address) = &order.address {
                *backlog.by_address.entry(address.clone()).or_default() += 1;
            }
        }
        backlog
    }

    pub async fn query(conn: &mut AnyConnection, query: &StatsQuery, as_of: i64) -> sqlx::Result<Self> {
        let orders = Filter::orders(query);
        let open = format!(
            "FROM work_orders o WHERE o.status <> 'merged' AND o.created_at < $1
             AND (o.closed_at IS NULL OR o.closed_at >= $2){}",
            orders.sql
        );
        let window = Window { start: as_of, end: as_of };
        let mut backlog = Backlog::default();
        let age = format!("($1 - o.created_at) / {DAY_MS}");
        for row in orders.run(conn, &format!("SELECT {age} AS k, COUNT(*) AS n {open} GROUP BY {age}"), window).await? {
            backlog.by_age_days.insert(row.try_get("k")?, count(&row)?);
        }
        let addresses = format!("SELECT o.address, COUNT(*) AS n {open} AND o.address IS NOT NULL GROUP BY o.address");
        for row in orders.run(conn, &addresses, window).await? {
            backlog.by_address.insert(row.try_get("address")?, count(&row)?);
        }
        Ok(backlog)
    }
}

fn count(row: &sqlx::any::AnyRow) -> sqlx::Result<u64> {
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}

fn unpack(packed: Option<String>) -> Vec<i64> {
    packed.unwrap_or_default().split(',').filter_map(|v| v.trim().parse().ok()).collect()
}
