//! The detector's view of a photo: scaled so its long side is the detection size, padded with
//! black to a canvas whose sides are multiples of 32 (the networks halve the image five times),
//! and laid out as one `[1, 3, height, width]` tensor. The canvas's short side is one of three
//! sizes (half, three quarters or all of the long side), so every photo, whatever its aspect,
//! runs through one of five plans per model.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::RgbImage;
use tract_onnx::prelude::*;

/// How a network wants its pixels.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Blue, green, red instead of red, green, blue.
    pub bgr: bool,
    /// value = (byte × scale) + offset.
    pub scale: f32,
    pub offset: f32,
}

/// A photo laid out for a detector, and how to map its coordinates back.
pub struct Canvas {
    pub tensor: Tensor,
    /// Photo pixels per canvas pixel.
    pub factor: f32,
    /// The part of the canvas that holds the photo (the rest is padding).
    pub used_width: usize,
    pub used_height: usize,
}

/// Rounds up to a multiple of 32.
fn round32(side: u32) -> u32 {
    side.div_ceil(32).max(1) * 32
}

/// `image` scaled to `side` on its long side (up or down) and padded to a bucketed canvas.
pub fn lay_out(image: &RgbImage, side: u32, layout: Layout) -> TractResult<Canvas> {
    let side = round32(side);
    let (width, height) = image.dimensions();
    let long = width.max(height);
    let factor = long as f32 / side as f32;
    let scaled_side = |s: u32| ((s as f32 / factor).round() as u32).clamp(1, side);
    let (to_width, to_height) = (scaled_side(width), scaled_side(height));
    let bucket =
        |short: u32| [side / 2, side * 3 / 4, side].into_iter().map(round32).find(|b| *b >= short).unwrap_or(side);
    let (canvas_width, canvas_height) =
        if width >= height { (side, bucket(to_height)) } else { (bucket(to_width), side) };

    let source = ImageRef::new(width, height, image.as_raw(), PixelType::U8x3)?;
    let mut scaled = Image::new(to_width, to_height, PixelType::U8x3);
    Resizer::new().resize(&source, &mut scaled, &ResizeOptions::new())?;

    let (cw, ch) = (canvas_width as usize, canvas_height as usize);
    let mut data = vec![layout.offset; 3 * cw * ch];
    let plane = cw * ch;
    let pixels = scaled.buffer();
    for y in 0..to_height as usize {
        for x in 0..to_width as usize {
            let at = (y * to_width as usize + x) * 3;
            for channel in 0..3 {
                let from = if layout.bgr { 2 - channel } else { channel };
                data[channel * plane + y * cw + x] = f32::from(pixels[at + from]) * layout.scale + layout.offset;
            }
        }
    }
    let tensor = Tensor::from_shape(&[1, 3, ch, cw], &data)?;
    Ok(Canvas { tensor, factor, used_width: to_width as usize, used_height: to_height as usize })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RGB: Layout = Layout { bgr: false, scale: 1.0, offset: 0.0 };

    #[test]
    fn a_landscape_photo_fills_the_long_side_and_the_next_bucket() {
        let canvas = lay_out(&RgbImage::new(4000, 3000), 1024, RGB).unwrap();
        assert_eq!(canvas.tensor.shape(), &[1, 3, 768, 1024]);
        assert_eq!((canvas.used_width, canvas.used_height), (1024, 768));
        assert!((canvas.factor - 4000.0 / 1024.0).abs() < 1e-4);
    }

    #[test]
    fn a_portrait_photo_and_a_panorama_use_the_same_few_canvases() {
        assert_eq!(lay_out(&RgbImage::new(1536, 2048), 1024, RGB).unwrap().tensor.shape(), &[1, 3, 1024, 768]);
        assert_eq!(lay_out(&RgbImage::new(1000, 3000), 1024, RGB).unwrap().tensor.shape(), &[1, 3, 1024, 512]);
        assert_eq!(lay_out(&RgbImage::new(1000, 990), 1024, RGB).unwrap().tensor.shape(), &[1, 3, 1024, 1024]);
    }

    #[test]
    fn channels_are_ordered_and_scaled_as_the_network_wants() {
        let image = RgbImage::from_pixel(2, 2, image::Rgb([10, 20, 30]));
        let bgr = lay_out(&image, 32, Layout { bgr: true, scale: 2.0, offset: -1.0 }).unwrap();
        let view = bgr.tensor.to_plain_array_view::<f32>().unwrap();
        assert_eq!([view[[0, 0, 0, 0]], view[[0, 1, 0, 0]], view[[0, 2, 0, 0]]], [59.0, 39.0, 19.0]);
    }
}
