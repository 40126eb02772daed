//! Work orders as staff see them: the filtered list (UI, map, API, print), the most recent
//! ones (`meldeweg orders list`) and one order with its reports, photos and history.
//! Reporters appear only by report reference and their own words; never by number or name
//! (P13).

use std::collections::HashMap;

use meldeweg_workers::category::Category;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::events::{self as order_events, Event};
use crate::reports::search::Search;
use crate::reports::search_walk;
use meldeweg_workers::status::OrderStatus;

/// Which statuses a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Open, accepted or in progress.
    #[default]
    Active,
    All,
    Only(OrderStatus),
}

impl StatusFilter {
    /// Whether only active orders pass.
    fn only_active(self) -> bool {
        match self {
            StatusFilter::Active => true,
            StatusFilter::Only(status) => status.is_active(),
            StatusFilter::All => false,
        }
    }
}

/// A list's filters; every field is checked before it gets here.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: StatusFilter,
    pub category: Option<Category>,
    pub district: Option<String>,
    pub depot: Option<String>,
    pub overdue: bool,
    /// What a staff member searched for (a reference, a street, words).
    pub search: Option<Search>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderRow {
    pub number: String,
    pub depot: String,
    pub category: String,
    pub district: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub status: String,
    pub priority: String,
    pub created_at: i64,
    pub due_at: Option<i64>,
    pub overdue: bool,
    pub report_count: i64,
    /// Photos of the order whose public copy waits for a staff member's approval (issue 22).
    #[serde(skip)]
    pub photos_waiting: i64,
    /// Only in lists: the first words of the first description, and the first photo.
    #[serde(skip)]
    pub excerpt: Option<String>,
    #[serde(skip)]
    pub photo: Option<ListPhoto>,
}

fn is_overdue(status: &str, due_at: Option<i64>, now_ms: i64) -> bool {
    OrderStatus::parse(status).is_some_and(OrderStatus::is_active) && due_at.is_some_and(|due| due < now_ms)
}

/// Orders a list counts exactly when it is sorted newest first (a search, the archive of
/// closed orders, all orders): beyond that, or beyond the page shown, the list says "more
/// than", so that a page costs the same however many orders match. The active board is
/// counted exactly (its orders are few, and counted from their own index).
pub const COUNT_CAP: i64 = 200;

/// How a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// Overdue first, then by priority, then oldest: the board of orders still to do.
    Urgency,
    /// Newest first: searches, closed orders and all orders, through the indexes on the time
    /// an order was opened.
    Newest,
}

impl Sort {
    fn of(filter: &Filter) -> Self {
        if (filter.overdue || filter.status.only_active()) && filter.search.is_none() {
            Sort::Urgency
        } else {
            Sort::Newest
        }
    }

    /// The `ORDER BY` of this sort on `work_orders o`, naming only columns the orders' list
    /// indexes hold (migration 0027). Urgency sorts active orders only, so an order is overdue
    /// when its due time has passed.
    fn sql(self, now_ms: i64) -> String {
        match self {
            Sort::Newest => "o.created_at DESC, o.id DESC".into(),
            Sort::Urgency => format!(
                "CASE WHEN o.due_at < {now_ms} THEN 0 ELSE 1 END,
                 CASE o.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, o.created_at, o.id"
            ),
        }
    }
}

/// The conditions of `filter` on `work_orders o` but a word search (`AND`ed, empty for none),
/// and the values they bind from `$1`.
fn conditions(filter: &Filter, now_ms: i64) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut bind = |value: String, clause: &str, clauses: &mut Vec<String>| {
        binds.push(value);
        clauses.push(clause.replace('?', &format!("${}", binds.len())));
    };
    let active = super::store::active_sql();
    match filter.status {
        StatusFilter::Active => clauses.push(format!("o.status IN ({active})")),
        StatusFilter::All => {}
        StatusFilter::Only(status) => bind(status.as_str().into(), "o.status = ?", &mut clauses),
    }
    if let Some(category) = filter.category {
        bind(category.id().into(), "o.category = ?", &mut clauses);
    }
    if let Some(district) = &filter.district {
        bind(district.clone(), "o.district = ?", &mut clauses);
    }
    if let Some(depot) = &filter.depot {
        bind(depot.clone(), "o.depot = ?", &mut clauses);
    }
    if filter.overdue {
        // Named once: PostgreSQL would take a repeated condition for a second, independent one
        // and expect a handful of rows where there are tens of thousands.
        if !filter.status.only_active() {
            clauses.push(format!("o.status IN ({active})"));
        }
        clauses.push(format!("o.due_at < {now_ms}"));
    }
    if let Some(Search::Reference(reference)) = &filter.search {
        let (clause, values) = Search::reference_condition(reference, binds.len() + 1);
        clauses.push(clause);
        binds.extend(values);
    }
    (clauses.join(" AND "), binds)
}

