//! The detector's view of a photo: scaled so its long side is the detection size, padded with
//! black to a canvas whose sides are multiples of 32 (the networks halve the image five times),
//! and laid out as one `[1, 3, height, width]` tensor. The canvas's short side is one of three
//! sizes (half, three quarters or all of the long side), so every photo, whatever its aspect,
//! runs through one of five plans per model. A large detection size is cut into tiles instead,
//! so the network's memory stays that of one tile.

use std::borrow::Cow;

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

/// A photo (or a part of it) laid out for a detector, and how to map its coordinates back.
pub struct Canvas {
    pub tensor: Tensor,
    /// Photo pixels per canvas pixel.
    pub factor: f32,
    /// The part of the canvas that holds the photo (the rest is padding).
    pub used_width: usize,
    pub used_height: usize,
    /// Where the canvas's top left corner is in the photo, in photo pixels.
    pub left: f32,
    pub top: f32,
}

/// Rounds up to a multiple of 32.
fn round32(side: u32) -> u32 {
    side.div_ceil(32).max(1) * 32
}

/// `image` scaled to `side` on its long side (up or down) and padded to a bucketed canvas.
pub fn lay_out(image: &RgbImage, side: u32, layout: Layout) -> TractResult<Canvas> {
    let side = round32(side);
    let (width, height) = image.dimensions();
    let factor = width.max(height) as f32 / side as f32;
    let scaled = scale(image, factor, side)?;
    let (to_width, to_height) = scaled.dimensions();
    let bucket =
        |short: u32| [side / 2, side * 3 / 4, side].into_iter().map(round32).find(|b| *b >= short).unwrap_or(side);
    let canvas = if width >= height { (side, bucket(to_height)) } else { (bucket(to_width), side) };
    let tensor = tensor(&scaled, (0, 0), (to_width, to_height), canvas, layout)?;
    Ok(Canvas { tensor, factor, used_width: to_width as usize, used_height: to_height as usize, left: 0.0, top: 0.0 })
}

/// `image` scaled to `side` on its long side and cut into overlapping tiles of at most `tile`
/// pixels a side: every area up to `overlap` pixels (at that scale) lies whole in one tile.
/// Each tile is laid out when it is asked for, so one tile's tensor is in memory at a time.
pub struct Tiles<'a> {
    scaled: Cow<'a, RgbImage>,
    factor: f32,
    columns: Vec<(u32, u32)>,
    rows: Vec<(u32, u32)>,
}

impl<'a> Tiles<'a> {
    pub fn new(image: &'a RgbImage, side: u32, tile: u32, overlap: u32) -> TractResult<Tiles<'a>> {
        let (width, height) = image.dimensions();
        let factor = width.max(height) as f32 / side as f32;
        let scaled = scale(image, factor, side)?;
        let (columns, rows) = (spans(scaled.width(), tile, overlap), spans(scaled.height(), tile, overlap));
        Ok(Tiles { scaled, factor, columns, rows })
    }

    /// How many tiles there are.
    pub fn len(&self) -> usize {
        self.columns.len() * self.rows.len()
    }

    /// Tile `index` (row by row) laid out for a detector, padded to a multiple of 32.
    pub fn canvas(&self, index: usize, layout: Layout) -> TractResult<Canvas> {
        let (x, width) = self.columns[index % self.columns.len()];
        let (y, height) = self.rows[index / self.columns.len()];
        let tensor = tensor(&self.scaled, (x, y), (width, height), (round32(width), round32(height)), layout)?;
        Ok(Canvas {
            tensor,
            factor: self.factor,
            used_width: width as usize,
            used_height: height as usize,
            left: x as f32 * self.factor,
            top: y as f32 * self.factor,
        })
    }
}

/// Start and length of the fewest pieces of at most `tile` that cover `length`, spread evenly
/// and overlapping by at least `overlap`.
fn spans(length: u32, tile: u32, overlap: u32) -> Vec<(u32, u32)> {
    if length <= tile {
        return vec![(0, length)];
    }
    let count = (length - overlap).div_ceil(tile - overlap);
    let piece = (length + (count - 1) * overlap).div_ceil(count).min(tile);
    (0..count).map(|i| (i * (length - piece) / (count - 1), piece)).collect()
}

/// `image` scaled by 1 / `factor` (its long side becomes `side`); the image itself, not a
/// copy, when that is its size already.
fn scale(image: &RgbImage, factor: f32, side: u32) -> TractResult<Cow<'_, RgbImage>> {
    let (width, height) = image.dimensions();
    let scaled_side = |s: u32| ((s as f32 / factor).round() as u32).clamp(1, side);
    let (to_width, to_height) = (scaled_side(width), scaled_side(height));
    if (to_width, to_height) == (width, height) {
        return Ok(Cow::Borrowed(image));
    }
    let source = ImageRef::new(width, height, image.as_raw(), PixelType::U8x3)?;
    let mut scaled = Image::new(to_width, to_height, PixelType::U8x3);
    Resizer::new().resize(&source, &mut scaled, &ResizeOptions::new())?;
    let scaled = RgbImage::from_raw(to_width, to_height, scaled.into_vec()).expect("the resizer fills the image");
    Ok(Cow::Owned(scaled))
}

