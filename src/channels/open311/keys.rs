//! The API keys of the systems that report in over Open311: `meldeweg open311 key add NAME`
//! prints a new key once and keeps its SHA-256; a key is checked on every call that needs one,
//! and revoked by its name. The name is what the statistics and the audit log show.

use sqlx::{AnyConnection, Row};

use crate::secrets;

/// Longest key name; names are letters, digits, `-`, `_` and `.`.
pub const MAX_NAME: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a key name has 1 to {MAX_NAME} letters, digits, '-', '_' or '.': {0:?}")]
    BadName(String),
    #[error("there is already a key named {0:?}")]
    Taken(String),
    #[error("there is no unrevoked key named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A key as `open311 key list` shows it (never the key itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyListing {
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let fine = (1..=MAX_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fine {
        Ok(())
    } else {
        Err(KeyError::BadName(name.to_string()))
    }
}

/// Makes a key named `name` and returns it (the only time it is seen).
pub async fn add(conn: &mut AnyConnection, name: &str, now_ms: i64) -> Result<String, KeyError> {
    check_name(name)?;
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM open311_keys WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    if taken > 0 {
        return Err(KeyError::Taken(name.to_string()));
    }
    let key = secrets::random_token();
    sqlx::query("INSERT INTO open311_keys (name, key_hash, created_at) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(secrets::stored_hash(&key))
        .bind(now_ms)
        .execute(conn)
        .await?;
    Ok(key)
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<KeyListing>, KeyError> {
    let rows = sqlx::query("SELECT name, created_at, last_used_at, revoked_at FROM open311_keys ORDER BY name")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(KeyListing {
                name: row.try_get("name")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

pub async fn revoke(conn: &mut AnyConnection, name: &str, now_ms: i64) -> Result<(), KeyError> {
    let done = sqlx::query("UPDATE open311_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(name)
        .execute(conn)
        .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(KeyError::Unknown(name.to_string()))
    }
}

/// The name of the unrevoked key `key`, noting its use; `None` for an unknown or revoked key.
pub async fn check(conn: &mut AnyConnection, key: &str, now_ms: i64) -> Result<Option<String>, KeyError> {
    let hash = secrets::stored_hash(key);
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(&hash)
            .fetch_optional(&mut *conn)
            .await?;
    if name.is_some() {
        sqlx::query("UPDATE open311_keys SET last_used_at = $1 WHERE key_hash = $2")
            .bind(now_ms)
            .bind(&hash)
            .execute(conn)
            .await?;
    }
    Ok(name)
}
