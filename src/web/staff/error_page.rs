//! Refusals as pages: a browser that asked a staff page for something unknown, forbidden or
//! malformed gets an HTML page in the staff member's language that says what happened, with a
//! search and the way back to the order list, instead of the JSON the API answers. Unknown
//! addresses under /staff get the same page. API clients (which do not ask for HTML) keep the
//! JSON answer.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::session::SESSION_COOKIE;
use super::ui::{self, Ui};
use super::StaffState;
use crate::http::AppError;
use crate::secrets;
use crate::staff::sessions;

#[derive(Template)]
#[template(path = "staff/error.html")]
struct ErrorPage {
    ui: &'static Ui,
    municipality: String,
    status: u16,
    heading: &'static str,
    text: &'static str,
    logged_in: bool,
}

/// Any address under /staff that is not a page.
pub async fn unknown() -> AppError {
    AppError::NotFound("no such staff page".into())
}

fn asks_for_html(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The language of the staff member whose session cookie came with the request, if any.
async fn session_lang(state: &StaffState, cookie: Option<String>) -> Option<String> {
    let hash = secrets::stored_hash(&cookie?);
    let mut conn = state.pipeline.db.pool().acquire().await.ok()?;
    let session = sessions::load(&mut conn, &hash).await.ok()??;
    Some(session.user.lang)
}

pub async fn as_pages(State(state): State<Arc<StaffState>>, request: Request, next: Next) -> Response {
    if !asks_for_html(&request) {
        return next.run(request).await;
    }
    let cookie = super::session::cookie_of(request.headers(), SESSION_COOKIE);
    let response = next.run(request).await;
    let status = response.status();
    // The API's JSON refusals and the bare ones (an unknown photo), not the pages' own.
    let bare_or_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/json"));
    if !status.is_client_error() || !bare_or_json {
        return response;
    }
    let lang = session_lang(&state, cookie).await;
    let ui = ui::for_lang(lang.as_deref().unwrap_or("de"));
    let (heading, text) = ui.refusal(status);
    let page = ErrorPage {
        ui,
        municipality: state.municipality.clone(),
        status: status.as_u16(),
        heading,
        text,
        logged_in: lang.is_some(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, text).into_response(),
    }
}
