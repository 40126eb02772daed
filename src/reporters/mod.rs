//! Reporters: citizens who wrote to us on a channel, recognised by the account or number
//! their channel gave. Both are stored only sealed and found by keyed hashes (PRIVACY P6);
//! nothing here returns them except `recipient`, which addresses a reply.

pub mod draft;

use meldeweg_workers::conversation::Lang;
use meldeweg_workers::message::Sender;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::audit;
use crate::crypto::{CryptoError, Vault};
use crate::db::Backend;

/// The lookup hash a reporter of `channel` is found by: their account when the channel gives
/// one, else their number; `None` for a sender with neither.
pub fn key_hash(vault: &Vault, channel: &str, sender: &Sender) -> Option<String> {
    let key = match (&sender.account, &sender.phone) {
        (Some(account), _) => format!("{channel}\naccount\n{account}"),
        (None, Some(phone)) => format!("{channel}\nphone\n{phone}"),
        (None, None) => return None,
    };
    Some(vault.lookup_hash("reporter", &key))
}

/// What the conversation needs to know about a reporter.
#[derive(Debug, Clone)]
pub struct Reporter {
    pub id: i64,
    pub lang: Lang,
    pub notice_version: Option<String>,
    pub opted_out_at: Option<i64>,
}

/// Where and whether a reply may be sent.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub channel: String,
    pub phone: Option<String>,
    pub account: Option<String>,
    pub lang: Lang,
    pub opted_out_at: Option<i64>,
    pub last_inbound_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    #[error("the sender has neither a number nor an account")]
    NoIdentity,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("stored draft is not readable: {0}")]
    Draft(#[from] serde_json::Error),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Finds or creates the reporter of `channel` and records when they last wrote. On PostgreSQL
/// the upsert locks the reporter's row until the transaction ends, which serialises concurrent
/// messages from the same citizen; SQLite has a single writer anyway.
pub async fn upsert(
    conn: &mut AnyConnection,
    vault: &Vault,
    channel: &str,
    sender: &Sender,
    message_at_ms: i64,
    now_ms: i64,
) -> Result<Reporter, ReporterError> {
    let key_hash = key_hash(vault, channel, sender).ok_or(ReporterError::NoIdentity)?;
    let row = sqlx::query(
        "INSERT INTO reporters (key_hash, channel, phone_enc, user_id_enc, last_inbound_at, created_at, phone_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (key_hash) DO UPDATE SET
             phone_enc = COALESCE(excluded.phone_enc, reporters.phone_enc),
             phone_hash = COALESCE(excluded.phone_hash, reporters.phone_hash),
             user_id_enc = COALESCE(excluded.user_id_enc, reporters.user_id_enc),
             last_inbound_at = CASE WHEN excluded.last_inbound_at > reporters.last_inbound_at
                                    THEN excluded.last_inbound_at
                                    ELSE reporters.last_inbound_at END
         RETURNING id, lang, notice_version, opted_out_at",
    )
    .bind(key_hash)
    .bind(channel)
    .bind(sender.phone.as_ref().map(|p| vault.seal(p.as_bytes())))
    .bind(sender.account.as_ref().map(|a| vault.seal(a.as_bytes())))
    .bind(message_at_ms)
    .bind(now_ms)
    .bind(sender.phone.as_deref().map(|phone| phone_hash(vault, phone)))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Reporter {
        id: row.try_get("id")?,
        lang: Lang::from_code(row.try_get("lang")?).unwrap_or(Lang::De),
        notice_version: row.try_get("notice_version")?,
        opted_out_at: row.try_get("opted_out_at")?,
    })
}

/// The reporter's id, if this sender has written on `channel` before.
pub async fn find_id(
    conn: &mut AnyConnection,
    vault: &Vault,
    channel: &str,
    sender: &Sender,
) -> Result<Option<i64>, ReporterError> {
    let key_hash = key_hash(vault, channel, sender).ok_or(ReporterError::NoIdentity)?;
    Ok(sqlx::query_scalar("SELECT id FROM reporters WHERE key_hash = $1").bind(key_hash).fetch_optional(conn).await?)
}

/// The reporters who wrote from `phone`, on any channel (more than one when a channel's account
/// for the number changed), newest first; for requests by letter (P9).
pub async fn find_by_phone(conn: &mut AnyConnection, vault: &Vault, phone: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM reporters WHERE phone_hash = $1 ORDER BY id DESC")
        .bind(phone_hash(vault, phone))
        .fetch_all(conn)
        .await
}

