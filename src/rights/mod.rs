//! Data-subject rights (PRIVACY P9): what is stored about a reporter (`access`, Art. 15 DSGVO)
//! and erasing it (`erase`, Art. 17), for the chat keywords AUSKUNFT / LÖSCHEN and for staff
//! answering a request that came by letter. Retention (P7) erases through the same steps.

pub mod access;
pub mod erase;

use crate::reporters::ReporterError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("there is no reporter with this number")]
    UnknownReporter,
    #[error(transparent)]
    Reporter(#[from] ReporterError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
