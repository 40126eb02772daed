//! Gives every HTTP request its request id (`crate::request_id`): a plain `X-Request-Id` from a
//! proxy is kept, otherwise one is made. The request runs in a span and task scope with the id,
//! and the answer carries it back in `X-Request-Id`, so a citizen's or partner's complaint can
//! be matched with the log.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const HEADER: &str = "x-request-id";

pub async fn tag(request: Request, next: Next) -> Response {
    let offered = request.headers().get(HEADER).and_then(|value| value.to_str().ok());
    let id = crate::request_id::accept(offered);
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = crate::request_id::scope(id.clone(), next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
