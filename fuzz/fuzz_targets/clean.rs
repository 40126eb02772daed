//! Any bytes into photo cleaning: it must return a value or a typed error, never panic, hang
//! or allocate without bound. Small limits keep each run fast; the corpus starts from the
//! fixture photos.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldeweg_workers::photo::{clean, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_pixels: 4_000_000, max_decoder_bytes: 64 * 1024 * 1024, max_side: 256, thumb_side: 64, ..Limits::default() };
    if let Ok(cleaned) = clean(data, &limits) {
        assert!(cleaned.jpeg.ends_with(&[0xFF, 0xD9]));
        assert!(cleaned.width <= 256 && cleaned.height <= 256);
    }
});
