//! Data-subject rights (PRIVACY P9): what is stored about a reporter (`access`, Art. 15 DSGVO)
//! and erasing it (`erase`, Art. 17), for the chat keywords AUSKUNFT / LÖSCHEN and for staff
//! answering a request that came by letter. Retention (P7) erases through the same steps.

pub mod access;
pub mod erase;

use crate::db::DbError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("there is no reporter with this number")]
    UnknownReporter,
    #[error(transparent)]
    Conversation(#[from] crate::reporters::draft::ConversationError),
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
