//! Staff sessions over HTTP: the session cookie (HttpOnly, SameSite=Lax, Secure behind https),
//! the `Staff` extractor that loads and checks it (idle timeout, absolute lifetime) for every
//! staff page, and the CSRF check every state-changing form goes through; and the staff member
//! of an API token (`token_user`), for the JSON API and the photos it links to.
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, as for tokens.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use super::StaffState;
use crate::http::AppError;
use crate::pipeline::Pipeline;
use crate::secrets;
use crate::staff::sessions;
use crate::staff::store as staff_store;
use crate::staff::StaffUser;
use crate::time::now_ms;

pub const SESSION_COOKIE: &str = "meldeweg_session";
/// Only write `last_seen_at` when it is older than this, so reading pages does not write.
const TOUCH_AFTER_MS: i64 = 30_000;

/// A value of the Cookie header.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_of(&parts.headers, name)
}

/// A value of the Cookie header among `headers`.
pub fn cookie_of(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A Set-Cookie header for `name`; `None` clears it.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> (axum::http::HeaderName, HeaderValue) {
    let secure = if secure { "; Secure" } else { "" };
    let text = match value {
        Some(value) => format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    (SET_COOKIE, HeaderValue::from_str(&text).expect("cookie values are URL-safe base64"))
}

/// A logged-in staff member and their session's CSRF token.
pub struct Staff {
    pub user: StaffUser,
    pub csrf: String,
    pub session_hash: String,
}

impl Staff {
    /// Refuses a state-changing request whose form did not carry this session's CSRF token.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), AppError> {
        match token {
            Some(token) if secrets::same(token, &self.csrf) => Ok(()),
            _ => Err(AppError::Forbidden(
                "Das Formular ist abgelaufen oder kam nicht von dieser Seite; bitte die Seite neu laden und noch einmal versuchen.".into(),
            )),
        }
    }
}

/// Why there is no staff member: the browser goes to the login page.
pub enum NotLoggedIn {
    Missing,
    Expired,
    Unavailable(AppError),
}

impl From<AppError> for NotLoggedIn {
    fn from(error: AppError) -> Self {
        NotLoggedIn::Unavailable(error)
    }
}

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        match self {
            NotLoggedIn::Missing => Redirect::to("/staff/login").into_response(),
            NotLoggedIn::Expired => Redirect::to("/staff/login?expired=1").into_response(),
            NotLoggedIn::Unavailable(error) => error.into_response(),
        }
    }
}

impl FromRequestParts<Arc<StaffState>> for Staff {
    type Rejection = NotLoggedIn;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<StaffState>) -> Result<Self, Self::Rejection> {
        let token = cookie(parts, SESSION_COOKIE).ok_or(NotLoggedIn::Missing)?;
        let session_hash = secrets::stored_hash(&token);
        let mut conn = state.pipeline.db.pool().acquire().await.map_err(AppError::from)?;
        let session = sessions::load(&mut conn, &session_hash).await.map_err(AppError::from)?;
        let session = session.ok_or(NotLoggedIn::Expired)?;
        let now = now_ms();
        let idle_ms = i64::from(state.settings.session_idle_minutes) * 60_000;
        let max_ms = i64::from(state.settings.session_max_hours) * 3_600_000;
        if now - session.last_seen_at > idle_ms || now - session.created_at > max_ms {
            sessions::delete(&mut conn, &session_hash).await.map_err(AppError::from)?;
            return Err(NotLoggedIn::Expired);
        }
        if now - session.last_seen_at > TOUCH_AFTER_MS {
            sessions::touch(&mut conn, &session_hash, now).await.map_err(AppError::from)?;
        }
        Ok(Staff { user: session.user, csrf: session.csrf_token, session_hash })
    }
}

/// The staff member whose API token the request carries (`Authorization: Bearer`); 401 when
/// there is none or it is not valid.
pub async fn token_user(pipeline: &Pipeline, headers: &HeaderMap) -> Result<StaffUser, AppError> {
    let token = crate::http::bearer_token(headers).ok_or_else(|| {
        AppError::Unauthorized("send an API token as `Authorization: Bearer <token>` (meldeweg token create)".into())
    })?;
    let mut conn = pipeline.db.pool().acquire().await?;
    let user = staff_store::by_token(&mut conn, &secrets::stored_hash(token), now_ms())
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    user.ok_or_else(|| AppError::Unauthorized("the API token is unknown, revoked, or its account is disabled".into()))
}
