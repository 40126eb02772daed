//! The raw rows the statistics are computed from: reports received in a window and the work
//! orders that matter for it (opened, accepted, done or closed in it, or still open), each with
//! only the columns the figures need and the request's filters applied in SQL.

use sqlx::{AnyConnection, Row};

use super::filter::Filter;
use super::{StatsQuery, Window};
use meldeweg_workers::status::OrderStatus;

pub struct ReportRow {
    pub created_at: i64,
    pub category: Option<String>,
    pub district: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub order_link: Option<String>,
}

/// The columns of work order `o` an `OrderRow` is read from.
pub const ORDER_COLUMNS: &str = "o.created_at, o.accepted_at, o.done_at, o.closed_at, o.due_at, o.status, o.priority, \
                                 o.category, o.district, o.address";

pub struct OrderRow {
    pub created_at: i64,
    pub accepted_at: Option<i64>,
    pub done_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub due_at: Option<i64>,
    pub status: OrderStatus,
    pub priority: String,
    pub category: String,
    pub district: String,
    pub address: Option<String>,
}

/// The work-order events the figures count (in the order of a roll-up group's sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Opened,
    Accepted,
    Done,
    Rejected,
    Forwarded,
}

pub const EVENTS: [Event; 5] = [Event::Opened, Event::Accepted, Event::Done, Event::Rejected, Event::Forwarded];

impl OrderRow {
    /// The order's events with their times: opened; accepted; done (while the order is done);
    /// rejected or forwarded (closed with that status). The one definition both the plain
    /// recomputation and the roll-ups count.
    pub fn events(&self) -> impl Iterator<Item = (Event, i64)> {
        let closed_as = |status| self.closed_at.filter(|_| self.status == status);
        [
            (Event::Opened, Some(self.created_at)),
            (Event::Accepted, self.accepted_at),
            (Event::Done, self.done_at.filter(|_| self.status == OrderStatus::Done)),
            (Event::Rejected, closed_as(OrderStatus::Rejected)),
            (Event::Forwarded, closed_as(OrderStatus::Forwarded)),
        ]
        .into_iter()
        .filter_map(|(event, at)| Some((event, at?)))
    }

    /// The columns `ORDER_COLUMNS` of `o` in `row`.
    pub fn from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Self> {
        let status: String = row.try_get("status")?;
        Ok(OrderRow {
            status: OrderStatus::parse(&status)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown order status {status:?}").into()))?,
            created_at: row.try_get("created_at")?,
            accepted_at: row.try_get("accepted_at")?,
            done_at: row.try_get("done_at")?,
            closed_at: row.try_get("closed_at")?,
            due_at: row.try_get("due_at")?,
            priority: row.try_get("priority")?,
            category: row.try_get("category")?,
            district: row.try_get("district")?,
            address: row.try_get("address")?,
        })
    }

    /// Whether the order was open, accepted or in progress at `as_of`.
    pub fn open_at(&self, as_of: i64) -> bool {
        self.created_at < as_of
            && self.status != OrderStatus::Merged
            && self.closed_at.is_none_or(|closed| closed >= as_of)
    }
}

pub async fn reports(conn: &mut AnyConnection, query: &StatsQuery, window: Window) -> sqlx::Result<Vec<ReportRow>> {
    let filters = Filter::reports(query);
    let sql = format!(
        "SELECT r.created_at, r.category, r.district, r.lat, r.lon, r.order_link
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
         WHERE r.created_at >= $1 AND r.created_at < $2{}",
        filters.sql
    );
    let rows = filters.run(conn, &sql, (window.start, window.end)).await?;
    rows.iter()
        .map(|row| {
            Ok(ReportRow {
                created_at: row.try_get("created_at")?,
                category: row.try_get("category")?,
                district: row.try_get("district")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                order_link: row.try_get("order_link")?,
            })
        })
        .collect()
}

/// Orders opened before `end` that were opened, accepted, done or closed after `start`, or
/// are still open.
pub async fn orders(conn: &mut AnyConnection, query: &StatsQuery, start: i64, end: i64) -> sqlx::Result<Vec<OrderRow>> {
    let filters = Filter::orders(query);
    let sql = format!(
        "SELECT {ORDER_COLUMNS}
         FROM work_orders o
         WHERE o.status <> 'merged' AND o.created_at < $2
           AND (o.created_at >= $1 OR o.closed_at IS NULL OR o.closed_at >= $1 OR o.accepted_at >= $1
                OR o.done_at >= $1){}",
        filters.sql
    );
    let rows = filters.run(conn, &sql, (start, end)).await?;
    rows.iter().map(OrderRow::from_row).collect()
}
