//! The public web form at `/melden` (PRIVACY P12): an equal way in for citizens without a
//! messenger. A description and/or a photo, the place (a pin on the map, the device's position,
//! an address, or the photo's own GPS), an optional category and an optional e-mail address for
//! updates. Nothing personal is required. The submission becomes the core's message (a whole
//! report) and goes through the same intake as a chat (`pipeline::intake::submit`): the same
//! photo cleaning, the same report creation and triage; the citizen lands on the report's public
//! status page.
//!
//! Every field is bounded and checked before anything is stored; a refused submission gets the
//! form back with its values and the reasons (422), and leaves nothing behind. A form sent twice
//! (its hidden submission id) gives the first report back. One client (address, IPv6 by its
//! /64) may send at most 20 submissions an hour (429 after that), charged in the database before
//! the body is read and never given back, so refused ones count too and a restart forgets
//! nothing; a hidden field catches bots. Fields are read with bounds, the photo within the
//! process's upload budget (503 when it is full).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use meldeweg_workers::category::Category;
use meldeweg_workers::conversation::draft::MAX_DESCRIPTION_CHARS;
use meldeweg_workers::conversation::{Lang, PhotoProblem};
use meldeweg_workers::message::{Content, FormPlace, FormPlaceSource, FormReport, InboundMessage, Sender};
use meldeweg_workers::LatLon;
use serde::Deserialize;

use super::email::{self, MAX_ADDRESS_CHARS};
use super::NAME;
use crate::config::MapSettings;
use crate::http::client;
use crate::http::uploads::{Upload, UploadBudget, UploadError};
use crate::pipeline::intake::{self, SubmitError};
use crate::pipeline::Pipeline;
use crate::rate_limit::{self, Limit};
use crate::time::now_ms;

/// Longest address typed into the place field.
const MAX_ADDRESS_FIELD_CHARS: usize = 200;
/// Longest value of any other small field (coordinates, category id, language).
const MAX_SMALL_FIELD_CHARS: usize = 40;

/// Submissions one client may send in an hour before the form asks them to wait: more than a
/// walk through the neighbourhood produces, far less than a script would send.
const REPORTS_PER_CLIENT: Limit = Limit { max: 20, window_ms: 3_600_000 };

pub struct FormState {
    pub pipeline: Arc<Pipeline>,
    pub municipality: String,
    pub map: MapSettings,
    /// Whether updates by e-mail are set up (else the form asks for no address).
    pub email_enabled: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The process's budget for uploads held in memory.
    pub uploads: UploadBudget,
}

pub fn router(state: Arc<FormState>) -> Router {
    // A photo as large as the cleaner takes, plus the fields around it.
    let limit = state.pipeline.photos.limits.max_input_bytes + 64 * 1024;
    Router::new().route("/melden", get(form).post(submit).layer(DefaultBodyLimit::max(limit))).with_state(state)
}

/// What the citizen entered, shown again when something is missing or wrong.
#[derive(Debug, Default, Clone)]
pub struct Entered {
    /// The form's own id (a hidden field): the same form sent twice is one report.
    pub submission: String,
    pub description: String,
    pub category: String,
    pub lat: String,
    pub lon: String,
    pub address: String,
    pub email: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "report_form.html")]
pub struct FormPage {
    lang: &'static str,
    municipality: String,
    categories: Vec<(String, String)>,
    entered: Entered,
    problems: Vec<&'static str>,
    email_enabled: bool,
    centre: LatLon,
    tile_url: String,
    tile_attribution: String,
    max_description: usize,
    max_photo_mib: usize,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn lang_of(code: Option<&str>) -> Lang {
    if code == Some("en") {
        Lang::En
    } else {
        Lang::De
    }
}

fn page(state: &FormState, lang: Lang, entered: Entered, problems: Vec<&'static str>) -> FormPage {
    let categories = state
        .pipeline
        .municipality
        .town
        .classifier
        .categories()
        .iter()
        .map(|(category, entry)| {
            let label = if lang == Lang::En { &entry.label_en } else { &entry.label_de };
            (category.id().to_string(), label.clone())
        })
        .collect();
    let entered = Entered {
        submission: if entered.submission.is_empty() { crate::secrets::random_hex128() } else { entered.submission },
        ..entered
    };
    FormPage {
        lang: lang.code(),
        municipality: state.municipality.clone(),
        categories,
        entered,
        problems,
        email_enabled: state.email_enabled,
        centre: state.pipeline.municipality.town.area.centre(),
        tile_url: state.map.tile_url.clone(),
        tile_attribution: state.map.tile_attribution.clone(),
        max_description: MAX_DESCRIPTION_CHARS,
        max_photo_mib: state.pipeline.photos.limits.max_input_bytes / (1024 * 1024),
    }
}

async fn form(State(state): State<Arc<FormState>>, Query(query): Query<LangQuery>) -> FormPage {
    page(&state, lang_of(query.lang.as_deref()), Entered::default(), Vec::new())
}

/// Why a submission is refused; each has a sentence in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NothingToSee,
    DescriptionTooLong,
    FieldTooLong,
    NoPlace,
    CoordinatesInvalid,
    AddressUnknown,
    UnknownCategory,
    EmailInvalid,
    EmailUnavailable,
    PhotoUnreadable,
    PhotoTooLarge,
    NotAForm,
    TooMany,
    Busy,
}

