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

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("there is no report {0}")]
    UnknownReport(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
