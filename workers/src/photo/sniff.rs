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

    pub fn image_format(self) -> image::ImageFormat {
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

/// Checks that every chunk of a WebP file fits inside the file. A decoder allocates what a
/// chunk header declares before reading it, so an 800-byte file declaring a 4 GB EXIF chunk
/// would otherwise cost 4 GB (found by fuzzing).
pub fn webp_chunks_fit(bytes: &[u8]) -> bool {
    let mut at = 12; // after "RIFF", the RIFF size and "WEBP"
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 8) else { return false };
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let padded = size + (size & 1);
        if bytes.len() - at - 8 < size {
            return false;
        }
        at = at.saturating_add(8).saturating_add(padded);
    }
    true
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
    fn a_webp_chunk_larger_than_the_file_is_caught() {
        let whole = b"RIFF\x1a\0\0\0WEBPVP8L\x02\0\0\0abEXIF\x04\0\0\0abcd".to_vec();
        assert!(webp_chunks_fit(&whole));
        assert!(!webp_chunks_fit(&whole[..24]), "a chunk header cut off");
        let mut huge = whole;
        huge[26..30].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert!(!webp_chunks_fit(&huge));
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
