//! Any bytes into photo cleaning: it must return a value or a typed error, never panic, hang
//! or allocate without bound. Small limits keep each run fast; the corpus starts from the
//! fixture photos.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldeweg_workers::photo::{clean, Limits};

// `clean` contains a decoder's panic (it refuses the file); libfuzzer-sys's hook would abort on
// it before that, so the default hook is put back. A panic that escapes `clean` still ends the
// run as a finding.
fuzz_target!(init: { let _ = std::panic::take_hook(); }, |data: &[u8]| {
    let limits = Limits { max_pixels: 4_000_000, max_decoder_bytes: 64 * 1024 * 1024, max_side: 256, thumb_side: 64, ..Limits::default() };
    if let Ok(cleaned) = clean(data, &limits) {
        assert!(cleaned.jpeg.ends_with(&[0xFF, 0xD9]));
        assert!(cleaned.width <= 256 && cleaned.height <= 256);
    }
});
