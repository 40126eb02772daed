//! Cleaning real phone photos (tests/fixtures/photos) and generated inputs of every
//! accepted kind, and refusing bad ones. The cleaned output is checked segment by segment.

mod support;

use meldeweg_workers::photo::{clean, Limits, PhotoError};
use support::{bomb_png, fixture, webp_with_huge_chunk};

/// The markers of a JPEG, in order, checking that nothing follows the end-of-image marker.
fn segments(jpeg: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "starts with SOI");
    let mut markers = vec![0xD8];
    let mut at = 2;
    loop {
        assert_eq!(jpeg[at], 0xFF, "a marker at {at}");
        let marker = jpeg[at + 1];
        markers.push(marker);
        if marker == 0xD9 {
            assert_eq!(at + 2, jpeg.len(), "no bytes after the end of the image");
            return markers;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if marker == 0xE0 {
            assert_eq!(&jpeg[at + 4..at + 9], b"JFIF\0", "APP0 is a plain JFIF header");
        }
        at += 2 + length;
        if marker == 0xDA {
            // Entropy-coded data: skip stuffed bytes and restart markers.
            while !(jpeg[at] == 0xFF && jpeg[at + 1] != 0x00 && !(0xD0..=0xD7).contains(&jpeg[at + 1])) {
                at += 1;
            }
        }
    }
}

/// Asserts the cleaned JPEG decodes and carries no metadata segment of any kind.
fn assert_clean(jpeg: &[u8], width: u32, height: u32) {
    let markers = segments(jpeg);
    for marker in &markers {
        assert!(
            matches!(marker, 0xD8 | 0xE0 | 0xDB | 0xC0 | 0xC4 | 0xDA | 0xD9),
            "unexpected marker {marker:#04X} in {markers:02X?} (APP1 EXIF/XMP, APP2 ICC, APP13 IPTC, COM, …)"
        );
    }
    let decoded = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("parses as JPEG");
    assert_eq!((decoded.width(), decoded.height()), (width, height));
    for needle in [&b"Exif"[..], b"Mustermann", b"http://ns.adobe.com", b"0160", b"ICC_PROFILE", b"Photoshop"] {
        assert!(!jpeg.windows(needle.len()).any(|w| w == needle), "{:?} found", String::from_utf8_lossy(needle));
    }
}

fn assert_gps(cleaned: &meldeweg_workers::photo::Cleaned, lat: f64, lon: f64) {
    let gps = cleaned.gps.expect("GPS read");
    assert!((gps.lat() - lat).abs() < 1e-5 && (gps.lon() - lon).abs() < 1e-5, "{gps:?}");
}

#[test]
fn phone_jpeg_is_turned_upright_scaled_stripped_and_keeps_its_place_and_time() {
    let cleaned = clean(&fixture("phone_o6_gps.jpg"), &Limits::default()).unwrap();
    // 4032×3024 with orientation 6 (rotate 90° clockwise): upright it is portrait.
    assert_eq!((cleaned.width, cleaned.height), (1536, 2048));
    assert_clean(&cleaned.jpeg, 1536, 2048);
    assert_clean(&cleaned.thumbnail, 240, 320);
    assert_gps(&cleaned, 51.906312, 10.429187);
    assert_eq!(cleaned.taken_at.as_deref(), Some("2026-05-14T08:31:07"));
    assert_eq!(cleaned.sha256.len(), 64);
    use sha2::Digest;
    assert_eq!(cleaned.sha256, format!("{:x}", sha2::Sha256::digest(&cleaned.jpeg)));
}

#[test]
fn png_screenshot_loses_its_comment_and_keeps_its_xmp_position() {
    let original = fixture("screenshot_gps.png");
    assert!(original.windows(4).any(|w| w == b"0160"), "the fixture carries a phone number");
    let cleaned = clean(&original, &Limits::default()).unwrap();
    assert_clean(&cleaned.jpeg, 1600, 1067);
    assert_gps(&cleaned, 51.9, 10.43);
}

#[test]
fn webp_keeps_its_exif_position_and_loses_its_artist() {
    let cleaned = clean(&fixture("camera_o1_gps.webp"), &Limits::default()).unwrap();
    assert_clean(&cleaned.jpeg, 2048, 1536);
    assert_gps(&cleaned, 51.9042, 10.4301);
}

