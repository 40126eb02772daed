//! Logging in and out. Each address has an allowance of attempts (charged in the database before
//! the password is hashed, never given back); after a few failures of one account from one
//! address, each further attempt from there waits longer (5 s, doubling). An account is never
//! locked for everyone: its owner logs in from their own address while someone else guesses,
//! and admins see the account as under attack. Unknown addresses and wrong passwords get the
//! same answer and take the same time. The login form itself is protected
//! against cross-site posting by a double-submit cookie.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::session::{cookie, set_cookie, Staff, SESSION_COOKIE};
use super::ui::{Ui, DE};
use super::StaffState;
use crate::http::client;
use crate::http::AppError;
use crate::rate_limit::{self, Limit};
use crate::secrets;
use crate::staff::{password, Email, StaffUser};
use crate::staff::{sessions, store as staff};
use crate::time::now_ms;

const LOGIN_COOKIE: &str = "meldeweg_login";

#[derive(Template, WebTemplate)]
#[template(path = "staff/login.html")]
struct LoginPage {
    ui: &'static Ui,
    municipality: String,
    csrf: String,
    email: String,
    message: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

pub async fn form(State(state): State<Arc<StaffState>>, Query(query): Query<LoginQuery>) -> Response {
    let csrf = secrets::random_token();
    let page = LoginPage {
        ui: &DE,
        municipality: state.municipality.clone(),
        csrf: csrf.clone(),
        email: String::new(),
        message: query.expired.map(|_| DE.session_expired),
        error: None,
    };
    ([set_cookie(LOGIN_COOKIE, Some(&csrf), state.secure_cookies)], page).into_response()
}

#[derive(Deserialize)]
pub struct Credentials {
    email: Option<String>,
    password: Option<String>,
    csrf: Option<String>,
}

/// A refused login is the form again with the reason (and its status); only trouble with the
/// database is an error.
pub async fn submit(
    State(state): State<Arc<StaffState>>,
    parts: Parts,
    Form(form): Form<Credentials>,
) -> Result<Response, AppError> {
    let email = form.email.clone().unwrap_or_default();
    let token = match log_in(&state, &parts, form).await? {
        Ok(token) => token,
        Err(Refusal(status, reason)) => {
            let csrf = secrets::random_token();
            let page = LoginPage {
                ui: &DE,
                municipality: state.municipality.clone(),
                csrf: csrf.clone(),
                email: email.chars().take(254).collect(),
                message: None,
                error: Some(reason),
            };
            return Ok((status, [set_cookie(LOGIN_COOKIE, Some(&csrf), state.secure_cookies)], page).into_response());
        }
    };
    Ok((
        AppendHeaders([
            set_cookie(SESSION_COOKIE, Some(&token), state.secure_cookies),
            set_cookie(LOGIN_COOKIE, None, state.secure_cookies),
        ]),
        Redirect::to("/staff/orders"),
    )
        .into_response())
}

/// Why a login is refused: the status and what the page says.
struct Refusal(StatusCode, String);

/// Checks the form, the limits and the password, and starts a session: its token, or why not.
async fn log_in(state: &StaffState, parts: &Parts, form: Credentials) -> Result<Result<String, Refusal>, AppError> {
    match (cookie(parts, LOGIN_COOKIE), form.csrf) {
        (Some(expected), Some(sent)) if secrets::same(&expected, &sent) => {}
        _ => {
            let reason = "Das Formular ist abgelaufen. Bitte noch einmal anmelden.";
            return Ok(Err(Refusal(StatusCode::FORBIDDEN, reason.into())));
        }
    }
    let Ok(email) = Email::parse(&form.email.unwrap_or_default()) else {
        return Ok(Err(Refusal(StatusCode::BAD_REQUEST, "Bitte eine E-Mail-Adresse eingeben.".into())));
    };
    let vault = &state.pipeline.vault;
    let account_key = vault.lookup_hash("login-account", email.as_str());
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let address = client::connection_of(&client::address(peer, &parts.headers, &state.trusted_proxies));
    let client_key = vault.lookup_hash("login-client", &address);
    let now = now_ms();
    let settings = &state.settings;
    let window_ms = i64::from(settings.login_window_minutes) * 60_000;
    let db = &state.pipeline.db;
    let mut conn = db.pool().acquire().await?;
    // The address's allowance is charged before anything else and never given back.
    let allowance = Limit { max: settings.login_max_attempts_per_client, window_ms };
    if !rate_limit::charge(&mut conn, &format!("login-client:{client_key}"), allowance, now).await? {
        tracing::warn!("login refused: too many attempts from one address");
        let minutes = settings.login_window_minutes;
        let reason = format!(
            "Zu viele Anmeldeversuche von diesem Anschluss. Bitte warten Sie {minutes} Minuten oder wenden Sie sich an die Verwaltung."
        );
        return Ok(Err(Refusal(StatusCode::TOO_MANY_REQUESTS, reason)));
    }
    drop(conn);
    // Counted as failed before the password is checked, under the pair's lock, so attempts
    // sent at once see each other; a success clears the account's failures from this address
    // below.
    let mut tx = db.begin().await?;
    sessions::lock_pair(tx.conn(), db.backend(), &account_key, &client_key).await?;
    let attempt = sessions::record_attempt(tx.conn(), &account_key, &client_key, now).await?;
    let (failures, last) =
        sessions::failures_besides(tx.conn(), &account_key, &client_key, now - window_ms, attempt).await?;
    let wait_ms = last.map_or(0, |last| last + delay_ms(failures, settings.login_free_failures, window_ms) - now);
    if wait_ms > 0 {
        // Turned away before any work: the attempt is rolled back and does not make the wait
        // longer.
        drop(tx);
        let seconds = (wait_ms + 999) / 1000;
        let reason = format!(
            "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {seconds} Sekunden, bevor Sie es noch einmal versuchen."
        );
        return Ok(Err(Refusal(StatusCode::TOO_MANY_REQUESTS, reason)));
    }
    let found = staff::for_login(tx.conn(), &email).await?;
    tx.commit().await?;
    let stored = found.as_ref().map(|(_, hash)| hash.clone()).unwrap_or_else(|| password::decoy().to_string());
    let matches = match check_password(state, form.password.unwrap_or_default(), stored).await {
        Ok(matches) => matches,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let user = match found {
        Some((user, _)) if matches && !user.disabled => user,
        _ => {
            tracing::info!("login failed");
            let reason = "E-Mail-Adresse oder Passwort stimmen nicht (oder das Konto ist gesperrt).";
            return Ok(Err(Refusal(StatusCode::UNAUTHORIZED, reason.into())));
        }
    };
    let mut conn = state.pipeline.db.pool().acquire().await?;
    sessions::clear_failures(&mut conn, &account_key, &client_key, now - window_ms).await?;
    Ok(Ok(start_session(state, &mut conn, &user, now).await?))
}

/// How long after its last failure the next attempt of an account from one address waits:
/// nothing for the first `free` failures, then 5 s, doubling with each failure, at most the
/// window.
fn delay_ms(failures: i64, free: u32, window_ms: i64) -> i64 {
    let over = failures - i64::from(free);
    if over < 0 {
        return 0;
    }
    let doublings = u32::try_from(over).unwrap_or(u32::MAX).min(20);
    (5_000_i64 << doublings).min(window_ms)
}

/// Whether `password` matches the stored hash. Each check takes ~19 MiB and a core for a
/// moment: only a few run at once, and a login that waits too long is asked to come back.
async fn check_password(state: &StaffState, password: String, stored: String) -> Result<bool, Refusal> {
    let waiting = tokio::time::timeout(Duration::from_secs(10), state.password_checks.clone().acquire_owned());
    let Ok(Ok(permit)) = waiting.await else {
        let reason = "Die Anmeldung ist gerade überlastet. Bitte in einer Minute noch einmal versuchen.";
        return Err(Refusal(StatusCode::SERVICE_UNAVAILABLE, reason.into()));
    };
    let verified = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password::verify(&password, &stored)
    });
    Ok(verified.await.unwrap_or(false))
}

