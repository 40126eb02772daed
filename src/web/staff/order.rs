//! One work order: everything the crew needs on one phone screen (photos, map pin, address,
//! category, priority, the citizens' words, history) and big buttons for what comes next.
//! Each action is a plain form post (no JavaScript needed) that ends on the order again, with
//! the reason on the page when it was refused.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use meldeweg_workers::category::Category;
use meldeweg_workers::conversation::PhotoProblem;
use serde::Deserialize;

use super::orders::{PrintPage, Sheet};
use super::session::Staff;
use super::ui::Ui;
use super::views::{category_choices, depot_choices, Choice, Frame, OrderView};
use super::StaffState;
use crate::http::uploads::UploadError;
use crate::http::AppError;
use crate::orders::board::{self as order_board, OrderDetail};
use crate::orders::lifecycle::Command;
use crate::pipeline::photo::{PhotoOutcome, RecordError};
use crate::pipeline::updates;
use crate::public_copies::{self, State as CopyState};
use crate::staff::access::{self, Operation};
use crate::time::{berlin_date_time, now_ms};
use meldeweg_workers::status::{OrderStatus, Transition};

/// A history line as shown.
pub struct HistoryLine {
    pub at: String,
    pub what: &'static str,
    pub who: String,
    pub detail: String,
}

pub struct ReportView {
    pub reference: String,
    pub created: String,
    pub description: Option<String>,
    pub shared_place: Option<String>,
    pub category: String,
    pub category_id: String,
    pub photos: Vec<PhotoView>,
}

/// A photo on the order page: where staff fetch it, its review page and its public state.
pub struct PhotoView {
    pub path: String,
    pub token: String,
    pub state: &'static str,
    pub state_label: &'static str,
}

