//! Staff sessions and failed logins, kept in the database so they work across processes and on
//! both backends. A session row holds the SHA-256 of the cookie's id (a copy of the table
//! cannot be replayed), the CSRF token of its forms and when it was last used.

use sqlx::{AnyConnection, Row};

use super::store::user_from_row;
use super::StaffError;
use crate::db::Backend;
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

/// Holds back the other login attempts of `account` from `client` until the transaction ends,
/// so attempts sent at once are counted one after another: on PostgreSQL an advisory lock on
/// the pair (its keys are apart from the startup lock's and the cells' two-number keys); on
/// SQLite the attempt's insert takes the one write lock.
pub async fn lock_pair(conn: &mut AnyConnection, backend: Backend, account: &str, client: &str) -> sqlx::Result<()> {
    if backend == Backend::Sqlite {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("login:{account}:{client}"))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a login attempt of `account` from `client` as failed before its password is
/// checked (attempts sent in parallel see each other); its id.
pub async fn record_attempt(conn: &mut AnyConnection, account: &str, client: &str, now_ms: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO login_failures (account, client, at) VALUES ($1, $2, $3) RETURNING id")
        .bind(account)
        .bind(client)
        .bind(now_ms)
        .fetch_one(conn)
        .await
}

/// The failures of `account` from `client` since `since` other than attempt `id`: how many,
/// and when the last was.
pub async fn failures_besides(
    conn: &mut AnyConnection,
    account: &str,
    client: &str,
    since: i64,
    id: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS failures, MAX(at) AS last FROM login_failures
         WHERE account = $1 AND client = $2 AND at >= $3 AND id <> $4",
    )
    .bind(account)
    .bind(client)
    .bind(since)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("failures")?, row.try_get("last")?))
}

/// A successful login forgets the failures of the account from that client; failures older
/// than `older_than` are dropped.
pub async fn clear_failures(
    conn: &mut AnyConnection,
    account: &str,
    client: &str,
    older_than: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE (account = $1 AND client = $2) OR at < $3")
        .bind(account)
        .bind(client)
        .bind(older_than)
        .execute(conn)
        .await
        .map(drop)
}

/// Failed logins per account (by its keyed hash) since `since`, with how many addresses they
/// came from: what admins see of an account under attack.
pub async fn failures_by_account(conn: &mut AnyConnection, since: i64) -> sqlx::Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT account, COUNT(*) AS failures, COUNT(DISTINCT client) AS clients FROM login_failures
         WHERE at >= $1 GROUP BY account",
    )
    .bind(since)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((row.try_get("account")?, row.try_get("failures")?, row.try_get("clients")?))).collect()
}
