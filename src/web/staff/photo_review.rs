//! Checking one photo before the public sees it (issue 22): the cleaned original and the public
//! copy (faces and plates obscured) side by side, what was found, and, for those allowed to
//! moderate (`Operation::ModeratePhotos`), approve / hide / show again and "obscure this area
//! too" (drag on the photo with a finger or the mouse, or type the rectangle's numbers). Every
//! action needs a reason and becomes an audit-chain event.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use meldeweg_workers::bystanders::Kind;
use serde::Deserialize;

use super::session::Staff;
use super::views::Frame;
use super::StaffState;
use crate::http::AppError;
use crate::orders::board::{self as order_board, OrderDetail};
use crate::public_copies::moderation::{self, Decider, Decision, Refused};
use crate::public_copies::{self, PublicCopy, State as CopyState};
use crate::staff::access::{self, Operation};
use crate::time::now_ms;

#[derive(Template, WebTemplate)]
#[template(path = "staff/photo_review.html")]
struct ReviewPage {
    frame: Frame,
    number: String,
    token: String,
    state: &'static str,
    state_label: &'static str,
    faces: usize,
    plates: usize,
    drawn: usize,
    failure: Option<String>,
    has_copy: bool,
    can_moderate: bool,
    can_publish: bool,
    can_hide: bool,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    ok: Option<String>,
}

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: Option<String>,
    action: String,
    reason: Option<String>,
    x: Option<String>,
    y: Option<String>,
    width: Option<String>,
    height: Option<String>,
}

pub async fn show(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path((number, token)): Path<(String, String)>,
    Query(query): Query<ReviewQuery>,
) -> Result<Response, AppError> {
    Ok(page(&state, &staff, &number, &token, query.ok.is_some(), None).await?.into_response())
}

