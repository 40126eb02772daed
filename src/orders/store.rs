//! Work orders: one problem for one depot, with every report of it linked. Numbers are
//! `A-<year>-<number>`, counted per year (staff reads of orders are in `board`). "Open" here
//! means active: open, accepted or in progress, the orders a new report of the same problem can
//! still join.
//!
//! Who may change which orders at once: the squares of `Cells` around a place are locked
//! (PostgreSQL advisory locks, held until the transaction ends) by triage before it searches
//! for a duplicate and opens an order, and by every change to an order for the order's own
//! square, before any row. So two reports of one pothole never open two orders and a report is
//! never linked to an order being closed, while reports far apart never wait for each other.
//! SQLite has one writer: nothing to lock.

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::Priority;
use meldeweg_workers::geotag::{Cell, Cells, OpenOrder};
use meldeweg_workers::LatLon;
use sqlx::{AnyConnection, Row};

use super::{events, OrderError};
use crate::config::SlaSettings;
use crate::db::Backend;
use meldeweg_workers::status::{OrderStatus, Transition};

/// SQL: the active statuses as a list, `'open', 'accepted', 'in_progress'`.
pub fn active_sql() -> String {
    OrderStatus::ACTIVE.map(|s| format!("'{}'", s.as_str())).join(", ")
}

pub struct NewOrder<'a> {
    pub depot: &'a str,
    pub category: Category,
    pub district: &'a str,
    pub at: LatLon,
    pub address: Option<&'a str>,
    pub priority: Priority,
    /// When the order is due (from the priority's SLA).
    pub due_at: i64,
}

/// Locks the squares `cells` (sorted, as `Cells::around` gives them) until the transaction
/// ends: on PostgreSQL, one advisory lock per square in that order; on SQLite nothing (one
/// writer).
pub async fn lock_cells(conn: &mut AnyConnection, backend: Backend, cells: &[Cell]) -> Result<(), OrderError> {
    if backend == Backend::Sqlite || cells.is_empty() {
        return Ok(());
    }
    // The two-number form: a key space of its own, apart from the startup lock's.
    let locks: Vec<String> = cells.iter().map(|(x, y)| format!("pg_advisory_xact_lock({x}, {y})")).collect();
    sqlx::query(&format!("SELECT {}", locks.join(", "))).execute(conn).await?;
    Ok(())
}

/// The square an order lies in, for a change to it to lock (`None`: no such order).
pub async fn cell_of(conn: &mut AnyConnection, cells: &Cells, number: &str) -> Result<Option<Cell>, OrderError> {
    let row =
        sqlx::query("SELECT id, lat, lon FROM work_orders WHERE number = $1").bind(number).fetch_optional(conn).await?;
    let Some(row) = row else { return Ok(None) };
    let (id, lat, lon): (i64, f64, f64) = (row.try_get("id")?, row.try_get("lat")?, row.try_get("lon")?);
    let at = LatLon::new(lat, lon).map_err(|_| OrderError::Corrupt {
        id,
        field: "position",
        value: format!("{lat},{lon}"),
    })?;
    Ok(Some(cells.of(at)))
}

fn category(id: i64, value: String) -> Result<Category, OrderError> {
    Category::from_id(&value).ok_or(OrderError::Corrupt { id, field: "category", value })
}

fn open_order(row: &sqlx::any::AnyRow) -> Result<OpenOrder, OrderError> {
    let id: i64 = row.try_get("id")?;
    let (lat, lon): (f64, f64) = (row.try_get("lat")?, row.try_get("lon")?);
    let at = LatLon::new(lat, lon).map_err(|_| OrderError::Corrupt {
        id,
        field: "position",
        value: format!("{lat},{lon}"),
    })?;
    Ok(OpenOrder { id, category: category(id, row.try_get("category")?)?, at })
}

/// An order that cannot be read (e.g. a category id a later configuration dropped) is left
/// out of the duplicate search with a warning, rather than stopping triage for everyone.
fn readable<T>(result: Result<T, OrderError>) -> Option<T> {
    result.map_err(|error| tracing::warn!(%error, "work order left out of the duplicate search")).ok()
}

