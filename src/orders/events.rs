//! The history of every work order: who did what and when (opened, accepted, comments,
//! re-routes, merges, ...). Rows are only ever added; each is also an event of the audit log
//! (PRIVACY P4/P8). `actor_id` is empty for Meldeweg's own steps.

use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit;
use meldeweg_workers::status::{OrderStatus, Transition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Triage opened the order for a report.
    Opened,
    /// Triage linked another report of the same problem.
    DuplicateLinked,
    Transition(Transition),
    Comment,
    Rerouted,
    /// This order was merged into another (detail: that order's number).
    Merged,
    /// Another order was merged into this one (detail: its number).
    Absorbed,
    /// A report's category was corrected (detail: "from → to").
    Recategorised,
    AfterPhoto,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::DuplicateLinked => "duplicate_linked",
            EventKind::Transition(transition) => transition.as_str(),
            EventKind::Comment => "comment",
            EventKind::Rerouted => "rerouted",
            EventKind::Merged => "merged",
            EventKind::Absorbed => "absorbed",
            EventKind::Recategorised => "recategorised",
            EventKind::AfterPhoto => "after_photo",
        }
    }
}

pub struct NewEvent<'a> {
    pub order_id: i64,
    pub report_id: Option<i64>,
    pub kind: EventKind,
    pub actor_id: Option<i64>,
    pub from: Option<OrderStatus>,
    pub to: Option<OrderStatus>,
    pub detail: Option<&'a str>,
}

impl NewEvent<'_> {
    /// A step Meldeweg took itself for a report.
    pub fn system(order_id: i64, report_id: i64, kind: EventKind) -> Self {
        NewEvent { order_id, report_id: Some(report_id), kind, actor_id: None, from: None, to: None, detail: None }
    }
}

/// Records `event` in the order's history and in the audit log (PRIVACY P4), in the caller's
/// transaction.
pub async fn insert(conn: &mut AnyConnection, event: NewEvent<'_>, now_ms: i64) -> sqlx::Result<i64> {
    let kind = format!("order.{}", event.kind.as_str());
    let entry = audit::Entry {
        kind: &kind,
        report_id: event.report_id,
        order_id: Some(event.order_id),
        reporter_id: None,
        actor: event.actor_id.map(|id| format!("staff:{id}")),
        detail: json!({
            "from": event.from.map(OrderStatus::as_str),
            "to": event.to.map(OrderStatus::as_str),
            "detail": event.detail,
        }),
    };
    audit::record(&mut *conn, entry, now_ms).await?;
    sqlx::query_scalar(
        "INSERT INTO order_events (work_order_id, report_id, kind, actor_id, from_status, to_status, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(event.order_id)
    .bind(event.report_id)
    .bind(event.kind.as_str())
    .bind(event.actor_id)
    .bind(event.from.map(OrderStatus::as_str))
    .bind(event.to.map(OrderStatus::as_str))
    .bind(event.detail)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

/// One line of an order's history.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub kind: String,
    /// The staff member's e-mail address, or `None` for Meldeweg itself.
    pub actor: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
    /// The report concerned, for opened / duplicate_linked / recategorised.
    pub report: Option<String>,
    pub at: i64,
}

/// An order's history, oldest first.
pub async fn for_order(conn: &mut AnyConnection, order_id: i64) -> sqlx::Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT e.kind, u.email, e.from_status, e.to_status, e.detail, r.reference, e.at
         FROM order_events e
         LEFT JOIN staff_users u ON u.id = e.actor_id
         LEFT JOIN reports r ON r.id = e.report_id
         WHERE e.work_order_id = $1 ORDER BY e.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Event {
                kind: row.try_get("kind")?,
                actor: row.try_get("email")?,
                from_status: row.try_get("from_status")?,
                to_status: row.try_get("to_status")?,
                detail: row.try_get("detail")?,
                report: row.try_get("reference")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}