/// The lookup hash of a number, the same on every channel (staff look numbers up).
fn phone_hash(vault: &Vault, phone: &str) -> String {
    vault.lookup_hash("phone", phone)
}

/// What to do with a reporter whose sealed values open with none of the vault's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Stop with the error: a key rotation must not leave values behind the old key.
    Fail,
    /// Leave the reporter as it is and count it: a start must not fail on one bad row.
    Skip,
}

/// What one re-sealing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    pub rewritten: u64,
    pub skipped: u64,
}

/// Re-seals every reporter's number and account with the vault's current key and recomputes
/// the lookup hashes from them (a key rotation changes the lookup key too). Erased reporters
/// hold nothing to re-seal. Running it again gives the same hashes, so a pass that skipped
/// unreadable reporters can simply be repeated once their values open.
///
/// Newest first: when two reporters come out with the same lookup hash (one was skipped once,
/// and the citizen then wrote again and became a new reporter), the newer one keeps being
/// recognised and the older keeps its earlier hash, under which nobody is found any more.
pub async fn reseal_all(
    conn: &mut AnyConnection,
    vault: &Vault,
    unreadable: Unreadable,
) -> Result<Resealed, ReporterError> {
    let rows = sqlx::query(
        "SELECT id, channel, phone_enc, user_id_enc FROM reporters
         WHERE erased_at IS NULL AND (phone_enc IS NOT NULL OR user_id_enc IS NOT NULL) ORDER BY id DESC",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut done = Resealed::default();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let (phone, user_id) = match (open(&row, vault, "phone_enc"), open(&row, vault, "user_id_enc")) {
            (Ok(phone), Ok(user_id)) => (phone, user_id),
            (Err(ReporterError::Crypto(error)), _) | (_, Err(ReporterError::Crypto(error)))
                if unreadable == Unreadable::Skip =>
            {
                tracing::warn!(reporter = id, %error, "reporter's sealed values do not open; left as it is");
                done.skipped += 1;
                continue;
            }
            (Err(error), _) | (_, Err(error)) => return Err(error),
        };
        let channel: String = row.try_get("channel")?;
        let sender = Sender { phone: phone.clone(), account: user_id.clone() };
        let Some(key_hash) = key_hash(vault, &channel, &sender) else { continue };
        sqlx::query(
            "UPDATE reporters SET phone_enc = $1, user_id_enc = $2, phone_hash = $4,
                    key_hash = CASE WHEN EXISTS (SELECT 1 FROM reporters o WHERE o.key_hash = $3 AND o.id <> $5)
                                    THEN key_hash ELSE $3 END
             WHERE id = $5",
        )
        .bind(phone.as_deref().map(|p| vault.seal(p.as_bytes())))
        .bind(user_id.as_deref().map(|u| vault.seal(u.as_bytes())))
        .bind(key_hash)
        .bind(phone.as_deref().map(|p| phone_hash(vault, p)))
        .bind(id)
        .execute(&mut *conn)
        .await?;
        done.rewritten += 1;
    }
    Ok(done)
}

