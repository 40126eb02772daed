//! Staff sessions and failed logins, kept in the database so they work across processes and on
//! both backends. A session row holds the SHA-256 of the cookie's id (a copy of the table
//! cannot be replayed), the CSRF token of its forms and when it was last used.

use sqlx::{AnyConnection, Row};

use super::store::user_from_row;
use super::StaffError;
use crate::staff::StaffUser;

pub struct Session {
    pub user: StaffUser,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn insert(
    conn: &mut AnyConnection,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO staff_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now_ms)
    .execute(conn)
    .await
    .map(drop)
}

/// The session and its (enabled) account.
pub async fn load(conn: &mut AnyConnection, id_hash: &str) -> Result<Option<Session>, StaffError> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.role, u.depot, u.lang, u.disabled_at, s.csrf_token, s.created_at, s.last_seen_at
         FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
         WHERE s.id_hash = $1 AND u.disabled_at IS NULL",
    )
    .bind(id_hash)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Session {
        user: user_from_row(&row)?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    }))
}

pub async fn touch(conn: &mut AnyConnection, id_hash: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now_ms)
        .bind(id_hash)
        .execute(conn)
        .await
        .map(drop)
}

pub async fn delete(conn: &mut AnyConnection, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1").bind(id_hash).execute(conn).await.map(drop)
}

/// Removes sessions idle since before `idle_before` or started before `started_before`.
pub async fn delete_expired(conn: &mut AnyConnection, idle_before: i64, started_before: i64) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM staff_sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(started_before)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// Notes a failed login for the account and the client (both keyed hashes).
pub async fn record_failure(conn: &mut AnyConnection, account: &str, client: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_failures (account, client, at) VALUES ($1, $2, $3)")
        .bind(account)
        .bind(client)
        .bind(now_ms)
        .execute(conn)
        .await
        .map(drop)
}

/// Failed logins since `since` for the account and for the client.
pub async fn failures_since(
    conn: &mut AnyConnection,
    account: &str,
    client: &str,
    since: i64,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM login_failures WHERE account = $1 AND at >= $3) AS by_account,
                (SELECT COUNT(*) FROM login_failures WHERE client = $2 AND at >= $3) AS by_client",
    )
    .bind(account)
    .bind(client)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("by_account")?, row.try_get("by_client")?))
}

/// A successful login forgets the account's failures; old failures are dropped.
pub async fn clear_failures(conn: &mut AnyConnection, account: &str, older_than: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE account = $1 OR at < $2")
        .bind(account)
        .bind(older_than)
        .execute(conn)
        .await
        .map(drop)
}
