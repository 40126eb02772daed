//! The body of `POST requests`: form-encoded (with or without a charset), or multipart with
//! the fields and a `media` file part (the common extension). Every field is bounded before
//! it is read whole; the file takes its room in the upload budget shared with the web form.

use axum::extract::{Form, FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};

use super::format::Refusal;
use super::submit::{MAX_DESCRIPTION, MAX_FIELDS, MAX_VALUE};
use crate::http::uploads::{Upload, UploadBudget, UploadError};

/// A request's fields, and the file of its `media` part (holding its room in the budget).
#[derive(Default)]
pub struct Posted {
    pub fields: Vec<(String, String)>,
    pub media: Option<Upload>,
}

/// Most bytes of a form-encoded body: every field at its bound, percent-encoded.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// Reads `request`'s body; the `media` file is at most `max_media_bytes`.
pub async fn read(request: Request, uploads: &UploadBudget, max_media_bytes: usize) -> Result<Posted, Refusal> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<usize>().ok());
        let read =
            uploads.read_body(body, declared, MAX_FORM_BYTES).await.map_err(|error| refusal(error, "the body"))?;
        let request = Request::from_parts(parts, axum::body::Body::from(read.bytes.clone()));
        // The reasons name no part of the body.
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, &())
            .await
            .map_err(|_| Refusal::bad("the body must be application/x-www-form-urlencoded or multipart/form-data"))?;
        return Ok(Posted { fields, media: None });
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| Refusal::bad(format!("the multipart body cannot be read: {}", rejection.body_text())))?;
    let mut posted = Posted::default();
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large".into())
        } else {
            Refusal::bad("the multipart body cannot be read")
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "media" {
            if posted.media.is_some() {
                return Err(Refusal::bad("a request has at most one media part"));
            }
            let upload = uploads.read(&mut field, max_media_bytes).await.map_err(|error| refusal(error, "media"))?;
            posted.media = (!upload.bytes.is_empty()).then_some(upload);
            continue;
        }
        if posted.fields.len() >= MAX_FIELDS {
            return Err(Refusal::bad(format!("a request has at most {MAX_FIELDS} fields")));
        }
        if name.len() > 100 {
            return Err(Refusal::bad("a field's name has at most 100 characters"));
        }
        // A character takes at most four bytes: a longer field is refused unread.
        let chars = if name == "description" { MAX_DESCRIPTION } else { MAX_VALUE };
        let value = uploads.read(&mut field, chars * 4).await.map_err(|error| refusal(error, shown(&name)))?;
        let value = String::from_utf8(value.bytes.to_vec())
            .map_err(|_| Refusal::bad(format!("{} is not UTF-8 text", shown(&name))))?;
        posted.fields.push((name, value));
    }
    Ok(posted)
}

/// A field's name as a refusal repeats it: a name as the spec's fields are named (letters, `_`,
/// an attribute's brackets), otherwise "a field" (a refusal repeats nothing else of a body).
fn shown(name: &str) -> &str {
    let plain = name.len() <= 60 && name.bytes().all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'[' | b']'));
    if plain && !name.is_empty() {
        name
    } else {
        "a field"
    }
}

fn refusal(error: UploadError, name: &str) -> Refusal {
    match error {
        UploadError::TooLarge(_) => Refusal(StatusCode::PAYLOAD_TOO_LARGE, format!("{name} is too long")),
        UploadError::Busy => Refusal(StatusCode::SERVICE_UNAVAILABLE, "too many uploads at once; try again".into()),
        UploadError::Unreadable(_) => Refusal::bad(format!("{name} cannot be read")),
    }
}