impl Problem {
    pub fn text(self, lang: Lang) -> &'static str {
        let (de, en) = match self {
            Problem::NothingToSee => (
                "Bitte beschreiben Sie das Problem oder fügen Sie ein Foto bei.",
                "Please describe the problem or add a photo.",
            ),
            Problem::DescriptionTooLong => (
                "Die Beschreibung ist zu lang (höchstens 4000 Zeichen).",
                "The description is too long (at most 4000 characters).",
            ),
            Problem::FieldTooLong => ("Ein Feld ist zu lang.", "A field is too long."),
            Problem::NoPlace => (
                "Bitte geben Sie den Ort an: auf der Karte, mit „Meinen Standort verwenden“ oder als Adresse.",
                "Please give the place: on the map, with “Use my location” or as an address.",
            ),
            Problem::CoordinatesInvalid => (
                "Die Koordinaten sind ungültig (Breite −90 bis 90, Länge −180 bis 180).",
                "The coordinates are invalid (latitude −90 to 90, longitude −180 to 180).",
            ),
            Problem::AddressUnknown => (
                "Diese Adresse kennen wir nicht. Bitte Straße und Hausnummer angeben oder den Ort auf der Karte wählen.",
                "We do not know this address. Please give street and house number or pick the place on the map.",
            ),
            Problem::UnknownCategory => ("Diese Kategorie gibt es nicht.", "There is no such category."),
            Problem::EmailInvalid => (
                "Das ist keine gültige E-Mail-Adresse. Sie können das Feld auch leer lassen.",
                "This is not a valid e-mail address. You may also leave the field empty.",
            ),
            Problem::EmailUnavailable => (
                "Benachrichtigungen per E-Mail sind hier nicht eingerichtet; bitte lassen Sie das Feld leer.",
                "E-mail updates are not set up here; please leave the field empty.",
            ),
            Problem::PhotoUnreadable => (
                "Das Foto kann nicht geöffnet werden. Bitte ein Bild als JPEG, PNG oder WebP hochladen.",
                "The photo cannot be opened. Please upload a JPEG, PNG or WebP picture.",
            ),
            Problem::PhotoTooLarge => ("Das Foto ist zu groß.", "The photo is too large."),
            Problem::NotAForm => (
                "Das Formular kam unvollständig an. Bitte noch einmal absenden.",
                "The form arrived incomplete. Please send it again.",
            ),
            Problem::Busy => (
                "Gerade kommen sehr viele Fotos an. Bitte senden Sie das Formular in einer Minute noch einmal.",
                "Very many photos are arriving just now. Please send the form again in a minute.",
            ),
            Problem::TooMany => (
                "Von Ihrem Anschluss kamen in der letzten Stunde sehr viele Meldungen. Bitte versuchen Sie es später noch einmal oder rufen Sie uns an.",
                "Very many reports came from your connection in the last hour. Please try again later or give us a call.",
            ),
        };
        match lang {
            Lang::De => de,
            Lang::En => en,
        }
    }
}

/// The submission as read from the multipart body, bounded.
#[derive(Default)]
pub struct Submission {
    pub entered: Entered,
    lang: Option<String>,
    /// The hidden field people do not see; filled in only by bots.
    trap: String,
    /// The photo, holding its share of the upload budget until it is cleaned.
    pub photo: Option<Upload>,
}

