//! Drafts: one conversation per reporter, holding the report being put together.

use meldeweg_workers::conversation::Draft;
use sqlx::AnyConnection;

use super::ReporterError;

/// The reporter's draft, empty if there is none yet.
pub async fn load(conn: &mut AnyConnection, reporter_id: i64) -> Result<Draft, ReporterError> {
    let draft: Option<String> = sqlx::query_scalar("SELECT draft FROM conversations WHERE reporter_id = $1")
        .bind(reporter_id)
        .fetch_optional(conn)
        .await?;
    Ok(match draft {
        Some(json) => serde_json::from_str(&json)?,
        None => Draft::default(),
    })
}

pub async fn save(conn: &mut AnyConnection, reporter_id: i64, draft: &Draft, now_ms: i64) -> Result<(), ReporterError> {
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

/// Deletes reporter `reporter_id`'s draft (erasure, P9).
pub async fn delete(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM conversations WHERE reporter_id = $1").bind(reporter_id).execute(conn).await.map(drop)
}
