//! `requests`, `requests/{id}` and `servicerequestupdates`: reports as GeoReport v2 service
//! requests, read from the reports and the orders they are part of. A report that joined an
//! order answers with that order's state (and a merged order with the one it was merged into).
//! No answer carries anything of the citizen: not their words, not their place's name, no
//! photo that is not public (docs/open311.md).

use jiff::Timestamp;
use meldeweg_workers::category::Category;
use meldeweg_workers::status::OrderStatus;
use sqlx::{AnyConnection, Row};

use super::format::{Record, Value};
use crate::orders::store::active_sql;
use crate::public_copies;
use crate::town::Municipality;

/// Most requests one answer lists, and the spec's default span.
pub const MAX_RESULTS: i64 = 1000;
const DEFAULT_DAYS: i64 = 90;
const DAY_MS: i64 = 24 * 3_600_000;

/// A time as GeoReport v2 writes it: W3C (ISO 8601) with the offset, in Europe/Berlin.
pub fn w3c(ms: i64) -> String {
    crate::time::berlin_zoned(ms).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A time a client sent: W3C with a time zone (`Z` or an offset); `None` otherwise.
pub fn parse_time(text: &str) -> Option<i64> {
    text.trim().parse::<Timestamp>().ok().map(|at| at.as_millisecond())
}

/// What a `requests` call asks for, checked.
#[derive(Debug, Default)]
pub struct Query {
    /// References; when given, every other filter is ignored.
    pub ids: Vec<String>,
    pub category: Option<Category>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// `Some(true)` open only, `Some(false)` closed only.
    pub open: Option<bool>,
}

/// The report, its order (the one it was merged into, if so), and what a request shows of them.
const COLUMNS: &str = "r.reference, r.category, r.address, r.lat, r.lon, r.created_at, r.forwarded_to,
    o.status AS order_status, o.depot, o.due_at,
    COALESCE((SELECT MAX(e.at) FROM order_events e WHERE e.work_order_id = o.id), r.created_at) AS updated";
const FROM: &str = "reports r LEFT JOIN work_orders first ON first.id = r.work_order_id
    LEFT JOIN work_orders o ON o.id = COALESCE(first.merged_into, first.id)";

fn open_sql() -> String {
    format!("(o.status IN ({}) OR (o.id IS NULL AND r.forwarded_to IS NULL))", active_sql())
}

pub async fn list(
    conn: &mut AnyConnection,
    query: &Query,
    municipality: &Municipality,
    base: &str,
    english: bool,
    now_ms: i64,
) -> sqlx::Result<Vec<Record>> {
    // A report retention has emptied of its texts is not listed any more.
    let mut clauses = vec!["r.anonymised_at IS NULL".to_string()];
    let mut binds: Vec<String> = Vec::new();
    if query.ids.is_empty() {
        let to = query.to.unwrap_or(now_ms);
        let from = query.from.unwrap_or(to - DEFAULT_DAYS * DAY_MS);
        clauses.push(format!("r.created_at >= {from} AND r.created_at <= {to}"));
        if let Some(category) = query.category {
            binds.push(category.id().to_string());
            clauses.push(format!("r.category = ${}", binds.len()));
        }
        match query.open {
            Some(true) => clauses.push(open_sql()),
            Some(false) => clauses.push(format!("NOT {}", open_sql())),
            None => {}
        }
    } else {
        let places: Vec<String> = (1..=query.ids.len()).map(|i| format!("${i}")).collect();
        clauses.push(format!("r.reference IN ({})", places.join(", ")));
        binds.extend(query.ids.iter().cloned());
    }
    let sql = format!(
        "SELECT {COLUMNS}, {} AS photo FROM {FROM} WHERE {} ORDER BY r.created_at DESC, r.id DESC LIMIT {MAX_RESULTS}",
        public_copies::FIRST_PUBLIC_OF_REPORT,
        clauses.join(" AND ")
    );
    let mut statement = sqlx::query(&sql);
    for value in &binds {
        statement = statement.bind(value);
    }
    let rows = statement.fetch_all(conn).await?;
    rows.iter().map(|row| request(row, municipality, base, english)).collect()
}

fn request(row: &sqlx::any::AnyRow, municipality: &Municipality, base: &str, english: bool) -> sqlx::Result<Record> {
    let category = row.try_get::<Option<String>, _>("category")?.as_deref().and_then(Category::from_id);
    let order_status = row.try_get::<Option<String>, _>("order_status")?.as_deref().and_then(OrderStatus::parse);
    let forwarded_to: Option<String> = row.try_get("forwarded_to")?;
    let depot: Option<String> = row.try_get("depot")?;
    let open = match order_status {
        Some(status) => status.is_active(),
        None => forwarded_to.is_none(),
    };
    // Never the reason staff gave for a rejection: it may name people (the citizen reads it
    // on their own status page).
    let notes = match (order_status, &forwarded_to) {
        (_, Some(body)) if !open => {
            Some(if english { format!("Forwarded to {body}") } else { format!("Weitergeleitet an {body}") })
        }
        (Some(status), _) => Some(status_words(status, english).to_string()),
        (None, _) => Some(if english { "Being placed" } else { "Wird zugeordnet" }.to_string()),
    };
    let agency = match (&forwarded_to, &depot) {
        (Some(body), _) => Some(body.clone()),
        (None, Some(depot)) => Some(municipality.depot(depot).map_or(depot.clone(), |d| d.name.clone())),
        (None, None) => None,
    };
    let service_name = category.and_then(|category| {
        municipality.town.classifier.categories().entry(category).map(|entry| {
            if english {
                entry.label_en.clone()
            } else {
                entry.label_de.clone()
            }
        })
    });
    let photo: Option<String> = row.try_get("photo")?;
    Ok(Record::default()
        .with("service_request_id", row.try_get::<String, _>("reference")?)
        .with("status", if open { "open" } else { "closed" })
        .with("status_notes", notes)
        .with("service_name", service_name)
        .with("service_code", category.map(|c| c.id().to_string()))
        .with("description", Value::Null)
        .with("agency_responsible", agency)
        .with("service_notice", Value::Null)
        .with("requested_datetime", w3c(row.try_get("created_at")?))
        .with("updated_datetime", w3c(row.try_get("updated")?))
        .with("expected_datetime", row.try_get::<Option<i64>, _>("due_at")?.filter(|_| open).map(w3c))
        .with("address", row.try_get::<Option<String>, _>("address")?)
        .with("address_id", Value::Null)
        .with("zipcode", Value::Null)
        .with("lat", Value::Number(row.try_get("lat")?))
        .with("long", Value::Number(row.try_get("lon")?))
        .with("media_url", photo.map(|token| public_copies::url(base, &token))))
}

fn status_words(status: OrderStatus, english: bool) -> &'static str {
    match (status, english) {
        (OrderStatus::Open, false) => "Eingegangen",
        (OrderStatus::Open, true) => "Received",
        (OrderStatus::Accepted, false) => "Angenommen",
        (OrderStatus::Accepted, true) => "Accepted",
        (OrderStatus::InProgress, false) => "In Arbeit",
        (OrderStatus::InProgress, true) => "In progress",
        (OrderStatus::Done, false) => "Erledigt",
        (OrderStatus::Done, true) => "Done",
        (OrderStatus::Rejected, false) => "Abgelehnt",
        (OrderStatus::Rejected, true) => "Rejected",
        (_, false) => "Abgeschlossen",
        (_, true) => "Closed",
    }
}

