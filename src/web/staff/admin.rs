//! The administrators' page: staff accounts and API tokens (managed with `meldeweg user` and
//! `meldeweg token`), jobs that ran out of attempts, and the configuration the service runs
//! with (depots, districts, SLA). Read-only; nothing here shows a citizen's data.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::session::Staff;
use super::views::{depot_choices, district_choices, Choice, Frame};
use super::StaffState;
use crate::config::SlaSettings;
use crate::http::AppError;
use crate::queue::DeadJob;
use crate::staff::access::{self, Operation};
use crate::staff::sessions;
use crate::staff::store::{self as staff, TokenListing};
use crate::staff::StaffUser;
use crate::time::{berlin_date_time, now_ms};

/// An account's failed logins within the login window.
pub struct LoginFailures {
    count: i64,
    addresses: i64,
    attacked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/admin.html")]
pub struct AdminPage {
    frame: Frame,
    /// Each account with its failed logins in the window, from how many addresses, and
    /// whether that is an attack.
    users: Vec<(StaffUser, LoginFailures)>,
    login_window_minutes: u32,
    tokens: Vec<TokenListing>,
    dead: Vec<(DeadJob, String)>,
    depots: Vec<Choice>,
    districts: Vec<Choice>,
    sla: SlaSettings,
}

pub async fn page(State(state): State<Arc<StaffState>>, staff: Staff) -> Result<AdminPage, AppError> {
    access::check(&staff.user.grant(), Operation::Administer, None).map_err(|r| AppError::Forbidden(r.into()))?;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let since = now_ms() - i64::from(state.settings.login_window_minutes) * 60_000;
    let failures = sessions::failures_by_account(&mut conn, since).await?;
    let alert = i64::from(state.settings.login_failures_to_alert);
    let users = staff::list(&mut conn)
        .await?
        .into_iter()
        .map(|user| {
            let key = state.pipeline.vault.lookup_hash("login-account", user.email.as_str());
            let (count, addresses) =
                failures.iter().find(|(account, ..)| *account == key).map_or((0, 0), |(_, n, c)| (*n, *c));
            (user, LoginFailures { count, addresses, attacked: count >= alert })
        })
        .collect();
    let tokens = staff::list_tokens(&mut conn).await?;
    drop(conn);
    let dead = state.pipeline.queue.dead_letters(50).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
    let dead = dead
        .into_iter()
        .map(|job| {
            let at = berlin_date_time(job.dead_at);
            (job, at)
        })
        .collect();
    Ok(AdminPage {
        frame: Frame::new(&state, &staff),
        users,
        login_window_minutes: state.settings.login_window_minutes,
        tokens,
        dead,
        depots: depot_choices(&state),
        districts: district_choices(&state),
        sla: state.pipeline.sla.clone(),
    })
}