#[test]
fn a_photo_without_metadata_is_cleaned_and_has_no_position() {
    let cleaned = clean(&fixture("recompressed_nometa.jpg"), &Limits::default()).unwrap();
    assert_clean(&cleaned.jpeg, 1600, 1065);
    assert_eq!((cleaned.gps, cleaned.taken_at), (None, None));
}

fn gradient(width: u32, height: u32, channels: usize) -> Vec<u8> {
    (0..width * height).flat_map(|i| (0..channels).map(move |c| ((i as usize * (c + 3)) % 251) as u8)).collect()
}

fn encode_jpeg(width: u16, height: u16, color: jpeg_encoder::ColorType, progressive: bool) -> Vec<u8> {
    let channels = match color {
        jpeg_encoder::ColorType::Luma => 1,
        jpeg_encoder::ColorType::Cmyk | jpeg_encoder::ColorType::Ycck => 4,
        _ => 3,
    };
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_progressive(progressive);
    encoder.add_app_segment(1, b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0".to_vec()).unwrap();
    encoder.add_app_segment(13, b"Photoshop 3.0\08BIM owner Mustermann".to_vec()).unwrap();
    encoder.encode(&gradient(width.into(), height.into(), channels), width, height, color).unwrap();
    out
}

#[test]
fn every_kind_of_jpeg_is_accepted() {
    use jpeg_encoder::ColorType;
    for (color, progressive) in [
        (ColorType::Rgb, false),
        (ColorType::Rgb, true),
        (ColorType::Luma, false),
        (ColorType::Cmyk, false),
        (ColorType::Ycck, false),
    ] {
        let input = encode_jpeg(300, 200, color, progressive);
        let cleaned = clean(&input, &Limits::default()).unwrap_or_else(|e| panic!("{color:?}: {e}"));
        assert_clean(&cleaned.jpeg, 300, 200);
    }
}

fn encode_png(width: u32, height: u32, color: png::ColorType, depth: png::BitDepth, palette: bool) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        if palette {
            encoder.set_palette((0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect::<Vec<_>>());
            encoder.set_trns(vec![0u8, 128]);
        }
        encoder.add_text_chunk("Comment".into(), "Tel 0160 1234567".into()).unwrap();
        let mut writer = encoder.write_header().unwrap();
        let samples = match color {
            png::ColorType::Rgba => 4,
            png::ColorType::Rgb => 3,
            png::ColorType::GrayscaleAlpha => 2,
            _ => 1,
        };
        let bytes_per_sample = if depth == png::BitDepth::Sixteen { 2 } else { 1 };
        writer.write_image_data(&gradient(width, height, samples * bytes_per_sample)).unwrap();
    }
    out
}

#[test]
fn every_kind_of_png_is_accepted_and_transparency_becomes_white() {
    use png::{BitDepth, ColorType};
    for (color, depth, palette) in [
        (ColorType::Rgb, BitDepth::Eight, false),
        (ColorType::Rgb, BitDepth::Sixteen, false),
        (ColorType::Rgba, BitDepth::Sixteen, false),
        (ColorType::Indexed, BitDepth::Eight, true),
        (ColorType::GrayscaleAlpha, BitDepth::Eight, false),
    ] {
        let cleaned = clean(&encode_png(64, 48, color, depth, palette), &Limits::default())
            .unwrap_or_else(|e| panic!("{color:?} {depth:?}: {e}"));
        assert_clean(&cleaned.jpeg, 64, 48);
    }
    // Fully transparent RGBA: white after cleaning.
    let mut out = Vec::new();
    image::RgbaImage::from_raw(8, 8, vec![0; 8 * 8 * 4])
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    let cleaned = clean(&out, &Limits::default()).unwrap();
    let pixels = image::load_from_memory(&cleaned.jpeg).unwrap().into_rgb8();
    assert!(pixels.as_raw().iter().all(|&v| v >= 250), "transparent became white");
}

#[test]
fn orientation_is_applied_when_the_exif_chunk_keeps_the_jpeg_prefix() {
    // "Exif\0\0" + a big-endian TIFF with one entry: Orientation (0x0112) = 6.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 40, 20);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer.write_chunk(png::chunk::ChunkType(*b"eXIf"), &exif).unwrap();
        writer.write_image_data(&gradient(40, 20, 3)).unwrap();
    }
    let cleaned = clean(&out, &Limits::default()).unwrap();
    assert_eq!((cleaned.width, cleaned.height), (20, 40), "turned upright");
}

