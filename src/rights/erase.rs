//! Erasure (Art. 17 DSGVO, PRIVACY P9): a reporter's personal data goes, the reports stay
//! for the Bauhof without them.
//!
//! Erased: the sealed number and user id and the lookup hash (the row stays as an anonymous
//! stand-in, so the reports keep counting; a new message from the number is a new reporter),
//! the words they wrote (descriptions, shared place names, the draft), the raw inbound messages,
//! the messages sent to them, an e-mail address given on the web form, and their photos of
//! closed reports (photos of open work orders stay until the order closes; retention deletes them
//! then, because the reporter is marked as having asked). Files go before the rows that name
//! them, so an interruption leaves a row without a file, never a file nobody can find. The
//! erasure is an audit event with its counts.

use serde_json::json;
use sqlx::AnyConnection;

use super::RightsError;
use crate::audit;
use crate::db::{Backend, Db};
use crate::reports::closed_sql;
use crate::storage::PhotoStore;
use crate::{inbox as inbound_events, reporters};

/// What one erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Reports whose description, place name or e-mail address was removed.
    pub report_texts: u64,
    pub photos_deleted: u64,
    /// Photos of open work orders, deleted when the order closes.
    pub photos_kept: u64,
    pub messages: u64,
    pub inbound_payloads: u64,
}

/// The photos of reporter `$1` that may go now: in no report (an unfinished draft) or in a
/// closed one.
fn erasable_photos() -> String {
    format!(
        "SELECT f.id, f.token FROM photos f LEFT JOIN reports r ON r.id = f.report_id
         WHERE f.reporter_id = $1 AND (f.report_id IS NULL OR {}) ORDER BY f.id",
        closed_sql()
    )
}

/// Erases reporter `reporter_id`'s personal data; `actor` is who asked ("reporter" for the chat,
/// "staff:<id>" for a letter). Running it again erases what came since, and nothing else.
///
/// The reporter's row is locked first (PostgreSQL; SQLite has one writer), so a message of
/// theirs being handled at the same time either finishes before and is erased too, or comes
/// after and finds no reporter with that number any more: it starts a new contact.
pub async fn erase_reporter(
    db: &Db,
    store: &PhotoStore,
    reporter_id: i64,
    actor: &str,
    now_ms: i64,
) -> Result<Erasure, RightsError> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let lock = match db.backend() {
        Backend::Postgres => "SELECT id FROM reporters WHERE id = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT id FROM reporters WHERE id = $1",
    };
    let exists: Option<i64> = sqlx::query_scalar(lock).bind(reporter_id).fetch_optional(&mut *conn).await?;
    if exists.is_none() {
        return Err(RightsError::UnknownReporter);
    }
    let photos: Vec<(i64, Option<String>)> =
        sqlx::query_as(&erasable_photos()).bind(reporter_id).fetch_all(&mut *conn).await?;
    for token in photos.iter().filter_map(|(_, token)| token.as_deref()) {
        store.delete(token).await?;
    }
    let mut photos_deleted = 0;
    for (id, _) in &photos {
        photos_deleted +=
            sqlx::query("DELETE FROM photos WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected();
    }
    let erasure = Erasure {
        photos_deleted,
        photos_kept: sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM photos WHERE reporter_id = $1")
            .bind(reporter_id)
            .fetch_one(&mut *conn)
            .await? as u64,
        report_texts: execute(
            conn,
            "UPDATE reports SET description = NULL, location_label = NULL, contact_enc = NULL
             WHERE reporter_id = $1
               AND (description IS NOT NULL OR location_label IS NOT NULL OR contact_enc IS NOT NULL)",
            reporter_id,
        )
        .await?,
        // Queued ones too: a notify job finds its message gone and sends nothing.
        messages: execute(conn, "DELETE FROM outbox WHERE reporter_id = $1", reporter_id).await?,
        inbound_payloads: inbound_events::empty_payloads(conn, &format!("reporter_id = {reporter_id}"), now_ms).await?,
    };
    execute(conn, "DELETE FROM conversations WHERE reporter_id = $1", reporter_id).await?;
    reporters::forget_identities(conn, &format!("id = {reporter_id}"), now_ms).await?;
    reporters::mark_erasure_requested(conn, reporter_id, now_ms).await?;
    let detail = json!({
        "by": actor,
        "report_texts": erasure.report_texts,
        "photos_deleted": erasure.photos_deleted,
        "photos_kept": erasure.photos_kept,
        "messages": erasure.messages,
        "inbound_payloads": erasure.inbound_payloads,
    });
    audit::record(conn, audit::Entry::reporter("reporter.erased", reporter_id, Some(actor), detail), now_ms).await?;
    tx.commit().await?;
    tracing::info!(reporter = reporter_id, "reporter's personal data erased");
    Ok(erasure)
}

async fn execute(conn: &mut AnyConnection, sql: &str, reporter_id: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query(sql).bind(reporter_id).execute(conn).await?.rows_affected())
}
