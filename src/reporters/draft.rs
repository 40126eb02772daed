//! Conversations: one per reporter, holding the report draft being put together.

use meldeweg_workers::conversation::Draft;
use sqlx::AnyConnection;

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("stored draft is not readable: {0}")]
    Draft(#[from] serde_json::Error),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The reporter's draft, empty if there is none yet.
pub async fn load(conn: &mut AnyConnection, reporter_id: i64) -> Result<Draft, ConversationError> {
    let draft: Option<String> = sqlx::query_scalar("SELECT draft FROM conversations WHERE reporter_id = $1")
        .bind(reporter_id)
        .fetch_optional(conn)
        .await?;
    Ok(match draft {
        Some(json) => serde_json::from_str(&json)?,
        None => Draft::default(),
    })
}

pub async fn save(
    conn: &mut AnyConnection,
    reporter_id: i64,
    draft: &Draft,
    now_ms: i64,
) -> Result<(), ConversationError> {
    sqlx::query(
        "INSERT INTO conversations (reporter_id, draft, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (reporter_id) DO UPDATE SET draft = excluded.draft,
                                                 updated_at = excluded.updated_at",
    )
    .bind(reporter_id)
    .bind(serde_json::to_string(draft)?)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}
