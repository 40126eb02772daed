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
use crate::staff::store::{self as staff, TokenListing};
use crate::staff::StaffUser;
use crate::time::berlin_date_time;

#[derive(Template, WebTemplate)]
#[template(path = "staff/admin.html")]
pub struct AdminPage {
    frame: Frame,
    users: Vec<StaffUser>,
    tokens: Vec<TokenListing>,
    dead: Vec<(DeadJob, String)>,
    depots: Vec<Choice>,
    districts: Vec<Choice>,
    sla: SlaSettings,
}

pub async fn page(State(state): State<Arc<StaffState>>, staff: Staff) -> Result<AdminPage, AppError> {
    access::check(&staff.user.grant(), Operation::Administer, None).map_err(|r| AppError::Forbidden(r.into()))?;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let users = staff::list(&mut conn).await?;
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
        tokens,
        dead,
        depots: depot_choices(&state),
        districts: district_choices(&state),
        sla: state.pipeline.sla.clone(),
    })
}
