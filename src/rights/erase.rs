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

use super::RightsError;
use crate::audit;
use crate::db::Db;
use crate::reports::{self, photos};
use crate::storage::PhotoStore;
use crate::{inbox, outbox, public_copies, reporters};

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
    if !reporters::lock(conn, db.backend(), reporter_id).await? {
        return Err(RightsError::UnknownReporter);
    }
    let erasable = photos::erasable_of_reporter(conn, reporter_id).await?;
    for token in erasable.iter().filter_map(|(_, token)| token.as_deref()) {
        store.delete(token).await?;
    }
    let mut photos_deleted = 0;
    for (id, token) in &erasable {
        photos_deleted += u64::from(photos::delete(conn, *id).await?);
        if let Some(token) = token {
            public_copies::forget(conn, token).await?;
        }
    }
    let erasure = Erasure {
        photos_deleted,
        photos_kept: photos::count_of_reporter(conn, reporter_id).await?,
        report_texts: reports::forget_texts_of_reporter(conn, reporter_id).await?,
        messages: outbox::delete_for_reporter(conn, reporter_id).await?,
        inbound_payloads: inbox::empty_payloads(conn, &format!("reporter_id = {reporter_id}"), now_ms).await?,
    };
    reporters::draft::delete(conn, reporter_id).await?;
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
    // Once more after the rows are gone: a public copy written meanwhile is not left behind.
    for token in erasable.iter().filter_map(|(_, token)| token.as_deref()) {
        store.delete(token).await?;
    }
    tracing::info!(reporter = reporter_id, "reporter's personal data erased");
    Ok(erasure)
}
