//! What the figures are assembled from: counts and durations per group for one window, and
//! the backlog at one instant. Two ways fill them — `from_rows` from the raw rows (the plain
//! recomputation, kept as the reference) and `from_rollups` from the roll-ups (what the page
//! uses: one packed row per week instead of every report and order). A test checks both give
//! the same figures on a seeded history, also after the lifecycle has changed it.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use sqlx::{AnyConnection, Row};

use super::buckets::{cell, BUCKET_HOURS, BUCKET_MS, ORDER_FIELDS, REPORT_FIELDS};
use super::entries::{Malformed, Reader};
use super::figures::Sla;
use super::filter::{is_within, Filter};
use super::load::{Event, OrderRow, ReportRow, EVENTS};
use super::{StatsQuery, Window};

const HOUR_MS: i64 = 3_600_000;
/// The channel's place among a group's fields (`Filter::values`).
const CHANNEL: usize = 3;
const DAY_MS: i64 = 86_400_000;

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
    pub cells: FxHashMap<(i64, i64), u64>,
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
            for (event, at) in o.events().filter(|(_, at)| window.contains(*at)) {
                match event {
                    Event::Opened => *counted.opened.entry((o.category.clone(), o.district.clone())).or_default() += 1,
                    Event::Accepted => counted.acceptance.push(at - o.created_at),
                    Event::Done => {
                        let key = (o.category.clone(), o.district.clone(), o.priority.clone());
                        let group = counted.done.entry(key).or_default();
                        group.durations.push(at - o.created_at);
                        group.sla.add(at, o.due_at);
                        if detail {
                            *counted.done_by_hour.entry(at.div_euclid(HOUR_MS)).or_default() += 1;
                        }
                    }
                    Event::Rejected => counted.rejected += 1,
                    Event::Forwarded => counted.forwarded += 1,
                }
            }
        }
        counted
    }

    /// The same for the window `current` (with detail) and `previous` (without), read from
    /// the roll-ups: the groups matching the filters in every bucket touching either window,
    /// each entry counted where its hour falls.
    pub async fn from_rollups(
        conn: &mut AnyConnection,
        query: &StatsQuery,
        current: Window,
        previous: Window,
    ) -> sqlx::Result<(Self, Self)> {
        // The first and last bucket touching either window.
        let buckets = (previous.start.min(current.start) / BUCKET_MS, (current.end - 1) / BUCKET_MS);
        let rows = sqlx::query("SELECT bucket, reports, orders FROM stat_buckets WHERE bucket >= $1 AND bucket <= $2")
            .bind(buckets.0)
            .bind(buckets.1)
            .fetch_all(conn)
            .await?;
        let mut reading = Reading::new(Filter::values(query), current, previous);
        for row in rows {
            let bucket: i64 = row.try_get("bucket")?;
            let reports: Vec<u8> = row.try_get("reports")?;
            let orders: Vec<u8> = row.try_get("orders")?;
            reading.bucket(bucket, &reports, &orders).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        }
        Ok(reading.finish())
    }
}

/// Per hour of a bucket, the window it lies in: 0 current, 1 previous.
type Slots = [Option<usize>; BUCKET_HOURS as usize];
/// A count per hour of a bucket.
type Hours = [u64; BUCKET_HOURS as usize];

/// Reading the roll-ups' buckets into the counts of the current and the previous window.
struct Reading<'q> {
    /// The filters' values in `Filter::values`' order.
    wanted: [Option<&'q str>; 5],
    current: Window,
    previous: Window,
    /// [current, previous]
    counted: [Counted; 2],
}