impl PhotoView {
    async fn of_path(conn: &mut sqlx::AnyConnection, ui: &Ui, path: &str) -> Result<PhotoView, AppError> {
        let token = path.rsplit('/').next().unwrap_or_default().to_string();
        let state = public_copies::state_of(conn, &token).await?.unwrap_or(CopyState::Checking);
        Ok(PhotoView { path: path.to_string(), token, state: state.as_str(), state_label: ui.photo_state(state) })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/order.html")]
struct OrderPage {
    frame: Frame,
    order: OrderView,
    detail: OrderDetail,
    reports: Vec<ReportView>,
    after_photo: Option<PhotoView>,
    history: Vec<HistoryLine>,
    transitions: Vec<(&'static str, &'static str)>,
    can_done: bool,
    can_reject: bool,
    can_forward: bool,
    can_comment: bool,
    can_reroute: bool,
    can_merge: bool,
    can_recategorise: bool,
    depots: Vec<Choice>,
    categories: Vec<Choice>,
    /// The order as a marker for the map script.
    marker: String,
    tile_url: String,
    tile_attribution: String,
    saved: bool,
    error: Option<String>,
}

async fn page(
    state: &StaffState,
    staff: &Staff,
    number: &str,
    saved: bool,
    error: Option<String>,
) -> Result<OrderPage, AppError> {
    let frame = Frame::new(state, staff);
    let ui = frame.ui;
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let detail = order_board::detail(&mut conn, number, now_ms())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Den Auftrag {number} gibt es nicht.")))?;
    let grant = staff.user.grant();
    let allowed = |operation| access::check(&grant, operation, Some(&detail.row.depot)).is_ok();
    if !allowed(Operation::View) {
        return Err(AppError::Forbidden("Dieser Auftrag gehört zu einem anderen Betriebshof.".into()));
    }
    let status = OrderStatus::parse(&detail.row.status).unwrap_or(OrderStatus::Merged);
    let possible: Vec<Transition> =
        Transition::possible(status).filter(|t| allowed(Operation::Transition(*t))).collect();
    let can_done = possible.contains(&Transition::Done);
    let can_reject = possible.contains(&Transition::Reject);
    let can_forward = possible.contains(&Transition::Forward);
    let transitions = possible
        .into_iter()
        .filter(|t| !matches!(t, Transition::Done | Transition::Reject | Transition::Forward))
        .map(|t| (t.as_str(), ui.transition(t.as_str())))
        .collect();
    let categories = state.pipeline.municipality.town.classifier.categories();
    let mut reports = Vec::with_capacity(detail.reports.len());
    for r in &detail.reports {
        let mut photos = Vec::with_capacity(r.photos.len());
        for path in &r.photos {
            photos.push(PhotoView::of_path(&mut conn, ui, path).await?);
        }
        reports.push(ReportView {
            reference: r.reference.clone(),
            created: berlin_date_time(r.created_at),
            description: r.description.clone(),
            shared_place: r.location_label.clone(),
            category: ui.category(categories, r.category.as_deref().unwrap_or_default()).to_string(),
            category_id: r.category.clone().unwrap_or_default(),
            photos,
        });
    }
    let after_photo = match &detail.after_photo {
        Some(path) => Some(PhotoView::of_path(&mut conn, ui, path).await?),
        None => None,
    };
    let history = detail.history.iter().map(|e| history_line(ui, e)).collect();
    let order = OrderView::new(&detail.row, ui, state);
    let marker = serde_json::to_string(&[&order]).map_err(|e| AppError::Unavailable(e.to_string()))?;
    Ok(OrderPage {
        order,
        marker,
        reports,
        after_photo,
        history,
        transitions,
        can_done,
        can_reject,
        can_forward,
        can_comment: allowed(Operation::Comment),
        can_reroute: status.is_active() && allowed(Operation::Reroute),
        can_merge: status.is_active() && allowed(Operation::Merge),
        can_recategorise: allowed(Operation::Recategorise),
        depots: depot_choices(state),
        categories: category_choices(&state.pipeline.municipality, ui),
        tile_url: state.map.tile_url.clone(),
        tile_attribution: state.map.tile_attribution.clone(),
        detail,
        frame,
        saved,
        error,
    })
}

fn history_line(ui: &Ui, event: &crate::orders::events::Event) -> HistoryLine {
    let mut detail = event.detail.clone().unwrap_or_default();
    if let Some(report) = &event.report {
        detail = if detail.is_empty() { report.clone() } else { format!("{report}: {detail}") };
    }
    HistoryLine {
        at: berlin_date_time(event.at),
        what: ui.event(&event.kind),
        who: event.actor.clone().unwrap_or_else(|| ui.system.to_string()),
        detail,
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    ok: Option<String>,
}

pub async fn show(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, AppError> {
    Ok(page(&state, &staff, &number, query.ok.is_some(), None).await?.into_response())
}

pub async fn print(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<PrintPage, AppError> {
    let frame = Frame::new(&state, &staff);
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let detail = order_board::detail(&mut conn, &number, now_ms())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Den Auftrag {number} gibt es nicht.")))?;
    access::check(&staff.user.grant(), Operation::View, Some(&detail.row.depot))
        .map_err(|reason| AppError::Forbidden(reason.into()))?;
    let sheet = Sheet::new(&state, frame.ui, detail);
    Ok(PrintPage { frame, sheets: vec![sheet] })
}

/// After an action: back to the order, or the order with the reason it was refused.
async fn answer(state: &StaffState, staff: &Staff, number: &str, result: Result<(), AppError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/staff/orders/{number}?ok=1#top")).into_response(),
        Err(error @ (AppError::Unavailable(_) | AppError::NotFound(_))) => error.into_response(),
        Err(error) => {
            let status = error.status();
            match page(state, staff, number, false, Some(error.to_string())).await {
                Ok(page) => (status, page).into_response(),
                Err(_) => error.into_response(),
            }
        }
    }
}

async fn run(
    state: &StaffState,
    staff: &Staff,
    number: &str,
    csrf: Option<&str>,
    command: Command,
) -> Result<(), AppError> {
    staff.check_csrf(csrf)?;
    Ok(updates::perform(&state.pipeline, &staff.user, number, command, now_ms()).await?)
}

#[derive(Deserialize)]
pub struct TransitionForm {
    csrf: Option<String>,
    transition: Option<String>,
    note: Option<String>,
}

pub async fn transition(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Form(form): Form<TransitionForm>,
) -> Response {
    let result = match form.transition.as_deref().and_then(Transition::parse) {
        None => Err(AppError::BadRequest("Bitte eine Aktion wählen.".into())),
        Some(transition) => {
            let command = Command::Transition { transition, note: form.note, after_photo: None };
            run(&state, &staff, &number, form.csrf.as_deref(), command).await
        }
    };
    answer(&state, &staff, &number, result).await
}

/// "Done", with an optional after-photo in the same form (multipart).
pub async fn done(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    multipart: Multipart,
) -> Response {
    let result = mark_done(&state, &staff, &number, multipart).await;
    answer(&state, &staff, &number, result).await
}

async fn mark_done(state: &StaffState, staff: &Staff, number: &str, mut multipart: Multipart) -> Result<(), AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge("Das Foto ist zu groß.".into()),
        _ => AppError::BadRequest("Das Formular kam unvollständig an. Bitte noch einmal absenden.".into()),
    };
    // The form's token comes first (as the page sends it) and is checked before the photo is
    // read: a forged upload costs us a few bytes, not megabytes.
    let csrf = match multipart.next_field().await.map_err(bad)? {
        Some(mut field) if field.name() == Some("csrf") => {
            let token = state.uploads.read(&mut field, MAX_TOKEN_BYTES).await.ok();
            token.map(|token| String::from_utf8_lossy(&token.bytes).into_owned())
        }
        _ => None,
    };
    staff.check_csrf(csrf.as_deref())?;
    let done = Command::Transition { transition: Transition::Done, note: None, after_photo: None };
    updates::permitted(&state.pipeline, &staff.user, number, &done).await?;
    let mut photo = None;
    let max = state.pipeline.photos.limits.max_input_bytes;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("photo") {
            let upload = state.uploads.read(&mut field, max).await.map_err(|error| match error {
                UploadError::TooLarge(_) => AppError::TooLarge("Das Foto ist zu groß.".into()),
                UploadError::Busy => AppError::Unavailable("too many uploads at once".into()),
                UploadError::Unreadable(_) => {
                    AppError::BadRequest("Das Formular kam unvollständig an. Bitte noch einmal absenden.".into())
                }
            })?;
            photo = (!upload.bytes.is_empty()).then_some(upload);
        }
    }
    let after_photo = match photo {
        None => None,
        Some(upload) => match state.pipeline.photos.clean_upload(upload.bytes.clone()).await {
            Ok(PhotoOutcome::Stored(stored)) => {
                let mut tx = state.pipeline.db.begin().await?;
                let unavailable = |error: RecordError| AppError::Unavailable(error.to_string());
                state.pipeline.photos.record_copy(tx.conn(), &stored, now_ms()).await.map_err(unavailable)?;
                tx.commit().await?;
                Some(stored.token)
            }
            Ok(PhotoOutcome::Refused(PhotoProblem::TooLarge)) => {
                return Err(AppError::BadRequest(
                    "Das Foto ist zu groß; bitte mit kleinerer Auflösung aufnehmen.".into(),
                ))
            }
            Ok(PhotoOutcome::Refused(_)) => {
                return Err(AppError::BadRequest(
                    "Das Foto kann nicht gelesen werden; bitte JPEG, PNG oder WebP verwenden.".into(),
                ))
            }
            Err(error) => return Err(AppError::Unavailable(format!("{error:?}"))),
        },
    };
    let command = Command::Transition { transition: Transition::Done, note: None, after_photo };
    Ok(updates::perform(&state.pipeline, &staff.user, number, command, now_ms()).await?)
}

/// Longest form token read from a multipart form; a longer field is not read on.
const MAX_TOKEN_BYTES: usize = 256;

#[derive(Deserialize)]
pub struct TextForm {
    csrf: Option<String>,
    text: Option<String>,
}

pub async fn comment(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Form(form): Form<TextForm>,
) -> Response {
    let command = Command::Comment(form.text.unwrap_or_default());
    let result = run(&state, &staff, &number, form.csrf.as_deref(), command).await;
    answer(&state, &staff, &number, result).await
}

pub async fn reroute(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Form(form): Form<TextForm>,
) -> Response {
    let command = Command::Reroute { depot: form.text.unwrap_or_default() };
    let result = run(&state, &staff, &number, form.csrf.as_deref(), command).await;
    answer(&state, &staff, &number, result).await
}

pub async fn merge(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Form(form): Form<TextForm>,
) -> Response {
    let into = form.text.unwrap_or_default().trim().to_uppercase();
    let result = run(&state, &staff, &number, form.csrf.as_deref(), Command::Merge { into: into.clone() }).await;
    match result {
        Ok(()) => Redirect::to(&format!("/staff/orders/{into}?ok=1")).into_response(),
        Err(error) => answer(&state, &staff, &number, Err(error)).await,
    }
}

#[derive(Deserialize)]
pub struct RecategoriseForm {
    csrf: Option<String>,
    reference: Option<String>,
    category: Option<String>,
}

pub async fn recategorise(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Path(number): Path<String>,
    Form(form): Form<RecategoriseForm>,
) -> Response {
    let result = match form.category.as_deref().and_then(Category::from_id) {
        None => Err(AppError::BadRequest("Bitte eine Kategorie wählen.".into())),
        Some(category) => {
            let command = Command::Recategorise { reference: form.reference.unwrap_or_default(), category };
            run(&state, &staff, &number, form.csrf.as_deref(), command).await
        }
    };
    answer(&state, &staff, &number, result).await
}