/// The active orders of `category` inside `bounds` (south, north, west and east edges, as
/// `Cells::bounds` gives them).
pub async fn open_within(
    conn: &mut AnyConnection,
    category: Category,
    [south, north, west, east]: [f64; 4],
) -> Result<Vec<OpenOrder>, OrderError> {
    let sql = format!(
        "SELECT id, category, lat, lon FROM work_orders
         WHERE category = $1 AND status IN ({}) AND lat BETWEEN $2 AND $3 AND lon BETWEEN $4 AND $5",
        active_sql()
    );
    let rows =
        sqlx::query(&sql).bind(category.id()).bind(south).bind(north).bind(west).bind(east).fetch_all(conn).await?;
    Ok(rows.iter().filter_map(|row| readable(open_order(row))).collect())
}

/// Opens an order for report `report_id` with the next number of `year` (the order keeps the
/// report's channel, for statistics); returns id and number.
async fn insert(
    conn: &mut AnyConnection,
    order: NewOrder<'_>,
    report_id: i64,
    year: u16,
    now_ms: i64,
) -> Result<(i64, String), OrderError> {
    let counter: i64 = sqlx::query_scalar(
        "INSERT INTO counters (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(format!("work_orders.number.{year}"))
    .fetch_one(&mut *conn)
    .await?;
    let number = format!("A-{year}-{counter:06}");
    let id = sqlx::query_scalar(
        "INSERT INTO work_orders (number, depot, category, district, lat, lon, address, status, priority,
                                  created_at, updated_at, due_at, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11,
                 COALESCE((SELECT channel FROM reports WHERE id = $12), '')) RETURNING id",
    )
    .bind(&number)
    .bind(order.depot)
    .bind(order.category.id())
    .bind(order.district)
    .bind(order.at.lat())
    .bind(order.at.lon())
    .bind(order.address)
    .bind(OrderStatus::Open.as_str())
    .bind(order.priority.as_str())
    .bind(now_ms)
    .bind(order.due_at)
    .bind(report_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, number))
}