fn where_sql(conditions: &str) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {conditions}")
    }
}

/// The orders matching `filter`: the board of active orders most urgent first (overdue, then
/// priority, then oldest), everything else newest first.
pub async fn list(conn: &mut AnyConnection, filter: &Filter, now_ms: i64) -> sqlx::Result<Vec<OrderRow>> {
    let ids = match &filter.search {
        Some(Search::Words(prefixes)) => {
            let wanted = (filter.offset + filter.limit) as usize;
            let (conditions, binds) = conditions(filter, now_ms);
            let found = search_walk::orders(&mut *conn, prefixes, (&conditions, &binds), wanted).await?;
            shown(&found, filter)
        }
        _ => page_ids(&mut *conn, filter, now_ms).await?,
    };
    rows_of(conn, &ids, now_ms).await
}

/// A page of the orders matching `filter` (as `list`) and how many match: all active orders,
/// or for a list sorted newest first at most `COUNT_CAP` or as far as the page shown (then
/// "more than").
pub async fn page(
    conn: &mut AnyConnection,
    filter: &Filter,
    now_ms: i64,
) -> sqlx::Result<(Vec<OrderRow>, (i64, bool))> {
    let cap = (filter.offset + filter.limit).max(COUNT_CAP);
    if let Some(Search::Words(prefixes)) = &filter.search {
        let (conditions, binds) = conditions(filter, now_ms);
        let found = search_walk::orders(&mut *conn, prefixes, (&conditions, &binds), cap as usize + 1).await?;
        let rows = rows_of(&mut *conn, &shown(&found, filter), now_ms).await?;
        return Ok((rows, counted(found.len() as i64, cap)));
    }
    let ids = page_ids(&mut *conn, filter, now_ms).await?;
    let rows = rows_of(&mut *conn, &ids, now_ms).await?;
    let (conditions, binds) = conditions(filter, now_ms);
    let capped = Sort::of(filter) == Sort::Newest;
    let sql = if capped {
        format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM work_orders o {} LIMIT {}) AS found",
            where_sql(&conditions),
            cap + 1
        )
    } else {
        format!("SELECT COUNT(*) FROM work_orders o {}", where_sql(&conditions))
    };
    let mut query = sqlx::query_scalar(&sql);
    for value in &binds {
        query = query.bind(value);
    }
    let total: i64 = query.fetch_one(conn).await?;
    Ok((rows, if capped { counted(total, cap) } else { (total, true) }))
}

/// A capped count as the list shows it: exact up to `cap`, "more than" beyond.
fn counted(found: i64, cap: i64) -> (i64, bool) {
    if found > cap {
        (cap, false)
    } else {
        (found, true)
    }
}

/// The ids of `filter`'s page, in the order shown. Only indexed columns are read here; the
/// rows are fetched for these ids alone (`rows_of`), so a page of 6,000,000 closed orders or
/// of the whole active board reads the index and fifty rows.
async fn page_ids(conn: &mut AnyConnection, filter: &Filter, now_ms: i64) -> sqlx::Result<Vec<i64>> {
    let (conditions, binds) = conditions(filter, now_ms);
    let sql = format!(
        "SELECT o.id FROM work_orders o {} ORDER BY {} LIMIT {} OFFSET {}",
        where_sql(&conditions),
        Sort::of(filter).sql(now_ms),
        filter.limit,
        filter.offset
    );
    let mut query = sqlx::query_scalar(&sql);
    for value in &binds {
        query = query.bind(value);
    }
    query.fetch_all(conn).await
}

/// `filter`'s page of the search results `found` (order ids, in the order shown).
fn shown(found: &[i64], filter: &Filter) -> Vec<i64> {
    found.iter().copied().skip(filter.offset as usize).take(filter.limit as usize).collect()
}