impl<'q> Reading<'q> {
    fn new(wanted: [Option<&'q str>; 5], current: Window, previous: Window) -> Self {
        let counted = [Counted::default(), Counted::default()];
        Reading { wanted, current, previous, counted }
    }

    fn wanted(&self, fields: &[&str]) -> bool {
        fields.iter().zip(&self.wanted).enumerate().all(|(place, (field, wanted))| {
            wanted.is_none_or(|wanted| if place == CHANNEL { is_within(field, wanted) } else { wanted == *field })
        })
    }

    fn bucket(&mut self, bucket: i64, reports: &[u8], orders: &[u8]) -> Result<(), Malformed> {
        let first_hour = bucket * BUCKET_HOURS;
        // Which window each hour of the bucket lies in: 0 current, 1 previous.
        let slots: Slots = std::array::from_fn(|hour| {
            let at = (first_hour + hour as i64) * HOUR_MS;
            [self.current, self.previous].iter().position(|window| window.contains(at))
        });
        let (mut received, mut done_hours): (Hours, Hours) = ([0; BUCKET_HOURS as usize], [0; BUCKET_HOURS as usize]);
        self.reports(reports, &slots, &mut received)?;
        self.orders(orders, &slots, &mut done_hours)?;
        let current = &mut self.counted[0];
        for (hour, (received, done)) in received.into_iter().zip(done_hours).enumerate() {
            let hour = first_hour + hour as i64;
            if received > 0 {
                *current.received_by_hour.entry(hour).or_default() += received;
            }
            if done > 0 {
                *current.done_by_hour.entry(hour).or_default() += done;
            }
        }
        Ok(())
    }

    /// A bucket's report groups; counts the current window's reports per hour into `received`.
    fn reports(&mut self, reports: &[u8], slots: &Slots, received: &mut Hours) -> Result<(), Malformed> {
        let mut groups = Reader::new(reports);
        while let Some((fields, mut entries)) = groups.group::<REPORT_FIELDS>()? {
            if !self.wanted(&fields[..5]) {
                continue;
            }
            let mut reports = [0u64; 2];
            while !entries.is_empty() {
                let hour = usize::from(entries.hour()?);
                let cell = (entries.signed()?, entries.signed()?);
                match slots[hour] {
                    Some(0) => {
                        reports[0] += 1;
                        received[hour] += 1;
                        *self.counted[0].cells.entry(cell).or_default() += 1;
                    }
                    Some(_) => reports[1] += 1,
                    None => {}
                }
            }
            let key: ReportKey = (given(fields[0]), given(fields[1]), given(fields[5]));
            for (into, n) in self.counted.iter_mut().zip(reports).filter(|(_, n)| *n > 0) {
                *into.reports.entry(key.clone()).or_default() += n;
            }
        }
        Ok(())
    }

    /// A bucket's work-order groups; counts the current window's done orders per hour into
    /// `done_hours`.
    fn orders(&mut self, orders: &[u8], slots: &Slots, done_hours: &mut Hours) -> Result<(), Malformed> {
        let mut groups = Reader::new(orders);
        while let Some((fields, mut entries)) = groups.group::<ORDER_FIELDS>()? {
            if !self.wanted(&fields) {
                continue;
            }
            let (category, district, priority) = (fields[0], fields[1], fields[4]);
            let mut opened = [0u64; 2];
            let mut done = [DoneGroup::default(), DoneGroup::default()];
            for event in EVENTS {
                for _ in 0..entries.unsigned()? {
                    let hour = usize::from(entries.hour()?);
                    let (duration, on_time) = match event {
                        Event::Accepted => (entries.signed()?, 0),
                        Event::Done => (entries.signed()?, entries.unsigned()?),
                        Event::Opened | Event::Rejected | Event::Forwarded => (0, 0),
                    };
                    let Some(i) = slots[hour] else { continue };
                    match event {
                        Event::Opened => opened[i] += 1,
                        Event::Accepted => self.counted[i].acceptance.push(duration),
                        Event::Done => {
                            done[i].durations.push(duration);
                            done[i].sla.done += 1;
                            done[i].sla.on_time += u64::from(on_time == 1);
                            if i == 0 {
                                done_hours[hour] += 1;
                            }
                        }
                        Event::Rejected => self.counted[i].rejected += 1,
                        Event::Forwarded => self.counted[i].forwarded += 1,
                    }
                }
            }
            if !entries.is_empty() {
                return Err(Malformed("a work-order group has bytes after its last event"));
            }
            for ((into, opened), done) in self.counted.iter_mut().zip(opened).zip(done) {
                if opened > 0 {
                    *into.opened.entry((category.to_string(), district.to_string())).or_default() += opened;
                }
                if done.sla.done > 0 {
                    let key = (category.to_string(), district.to_string(), priority.to_string());
                    let group = into.done.entry(key).or_default();
                    group.durations.extend(done.durations);
                    group.sla.done += done.sla.done;
                    group.sla.on_time += done.sla.on_time;
                }
            }
        }
        Ok(())
    }

    /// (current, previous)
    fn finish(self) -> (Counted, Counted) {
        let [current, previous] = self.counted;
        (current, previous)
    }
}

/// A roll-up's '' back to a missing value.
fn given(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
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
    /// and those closed since, taken first, then filtered and counted per age and address in
    /// one pass.
    pub async fn query(conn: &mut AnyConnection, query: &StatsQuery, as_of: i64) -> sqlx::Result<Self> {
        let orders = Filter::orders(query);
        let columns = "created_at, category, district, depot, priority, address, channel";
        let sql = format!(
            "WITH open AS MATERIALIZED (
                 SELECT {columns} FROM work_orders WHERE closed_at IS NULL AND status <> 'merged' AND created_at < $1
                 UNION ALL
                 SELECT {columns} FROM work_orders WHERE closed_at >= $2 AND status <> 'merged' AND created_at < $1)
             SELECT ($1 - o.created_at) / {DAY_MS} AS age, o.address, COUNT(*) AS n
             FROM open o WHERE o.created_at < $1{} GROUP BY 1, 2",
            orders.sql
        );
        let mut backlog = Backlog::default();
        for row in orders.run(conn, &sql, (as_of, as_of)).await? {
            let n = count(&row)?;
            *backlog.by_age_days.entry(row.try_get("age")?).or_default() += n;
            if let Some(address) = row.try_get::<Option<String>, _>("address")? {
                *backlog.by_address.entry(address).or_default() += n;
            }
        }
        Ok(backlog)
    }
}

fn count(row: &sqlx::any::AnyRow) -> sqlx::Result<u64> {
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}
