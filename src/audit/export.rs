//! The full history of one report as an officer or a data subject receives it: every event
//! of the report and of its work order, with the hashes that tie it into the chain.

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

pub async fn export_report(conn: &mut AnyConnection, reference: &str) -> Result<ReportHistory, AuditError> {
    let report = sqlx::query(
        "SELECT r.id, r.work_order_id, o.number FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
         WHERE r.reference = $1",
    )
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AuditError::UnknownReport(reference.to_string()))?;
    let (id, order_id): (i64, Option<i64>) = (report.try_get("id")?, report.try_get("work_order_id")?);
    let rows = sqlx::query(
        "SELECT id, at, kind, actor, detail, detail_hash, prev_hash, hash FROM audit_log
         WHERE report_id = $1 OR order_id = $2 ORDER BY id",
    )
    .bind(id)
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let events = rows
        .iter()
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
