//! Any bytes as an uploaded photo, cleaned with the limits Meldeweg runs on by default
//! (`[photos]` of config/default.toml through `PhotoSettings::limits`), except a smaller
//! output size so a run stays fast: it must return a clean JPEG within those sizes or a typed
//! error, never panic, hang or allocate beyond the decoder limit. (`clean` fuzzes the same
//! function with small limits.)
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use meldeweg_fuzz::settings;
use meldeweg_workers::photo::{clean, Limits};

/// The shipped limits, with the cleaned image and thumbnail at most 512 and 64 pixels long.
fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| Limits { max_side: 512, thumb_side: 64, ..settings().photos.limits() })
}

// `clean` contains a decoder's panic (it refuses the file); libfuzzer-sys's hook would abort on
// it before that, so the default hook is put back. A panic that escapes `clean` still ends the
// run as a finding.
fuzz_target!(init: { let _ = std::panic::take_hook(); }, |data: &[u8]| {
    let limits = limits();
    if let Ok(cleaned) = clean(data, limits) {
        assert!(cleaned.jpeg.starts_with(&[0xFF, 0xD8]) && cleaned.jpeg.ends_with(&[0xFF, 0xD9]));
        assert!(cleaned.width.max(cleaned.height) <= limits.max_side);
        assert!(u64::from(cleaned.width) * u64::from(cleaned.height) <= limits.max_pixels);
    }
});