/// A new session for `user` (and expired ones gone); returns its token for the cookie.
async fn start_session(
    state: &StaffState,
    conn: &mut sqlx::AnyConnection,
    user: &StaffUser,
    now: i64,
) -> Result<String, AppError> {
    let token = secrets::random_token();
    let csrf = secrets::random_token();
    sessions::insert(conn, &secrets::stored_hash(&token), user.id, &csrf, now).await?;
    let idle_before = now - i64::from(state.settings.session_idle_minutes) * 60_000;
    let started_before = now - i64::from(state.settings.session_max_hours) * 3_600_000;
    sessions::delete_expired(conn, idle_before, started_before).await?;
    tracing::info!(user = user.id, role = user.role.as_str(), "staff login");
    Ok(token)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn logout(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    staff.check_csrf(form.csrf.as_deref())?;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    sessions::delete(&mut conn, &staff.session_hash).await?;
    Ok(([set_cookie(SESSION_COOKIE, None, state.secure_cookies)], Redirect::to("/staff/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::delay_ms;

    #[test]
    fn the_wait_grows_after_the_free_failures_and_stops_at_the_window() {
        let window = 15 * 60_000;
        assert_eq!(delay_ms(0, 3, window), 0);
        assert_eq!(delay_ms(2, 3, window), 0);
        assert_eq!(delay_ms(3, 3, window), 5_000);
        assert_eq!(delay_ms(4, 3, window), 10_000);
        assert_eq!(delay_ms(7, 3, window), 80_000);
        assert_eq!(delay_ms(40, 3, window), window);
    }
}
