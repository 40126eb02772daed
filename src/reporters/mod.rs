//! Reporters: citizens who wrote to us. Their number and WhatsApp user id are stored only
//! sealed and are found by a keyed hash (PRIVACY P6); nothing here returns them except
//! `recipient`, which the sender uses to address a message.

pub mod draft;

use meldeweg_workers::conversation::Lang;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::audit;
use crate::crypto::{CryptoError, Vault};

/// How a channel identifies the sender. WhatsApp sends a business-scoped user id and, unless
/// the citizen hides it, the phone number; the user id is the stable key when present.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub phone: Option<&'a str>,
    pub user_id: Option<&'a str>,
}

impl Identity<'_> {
    /// The lookup hash, or `None` when the identity is empty.
    pub fn key_hash(&self, vault: &Vault) -> Option<String> {
        match (self.user_id, self.phone) {
            (Some(user_id), _) => Some(vault.lookup_hash("user", user_id)),
            (None, Some(phone)) => Some(phone_hash(vault, phone)),
            (None, None) => None,
        }
    }
}

/// What the conversation needs to know about a reporter.
#[derive(Debug, Clone)]
pub struct Reporter {
    pub id: i64,
    pub lang: Lang,
    pub notice_version: Option<String>,
    pub opted_out_at: Option<i64>,
}

/// Where and whether a message may be sent.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub opted_out_at: Option<i64>,
    pub last_inbound_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    #[error("the sender has neither a number nor a user id")]
    NoIdentity,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Finds or creates the reporter and records when they last wrote. On PostgreSQL the upsert
/// locks the reporter's row until the transaction ends, which serialises concurrent messages
/// from the same citizen; SQLite has a single writer anyway.
pub async fn upsert(
    conn: &mut AnyConnection,
    vault: &Vault,
    identity: Identity<'_>,
    message_at_ms: i64,
    now_ms: i64,
) -> Result<Reporter, ReporterError> {
    let key_hash = identity.key_hash(vault).ok_or(ReporterError::NoIdentity)?;
    let row = sqlx::query(
        "INSERT INTO reporters (key_hash, phone_enc, user_id_enc, last_inbound_at, created_at, phone_hash)
         VALUES ($1, $2, $3, $4, $5, $6)
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
    .bind(identity.phone.map(|p| vault.seal(p.as_bytes())))
    .bind(identity.user_id.map(|u| vault.seal(u.as_bytes())))
    .bind(message_at_ms)
    .bind(now_ms)
    .bind(identity.phone.map(|phone| phone_hash(vault, phone)))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Reporter {
        id: row.try_get("id")?,
        lang: Lang::from_code(row.try_get("lang")?).unwrap_or(Lang::De),
        notice_version: row.try_get("notice_version")?,
        opted_out_at: row.try_get("opted_out_at")?,
    })
}

/// The reporter's id, if this identity has written before.
pub async fn find_id(
    conn: &mut AnyConnection,
    vault: &Vault,
    identity: Identity<'_>,
) -> Result<Option<i64>, ReporterError> {
    let key_hash = identity.key_hash(vault).ok_or(ReporterError::NoIdentity)?;
    Ok(sqlx::query_scalar("SELECT id FROM reporters WHERE key_hash = $1").bind(key_hash).fetch_optional(conn).await?)
}

/// The reporters who wrote from `phone` (more than one when WhatsApp's user id for the number
/// changed), newest first; for requests by letter (P9).
pub async fn find_by_phone(conn: &mut AnyConnection, vault: &Vault, phone: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM reporters WHERE phone_hash = $1 OR key_hash = $1 ORDER BY id DESC")
        .bind(phone_hash(vault, phone))
        .fetch_all(conn)
        .await
}

/// Gives reporters from before the number's own lookup hash (migration 0012) theirs, so staff
/// find them by number too. Returns how many were filled in.
pub async fn fill_phone_hashes(conn: &mut AnyConnection, vault: &Vault) -> Result<u64, ReporterError> {
    let rows = sqlx::query("SELECT id, phone_enc FROM reporters WHERE phone_hash IS NULL AND phone_enc IS NOT NULL")
        .fetch_all(&mut *conn)
        .await?;
    let mut filled = 0;
    for row in &rows {
        // A value this key cannot open (a lost sandbox key) stays as it is; it cannot be found anyway.
        let Ok(phone) = vault.open_string(&row.try_get::<Vec<u8>, _>("phone_enc")?) else { continue };
        sqlx::query("UPDATE reporters SET phone_hash = $1 WHERE id = $2")
            .bind(phone_hash(vault, &phone))
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut *conn)
            .await?;
        filled += 1;
    }
    if filled < rows.len() {
        tracing::warn!(unreadable = rows.len() - filled, "some reporters' numbers do not open with this key");
    }
    Ok(filled as u64)
}

fn phone_hash(vault: &Vault, phone: &str) -> String {
    vault.lookup_hash("wa", phone)
}

/// Re-seals every reporter's number and user id with the vault's current key and recomputes
/// the lookup hashes from them (a key rotation changes the lookup key too). Erased reporters
/// hold nothing to re-seal. Returns how many reporters were rewritten.
pub async fn reseal_all(conn: &mut AnyConnection, vault: &Vault) -> Result<u64, ReporterError> {
    let rows = sqlx::query(
        "SELECT id, phone_enc, user_id_enc FROM reporters
         WHERE erased_at IS NULL AND (phone_enc IS NOT NULL OR user_id_enc IS NOT NULL) ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut rewritten = 0;
    for row in rows {
        let (phone, user_id) = (open(&row, vault, "phone_enc")?, open(&row, vault, "user_id_enc")?);
        let identity = Identity { phone: phone.as_deref(), user_id: user_id.as_deref() };
        let Some(key_hash) = identity.key_hash(vault) else { continue };
        sqlx::query(
            "UPDATE reporters SET phone_enc = $1, user_id_enc = $2, key_hash = $3, phone_hash = $4 WHERE id = $5",
        )
        .bind(phone.as_deref().map(|p| vault.seal(p.as_bytes())))
        .bind(user_id.as_deref().map(|u| vault.seal(u.as_bytes())))
        .bind(key_hash)
        .bind(phone.as_deref().map(|p| phone_hash(vault, p)))
        .bind(row.try_get::<i64, _>("id")?)
        .execute(&mut *conn)
        .await?;
        rewritten += 1;
    }
    Ok(rewritten)
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
    audit::record(conn, audit::Entry::reporter(kind, id, None, detail), at_ms).await.map(drop)
}

pub async fn recipient(conn: &mut AnyConnection, vault: &Vault, id: i64) -> Result<Recipient, ReporterError> {
    let row = sqlx::query("SELECT phone_enc, user_id_enc, opted_out_at, last_inbound_at FROM reporters WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(Recipient {
        phone: open(&row, vault, "phone_enc")?,
        user_id: open(&row, vault, "user_id_enc")?,
        opted_out_at: row.try_get("opted_out_at")?,
        last_inbound_at: row.try_get("last_inbound_at")?,
    })
}

/// The sealed `column` of a reporter row, opened.
fn open(row: &sqlx::any::AnyRow, vault: &Vault, column: &str) -> Result<Option<String>, ReporterError> {
    let sealed: Option<Vec<u8>> = row.try_get(column)?;
    Ok(sealed.map(|s| vault.open_string(&s)).transpose()?)
}
