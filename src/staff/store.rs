//! Staff accounts and their API tokens. Passwords arrive here already hashed; tokens only as
//! their SHA-256 hash. Disabling an account ends its sessions and stops its tokens at once.

use sqlx::{AnyConnection, Row};

use crate::staff::{Email, Role, StaffError, StaffUser};

const COLUMNS: &str = "id, email, role, depot, lang, disabled_at";

pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<StaffUser, StaffError> {
    let id: i64 = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    Ok(StaffUser {
        id,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or(StaffError::Corrupt { id, role })?,
        depot: row.try_get("depot")?,
        lang: row.try_get("lang")?,
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub role: Role,
    pub depot: Option<&'a str>,
    pub lang: &'a str,
}

pub async fn insert(conn: &mut AnyConnection, user: NewUser<'_>, now_ms: i64) -> Result<i64, StaffError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM staff_users WHERE email = $1")
        .bind(user.email.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Err(StaffError::Exists(user.email.as_str().to_string()));
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO staff_users (email, password_hash, role, depot, lang, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.email.as_str())
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(user.depot)
    .bind(user.lang)
    .bind(now_ms)
    .fetch_one(conn)
    .await?)
}

/// The account and its password hash, for a login.
pub async fn for_login(conn: &mut AnyConnection, email: &Email) -> Result<Option<(StaffUser, String)>, StaffError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS}, password_hash FROM staff_users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?))).transpose()
}

pub async fn by_email(conn: &mut AnyConnection, email: &Email) -> Result<StaffUser, StaffError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM staff_users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StaffError::NotFound(email.as_str().to_string()))?;
    user_from_row(&row)
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<StaffUser>, StaffError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM staff_users ORDER BY email"))
        .fetch_all(conn)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
}

/// Disables (`true`) or re-enables an account; disabling ends its sessions.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    email: &Email,
    disabled: bool,
    now_ms: i64,
) -> Result<(), StaffError> {
    let user = by_email(&mut *conn, email).await?;
    sqlx::query("UPDATE staff_users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled.then_some(now_ms))
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user.id).execute(conn).await?;
    }
    Ok(())
}

/// Sets a new password and ends the account's sessions.
pub async fn set_password(conn: &mut AnyConnection, email: &Email, password_hash: &str) -> Result<(), StaffError> {
    let user = by_email(&mut *conn, email).await?;
    sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user.id).execute(conn).await?;
    Ok(())
}

/// Records a new API token (by its hash) for the account.
pub async fn insert_token(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    label: &str,
    now_ms: i64,
) -> Result<i64, StaffError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(label)
    .bind(now_ms)
    .fetch_one(conn)
    .await?)
}

/// The enabled account an unrevoked token belongs to; notes the token's use.
pub async fn by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<StaffUser>, StaffError> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.role, u.depot, u.lang, u.disabled_at, t.id AS token_id
         FROM api_tokens t JOIN staff_users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token_id: i64 = row.try_get("token_id")?;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(token_id)
        .execute(conn)
        .await?;
    Ok(Some(user_from_row(&row)?))
}

/// An API token as `meldeweg token list` shows it (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenListing {
    pub id: i64,
    pub email: String,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

pub async fn list_tokens(conn: &mut AnyConnection) -> Result<Vec<TokenListing>, StaffError> {
    let rows = sqlx::query(
        "SELECT t.id, u.email, t.label, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN staff_users u ON u.id = t.user_id ORDER BY t.id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TokenListing {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                label: row.try_get("label")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            })
        })
        .collect()
}

/// Revokes a token; `false` if there is no such unrevoked token.
pub async fn revoke_token(conn: &mut AnyConnection, id: i64, now_ms: i64) -> Result<bool, StaffError> {
    let result = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}