/// Reads the form, each field bounded (the photo by `max_photo_bytes` and the shared upload
/// budget). `Err` when the body is not a readable form at all, or too large. Public for the
/// `form_multipart` fuzz target.
pub async fn read(
    uploads: &UploadBudget,
    max_photo_bytes: usize,
    mut multipart: Multipart,
) -> Result<(Submission, Vec<Problem>), Problem> {
    let mut submission = Submission::default();
    let mut problems = Vec::new();
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::PhotoTooLarge
        } else {
            Problem::NotAForm
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        let max_chars = match name.as_str() {
            "photo" => {
                let upload = uploads.read(&mut field, max_photo_bytes).await;
                let upload = upload.map_err(|error| problem_of(error, Problem::PhotoTooLarge))?;
                if !upload.bytes.is_empty() {
                    submission.photo = Some(upload);
                }
                continue;
            }
            "description" => MAX_DESCRIPTION_CHARS,
            "address" => MAX_ADDRESS_FIELD_CHARS,
            "email" => MAX_ADDRESS_CHARS,
            _ => MAX_SMALL_FIELD_CHARS,
        };
        // A character takes at most four bytes: a longer field is refused unread.
        let too_long = if name == "description" { Problem::DescriptionTooLong } else { Problem::FieldTooLong };
        let value = uploads.read(&mut field, max_chars * 4).await.map_err(|error| problem_of(error, too_long))?;
        let value = String::from_utf8(value.bytes.to_vec()).map_err(|_| Problem::NotAForm)?;
        let (slot, max) = match name.as_str() {
            "description" => (&mut submission.entered.description, MAX_DESCRIPTION_CHARS),
            "address" => (&mut submission.entered.address, MAX_ADDRESS_FIELD_CHARS),
            "email" => (&mut submission.entered.email, MAX_ADDRESS_CHARS),
            "category" => (&mut submission.entered.category, MAX_SMALL_FIELD_CHARS),
            "lat" => (&mut submission.entered.lat, MAX_SMALL_FIELD_CHARS),
            "lon" => (&mut submission.entered.lon, MAX_SMALL_FIELD_CHARS),
            "website" => (&mut submission.trap, MAX_SMALL_FIELD_CHARS),
            "lang" => {
                submission.lang = Some(value.chars().take(MAX_SMALL_FIELD_CHARS).collect());
                continue;
            }
            "submission" => {
                submission.entered.submission = if is_submission_id(&value) { value } else { String::new() };
                continue;
            }
            _ => continue,
        };
        let value = meldeweg_workers::text::clean(&value);
        if value.chars().count() > max {
            problems.push(too_long);
            *slot = value.chars().take(max).collect();
        } else {
            *slot = value;
        }
    }
    Ok((submission, problems))
}

/// What the citizen is told when a field could not be read: `too_long` when it was over its bound.
fn problem_of(error: UploadError, too_long: Problem) -> Problem {
    match error {
        UploadError::TooLarge(_) => too_long,
        UploadError::Busy => Problem::Busy,
        UploadError::Unreadable(_) => Problem::NotAForm,
    }
}

/// A form's id as the page hands it out: 32 hex digits.
fn is_submission_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the report is, as far as the fields tell; `None`: from the photo's position.
fn place(state: &FormState, entered: &Entered, problems: &mut Vec<Problem>) -> Option<FormPlace> {
    match (entered.lat.is_empty(), entered.lon.is_empty()) {
        (false, false) => {
            let point = entered.lat.parse::<f64>().ok().zip(entered.lon.parse::<f64>().ok());
            match point.and_then(|(lat, lon)| LatLon::new(lat, lon).ok()) {
                Some(point) => {
                    let label = (!entered.address.is_empty()).then(|| entered.address.clone());
                    return Some(FormPlace { point, source: FormPlaceSource::Pin, label });
                }
                None => problems.push(Problem::CoordinatesInvalid),
            }
        }
        (true, true) => {}
        _ => problems.push(Problem::CoordinatesInvalid),
    }
    if !entered.address.is_empty() {
        let streets = &state.pipeline.municipality.town.streets;
        match streets.find_in_text(&entered.address).filter(|found| found.precise) {
            Some(found) => {
                let label = match &found.number {
                    Some(number) => format!("{} {number}", found.street),
                    None => found.street.clone(),
                };
                return Some(FormPlace { point: found.at, source: FormPlaceSource::Address, label: Some(label) });
            }
            None => problems.push(Problem::AddressUnknown),
        }
    }
    None
}

