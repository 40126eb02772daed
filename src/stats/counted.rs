//! What the figures are assembled from: counts and durations per group for one window, and
//! the backlog at one instant. Two ways fill them — `from_rows` from the raw rows (the plain
//! recomputation, kept as the reference) and `from_rollups` from the roll-ups (what the page
//! uses: a few hundred packed rows instead of every report and order). A test checks both give
//! the same figures on a seeded history, also after the lifecycle has changed it.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::figures::Sla;
use super::filter::Filter;
use super::load::{OrderRow, ReportRow};
use super::rollup::{packed, BUCKET_HOURS, BUCKET_MS};
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

    /// The same for the window `current` (with detail) and `previous` (without), read from
    /// the roll-ups: each group's entries of every bucket touching either window, packed by the
    /// database as "bucket:entry,entry;bucket:…", each entry counted where its hour falls.
    pub async fn from_rollups(
        conn: &mut AnyConnection,
        backend: Backend,
        query: &StatsQuery,
        current: Window,
        previous: Window,
    ) -> sqlx::Result<(Self, Self)> {
        // [current, previous]
        let mut counted = [Counted::default(), Counted::default()];
        let filter = Filter::rollups(query);
        // The first and last bucket touching either window.
        let buckets = (previous.start.min(current.start) / BUCKET_MS, (current.end - 1) / BUCKET_MS);
        let slot = |hour: i64| {
            let at = hour * HOUR_MS;
            if current.contains(at) {
                Some(0)
            } else if previous.contains(at) {
                Some(1)
            } else {
                None
            }
        };
        let entries = packed(backend, "bucket || ':' || entries", ';');
        let reports = format!(
            "SELECT category, district, link, {entries} AS e FROM stat_reports
             WHERE bucket >= $1 AND bucket <= $2{} GROUP BY category, district, link",
            filter.sql
        );
        for row in filter.run(conn, &reports, buckets).await? {
            let key: ReportKey =
                (given(row.try_get("category")?), given(row.try_get("district")?), given(row.try_get("link")?));
            let packed: Option<String> = row.try_get("e")?;
            let mut reports = [0u64; 2];
            each_entry(packed.as_deref().unwrap_or_default(), |hour, numbers| {
                let Some(i) = slot(hour) else { return Ok(()) };
                reports[i] += 1;
                if i == 0 {
                    let &[lat, lon] = numbers else { return Err(malformed("report entry")) };
                    let into = &mut counted[0];
                    *into.received_by_hour.entry(hour).or_default() += 1;
                    *into.cells.entry((lat, lon)).or_default() += 1;
                }
                Ok(())
            })?;
            for (into, n) in counted.iter_mut().zip(reports).filter(|(_, n)| *n > 0) {
                *into.reports.entry(key.clone()).or_default() += n;
            }
        }
        let orders = format!(
            "SELECT event, category, district, priority, {entries} AS e FROM stat_orders
             WHERE bucket >= $1 AND bucket <= $2{} GROUP BY event, category, district, priority",
            filter.sql
        );
        for row in filter.run(conn, &orders, buckets).await? {
            let event: String = row.try_get("event")?;
            let (category, district, priority): (String, String, String) =
                (row.try_get("category")?, row.try_get("district")?, row.try_get("priority")?);
            let packed: Option<String> = row.try_get("e")?;
            let mut opened = [0u64; 2];
            let mut done = [DoneGroup::default(), DoneGroup::default()];
            each_entry(packed.as_deref().unwrap_or_default(), |hour, numbers| {
                let Some(i) = slot(hour) else { return Ok(()) };
                let into = &mut counted[i];
                match (event.as_str(), numbers) {
                    ("opened", []) => opened[i] += 1,
                    ("accepted", &[duration]) => into.acceptance.push(duration),
                    ("done", &[duration, on_time]) => {
                        done[i].durations.push(duration);
                        done[i].sla.done += 1;
                        done[i].sla.on_time += u64::from(on_time == 1);
                        if i == 0 {
                            *into.done_by_hour.entry(hour).or_default() += 1;
                        }
                    }
                    ("rejected", []) => into.rejected += 1,
                    ("forwarded", []) => into.forwarded += 1,
                    (other, _) => return Err(malformed(other)),
                }
                Ok(())
            })?;
            for ((into, opened), done) in counted.iter_mut().zip(opened).zip(done) {
                if opened > 0 {
                    *into.opened.entry((category.clone(), district.clone())).or_default() += opened;
                }
                if done.sla.done > 0 {
                    let group = into.done.entry((category.clone(), district.clone(), priority.clone())).or_default();
                    group.durations.extend(done.durations);
                    group.sla.done += done.sla.done;
                    group.sla.on_time += done.sla.on_time;
                }
            }
        }
        for into in &mut counted {
            into.acceptance.sort_unstable();
            for group in into.done.values_mut() {
                group.durations.sort_unstable();
            }
        }
        let [current, previous] = counted;
        Ok((current, previous))
    }
}

