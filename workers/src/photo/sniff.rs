//! What an upload is, told from its bytes alone (never from a declared MIME type or file name),
//! and whether a JPEG is whole: a truncated JPEG decodes to a half-grey picture without error,
//! so its end marker is looked for before decoding.

use super::PhotoError;

/// The formats Meldeweg decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::WebP => image::ImageFormat::WebP,
        }
    }
}

/// Identifies the format, or names what the bytes are when Meldeweg cannot read them.
pub fn sniff(bytes: &[u8]) -> Result<Format, PhotoError> {
    let unsupported = |what: &'static str| Err(PhotoError::Unsupported(what));
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(Format::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(Format::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Ok(Format::WebP),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] if brand.starts_with(b"avif") => unsupported("AVIF"),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => unsupported("HEIC"),
        [b'G', b'I', b'F', b'8', ..] => unsupported("GIF"),
        [b'%', b'P', b'D', b'F', ..] => unsupported("PDF"),
        [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => unsupported("TIFF"),
        [b'B', b'M', ..] => unsupported("BMP"),
        [] => Err(PhotoError::Empty),
        _ => unsupported("unrecognised"),
    }
}

/// Checks that a JPEG's segments lead to image data and that an end-of-image marker follows
/// it. Inside entropy-coded data every 0xFF byte is stuffed (0xFF00) or a restart marker, so an
/// 0xFFD9 after the first start-of-scan is the real end.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    loop {
        // Markers may be padded with any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else { return false };
        let Some(length) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else {
            return false;
        };
        if marker == 0xDA {
            let scan = at + 2 + length;
            return bytes.get(scan..).is_some_and(|data| data.windows(2).any(|w| w == [0xFF, 0xD9]));
        }
        if marker == 0xD9 || length < 2 {
            return false; // the image ended before any scan, or a broken segment length
        }
        at += 2 + length;
    }
}

/// Largest compressed colour profile accepted in a PNG. Real profiles are a few KB; the PNG
/// decoder inflates `iCCP` while reading the header, before any size check.
const MAX_PNG_ICC_BYTES: usize = 64 * 1024;

/// Checks a WebP before decoding: every chunk fits inside the file (a decoder allocates what a
/// chunk header declares before reading it, so an 800-byte file declaring a 4 GB EXIF chunk
/// would otherwise cost 4 GB; found by fuzzing), and it is not animated (frames nest chunks
/// the walk above cannot see, and a photo is never an animation).
pub fn webp_is_still(bytes: &[u8]) -> Result<(), PhotoError> {
    let mut at = 12; // after "RIFF", the RIFF size and "WEBP"
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 8) else { return Err(PhotoError::Truncated) };
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if bytes.len() - at - 8 < size {
            return Err(PhotoError::Truncated);
        }
        let animated = &header[..4] == b"ANIM" || &header[..4] == b"ANMF";
        let animation_flag = &header[..4] == b"VP8X" && bytes.get(at + 8).is_some_and(|flags| flags & 0x02 != 0);
        if animated || animation_flag {
            return Err(PhotoError::Unsupported("animated WebP"));
        }
        at = at.saturating_add(8).saturating_add(size + (size & 1));
    }
    Ok(())
}

/// Checks a PNG's chunks before decoding: each fits inside the file, and a colour profile
/// (`iCCP`) is small, since the decoder inflates it while reading the header.
pub fn png_chunks_are_bounded(bytes: &[u8]) -> Result<(), PhotoError> {
    let mut at = 8; // after the signature
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 8) else { return Err(PhotoError::Truncated) };
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if bytes.len() - at - 8 < size {
            return Err(PhotoError::Truncated);
        }
        if &header[4..] == b"iCCP" && size > MAX_PNG_ICC_BYTES {
            return Err(PhotoError::Corrupt(format!(
                "the colour profile has {size} bytes; at most {MAX_PNG_ICC_BYTES}"
            )));
        }
        if &header[4..] == b"IEND" {
            return Ok(());
        }
        at = at.saturating_add(12).saturating_add(size); // length, type, data, CRC
    }
    Err(PhotoError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_signatures() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap(), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), Format::Png);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), Format::WebP);
        assert!(matches!(sniff(b"\0\0\0\x18ftypheic\0\0"), Err(PhotoError::Unsupported("HEIC"))));
        assert!(matches!(sniff(b"\0\0\0\x18ftypavif\0\0"), Err(PhotoError::Unsupported("AVIF"))));
        assert!(matches!(sniff(b"GIF89a"), Err(PhotoError::Unsupported("GIF"))));
        assert!(matches!(sniff(b"%PDF-1.7"), Err(PhotoError::Unsupported("PDF"))));
        assert!(matches!(sniff(b"RIFF\0\0\0\0WAVE"), Err(PhotoError::Unsupported("unrecognised"))));
        assert!(matches!(sniff(b""), Err(PhotoError::Empty)));
    }

    #[test]
    fn a_webp_chunk_larger_than_the_file_or_an_animation_is_refused() {
        let whole = b"RIFF\x1a\0\0\0WEBPVP8L\x02\0\0\0abEXIF\x04\0\0\0abcd".to_vec();
        assert!(webp_is_still(&whole).is_ok());
        assert!(matches!(webp_is_still(&whole[..24]), Err(PhotoError::Truncated)), "a chunk header cut off");
        let mut huge = whole.clone();
        huge[26..30].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert!(matches!(webp_is_still(&huge), Err(PhotoError::Truncated)));
        let animated = b"RIFF\x1e\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0\0\0\0\0\0\0".to_vec();
        assert!(matches!(webp_is_still(&animated), Err(PhotoError::Unsupported("animated WebP"))));
        let frame = b"RIFF\x14\0\0\0WEBPANMF\x08\0\0\0EXIF\xf0\xff\xff\xff".to_vec();
        assert!(matches!(webp_is_still(&frame), Err(PhotoError::Unsupported("animated WebP"))));
    }

    #[test]
    fn a_png_with_a_huge_colour_profile_or_a_chunk_past_the_end_is_refused() {
        let chunk = |kind: &[u8; 4], size: u32, data: &[u8]| {
            let mut c = size.to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", 13, &[0; 13]));
        let mut with_end = png.clone();
        with_end.extend(chunk(b"IEND", 0, &[]));
        assert!(png_chunks_are_bounded(&with_end).is_ok());
        assert!(matches!(png_chunks_are_bounded(&png), Err(PhotoError::Truncated)), "no IEND");
        let mut icc = png.clone();
        icc.extend(chunk(b"iCCP", 70_000, &vec![0; 70_000]));
        icc.extend(chunk(b"IEND", 0, &[]));
        assert!(matches!(png_chunks_are_bounded(&icc), Err(PhotoError::Corrupt(_))));
        let mut past_end = png;
        past_end.extend(chunk(b"tEXt", 1_000_000, b"short"));
        assert!(matches!(png_chunks_are_bounded(&past_end), Err(PhotoError::Truncated)));
    }

    #[test]
    fn a_jpeg_without_its_end_marker_is_incomplete() {
        let whole = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 0xFF, 0x00, 0xFF, 0xD9];
        assert!(jpeg_is_complete(&whole));
        assert!(!jpeg_is_complete(&whole[..whole.len() - 2]));
        assert!(!jpeg_is_complete(&whole[..9]));
        // An end marker inside an APP segment (an embedded thumbnail) does not count.
        let thumb_only = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9, 0xFF, 0xDA, 0x00, 0x02, 1, 2];
        assert!(!jpeg_is_complete(&thumb_only));
    }
}