/// The list rows of the orders `ids`, in that order.
async fn rows_of(conn: &mut AnyConnection, ids: &[i64], now_ms: i64) -> sqlx::Result<Vec<OrderRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql =
        format!("SELECT o.id, {ROW_COLUMNS}, {LIST_COLUMNS} FROM work_orders o WHERE o.id IN ({})", list.join(", "));
    let mut rows: HashMap<i64, OrderRow> = HashMap::new();
    for row in sqlx::query(&sql).fetch_all(conn).await? {
        rows.insert(row.try_get("id")?, list_row(&row, now_ms)?);
    }
    Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
}

fn list_row(row: &sqlx::any::AnyRow, now_ms: i64) -> sqlx::Result<OrderRow> {
    let mut order = order_row(row, now_ms)?;
    order.excerpt = row.try_get("excerpt")?;
    order.photo = row.try_get::<Option<String>, _>("photo")?.and_then(|photo| ListPhoto::parse(&photo));
    Ok(order)
}

/// The first photo of an order in a list: its token, and whether its public copy exists yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPhoto {
    pub token: String,
    pub has_copy: bool,
}

impl ListPhoto {
    /// From `token:state` (the state of its public copy, empty when it has none yet).
    fn parse(text: &str) -> Option<Self> {
        let (token, state) = text.split_once(':')?;
        Some(Self { token: token.to_string(), has_copy: matches!(state, "waiting" | "public" | "hidden") })
    }
}

/// What a list line shows beyond the row: the opening words of the first report that has a
/// description (at most 200 characters), and its first photo with the state of its public copy.
const LIST_COLUMNS: &str = "(SELECT SUBSTR(r.description, 1, 200) FROM reports r
      WHERE r.work_order_id = o.id AND r.description IS NOT NULL ORDER BY r.created_at, r.id LIMIT 1) AS excerpt,
    (SELECT p.token || ':' || COALESCE(c.state, '') FROM photos p JOIN reports pr ON pr.id = p.report_id
      LEFT JOIN public_copies c ON c.token = p.token
      WHERE pr.work_order_id = o.id AND p.token IS NOT NULL ORDER BY p.id LIMIT 1) AS photo";

/// The columns every order query selects, for `order_row`.
const ROW_COLUMNS: &str = "o.number, o.depot, o.category, o.district, o.address, o.lat, o.lon, o.status,
    o.priority, o.created_at, o.due_at, (SELECT COUNT(*) FROM reports r WHERE r.work_order_id = o.id) AS reports,
    (SELECT COUNT(*) FROM photos p JOIN reports pr ON pr.id = p.report_id JOIN public_copies c ON c.token = p.token
     WHERE pr.work_order_id = o.id AND c.state = 'waiting')
    + (SELECT COUNT(*) FROM public_copies c WHERE c.token = o.after_photo AND c.state = 'waiting') AS photos_waiting";

fn order_row(row: &sqlx::any::AnyRow, now_ms: i64) -> sqlx::Result<OrderRow> {
    let status: String = row.try_get("status")?;
    let due_at: Option<i64> = row.try_get("due_at")?;
    Ok(OrderRow {
        overdue: is_overdue(&status, due_at, now_ms),
        number: row.try_get("number")?,
        depot: row.try_get("depot")?,
        category: row.try_get("category")?,
        district: row.try_get("district")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        status,
        priority: row.try_get("priority")?,
        created_at: row.try_get("created_at")?,
        due_at,
        report_count: row.try_get("reports")?,
        photos_waiting: row.try_get("photos_waiting")?,
        excerpt: None,
        photo: None,
    })
}

/// An order with the references of its reports, as `meldeweg orders list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    #[serde(flatten)]
    pub row: OrderRow,
    /// References of the linked reports, oldest first.
    pub reports: Vec<String>,
}