/// The `size` part of `image` at `origin`, as a `[1, 3, height, width]` tensor of `canvas`
/// size (padded with the layout's zero).
fn tensor(
    image: &RgbImage,
    origin: (u32, u32),
    size: (u32, u32),
    canvas: (u32, u32),
    layout: Layout,
) -> TractResult<Tensor> {
    let (cw, ch) = (canvas.0 as usize, canvas.1 as usize);
    let plane = cw * ch;
    let mut data = vec![layout.offset; 3 * plane];
    for y in 0..size.1 as usize {
        for x in 0..size.0 as usize {
            let pixel = image.get_pixel(origin.0 + x as u32, origin.1 + y as u32).0;
            for channel in 0..3 {
                let from = if layout.bgr { 2 - channel } else { channel };
                data[channel * plane + y * cw + x] = f32::from(pixel[from]) * layout.scale + layout.offset;
            }
        }
    }
    Tensor::from_shape(&[1, 3, ch, cw], &data)
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
    fn tiles_cover_the_photo_overlapping_by_at_least_the_margin() {
        assert_eq!(spans(800, 1024, 128), [(0, 800)]);
        assert_eq!(spans(2048, 1024, 128), [(0, 768), (640, 768), (1280, 768)]);
        assert_eq!(spans(1536, 1024, 128), [(0, 832), (704, 832)]);
        for length in [1025, 1500, 2048, 3000, 4096] {
            let pieces = spans(length, 1024, 128);
            assert_eq!(pieces.last().map(|(start, piece)| start + piece), Some(length), "{length} is covered");
            for pair in pieces.windows(2) {
                assert!(pair[0].0 + pair[0].1 >= pair[1].0 + 128, "{length}: {pieces:?} overlap");
                assert!(pair[0].1 <= 1024);
            }
        }
        let photo = RgbImage::new(4032, 3024);
        let tiles = Tiles::new(&photo, 2048, 1024, 128).unwrap();
        assert_eq!(tiles.len(), 6);
        let last = tiles.canvas(5, RGB).unwrap();
        assert_eq!(last.tensor.shape(), &[1, 3, 832, 768]);
        let (x, y) = (last.left, last.top);
        assert!((x - 1280.0 * 1.96875).abs() < 1e-3 && (y - 704.0 * 1.96875).abs() < 1e-3, "{x}, {y}");
    }

    #[test]
    fn channels_are_ordered_and_scaled_as_the_network_wants() {
        let image = RgbImage::from_pixel(2, 2, image::Rgb([10, 20, 30]));
        let bgr = lay_out(&image, 32, Layout { bgr: true, scale: 2.0, offset: -1.0 }).unwrap();
        let view = bgr.tensor.to_plain_array_view::<f32>().unwrap();
        assert_eq!([view[[0, 0, 0, 0]], view[[0, 1, 0, 0]], view[[0, 2, 0, 0]]], [59.0, 39.0, 19.0]);
    }
}
