//! Any bytes as the multipart body of a web-form submission (boundary `X`), through the
//! extractor and the form's bounded field reading (`form::read`) within an upload budget of the
//! shipped size. It must read a submission or refuse the body with a problem, never panic; every
//! field it reads stays within its bound.
//!
//! The photo field is capped at 16 KiB instead of the shipped 16 MiB, so that inputs of the
//! fuzzer's size reach the "photo too large" branch.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use libfuzzer_sys::fuzz_target;
use meldeweg::channels::web_form::form::{self, Submission};
use meldeweg::http::uploads::UploadBudget;
use meldeweg_fuzz::{runtime, settings};
use meldeweg_workers::conversation::draft::MAX_DESCRIPTION_CHARS;

/// The largest photo the fuzzed form takes.
const MAX_PHOTO_BYTES: usize = 16 * 1024;

/// The longest of the other fields as form.rs bounds them: the e-mail address (254 characters).
const MAX_OTHER_CHARS: usize = 254;

fn budget() -> &'static UploadBudget {
    static BUDGET: OnceLock<UploadBudget> = OnceLock::new();
    BUDGET.get_or_init(|| UploadBudget::new(settings().http.max_upload_mib_in_flight as usize * 1024 * 1024))
}

fn request(body: &[u8]) -> Request {
    Request::post("/melden")
        .header(CONTENT_TYPE, "multipart/form-data; boundary=X")
        .body(Body::from(body.to_vec()))
        .expect("a request with a valid header")
}

fn assert_bounded(submission: &Submission) {
    let entered = &submission.entered;
    assert!(entered.description.chars().count() <= MAX_DESCRIPTION_CHARS);
    for field in [&entered.category, &entered.lat, &entered.lon, &entered.address, &entered.email] {
        assert!(field.chars().count() <= MAX_OTHER_CHARS);
    }
    assert!(entered.submission.is_empty() || entered.submission.len() == 32);
    assert!(submission.photo.as_ref().is_none_or(|photo| photo.bytes.len() <= MAX_PHOTO_BYTES));
}

fuzz_target!(|body: &[u8]| {
    runtime().block_on(async {
        let multipart = Multipart::from_request(request(body), &()).await.expect("the content type is multipart");
        if let Ok((submission, _problems)) = form::read(budget(), MAX_PHOTO_BYTES, multipart).await {
            assert_bounded(&submission);
        }
    });
});
