//! Any bytes as the body of an Open311 `POST requests`: the first byte picks the content type
//! (even: form-encoded, odd: `multipart/form-data; boundary=X`), the rest is the body. It goes
//! through `channels::open311::body::read` within an upload budget of the shipped size, which
//! must read the fields or refuse the body with a reason, never panic; what it reads stays
//! within the bounds (`submit::MAX_*`), and a refusal never repeats a number from the body.
//!
//! The media part is capped at 16 KiB instead of the shipped 16 MiB, so that inputs of the
//! fuzzer's size reach the "too large" branch.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use libfuzzer_sys::fuzz_target;
use meldeweg::channels::open311::body;
use meldeweg::channels::open311::submit::{MAX_DESCRIPTION, MAX_FIELDS, MAX_VALUE};
use meldeweg::http::uploads::UploadBudget;
use meldeweg_fuzz::{assert_repeats_no_number, runtime, settings};

/// The largest media file the fuzzed endpoint takes.
const MAX_MEDIA_BYTES: usize = 16 * 1024;

fn budget() -> &'static UploadBudget {
    static BUDGET: OnceLock<UploadBudget> = OnceLock::new();
    BUDGET.get_or_init(|| UploadBudget::new(settings().http.max_upload_mib_in_flight as usize * 1024 * 1024))
}

fuzz_target!(|input: &[u8]| {
    let Some((kind, rest)) = input.split_first() else { return };
    let content_type =
        if kind % 2 == 0 { "application/x-www-form-urlencoded" } else { "multipart/form-data; boundary=X" };
    let request = Request::post("/open311/v2/requests.json")
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(rest.to_vec()))
        .expect("a request with a valid header");
    runtime().block_on(async {
        match body::read(request, budget(), MAX_MEDIA_BYTES).await {
            Ok(posted) => {
                if kind % 2 == 1 {
                    assert!(posted.fields.len() <= MAX_FIELDS);
                    for (name, value) in &posted.fields {
                        let max = if name == "description" { MAX_DESCRIPTION } else { MAX_VALUE };
                        assert!(value.len() <= max * 4, "{name} within its bound");
                    }
                }
                assert!(posted.media.as_ref().is_none_or(|media| media.bytes.len() <= MAX_MEDIA_BYTES));
            }
            Err(refusal) => assert_repeats_no_number(rest, &refusal.1),
        }
    });
});
