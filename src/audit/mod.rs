//! The audit log (PRIVACY P4 accountability, P8 revision-proof storage): every processing
//! step of a report and its work order as an event in one hash chain (migration 0011).
//! `record` appends inside the transaction that takes the step, so a step and its event commit
//! together, and `seal` chains the committed events shortly after (`spawn_sealer`, migration
//! 0026); `verify` walks the chain and names the first event that does not fit; `export` writes
//! the history of one report with the hashes an officer can check. All three seal first.

mod chain;
mod export;
mod verify;

pub use chain::{record, seal, Entry};
pub use export::{export_report, ExportedEvent, ReportHistory};
pub use verify::{verify, Verdict};

/// Redacts the events matching `condition`: empties their detail, which may hold
/// personal data (a crew's comment), and records one `audit.redacted` event saying how many and
/// why. The hashes stay, so the chain still verifies. Returns how many were redacted.
pub async fn redact(conn: &mut sqlx::AnyConnection, condition: &str, reason: &str, now_ms: i64) -> sqlx::Result<u64> {
    // Events still waiting to be chained are redacted too, once chained.
    seal(&mut *conn).await?;
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

/// How often a sealer looks for events to chain.
const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Chains committed events every `SEAL_EVERY` until `shutdown` (every process that records
/// events runs one on PostgreSQL, and they take turns), and once more on the way out.
pub fn spawn_sealer(db: crate::db::Db, shutdown: tokio_util::sync::CancellationToken) -> tokio::task::JoinHandle<()> {
    if db.backend() == crate::db::Backend::Sqlite {
        // SQLite chains every event as it is recorded: nothing ever waits to be sealed.
        return tokio::spawn(async {});
    }
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                () = tokio::time::sleep(SEAL_EVERY) => false,
                () = shutdown.cancelled() => true,
            };
            let sealed = async {
                let mut conn = db.pool().acquire().await?;
                chain::seal_unless_busy(&mut conn).await
            };
            if let Err(error) = sealed.await {
                tracing::warn!(%error, "chaining audit events failed; they wait for the next round");
            }
            if stopping {
                return;
            }
        }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("there is no report {0}")]
    UnknownReport(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