#[test]
fn lossless_webp_with_alpha_is_accepted() {
    let mut out = Vec::new();
    let rgba = image::RgbaImage::from_raw(40, 30, gradient(40, 30, 4)).unwrap();
    rgba.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::WebP).unwrap();
    let cleaned = clean(&out, &Limits::default()).unwrap();
    assert_clean(&cleaned.jpeg, 40, 30);
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bomb = bomb_png(30_000, 30_000);
    assert!(bomb.len() < 100);
    let error = clean(&bomb, &Limits::default()).unwrap_err();
    assert!(matches!(error, PhotoError::TooManyPixels { width: 30_000, height: 30_000, .. }), "{error}");
}

#[test]
fn bad_inputs_get_typed_errors() {
    let jpeg = fixture("phone_o6_gps.jpg");
    let png = fixture("screenshot_gps.png");
    let webp = fixture("camera_o1_gps.webp");
    let defaults = Limits::default();
    type Expectation = fn(&PhotoError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Expectation)> = vec![
        ("truncated JPEG", jpeg[..jpeg.len() / 2].to_vec(), |e| matches!(e, PhotoError::Truncated)),
        ("JPEG cut in its header", jpeg[..200].to_vec(), |e| matches!(e, PhotoError::Truncated)),
        ("truncated PNG", png[..png.len() / 2].to_vec(), |e| matches!(e, PhotoError::Truncated)),
        ("truncated WebP", webp[..webp.len() / 2].to_vec(), |e| matches!(e, PhotoError::Truncated)),
        ("WebP declaring a 4 GB chunk", webp_with_huge_chunk(), |e| matches!(e, PhotoError::Truncated)),
        ("GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), |e| matches!(e, PhotoError::Unsupported("GIF"))),
        ("PDF", b"%PDF-1.7\n%\xe2\xe3".to_vec(), |e| matches!(e, PhotoError::Unsupported("PDF"))),
        ("HEIC", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(), |e| matches!(e, PhotoError::Unsupported("HEIC"))),
        ("random bytes", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(), |e| {
            matches!(e, PhotoError::Unsupported(_))
        }),
        ("empty", Vec::new(), |e| matches!(e, PhotoError::Empty)),
        ("JPEG signature, then nothing", vec![0xFF, 0xD8, 0xFF], |e| matches!(e, PhotoError::Truncated)),
    ];
    for (name, bytes, expected) in cases {
        match clean(&bytes, &defaults) {
            Err(error) => assert!(expected(&error), "{name}: unexpected error {error:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
    }
}

#[test]
fn limits_are_applied() {
    let jpeg = fixture("phone_o6_gps.jpg");
    let small_input = Limits { max_input_bytes: 1000, ..Limits::default() };
    assert!(matches!(clean(&jpeg, &small_input), Err(PhotoError::TooLarge { max: 1000, .. })));
    let few_pixels = Limits { max_pixels: 12_000_000, ..Limits::default() };
    assert!(matches!(clean(&jpeg, &few_pixels), Err(PhotoError::TooManyPixels { width: 4032, height: 3024, .. })));
    let little_memory = Limits { max_decoder_bytes: 10_000_000, ..Limits::default() };
    assert!(matches!(clean(&jpeg, &little_memory), Err(PhotoError::TooMuchMemory)));
}

#[test]
fn trailing_garbage_is_not_carried_over() {
    let mut jpeg = fixture("recompressed_nometa.jpg");
    jpeg.extend_from_slice(b"secret trailer: Tel 0160 1234567");
    jpeg.extend(std::iter::repeat_n(0xAB, 100_000));
    let cleaned = clean(&jpeg, &Limits::default()).unwrap();
    assert_clean(&cleaned.jpeg, 1600, 1065);
}

#[test]
fn a_file_the_decoder_panics_on_is_refused_like_any_undecodable_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/fuzz/zune_jpeg_avx2_idct_panic.jpg");
    let crafted = std::fs::read(path).expect("the fuzz finding is in tests/fixtures/fuzz");
    // With AVX2 (where the fuzzer found it) the decoder panics: the file is refused, not the
    // process. Without AVX2 the scalar IDCT may decode it; either way nothing panics.
    let cleaned = clean(&crafted, &Limits::default());
    assert!(matches!(cleaned, Ok(_) | Err(PhotoError::Corrupt(_))), "{:?}", cleaned.err());
}
