//! Work orders: one problem for one depot, with every report of it linked. `store` opens,
//! changes and reads them (the `work_orders` table), `events` is their history, `board` what
//! staff see of them, `public_map` what the public map shows of them, and `lifecycle` the changes staff make, with their rules, shared by the
//! staff UI and the JSON API. The status vocabulary itself is `meldeweg_workers::status`.

pub mod board;
pub mod events;
pub mod lifecycle;
pub mod public_map;
pub mod store;

use crate::reports::ReportError;

/// Why something with a work order did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("Den Auftrag {0} gibt es nicht.")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request is well-formed but the order's state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// A field is missing or out of bounds.
    #[error("{0}")]
    Invalid(String),
    #[error("work order {id} has an unreadable {field}: {value:?}")]
    Corrupt { id: i64, field: &'static str, value: String },
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