/// Each change of an order's status between `from` and `to` (at most `MAX_RESULTS`, oldest
/// first), once for each report of the order.
pub async fn updates(conn: &mut AnyConnection, from: i64, to: i64, english: bool) -> sqlx::Result<Vec<Record>> {
    let rows = sqlx::query(&format!(
        "SELECT e.id, e.to_status, e.at, r.reference FROM order_events e
         JOIN reports r ON r.work_order_id = e.work_order_id
         WHERE e.to_status IS NOT NULL AND e.at >= $1 AND e.at <= $2 AND r.anonymised_at IS NULL
         ORDER BY e.at, e.id, r.id LIMIT {MAX_RESULTS}"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let reference: String = row.try_get("reference")?;
            let status = row.try_get::<String, _>("to_status")?;
            let status = OrderStatus::parse(&status);
            let open = status.is_some_and(OrderStatus::is_active);
            Ok(Record::default()
                .with("update_id", format!("{}-{reference}", row.try_get::<i64, _>("id")?))
                .with("service_request_id", reference)
                .with("status", if open { "open" } else { "closed" })
                .with("updated_datetime", w3c(row.try_get("at")?))
                .with("description", status.map_or("", |status| status_words(status, english)))
                .with("media_url", Value::Null))
        })
        .collect()
}
