//! The one error type HTTP handlers return. Every variant becomes a status code and a JSON body
//! `{"error": "<what went wrong and what to do>"}`; database trouble is a 503 with Retry-After
//! (so a messenger redelivers), never a 500. Reasons never contain personal data.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is fine but the thing's current state does not allow it.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is longer than this endpoint takes.
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let reason = match &self {
            AppError::Unavailable(detail) => {
                tracing::warn!(%detail, "answering 503: storage unavailable");
                "storage is temporarily unavailable; please retry".to_string()
            }
            other => {
                tracing::info!(status = status.as_u16(), reason = %other, "request refused");
                other.to_string()
            }
        };
        let mut response = (status, Json(json!({ "error": reason }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        response
    }
}

/// What was wrong with a JSON body, without the values it held (a string or number in it can be
/// a phone number or a message's text).
pub fn json_error(error: &serde_json::Error) -> String {
    without_values(&error.to_string())
}

/// A deserialisation error's text without the values it quotes: serde's words up to the first
/// quote, "…" for everything from there to the last ", expected", then what was expected and
/// where. A "missing field" or "duplicate field" text names a field of our own shape and stays.
pub fn without_values(text: &str) -> String {
    if text.starts_with("missing field") || text.starts_with("duplicate field") {
        return text.to_string();
    }
    let (found, expected) = text.split_at(text.rfind(", expected").unwrap_or(text.len()));
    let Some(quote) = found.find(['"', '`']) else { return text.to_string() };
    // The schema's side names types and variants in backticks, never in double quotes.
    let expected = if expected.contains('"') { "" } else { expected };
    format!("{}…{expected}", &found[..quote])
}

impl From<crate::db::DbError> for AppError {
    fn from(error: crate::db::DbError) -> Self {
        AppError::Unavailable(error.to_string())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::json_error;

    fn error_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        json_error(&serde_json::from_str::<T>(json).unwrap_err())
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        id: u64,
        kind: Kind,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Text,
    }

    #[test]
    fn values_from_the_body_are_left_out() {
        let reason = error_of::<Shape>(r#"{"id": "+49 151 2345678 Schlagloch \" vor Nr. 5", "kind": "text"}"#);
        assert!(!reason.contains("151") && !reason.contains("Schlagloch") && !reason.contains("Nr. 5"), "{reason}");
        assert!(reason.starts_with("invalid type: string …, expected u64 at line 1"), "{reason}");
        let reason = error_of::<Shape>(r#"{"id": 1, "kind": "Ich wohne in der Gartenstr. 3"}"#);
        assert!(!reason.contains("Gartenstr"), "{reason}");
        assert!(reason.starts_with("unknown variant …, expected `text`"), "{reason}");
        let reason = error_of::<Shape>(r#"{"id": 1, "kind": "a`b, expected `x` Gartenstr. 3"}"#);
        assert!(!reason.contains("Gartenstr"), "a value that looks like serde's words: {reason}");
        let reason = error_of::<Shape>(r#"{"id": "Anna, expected 0151 5550123", "kind": "text"}"#);
        assert!(!reason.contains("5550123") && !reason.contains("Anna"), "{reason}");
        let reason = error_of::<Shape>(r#"{"id": 4915123456789.5, "kind": "text"}"#);
        assert!(!reason.contains("4915123456789"), "{reason}");
    }

    #[test]
    fn what_was_missing_and_where_stays() {
        assert_eq!(error_of::<Shape>(r#"{"id": 1}"#), "missing field `kind` at line 1 column 9");
        assert_eq!(error_of::<Shape>("{\"id\": 1,"), "EOF while parsing a value at line 1 column 9");
    }
}
