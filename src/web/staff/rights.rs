//! Data-subject requests by letter or at the counter (PRIVACY P9), for administrators: look a
//! reporter up by the number the request names, print what is stored (Art. 15), and erase it
//! (Art. 17) after confirming the requester's identity was checked. The number is only ever
//! sent in a POST body, never in a URL; the page shows it back only as the staff member typed it.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use meldeweg_workers::conversation::Lang;
use serde::Deserialize;

use super::session::Staff;
use super::views::Frame;
use super::StaffState;
use crate::http::AppError;
use crate::reporters;
use crate::rights::access::{self, Summary};
use crate::rights::erase::{erase_reporter, Erasure};
use crate::rights::RightsError;
use crate::staff::access::{check, Operation};
use crate::time::{berlin_date, now_ms};

/// A report as the page lists it.
pub struct ReportLine {
    pub reference: String,
    pub date: String,
    pub status: String,
    pub place: String,
    pub description: Option<String>,
    pub photos: i64,
}

/// What was found for the number.
pub struct Found {
    pub reporter_id: i64,
    pub first_contact: String,
    pub notice: Option<(String, String)>,
    pub opted_out: Option<String>,
    pub erased: Option<String>,
    pub reports: Vec<ReportLine>,
    pub draft: Option<(Option<String>, usize)>,
    pub received: i64,
    pub sent: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/rights.html")]
pub struct RightsPage {
    frame: Frame,
    number: String,
    error: Option<&'static str>,
    /// Everyone who wrote from the number (usually one).
    found: Vec<Found>,
    erasure: Option<Erasure>,
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    csrf: Option<String>,
    number: Option<String>,
    identity_checked: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    csrf: Option<String>,
    reporter: Option<i64>,
    number: Option<String>,
    identity_checked: Option<String>,
}

pub async fn form(State(state): State<Arc<StaffState>>, staff: Staff) -> Result<RightsPage, AppError> {
    admin_only(&staff)?;
    Ok(page(&state, &staff, String::new()))
}

pub async fn look_up(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Form(form): Form<LookupForm>,
) -> Result<Response, AppError> {
    admin_only(&staff)?;
    staff.check_csrf(form.csrf.as_deref())?;
    let typed = bounded(form.number);
    let mut page = page(&state, &staff, typed.clone());
    // Access goes only to the person concerned (Art. 15, 12(6) DSGVO): checked before anything shows.
    if form.identity_checked.is_none() {
        page.error = Some(page.frame.ui.rights_confirm_missing);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let Some(number) = normalise_number(&typed) else {
        page.error = Some(page.frame.ui.rights_invalid_number);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let reporter_ids = reporters::find_by_phone(&mut conn, &state.pipeline.vault, &number).await?;
    if reporter_ids.is_empty() {
        page.error = Some(page.frame.ui.rights_not_found);
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    }
    let actor = format!("staff:{}", staff.user.id);
    for reporter_id in reporter_ids {
        let summary = access::summary(&mut conn, reporter_id).await.map_err(unavailable)?;
        access::record_given(&mut conn, reporter_id, &actor, &summary, now_ms()).await?;
        page.found.push(found(&state, &staff, reporter_id, &summary));
    }
    Ok(page.into_response())
}

pub async fn erase(
    State(state): State<Arc<StaffState>>,
    staff: Staff,
    Form(form): Form<EraseForm>,
) -> Result<Response, AppError> {
    admin_only(&staff)?;
    staff.check_csrf(form.csrf.as_deref())?;
    let reporter_id = form.reporter.ok_or_else(|| AppError::BadRequest("the form names no reporter".into()))?;
    let typed = bounded(form.number);
    let mut page = page(&state, &staff, typed.clone());
    if form.identity_checked.is_none() {
        page.error = Some(page.frame.ui.rights_confirm_missing);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    // Only a reporter found for the number of the checked request can be erased from here.
    let belongs = match normalise_number(&typed) {
        Some(number) => {
            let mut conn = state.pipeline.db.pool().acquire().await?;
            reporters::find_by_phone(&mut conn, &state.pipeline.vault, &number).await?
        }
        None => Vec::new(),
    };
    if !belongs.contains(&reporter_id) {
        return Err(AppError::BadRequest("this reporter does not belong to the number of the request".into()));
    }
    let actor = format!("staff:{}", staff.user.id);
    let erasure =
        match erase_reporter(&state.pipeline.db, &state.pipeline.photos.store, reporter_id, &actor, now_ms()).await {
            Ok(erasure) => erasure,
            Err(RightsError::UnknownReporter) => return Err(AppError::NotFound("there is no such reporter".into())),
            Err(error) => return Err(unavailable(error)),
        };
    let mut conn = state.pipeline.db.pool().acquire().await?;
    let summary = access::summary(&mut conn, reporter_id).await.map_err(unavailable)?;
    page.found.push(found(&state, &staff, reporter_id, &summary));
    page.erasure = Some(erasure);
    Ok(page.into_response())
}

fn admin_only(staff: &Staff) -> Result<(), AppError> {
    check(&staff.user.grant(), Operation::Administer, None).map_err(|r| AppError::Forbidden(r.into()))
}

fn unavailable(error: RightsError) -> AppError {
    AppError::Unavailable(error.to_string())
}

fn page(state: &StaffState, staff: &Staff, number: String) -> RightsPage {
    RightsPage { frame: Frame::new(state, staff), number, error: None, found: Vec::new(), erasure: None }
}

/// What the staff member typed, cut to a sane length before it is shown again.
fn bounded(number: Option<String>) -> String {
    number.unwrap_or_default().chars().take(40).collect()
}

fn found(state: &StaffState, staff: &Staff, reporter_id: i64, summary: &Summary) -> Found {
    let lang = if staff.user.lang == "en" { Lang::En } else { Lang::De };
    let labels = state.pipeline.texts.status_labels(lang);
    Found {
        reporter_id,
        first_contact: berlin_date(summary.profile.first_contact_ms),
        notice: summary.profile.notice.as_ref().map(|(version, at)| (version.clone(), berlin_date(*at))),
        opted_out: summary.profile.opted_out_at.map(berlin_date),
        erased: summary.profile.erased_at.map(berlin_date),
        reports: summary
            .reports
            .iter()
            .map(|r| ReportLine {
                reference: r.reference.clone(),
                date: berlin_date(r.created_at_ms),
                status: labels.label(r.status).to_string(),
                place: r.place.clone(),
                description: r.description.clone(),
                photos: r.photos,
            })
            .collect(),
        draft: summary.draft.clone(),
        received: summary.profile.messages_received,
        sent: summary.profile.messages_sent,
    }
}

/// The number as WhatsApp sends it (country code and digits, no "+"), from what a letter
/// says: "+49 176 1234567", "0049 176-1234567", "0176 / 1234567" (German numbers without a
/// country code). `None` unless it is 7 to 15 digits with nothing but separators around them.
pub fn normalise_number(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() || !typed.chars().all(|c| c.is_ascii_digit() || " +-/()".contains(c)) {
        return None;
    }
    let plus = typed.starts_with('+');
    // "+49 (0)176 …": the trunk zero in brackets is not dialled after a country code.
    let typed = if plus || typed.starts_with("00") { typed.replacen("(0)", "", 1) } else { typed.to_string() };
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let number = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("49{rest}")
    } else {
        digits
    };
    (7..=15).contains(&number.len()).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::normalise_number;

    #[test]
    fn numbers_from_letters_become_whatsapp_numbers() {
        for typed in [
            "+49 176 1234567",
            "0049 176-1234567",
            "0176 / 1234567",
            "(0176) 1234567",
            "491761234567",
            "+49 (0)176 1234567",
            "0049 (0) 176 1234567",
        ] {
            assert_eq!(normalise_number(typed).as_deref(), Some("491761234567"), "{typed}");
        }
        for bad in ["", "abc", "+49 176 12345678901234", "12345", "0176 1234567; DROP", "<script>"] {
            assert_eq!(normalise_number(bad), None, "{bad}");
        }
    }
}
