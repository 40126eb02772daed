//! Pixels to a clean JPEG: flatten onto white, scale, turn upright, convert to sRGB, encode.
//!
//! Scaling comes before rotation and colour conversion, so those touch the small image only.
//! A picture already small enough is neither copied nor scaled.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

use super::PhotoError;

/// 8-bit RGB; transparent pixels are composited onto white, as a viewer would show them.
pub fn flatten(pixels: DynamicImage) -> RgbImage {
    if !pixels.color().has_alpha() {
        return pixels.into_rgb8();
    }
    let rgba = pixels.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for px in rgba.as_raw().chunks_exact(4) {
        let alpha = u32::from(px[3]);
        for &channel in &px[..3] {
            let blended = (u32::from(channel) * alpha + 255 * (255 - alpha) + 127) / 255;
            rgb.push(blended as u8);
        }
    }
    RgbImage::from_raw(width, height, rgb).expect("buffer sized for the image")
}

/// `image` scaled so its long side is `max_side`; `None` when it is that small already
/// (pictures are never enlarged).
pub fn scale(image: &RgbImage, max_side: u32) -> Result<Option<RgbImage>, PhotoError> {
    let (width, height) = image.dimensions();
    let long = width.max(height);
    if long <= max_side {
        return Ok(None);
    }
    let scale = f64::from(max_side) / f64::from(long);
    let target = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    let (to_width, to_height) = (target(width), target(height));
    let source = ImageRef::new(width, height, image.as_raw(), PixelType::U8x3)
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let mut destination = Image::new(to_width, to_height, PixelType::U8x3);
    Resizer::new()
        .resize(&source, &mut destination, &ResizeOptions::new())
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(Some(RgbImage::from_raw(to_width, to_height, destination.into_vec()).expect("buffer sized for the image")))
}

/// Applies an EXIF orientation to the pixels.
pub fn orient(image: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let mut oriented = DynamicImage::ImageRgb8(image);
    oriented.apply_orientation(orientation);
    oriented.into_rgb8()
}

/// Converts from an embedded RGB ICC profile to sRGB, so the file can go without it. Pixels
/// without a usable RGB profile are taken to be sRGB already (CMYK JPEGs are converted by the
/// decoder; grey is neutral).
pub fn to_srgb(image: RgbImage, icc: Option<&[u8]>) -> RgbImage {
    let Some(profile) = icc.and_then(|bytes| ColorProfile::new_from_slice(bytes).ok()) else { return image };
    if profile.color_space != DataColorSpace::Rgb {
        return image;
    }
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) = profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return image;
    };
    let mut converted = vec![0u8; image.as_raw().len()];
    if transform.transform(image.as_raw(), &mut converted).is_err() {
        return image;
    }
    RgbImage::from_raw(image.width(), image.height(), converted).expect("buffer sized for the image")
}

/// A baseline JPEG with a JFIF header and nothing else.
pub fn encode(image: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let (width, height) = image.dimensions();
    let (Ok(width), Ok(height)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(PhotoError::Encode(format!("{width}×{height} is too large for JPEG")));
    };
    let mut out = Vec::with_capacity(image.as_raw().len() / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder
        .encode(image.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency_becomes_white_and_opaque_pixels_stay() {
        let rgba = image::RgbaImage::from_raw(2, 1, vec![10, 20, 30, 0, 10, 20, 30, 255]).unwrap();
        let rgb = flatten(DynamicImage::ImageRgba8(rgba));
        assert_eq!(rgb.as_raw(), &[255, 255, 255, 10, 20, 30]);
    }

    #[test]
    fn scaling_keeps_the_aspect_and_never_enlarges() {
        let image = RgbImage::new(4000, 3000);
        let scaled = orient(scale(&image, 2048).unwrap().unwrap(), Orientation::Rotate90);
        assert_eq!(scaled.dimensions(), (1536, 2048));
        let small = RgbImage::new(100, 50);
        assert_eq!(scale(&small, 2048).unwrap().map(|s| s.dimensions()), None, "(100, 50) stays as it is");
    }
}