/// A roll-up's '' back to a missing value.
fn given(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn malformed(text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("malformed statistics roll-up entry {text:?}").into())
}

/// Calls `f` with (absolute hour, the entry's other numbers) for every entry of
/// "bucket:entry,entry;bucket:…" where an entry is "hour.number.number…". One pass over the
/// bytes: a year of entries is a few million numbers.
fn each_entry(packed: &str, mut f: impl FnMut(i64, &[i64]) -> sqlx::Result<()>) -> sqlx::Result<()> {
    // Inside a bucket's entries (after its "bucket:", before the next ';').
    let mut first_hour = None;
    let mut fields = [0i64; 3];
    let mut count = 0;
    let (mut value, mut negative, mut digits) = (0i64, false, 0);
    let bytes = packed.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b'0'..=b'9' => {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(i64::from(byte - b'0')))
                    .ok_or_else(|| malformed(packed))?;
                digits += 1;
            }
            b'-' if digits == 0 && !negative => negative = true,
            b'.' | b',' | b';' | b':' if digits > 0 => {
                let number = if negative { -value } else { value };
                (value, negative, digits) = (0, false, 0);
                if byte == b':' {
                    if first_hour.is_some() {
                        return Err(malformed(packed));
                    }
                    first_hour = Some(number * BUCKET_HOURS);
                    continue;
                }
                *fields.get_mut(count).ok_or_else(|| malformed(packed))? = number;
                count += 1;
                if byte != b'.' {
                    f(first_hour.ok_or_else(|| malformed(packed))? + fields[0], &fields[1..count])?;
                    count = 0;
                }
                if byte == b';' {
                    first_hour = None;
                }
            }
            _ => return Err(malformed(&packed[i.saturating_sub(20)..(i + 20).min(packed.len())])),
        }
    }
    if digits > 0 {
        *fields.get_mut(count).ok_or_else(|| malformed(packed))? = if negative { -value } else { value };
        f(first_hour.ok_or_else(|| malformed(packed))? + fields[0], &fields[1..=count])?;
    } else if count > 0 || negative {
        return Err(malformed(packed));
    }
    Ok(())
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

    /// Orders open at `as_of`: those never closed (through the partial index of open orders)
    /// and those closed since, taken first, then filtered.
    pub async fn query(conn: &mut AnyConnection, query: &StatsQuery, as_of: i64) -> sqlx::Result<Self> {
        let orders = Filter::orders(query);
        let open = |key: &str| {
            format!(
                "WITH open AS MATERIALIZED (
                     SELECT * FROM work_orders WHERE closed_at IS NULL AND status <> 'merged' AND created_at < $1
                     UNION ALL
                     SELECT * FROM work_orders WHERE closed_at >= $2 AND status <> 'merged' AND created_at < $1)
                 SELECT {key} AS k, COUNT(*) AS n FROM open o WHERE {key} IS NOT NULL{} GROUP BY {key}",
                orders.sql
            )
        };
        let mut backlog = Backlog::default();
        let age = open(&format!("($1 - o.created_at) / {DAY_MS}"));
        for row in orders.run(conn, &age, (as_of, as_of)).await? {
            backlog.by_age_days.insert(row.try_get("k")?, count(&row)?);
        }
        for row in orders.run(conn, &open("o.address"), (as_of, as_of)).await? {
            backlog.by_address.insert(row.try_get("k")?, count(&row)?);
        }
        Ok(backlog)
    }
}

fn count(row: &sqlx::any::AnyRow) -> sqlx::Result<u64> {
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(packed: &str) -> sqlx::Result<Vec<(i64, Vec<i64>)>> {
        let mut seen = Vec::new();
        each_entry(packed, |hour, numbers| {
            seen.push((hour, numbers.to_vec()));
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn packed_entries_are_read_with_their_absolute_hours() {
        assert_eq!(entries("").unwrap(), []);
        assert_eq!(
            entries("2:0.25966.-3,167;3:5.12.1").unwrap(),
            [(336, vec![25966, -3]), (503, vec![]), (509, vec![12, 1])]
        );
        for bad in ["2", "2:1.", "2:1..2", "x:1", "2:1.2.3.4", "2:--1", "1:2:3", "2:99999999999999999999"] {
            assert!(entries(bad).is_err(), "{bad:?}");
        }
    }
}
