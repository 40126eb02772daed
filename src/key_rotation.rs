//! Personal data at rest kept to the current key and form (PRIVACY P6).
//!
//! `upgrade` brings data stored before the latest changes up to them, once per database (a
//! marker in `counters` for each): message ids stored in clear (they can encode the number) get
//! hashed; reporters get the lookup hashes of a core that serves several channels (keyed by
//! channel and account or number, and the number's own hash for staff lookups).
//!
//! Key rotation, `meldeweg keys rotate`: every sealed value is re-sealed with the
//! vault's current key — reporters' numbers and user ids (with their lookup hashes recomputed),
//! raw inbound payloads, web-form e-mail addresses — in one transaction, and the rotation is an
//! audit event. Run it with the new key as `encryption_key` and the old one in
//! `encryption_old_keys`; afterwards nothing needs the old key. Running it again changes nothing
//! but the nonces.

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit;
use crate::crypto::{CryptoError, Vault};
use crate::db::Db;
use crate::reporters::{self, ReporterError, Unreadable};

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("a sealed value opens with none of the configured keys (is the old key in encryption_old_keys?): {0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Reporter(#[from] ReporterError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// What one rotation rewrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    pub reporters: u64,
    pub inbound_payloads: u64,
    pub email_addresses: u64,
}

pub async fn rotate(db: &Db, vault: &Vault, now_ms: i64) -> Result<Rotated, RotationError> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let rotated = Rotated {
        reporters: reporters::reseal_all(conn, vault, Unreadable::Fail)
            .await
            .map_err(|error| match error {
                ReporterError::Crypto(error) => RotationError::Crypto(error),
                other => RotationError::Reporter(other),
            })?
            .rewritten,
        inbound_payloads: reseal_column(conn, vault, "inbound_events", "payload_enc").await?,
        email_addresses: reseal_column(conn, vault, "reports", "contact_enc").await?,
    };
    let detail = json!({
        "key_id": vault.key_id(),
        "reporters": rotated.reporters,
        "inbound_payloads": rotated.inbound_payloads,
        "email_addresses": rotated.email_addresses,
    });
    audit::record(conn, audit::Entry::service("keys.rotated", None, detail), now_ms).await?;
    tx.commit().await?;
    Ok(rotated)
}

/// Whether `vault` holds the key of the personal data already stored: true when one of the
/// newest sealed values (inbound payloads, reporters' numbers or user ids) opens with it, or when
/// there are none yet. An instance started with another machine's key would otherwise seal what
/// the other instances cannot open, and know no citizen who wrote before.
pub async fn opens_stored_data(db: &Db, vault: &Vault) -> Result<bool, sqlx::Error> {
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT v FROM (SELECT payload_enc AS v FROM inbound_events ORDER BY id DESC LIMIT 10) AS payloads
         UNION ALL
         SELECT v FROM (SELECT COALESCE(phone_enc, user_id_enc) AS v FROM reporters ORDER BY id DESC LIMIT 10) AS numbers
         WHERE v IS NOT NULL",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(sealed.is_empty() || sealed.iter().any(|value| vault.open(value).is_ok()))
}

/// Marks in `counters` that an upgrade has run on this database.
const IDS_HASHED: &str = "privacy.upgraded";
const KEYED_PER_CHANNEL: &str = "reporters.keyed_per_channel";

/// Runs the upgrades this database has not had, each in its own transaction. Returns how many
/// values they changed. A reporter whose values open with none of the configured keys does not
/// stop the start: it is skipped with a warning, and the upgrade stays unmarked so the next
/// start (with the missing key in `encryption_old_keys`) finishes it.
pub async fn upgrade(db: &Db, vault: &Vault) -> Result<u64, RotationError> {
    let mut changed = 0;
    let mut tx = db.begin().await?;
    if !has_run(tx.conn(), IDS_HASHED).await? {
        changed += hash_clear_ids(tx.conn(), vault, "inbound_events", "provider_id").await?
            + hash_clear_ids(tx.conn(), vault, "outbox", "provider_message_id").await?;
        mark_run(tx.conn(), IDS_HASHED).await?;
    }
    tx.commit().await?;
    let mut tx = db.begin().await?;
    if !has_run(tx.conn(), KEYED_PER_CHANNEL).await? {
        let resealed = reporters::reseal_all(tx.conn(), vault, Unreadable::Skip).await?;
        changed += resealed.rewritten;
        if resealed.skipped == 0 {
            mark_run(tx.conn(), KEYED_PER_CHANNEL).await?;
        } else {
            tracing::warn!(
                skipped = resealed.skipped,
                "reporters left with their earlier lookup hashes: their numbers open with none of the configured keys \
                 (add the key they were sealed with to encryption_old_keys and restart)"
            );
        }
    }
    tx.commit().await?;
    Ok(changed)
}

async fn has_run(conn: &mut AnyConnection, marker: &str) -> sqlx::Result<bool> {
    let done: Option<i64> =
        sqlx::query_scalar("SELECT value FROM counters WHERE name = $1").bind(marker).fetch_optional(conn).await?;
    Ok(done.is_some())
}

async fn mark_run(conn: &mut AnyConnection, marker: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO NOTHING")
        .bind(marker)
        .execute(conn)
        .await
        .map(drop)
}

/// Replaces message ids stored in clear in `table.column` (the cloud provider's `wamid.` ids of
/// the first versions) by their keyed hash.
async fn hash_clear_ids(
    conn: &mut AnyConnection,
    vault: &Vault,
    table: &'static str,
    column: &'static str,
) -> Result<u64, RotationError> {
    let rows = sqlx::query(&format!("SELECT id, {column} FROM {table} WHERE {column} LIKE 'wamid.%'"))
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let id: String = row.try_get(column)?;
        sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
            .bind(vault.message_id_hash(&id))
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Re-seals the values of `table.column` that another key sealed (emptied ones stay empty).
async fn reseal_column(
    conn: &mut AnyConnection,
    vault: &Vault,
    table: &'static str,
    column: &'static str,
) -> Result<u64, RotationError> {
    let rows = sqlx::query(&format!("SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    let mut resealed = 0;
    for row in rows {
        let sealed: Vec<u8> = row.try_get(column)?;
        if sealed.is_empty() || !vault.needs_resealing(&sealed) {
            continue;
        }
        let plain = vault.open(&sealed)?;
        sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
            .bind(vault.seal(&plain))
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut *conn)
            .await?;
        resealed += 1;
    }
    Ok(resealed)
}
