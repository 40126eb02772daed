//! The audit log (PRIVACY P4 accountability, P8 revision-proof storage): every processing
//! step of a report and its work order as an event in one hash chain (migration 0011).
//! `record` appends inside the transaction that takes the step, so a step and its event commit
//! together; `verify` walks the chain and names the first event that does not fit; `export`
//! writes the history of one report with the hashes an officer can check.

mod chain;
mod export;
mod verify;

pub use chain::{record, Entry};
pub use export::{export_report, ExportedEvent, ReportHistory};
pub use verify::{verify, Verdict};

/// Redacts the events matching `condition`: empties their detail, which may hold
/// personal data (a crew's comment), and records one `audit.redacted` event saying how many and
/// why. The hashes stay, so the chain still verifies. Returns how many were redacted.
pub async fn redact(conn: &mut sqlx::AnyConnection, condition: &str, reason: &str, now_ms: i64) -> sqlx::Result<u64> {
    let redacted =
        sqlx::query(&format!("UPDATE audit_log SET detail = NULL WHERE detail IS NOT NULL AND ({condition})"))
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if redacted > 0 {
        let detail = serde_json::json!({ "events": redacted, "reason": reason });
        record(conn, Entry::service("audit.redacted", None, detail), now_ms).await?;
    }
    Ok(redacted)
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("there is no report {0}")]
    UnknownReport(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