/// The most recent orders, newest first, with their reports' references (two queries).
pub async fn recent(conn: &mut AnyConnection, limit: i64, now_ms: i64) -> sqlx::Result<Vec<Listing>> {
    let rows = sqlx::query(&format!("SELECT o.id, {ROW_COLUMNS} FROM work_orders o ORDER BY o.id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let references = sqlx::query(
        "SELECT r.work_order_id, r.reference FROM reports r
         JOIN (SELECT id FROM work_orders ORDER BY id DESC LIMIT $1) o ON o.id = r.work_order_id ORDER BY r.id",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_order: HashMap<i64, Vec<String>> = HashMap::new();
    for reference in &references {
        by_order.entry(reference.try_get("work_order_id")?).or_default().push(reference.try_get("reference")?);
    }
    rows.iter()
        .map(|row| {
            let reports = by_order.remove(&row.try_get::<i64, _>("id")?).unwrap_or_default();
            Ok(Listing { row: order_row(row, now_ms)?, reports })
        })
        .collect()
}

/// A report of an order, as the crew reads it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderReport {
    pub reference: String,
    pub description: Option<String>,
    /// The name or address of a location the citizen shared, as their messenger sent it.
    pub location_label: Option<String>,
    pub created_at: i64,
    pub category: Option<String>,
    pub category_source: Option<String>,
    /// `opened` or `duplicate`.
    pub order_link: Option<String>,
    /// Paths of the cleaned originals for staff (`/staff/photos/{token}`, for a staff session
    /// or an API token; `/thumb` appended gives the thumbnail).
    pub photos: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderDetail {
    #[serde(skip)]
    pub id: i64,
    #[serde(flatten)]
    pub row: OrderRow,
    pub accepted_at: Option<i64>,
    pub done_at: Option<i64>,
    pub reason: Option<String>,
    pub forwarded_to: Option<String>,
    /// The number of the order this one was merged into.
    pub merged_into: Option<String>,
    /// Path of the photo of the finished work (as `photos`).
    pub after_photo: Option<String>,
    pub reports: Vec<OrderReport>,
    pub history: Vec<Event>,
}

impl OrderDetail {
    /// Whether the photo stored under `token` is one of this order's (a report's or the
    /// after-photo).
    pub fn has_photo(&self, token: &str) -> bool {
        let path = format!("{PHOTO_PATH}{token}");
        self.after_photo.as_deref() == Some(path.as_str()) || self.reports.iter().any(|r| r.photos.contains(&path))
    }
}

/// Where staff fetch a photo, by its token.
const PHOTO_PATH: &str = "/staff/photos/";

pub async fn detail(conn: &mut AnyConnection, number: &str, now_ms: i64) -> sqlx::Result<Option<OrderDetail>> {
    let row = sqlx::query(&format!(
        "SELECT o.id, {ROW_COLUMNS}, o.accepted_at, o.done_at, o.reason, o.forwarded_to, o.after_photo,
                m.number AS merged_number
         FROM work_orders o LEFT JOIN work_orders m ON m.id = o.merged_into WHERE o.number = $1"
    ))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.try_get("id")?;
    let report_rows = sqlx::query(
        "SELECT id, reference, description, location_label, created_at, category, category_source, order_link
         FROM reports WHERE work_order_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let photo_rows = sqlx::query(
        "SELECT p.report_id, p.token FROM photos p JOIN reports r ON r.id = p.report_id
         WHERE r.work_order_id = $1 AND p.token IS NOT NULL ORDER BY p.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut photos: HashMap<i64, Vec<String>> = HashMap::new();
    for photo in &photo_rows {
        let token: String = photo.try_get("token")?;
        photos.entry(photo.try_get("report_id")?).or_default().push(format!("{PHOTO_PATH}{token}"));
    }
    let mut reports = Vec::with_capacity(report_rows.len());
    for report in &report_rows {
        let photos = photos.remove(&report.try_get::<i64, _>("id")?).unwrap_or_default();
        reports.push(OrderReport {
            reference: report.try_get("reference")?,
            description: report.try_get("description")?,
            location_label: report.try_get("location_label")?,
            created_at: report.try_get("created_at")?,
            category: report.try_get("category")?,
            category_source: report.try_get("category_source")?,
            order_link: report.try_get("order_link")?,
            photos,
        });
    }
    Ok(Some(OrderDetail {
        id,
        row: order_row(&row, now_ms)?,
        accepted_at: row.try_get("accepted_at")?,
        done_at: row.try_get("done_at")?,
        reason: row.try_get("reason")?,
        forwarded_to: row.try_get("forwarded_to")?,
        merged_into: row.try_get("merged_number")?,
        after_photo: row.try_get::<Option<String>, _>("after_photo")?.map(|token| format!("{PHOTO_PATH}{token}")),
        reports,
        history: order_events::for_order(conn, id).await?,
    }))
}
