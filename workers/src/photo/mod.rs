//! Photo cleaning (PRIVACY P5): an upload's bytes in; a new JPEG made only from its pixels,
//! a thumbnail, and the two facts worth keeping from its metadata (where and when) out.
//!
//! Nothing of the original file survives: the pixels are decoded, turned upright (EXIF
//! orientation), converted to sRGB (embedded ICC profile), flattened onto white (alpha), scaled
//! and encoded afresh, so EXIF, XMP, IPTC, ICC, comments, maker notes, embedded thumbnails, PNG
//! text chunks and trailing bytes cannot be carried over. The format is sniffed from the bytes.
//! Limits are checked from the header, before any pixel memory is allocated.

mod metadata;
mod render;
mod sniff;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};
use sha2::{Digest, Sha256};

use crate::LatLon;
pub use sniff::{sniff, Format};

/// Bounds on what one upload may cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest upload accepted, in bytes.
    pub max_input_bytes: usize,
    /// Largest picture, in pixels (width × height), judged from the header.
    pub max_pixels: u64,
    /// Most memory the decoder may allocate for pixels, in bytes.
    pub max_decoder_bytes: u64,
    /// Long side of the cleaned image; smaller pictures are not enlarged.
    pub max_side: u32,
    /// Long side of the thumbnail.
    pub thumb_side: u32,
    /// JPEG quality of both, 1–100.
    pub quality: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 16 * 1024 * 1024,
            max_pixels: 48_000_000,
            max_decoder_bytes: 512 * 1024 * 1024,
            max_side: 2048,
            thumb_side: 320,
            quality: 82,
        }
    }
}

/// A cleaned photo.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The cleaned JPEG: pixels only.
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    /// Size of the cleaned image, upright.
    pub width: u32,
    pub height: u32,
    /// Where the photo was taken, read before cleaning.
    pub gps: Option<LatLon>,
    /// When, as the camera wrote it (`YYYY-MM-DDTHH:MM:SS[+HH:MM]`).
    pub taken_at: Option<String>,
    /// Hex SHA-256 of `jpeg`.
    pub sha256: String,
    /// The cleaned pixels `jpeg` was encoded from, for the stages that look at the picture
    /// (bystander detection) without decoding it again.
    pub pixels: RgbImage,
}

/// Why an upload was refused. All but `Encode` are the upload's fault.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {bytes} bytes; at most {max} are accepted")]
    TooLarge { bytes: usize, max: usize },
    #[error("{0} files are not accepted; send a JPEG, PNG or WebP photo")]
    Unsupported(&'static str),
    #[error("the image is incomplete (the file was cut off)")]
    Truncated,
    #[error("the image is {width}×{height} pixels; at most {max} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("decoding the image would need more memory than allowed")]
    TooMuchMemory,
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
    #[error("encoding the cleaned image failed: {0}")]
    Encode(String),
}

impl From<ImageError> for PhotoError {
    fn from(error: ImageError) -> Self {
        match error {
            ImageError::Limits(_) => PhotoError::TooMuchMemory,
            ImageError::Unsupported(e) => PhotoError::Corrupt(e.to_string()),
            other => PhotoError::Corrupt(other.to_string()),
        }
    }
}

/// Cleans one upload. A decoder that panics on a file (zune-jpeg 0.5.15's AVX2 IDCT does on
/// some crafted JPEGs, found by fuzzing) refuses that file like any other it cannot decode.
pub fn clean(bytes: &[u8], limits: &Limits) -> Result<Cleaned, PhotoError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| clean_unguarded(bytes, limits)))
        .unwrap_or_else(|_| Err(PhotoError::Corrupt("the decoder failed on this file".into())))
}

fn clean_unguarded(bytes: &[u8], limits: &Limits) -> Result<Cleaned, PhotoError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(PhotoError::TooLarge { bytes: bytes.len(), max: limits.max_input_bytes });
    }
    let format = sniff::sniff(bytes)?;
    match format {
        Format::Jpeg if !sniff::jpeg_is_complete(bytes) => return Err(PhotoError::Truncated),
        Format::WebP => sniff::webp_is_still(bytes)?,
        Format::Png => sniff::png_chunks_are_bounded(bytes)?,
        Format::Jpeg => {}
    }

    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_decoder_bytes);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(decoder_limits.clone());
    let mut decoder = reader.into_decoder()?;

    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels { width, height, max: limits.max_pixels });
    }
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt("the image has no pixels".into()));
    }
    decoder_limits.reserve(decoder.total_bytes())?;

    // Broken metadata never costs the photo: it is simply not used.
    let icc = decoder.icc_profile().ok().flatten();
    let exif = decoder.exif_metadata().ok().flatten().map(metadata::without_exif_prefix);
    let orientation = exif
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let xmp = decoder.xmp_metadata().ok().flatten();
    let found = metadata::read(exif, xmp.as_deref());

    let pixels = DynamicImage::from_decoder(decoder)?;
    let rgb = render::flatten(pixels);
    let scaled = render::scale(&rgb, limits.max_side)?.unwrap_or(rgb);
    let upright = render::to_srgb(render::orient(scaled, orientation), icc.as_deref());
    let (jpeg, thumbnail) = encode(&upright, limits)?;
    let sha256 = format!("{:x}", Sha256::digest(&jpeg));
    Ok(Cleaned {
        jpeg,
        thumbnail,
        width: upright.width(),
        height: upright.height(),
        gps: found.gps,
        taken_at: found.taken_at,
        sha256,
        pixels: upright,
    })
}

/// `pixels` as a JPEG and a thumbnail, with the quality and thumbnail size of `limits`.
pub fn encode(pixels: &RgbImage, limits: &Limits) -> Result<(Vec<u8>, Vec<u8>), PhotoError> {
    let jpeg = render::encode(pixels, limits.quality)?;
    let thumbnail = match render::scale(pixels, limits.thumb_side)? {
        Some(small) => render::encode(&small, limits.quality)?,
        None => jpeg.clone(),
    };
    Ok((jpeg, thumbnail))
}

/// Decodes a JPEG this module wrote (a stored, cleaned photo) back to pixels.
pub fn decode_cleaned(jpeg: &[u8]) -> Result<RgbImage, PhotoError> {
    let reader = ImageReader::with_format(Cursor::new(jpeg), image::ImageFormat::Jpeg);
    Ok(reader.decode()?.into_rgb8())
}