/// Removes what identifies the reporters matching `condition` (P7, P9): the sealed number and
/// user id and both lookup hashes (the key hash becomes a value no number hashes to). The row
/// stays as an anonymous stand-in for their reports. Returns how many were forgotten.
pub async fn forget_identities(conn: &mut AnyConnection, condition: &str, now_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE reporters SET key_hash = 'erased:' || CAST(id AS TEXT), phone_enc = NULL, user_id_enc = NULL,
                              phone_hash = NULL, erased_at = $1
         WHERE erased_at IS NULL AND {condition}"
    ))
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks that reporter `id` asked for erasure (not merely that their contact data expired):
/// their photos of open orders then go as soon as each order closes.
pub async fn mark_erasure_requested(conn: &mut AnyConnection, id: i64, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE reporters SET erasure_requested_at = COALESCE(erasure_requested_at, $1) WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

pub async fn set_language(conn: &mut AnyConnection, id: i64, lang: Lang) -> sqlx::Result<()> {
    sqlx::query("UPDATE reporters SET lang = $1 WHERE id = $2").bind(lang.code()).bind(id).execute(conn).await.map(drop)
}

/// Records a STOP (`opted_out`) or a START that lifts it at `now_ms`, also in the audit log
/// (P10, P4).
pub async fn set_opted_out(conn: &mut AnyConnection, id: i64, opted_out: bool, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE reporters SET opted_out_at = $1 WHERE id = $2")
        .bind(opted_out.then_some(now_ms))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let kind = if opted_out { "reporter.opted_out" } else { "reporter.opted_in" };
    record_consent(conn, id, kind, json!({}), now_ms).await
}

/// Records which version of the first-contact notice the reporter was sent, and when, also in
/// the audit log (P3, P4).
pub async fn record_notice(conn: &mut AnyConnection, id: i64, version: &str, at_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE reporters SET notice_version = $1, notice_sent_at = $2 WHERE id = $3")
        .bind(version)
        .bind(at_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    record_consent(conn, id, "reporter.notice_sent", json!({ "version": version }), at_ms).await
}

async fn record_consent(conn: &mut AnyConnection, id: i64, kind: &str, detail: Value, at_ms: i64) -> sqlx::Result<()> {
    audit::record(conn, audit::Entry::reporter(kind, id, None, detail), at_ms).await
}

pub async fn recipient(conn: &mut AnyConnection, vault: &Vault, id: i64) -> Result<Recipient, ReporterError> {
    let row = sqlx::query(
        "SELECT channel, phone_enc, user_id_enc, lang, opted_out_at, last_inbound_at FROM reporters WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(Recipient {
        channel: row.try_get("channel")?,
        phone: open(&row, vault, "phone_enc")?,
        account: open(&row, vault, "user_id_enc")?,
        lang: Lang::from_code(row.try_get("lang")?).unwrap_or(Lang::De),
        opted_out_at: row.try_get("opted_out_at")?,
        last_inbound_at: row.try_get("last_inbound_at")?,
    })
}

/// The sealed `column` of a reporter row, opened.
fn open(row: &sqlx::any::AnyRow, vault: &Vault, column: &str) -> Result<Option<String>, ReporterError> {
    let sealed: Option<Vec<u8>> = row.try_get(column)?;
    Ok(sealed.map(|s| vault.open_string(&s)).transpose()?)
}

/// Locks reporter `id`'s row until the transaction ends (PostgreSQL; SQLite has one writer);
/// `false` if there is no such reporter.
pub async fn lock(conn: &mut AnyConnection, backend: Backend, id: i64) -> sqlx::Result<bool> {
    let sql = match backend {
        Backend::Postgres => "SELECT id FROM reporters WHERE id = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT id FROM reporters WHERE id = $1",
    };
    let found: Option<i64> = sqlx::query_scalar(sql).bind(id).fetch_optional(conn).await?;
    Ok(found.is_some())
}

/// What is stored about a reporter besides their reports, for an access request (P9).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub first_contact_ms: i64,
    pub lang: Lang,
    /// The notice version received, and when.
    pub notice: Option<(String, i64)>,
    pub opted_out_at: Option<i64>,
    pub erased_at: Option<i64>,
    pub messages_received: i64,
    pub messages_sent: i64,
}

/// Reporter `id`'s profile, with how many messages went each way; `None` if there is none.
pub async fn profile(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Profile>> {
    let Some(row) = sqlx::query(
        "SELECT created_at, lang, notice_version, notice_sent_at, opted_out_at, erased_at,
                (SELECT COUNT(*) FROM inbound_events e WHERE e.reporter_id = p.id) AS received,
                (SELECT COUNT(*) FROM outbox m WHERE m.reporter_id = p.id AND m.state <> 'queued') AS sent
         FROM reporters p WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let notice = match (row.try_get::<Option<String>, _>("notice_version")?, row.try_get("notice_sent_at")?) {
        (Some(version), Some(at)) => Some((version, at)),
        _ => None,
    };
    Ok(Some(Profile {
        first_contact_ms: row.try_get("created_at")?,
        lang: Lang::from_code(row.try_get("lang")?).unwrap_or(Lang::De),
        notice,
        opted_out_at: row.try_get("opted_out_at")?,
        erased_at: row.try_get("erased_at")?,
        messages_received: row.try_get("received")?,
        messages_sent: row.try_get("sent")?,
    }))
}