/// Raises an order's priority to `priority` if that is higher (the due date follows the
/// priority's SLA); returns where the order stands.
pub async fn raise_priority(
    conn: &mut AnyConnection,
    id: i64,
    priority: Priority,
    sla: &SlaSettings,
    now_ms: i64,
) -> Result<OrderStatus, OrderError> {
    let row = sqlx::query("SELECT priority, created_at, status FROM work_orders WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let current: String = row.try_get("priority")?;
    let created_at: i64 = row.try_get("created_at")?;
    let status: String = row.try_get("status")?;
    let status = OrderStatus::parse(&status).ok_or(OrderError::Corrupt { id, field: "status", value: status })?;
    let current = Priority::parse(&current).ok_or(OrderError::Corrupt { id, field: "priority", value: current })?;
    if priority > current {
        sqlx::query("UPDATE work_orders SET priority = $1, updated_at = $2, due_at = $3 WHERE id = $4")
            .bind(priority.as_str())
            .bind(now_ms)
            .bind(sla.due(priority, created_at))
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(status)
}

/// An order as a change to it needs it.
pub struct Locked {
    pub id: i64,
    pub number: String,
    pub depot: String,
    pub status: OrderStatus,
    pub priority: Priority,
}

/// Loads order `number` for a change; on PostgreSQL its row stays locked until the transaction
/// ends. `None` if there is no such order.
pub async fn lock(conn: &mut AnyConnection, backend: Backend, number: &str) -> Result<Option<Locked>, OrderError> {
    let sql = match backend {
        Backend::Postgres => "SELECT id, depot, status, priority FROM work_orders WHERE number = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT id, depot, status, priority FROM work_orders WHERE number = $1",
    };
    let Some(row) = sqlx::query(sql).bind(number).fetch_optional(conn).await? else { return Ok(None) };
    let id: i64 = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    Ok(Some(Locked {
        id,
        number: number.to_string(),
        depot: row.try_get("depot")?,
        status: OrderStatus::parse(&status).ok_or(OrderError::Corrupt {
            id,
            field: "status",
            value: status.clone(),
        })?,
        priority: Priority::parse(&priority).ok_or(OrderError::Corrupt {
            id,
            field: "priority",
            value: priority.clone(),
        })?,
    }))
}

/// The depot of order `number`, if there is such an order.
pub async fn depot_of(conn: &mut AnyConnection, number: &str) -> Result<Option<String>, OrderError> {
    Ok(sqlx::query_scalar("SELECT depot FROM work_orders WHERE number = $1").bind(number).fetch_optional(conn).await?)
}

/// Moves order `id` to `to` by `transition`: the times it keeps (accepted, done, closed), the
/// reason or body `note` (reject, forward), the after-photo (done), a new due date (reopen).
#[allow(clippy::too_many_arguments)]
pub async fn apply_transition(
    conn: &mut AnyConnection,
    id: i64,
    transition: Transition,
    to: OrderStatus,
    note: Option<&str>,
    after_photo: Option<&str>,
    due_at: Option<i64>,
    now_ms: i64,
) -> Result<(), OrderError> {
    sqlx::query(
        "UPDATE work_orders SET status = $1, updated_at = $2,
             accepted_at = CASE WHEN $3 THEN COALESCE(accepted_at, $2) ELSE accepted_at END,
             done_at = CASE WHEN $4 THEN $2 WHEN $5 THEN NULL ELSE done_at END,
             closed_at = CASE WHEN $6 THEN $2 ELSE NULL END,
             reason = CASE WHEN $7 IS NOT NULL AND $8 THEN $7 WHEN $5 THEN NULL ELSE reason END,
             forwarded_to = CASE WHEN $7 IS NOT NULL AND $9 THEN $7 WHEN $5 THEN NULL ELSE forwarded_to END,
             after_photo = CASE WHEN $5 THEN NULL ELSE COALESCE($10, after_photo) END,
             due_at = COALESCE($11, due_at)
         WHERE id = $12",
    )
    .bind(to.as_str())
    .bind(now_ms)
    .bind(matches!(transition, Transition::Accept | Transition::Start | Transition::Done))
    .bind(transition == Transition::Done)
    .bind(transition == Transition::Reopen)
    .bind(!to.is_active())
    .bind(note)
    .bind(transition == Transition::Reject)
    .bind(transition == Transition::Forward)
    .bind(after_photo)
    .bind(due_at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives order `id` to another depot, where it starts over as open.
pub async fn reroute(conn: &mut AnyConnection, id: i64, depot: &str, now_ms: i64) -> Result<(), OrderError> {
    sqlx::query("UPDATE work_orders SET depot = $1, status = $2, accepted_at = NULL, updated_at = $3 WHERE id = $4")
        .bind(depot)
        .bind(OrderStatus::Open.as_str())
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes order `id` as merged into order `into`.
pub async fn close_merged(conn: &mut AnyConnection, id: i64, into: i64, now_ms: i64) -> Result<(), OrderError> {
    sqlx::query("UPDATE work_orders SET status = $1, merged_into = $2, closed_at = $3, updated_at = $3 WHERE id = $4")
        .bind(OrderStatus::Merged.as_str())
        .bind(into)
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts order `id` into `category` (its opening report was corrected).
pub async fn set_category(
    conn: &mut AnyConnection,
    id: i64,
    category: Category,
    now_ms: i64,
) -> Result<(), OrderError> {
    sqlx::query("UPDATE work_orders SET category = $1, updated_at = $2 WHERE id = $3")
        .bind(category.id())
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Opens an order for report `report_id`, with its `opened` event;
/// returns its id and number.
pub async fn open(
    conn: &mut AnyConnection,
    order: NewOrder<'_>,
    report_id: i64,
    now_ms: i64,
) -> Result<(i64, String), OrderError> {
    let (id, number) = insert(conn, order, report_id, crate::time::berlin_year(now_ms), now_ms).await?;
    events::insert(conn, events::NewEvent::system(id, report_id, events::EventKind::Opened), now_ms).await?;
    Ok((id, number))
}

/// Links report `report_id` to order `id` as a further report of its problem (the order takes
/// the report's priority if it is higher, with its `duplicate_linked` event); returns where the
/// order stands.
pub async fn link_duplicate(
    conn: &mut AnyConnection,
    id: i64,
    report_id: i64,
    priority: Priority,
    sla: &SlaSettings,
    now_ms: i64,
) -> Result<OrderStatus, OrderError> {
    let status = raise_priority(conn, id, priority, sla, now_ms).await?;
    events::insert(conn, events::NewEvent::system(id, report_id, events::EventKind::DuplicateLinked), now_ms).await?;
    Ok(status)
}