/// Charges the client's allowance before anything of the body is read (a refused or failed
/// submission has used its slot too), then checks and stores the report.
async fn submit(State(state): State<Arc<FormState>>, parts: Parts, multipart: Multipart) -> Response {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let address = client::address(peer, &parts.headers, &state.trusted_proxies);
    let client = state.pipeline.vault.lookup_hash("web-form-client", &client::connection_of(&address));
    let charged = async {
        let mut conn = state.pipeline.db.pool().acquire().await?;
        rate_limit::charge(&mut conn, &format!("web-form:{client}"), REPORTS_PER_CLIENT, now_ms()).await
    };
    match charged.await {
        Ok(true) => check_and_store(&state, multipart).await,
        Ok(false) => refused(&state, Lang::De, Entered::default(), vec![Problem::TooMany]),
        Err(error) => {
            tracing::warn!(%error, "the web form's limit could not be checked");
            unavailable(Lang::De)
        }
    }
}

async fn check_and_store(state: &FormState, multipart: Multipart) -> Response {
    let max_photo_bytes = state.pipeline.photos.limits.max_input_bytes;
    let (submission, mut problems) = match read(&state.uploads, max_photo_bytes, multipart).await {
        Ok(read) => read,
        Err(problem) => return refused(state, Lang::De, Entered::default(), vec![problem]),
    };
    let lang = lang_of(submission.lang.as_deref());
    let entered = submission.entered.clone();
    if !submission.trap.is_empty() {
        problems.push(Problem::NotAForm);
    }
    if entered.description.is_empty() && submission.photo.is_none() {
        problems.push(Problem::NothingToSee);
    }
    let category = match entered.category.as_str() {
        "" => None,
        id => {
            let known = Category::from_id(id);
            if known.is_none() {
                problems.push(Problem::UnknownCategory);
            }
            known
        }
    };
    let email = match (entered.email.is_empty(), state.email_enabled) {
        (true, _) => None,
        (false, false) => {
            problems.push(Problem::EmailUnavailable);
            None
        }
        (false, true) => {
            let address = email::parse_address(&entered.email);
            if address.is_none() {
                problems.push(Problem::EmailInvalid);
            }
            address
        }
    };
    let place = place(state, &entered, &mut problems);
    if !problems.is_empty() {
        return refused(state, lang, entered, problems);
    }
    let description = (!entered.description.is_empty()).then(|| entered.description.clone());
    let by_mail = email.is_some();
    let message = InboundMessage {
        channel: NAME.to_string(),
        id: if entered.submission.is_empty() { crate::secrets::random_hex128() } else { entered.submission.clone() },
        sender: Sender { phone: None, account: email.map(|address| address.to_string()) },
        sent_at_ms: now_ms(),
        content: Content::Report { report: FormReport { description, place, category, lang } },
    };
    // Only now is the photo cleaned (the expensive part), and the report stored.
    let photos = submission.photo.iter().map(|upload| upload.bytes.clone()).collect();
    match intake::submit(&state.pipeline, message, photos).await {
        Ok(submitted) => {
            // The status page then confirms the report and, without an e-mail address, asks
            // the citizen to keep its link.
            let new = if by_mail { "mail" } else { "link" };
            let lang = if lang == Lang::En { "&lang=en" } else { "" };
            Redirect::to(&format!("/m/{}?neu={new}{lang}", submitted.public_token)).into_response()
        }
        Err(SubmitError::Photo(PhotoProblem::TooLarge)) => refused(state, lang, entered, vec![Problem::PhotoTooLarge]),
        Err(SubmitError::Photo(_)) => refused(state, lang, entered, vec![Problem::PhotoUnreadable]),
        Err(SubmitError::NoPlace) => refused(state, lang, entered, vec![Problem::NoPlace]),
        Err(error @ (SubmitError::NotAReport | SubmitError::Unavailable(_))) => {
            tracing::warn!(%error, "a web-form report could not be stored");
            unavailable(lang)
        }
    }
}

fn refused(state: &FormState, lang: Lang, entered: Entered, problems: Vec<Problem>) -> Response {
    let status = if problems.contains(&Problem::TooMany) {
        StatusCode::TOO_MANY_REQUESTS
    } else if problems.contains(&Problem::Busy) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if problems.contains(&Problem::PhotoTooLarge) {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let texts = problems.iter().map(|p| p.text(lang)).collect();
    (status, page(state, lang, entered, texts)).into_response()
}

fn unavailable(lang: Lang) -> Response {
    let text = match lang {
        Lang::De => "Ihre Meldung konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einigen Minuten noch einmal.",
        Lang::En => "Your report could not be saved just now. Please try again in a few minutes.",
    };
    (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
}
