//! The full history of one report as an officer or a data subject receives it: every event
//! of the report and of its work order, with the hashes that tie it into the chain.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::AuditError;

#[derive(Debug, Clone, Serialize)]
pub struct ReportHistory {
    pub reference: String,
    /// The work order the report belongs to, if any.
    pub order: Option<String>,
    pub events: Vec<ExportedEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedEvent {
    pub id: i64,
    /// Unix milliseconds (UTC).
    pub at: i64,
    pub kind: String,
    pub actor: Option<String>,
    /// `null` once redacted.
    pub detail: Option<Value>,
    pub detail_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

const COLUMNS: &str = "id, at, kind, actor, detail, detail_hash, prev_hash, hash";
/// Merges followed from one order to the next, at most (a chain of merges is short).
const MAX_MERGES: usize = 100;

/// The orders report `report_id` belonged to, each with the first event of its history that
/// concerns the report: the order triage linked it to (from that event), and each order that
/// one was merged into (from the merge) — not what another order did before the report joined.
async fn orders_of(conn: &mut AnyConnection, report_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(
        "SELECT order_id, MIN(id) AS since FROM audit_log WHERE report_id = $1 AND order_id IS NOT NULL
         GROUP BY order_id",
    )
    .bind(report_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut orders: Vec<(i64, i64)> =
        rows.iter().map(|row| Ok((row.try_get("order_id")?, row.try_get("since")?))).collect::<sqlx::Result<_>>()?;
    let mut next = 0;
    while next < orders.len() && orders.len() < MAX_MERGES {
        let (order, since) = orders[next];
        next += 1;
        let merge = sqlx::query(
            "SELECT o.merged_into, (SELECT MIN(a.id) FROM audit_log a
                                    WHERE a.order_id = o.id AND a.kind = 'order.merged' AND a.id >= $2) AS at
             FROM work_orders o WHERE o.id = $1",
        )
        .bind(order)
        .bind(since)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(merge) = merge else { continue };
        let (Some(target), Some(at)): (Option<i64>, Option<i64>) =
            (merge.try_get("merged_into")?, merge.try_get("at")?)
        else {
            continue;
        };
        if !orders.iter().any(|(known, _)| *known == target) {
            orders.push((target, at));
        }
    }
    Ok(orders)
}

pub async fn export_report(conn: &mut AnyConnection, reference: &str) -> Result<ReportHistory, AuditError> {
    super::seal(&mut *conn).await?;
    let report = sqlx::query(
        "SELECT r.id, o.number FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id WHERE r.reference = $1",
    )
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AuditError::UnknownReport(reference.to_string()))?;
    let id: i64 = report.try_get("id")?;
    let mut events = BTreeMap::new();
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE report_id = $1"))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        events.insert(row.try_get::<i64, _>("id")?, row);
    }
    for (order, since) in orders_of(conn, id).await? {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE order_id = $1 AND id >= $2"))
            .bind(order)
            .bind(since)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            events.insert(row.try_get::<i64, _>("id")?, row);
        }
    }
    let events = events
        .values()
        .map(|row| {
            let detail: Option<String> = row.try_get("detail")?;
            Ok(ExportedEvent {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                kind: row.try_get("kind")?,
                actor: row.try_get("actor")?,
                detail: detail.map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text))),
                detail_hash: row.try_get("detail_hash")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok(ReportHistory { reference: reference.to_string(), order: report.try_get("number")?, events })
}