pub async fn act(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path((number, token)): Path<(String, String)>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, AppError> {
    staff.check_csrf(form.csrf.as_deref())?;
    let (detail, _) = order_and_photo(&state, &staff, &number, &token).await?;
    access::check(&staff.user.grant(), Operation::ModeratePhotos, Some(&detail.row.depot))
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    let reason = meldeweg_workers::text::clean(form.reason.as_deref().unwrap_or_default());
    let actor = format!("staff:{}", staff.user.id);
    let by = Decider { actor: &actor, reason: &reason, order_id: Some(detail.id) };
    let result = match form.action.as_str() {
        "publish" => decide(&state, &token, Decision::Publish, &by).await,
        "hide" => decide(&state, &token, Decision::Hide, &by).await,
        "obscure" => obscure(&state, &token, &form, &by).await,
        _ => return Err(AppError::BadRequest("Unbekannte Aktion.".into())),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/staff/orders/{number}/photos/{token}?ok=1")).into_response()),
        Err(ActError::Refused(Refused::Sql(error))) => Err(error.into()),
        Err(ActError::Refused(refused)) => {
            let page = page(&state, &staff, &number, &token, false, Some(refused.to_string())).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(ActError::App(error)) => Err(error),
    }
}

enum ActError {
    Refused(Refused),
    App(AppError),
}

impl From<Refused> for ActError {
    fn from(refused: Refused) -> Self {
        ActError::Refused(refused)
    }
}

impl From<sqlx::Error> for ActError {
    fn from(error: sqlx::Error) -> Self {
        ActError::App(error.into())
    }
}

async fn decide(state: &StaffState, token: &str, decision: Decision, by: &Decider<'_>) -> Result<(), ActError> {
    let mut tx = state.pipeline.db.begin().await?;
    moderation::decide(tx.conn(), token, decision, by, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Times a drawn rectangle is tried again when another staff member changed the same photo
/// meanwhile.
const DRAW_ATTEMPTS: usize = 3;

/// Adds the rectangle and renders the public copy again from the cleaned photo and every
/// recorded region. The copy is rendered before the transaction (it takes a while) and
/// written inside it, after the rectangle is recorded, so the file always has at least the
/// regions recorded; if someone else changed the photo's regions meanwhile, it starts again
/// from theirs.
async fn obscure(state: &StaffState, token: &str, form: &ReviewForm, by: &Decider<'_>) -> Result<(), ActError> {
    let number = |field: &Option<String>| field.as_deref().and_then(|v| v.trim().parse::<f64>().ok());
    let (Some(x), Some(y), Some(width), Some(height)) =
        (number(&form.x), number(&form.y), number(&form.width), number(&form.height))
    else {
        return Err(Refused::Outside.into());
    };
    if [x, y, width, height].iter().any(|v| !v.is_finite() || *v < 0.0 || *v > 100_000.0) {
        return Err(Refused::Outside.into());
    }
    let area = (x as u32, y as u32, width as u32, height as u32);
    let photos = &state.pipeline.photos;
    let unavailable = |e: String| ActError::App(AppError::Unavailable(e));
    let Some(pixels) = photos.stored_pixels(token).await.map_err(unavailable)? else {
        return Err(Refused::Unknown.into());
    };
    let pixels = Arc::new(pixels);
    for _ in 0..DRAW_ATTEMPTS {
        let copy = {
            let mut conn = state.pipeline.db.pool().acquire().await?;
            public_copies::of_token(&mut conn, token).await?.ok_or(Refused::Unknown)?
        };
        let region = moderation::drawn_region(&copy, area, pixels.dimensions())?;
        let mut regions = copy.regions.clone();
        regions.push(region);
        let rendered = photos.render_copy(pixels.clone(), regions).await.map_err(unavailable)?;
        let mut tx = state.pipeline.db.begin().await?;
        match moderation::add_region(tx.conn(), &copy, region, by, now_ms()).await {
            Ok(()) => {}
            Err(Refused::Changed) => continue,
            Err(refused) => return Err(refused.into()),
        }
        photos.store_public(token, &rendered).await.map_err(|e| unavailable(e.to_string()))?;
        tx.commit().await?;
        return Ok(());
    }
    Err(Refused::Changed.into())
}

/// The order (which the staff member may see) and the public copy of its photo `token`.
async fn order_and_photo(
    state: &StaffState,
    staff: &Staff,
    number: &str,
    token: &str,
) -> Result<(OrderDetail, PublicCopy), AppError> {
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let detail = order_board::detail(&mut conn, number, now_ms())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Den Auftrag {number} gibt es nicht.")))?;
    access::check(&staff.user.grant(), Operation::View, Some(&detail.row.depot))
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    let not_here = || AppError::NotFound("Dieses Foto gehört nicht zu diesem Auftrag.".into());
    if !detail.has_photo(token) {
        return Err(not_here());
    }
    let copy = public_copies::of_token(&mut conn, token).await?.ok_or_else(not_here)?;
    Ok((detail, copy))
}

async fn page(
    state: &StaffState,
    staff: &Staff,
    number: &str,
    token: &str,
    saved: bool,
    error: Option<String>,
) -> Result<ReviewPage, AppError> {
    let (detail, copy) = order_and_photo(state, staff, number, token).await?;
    let frame = Frame::new(state, staff);
    let ui = frame.ui;
    let can_moderate = access::check(&staff.user.grant(), Operation::ModeratePhotos, Some(&detail.row.depot)).is_ok();
    Ok(ReviewPage {
        number: detail.row.number.clone(),
        token: token.to_string(),
        state: copy.state.as_str(),
        state_label: ui.photo_state(copy.state),
        faces: copy.count(Kind::Face),
        plates: copy.count(Kind::Plate),
        drawn: copy.count(Kind::Manual),
        failure: copy.failure.clone(),
        has_copy: copy.checked,
        can_moderate,
        can_publish: copy.state == CopyState::Waiting || (copy.state == CopyState::Hidden && copy.checked),
        can_hide: copy.state != CopyState::Hidden,
        frame,
        saved,
        error,
    })
}
