//! Any bytes as the JSON body of the staff API's POST endpoints (transitions, comments,
//! reroute, merge), through what each handler does before it asks the database: axum's `Json`
//! extractor, `orders::body` (the refusal's reason through `without_values`) and, for a
//! transition, `orders::transition_command`. Nothing may panic, and no refusal may repeat a
//! number from the body.
#![no_main]

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use libfuzzer_sys::fuzz_target;
use meldeweg::http::AppError;
use meldeweg::web::api::orders::{self, CommentRequest, MergeRequest, RerouteRequest, TransitionRequest};
use meldeweg_fuzz::{assert_repeats_no_number, runtime};
use serde::de::DeserializeOwned;

fn request(body: &[u8]) -> Request {
    Request::post("/api/v1/orders/A-2026-000001/transitions")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request with a valid header")
}

/// Reads `body` as the request `T` as its handler does, then `check`s it like the handler.
fn handle<T: DeserializeOwned>(body: &[u8], check: impl FnOnce(T) -> Result<(), AppError>) {
    let payload = runtime().block_on(Json::<T>::from_request(request(body), &()));
    if let Err(error) = orders::body(payload).and_then(check) {
        assert_repeats_no_number(body, &error.to_string());
    }
}

fuzz_target!(|body: &[u8]| {
    handle::<TransitionRequest>(body, |request| orders::transition_command(request).map(drop));
    handle::<CommentRequest>(body, |_| Ok(()));
    handle::<RerouteRequest>(body, |_| Ok(()));
    handle::<MergeRequest>(body, |_| Ok(()));
});
