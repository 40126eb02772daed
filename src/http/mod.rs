//! What every HTTP surface shares, the channels' endpoints and the staff and public pages alike:
//! the one error type handlers return (`error`), who is asking (`client`, for rate limits), the
//! server with its connection discipline (`server`), bounded reading of uploads (`uploads`), the
//! request id of every request (`request_tag`) and the bearer token of a request.

pub mod client;
pub mod error;
pub mod request_tag;
pub mod server;
pub mod uploads;

pub use error::AppError;

/// The token of an `Authorization: Bearer <token>` header (trimmed, at most 256 characters).
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ")?.trim()).filter(|t| !t.is_empty() && t.len() <= 256)
}
