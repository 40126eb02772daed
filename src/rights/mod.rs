//! Data-subject rights (PRIVACY P9): what is stored about a reporter (`access`, Art. 15 DSGVO)
//! and erasing it (`erase`, Art. 17), for the chat keywords AUSKUNFT / LÖSCHEN and for staff
//! answering a request that came by letter. Retention (P7) erases through the same steps.

pub mod access;
pub mod erase;

use crate::db::DbError;
use crate::storage::StorageError;

/// A report counts as closed for retention and erasure once nothing more will be done with
/// it: finished, rejected, passed on, or outside the municipality. `r` is the report.
pub(crate) const REPORT_CLOSED: &str = "r.status IN ('done', 'rejected', 'forwarded', 'outside_area')";

/// When a closed report closed: its work order's closing time, or (no order) when triage
/// decided. Needs `o` joined as the report's work order (LEFT JOIN).
pub(crate) const REPORT_CLOSED_AT: &str = "COALESCE(o.closed_at, r.triaged_at, r.created_at)";

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("there is no reporter with this number")]
    UnknownReporter,
    #[error(transparent)]
    Conversation(#[from] crate::db::conversations::ConversationError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for RightsError {
    fn from(error: sqlx::Error) -> Self {
        RightsError::Db(DbError::Sql(error))
    }
}
