//! Faces with CenterFace (MIT; `models/README.md`): a fully convolutional network that marks
//! each face's centre on a heat map at a quarter of the input's resolution, with the face's
//! size and a sub-cell offset beside it. Centres above the threshold become boxes; boxes that
//! overlap a stronger one are the same face.

use tract_onnx::prelude::*;

use super::canvas::{self, Layout};
use super::model::{Model, ModelFile};
use super::{Kind, Region};

pub const FILE: ModelFile =
    ModelFile { name: "centerface.onnx", sha256: "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc" };

/// RGB bytes as they are (0–255).
const LAYOUT: Layout = Layout { bgr: false, scale: 1.0, offset: 0.0 };
/// The heat map's cells are four input pixels wide.
const STRIDE: f32 = 4.0;
/// A centre scoring above this in the overview, but below the threshold, may be a face too
/// small for the overview to be sure of: it is looked at again in detail.
const DOUBT: f32 = 0.1;
/// Doubtful candidates taller than this (in overview pixels) are large enough to have been
/// judged in the overview already.
const DOUBT_MAX_HEIGHT: f32 = 32.0;
/// The detail view of a doubtful candidate: a square this many detector pixels wide, at
/// twice the overview's resolution …
const DETAIL_SIDE: u32 = 128;
/// … and at most this many of them per photo, the most likely first.
const MAX_DETAILS: usize = 16;
/// A face box shorter than this share of the photo's long side (20 px in a 2048 px photo)
/// shows nobody recognisably; such boxes are mostly patterns that look like a face.
const MIN_FACE_SHARE: f32 = 0.01;
/// A detection size above this is looked at in tiles of at most this many pixels a side (the
/// network's memory grows with its input: about 360 MiB for a whole 2048 × 1536 photo) …
const TILE: u32 = 1024;
/// … overlapping so that a face up to this tall lies whole in one of them; larger faces are
/// found in an overview of the whole photo at the tile size.
const TILE_OVERLAP: u32 = 128;

/// Faces in `image`, in the image's pixels, at detection size `side`. Above the tile size,
/// the photo at that size is searched tile by tile, and the whole photo at the tile size for
/// faces larger than the tiles' overlap. Otherwise the whole photo is searched at `side` (the
/// overview), and, when that is smaller than the photo, candidates too small to be judged
/// there are looked at again in a small window at twice that resolution (small faces in a
/// crowd, across a street).
pub fn find(model: &Model, image: &image::RgbImage, side: u32, threshold: f32) -> TractResult<Vec<Region>> {
    let (image_width, image_height) = image.dimensions();
    // Looking at a small photo larger than it is finds nothing a person could recognise (in
    // steps of 256 px, so that few canvas shapes, and plans, arise).
    let side = side.min(image_width.max(image_height).div_ceil(256) * 256);
    let faces =
        if side > TILE { tiled(model, image, side, threshold)? } else { overview(model, image, side, threshold)? };
    let min_height = image_width.max(image_height) as f32 * MIN_FACE_SHARE;
    let faces = faces.into_iter().filter(|b| b.height() >= min_height).collect();
    Ok(suppress(faces, 0.3)
        .into_iter()
        .filter_map(|b| Region::clamped(Kind::Face, b.x0, b.y0, b.x1, b.y1, image_width, image_height))
        .collect())
}

/// Faces in the whole photo at the tile size and in each tile of it at `side`.
fn tiled(model: &Model, image: &image::RgbImage, side: u32, threshold: f32) -> TractResult<Vec<Scored>> {
    let mut faces = candidates(model, canvas::lay_out(image, TILE, LAYOUT)?, threshold)?;
    let tiles = canvas::Tiles::new(image, side, TILE, TILE_OVERLAP)?;
    for index in 0..tiles.len() {
        faces.extend(candidates(model, tiles.canvas(index, LAYOUT)?, threshold)?);
    }
    Ok(faces)
}

/// Faces in the whole photo at `side`, small doubtful ones looked at again in detail.
fn overview(model: &Model, image: &image::RgbImage, side: u32, threshold: f32) -> TractResult<Vec<Scored>> {
    let (image_width, image_height) = image.dimensions();
    let factor = image_width.max(image_height) as f32 / side as f32;
    // Where the overview sees every pixel of the photo, there is nothing more to look at.
    let doubt = if factor > 1.0 { DOUBT.min(threshold) } else { threshold };
    let overview = candidates(model, canvas::lay_out(image, side, LAYOUT)?, doubt)?;
    let mut faces = Vec::new();
    let mut doubtful = Vec::new();
    for candidate in suppress(overview, 0.3) {
        if candidate.score > threshold {
            faces.push(candidate);
        } else if candidate.height() / factor <= DOUBT_MAX_HEIGHT {
            doubtful.push(candidate);
        }
    }
    // The detail window spans half as many overview pixels as it has; never finer than the photo.
    let window = (DETAIL_SIDE as f32 * factor / 2.0).max(DETAIL_SIDE as f32).round() as u32;
    for candidate in doubtful.into_iter().take(MAX_DETAILS) {
        faces.extend(look_closer(model, image, &candidate, window, threshold)?);
    }
    Ok(faces)
}

/// Faces above `threshold` in a `window`-pixel square of `image` around `candidate`.
fn look_closer(
    model: &Model,
    image: &image::RgbImage,
    candidate: &Scored,
    window: u32,
    threshold: f32,
) -> TractResult<Vec<Scored>> {
    let (width, height) = image.dimensions();
    let (window_width, window_height) = (window.min(width), window.min(height));
    let centre_x = ((candidate.x0 + candidate.x1) / 2.0).max(0.0) as u32;
    let centre_y = ((candidate.y0 + candidate.y1) / 2.0).max(0.0) as u32;
    let left = centre_x.saturating_sub(window_width / 2).min(width - window_width);
    let top = centre_y.saturating_sub(window_height / 2).min(height - window_height);
    let part = image::imageops::crop_imm(image, left, top, window_width, window_height).to_image();
    let mut window = canvas::lay_out(&part, DETAIL_SIDE, LAYOUT)?;
    (window.left, window.top) = (left as f32, top as f32);
    candidates(model, window, threshold)
}

/// Every centre scoring above `min_score` on `canvas`, as a box in the photo's pixels.
fn candidates(model: &Model, canvas: canvas::Canvas, min_score: f32) -> TractResult<Vec<Scored>> {
    let canvas::Canvas { tensor, factor, used_width, used_height, left, top } = canvas;
    let to_photo = |x: f32, y: f32| (left + x * factor, top + y * factor);
    let outputs = model.run(tensor)?;
    let heat = outputs[0].to_plain_array_view::<f32>()?;
    let scale = outputs[1].to_plain_array_view::<f32>()?;
    let offset = outputs[2].to_plain_array_view::<f32>()?;
    let (rows, cols) = (heat.shape()[2], heat.shape()[3]);
    let used_rows = (used_height as f32 / STRIDE).ceil() as usize;
    let used_cols = (used_width as f32 / STRIDE).ceil() as usize;
    let mut found = Vec::new();
    for row in 0..rows.min(used_rows) {
        for col in 0..cols.min(used_cols) {
            let score = heat[[0, 0, row, col]];
            if score <= min_score {
                continue;
            }
            let height = scale[[0, 0, row, col]].exp() * STRIDE;
            let width = scale[[0, 1, row, col]].exp() * STRIDE;
            let centre_y = (row as f32 + offset[[0, 0, row, col]] + 0.5) * STRIDE;
            let centre_x = (col as f32 + offset[[0, 1, row, col]] + 0.5) * STRIDE;
            let (x0, y0) = to_photo(centre_x - width / 2.0, centre_y - height / 2.0);
            let (x1, y1) = to_photo(centre_x + width / 2.0, centre_y + height / 2.0);
            found.push(Scored { score, x0, y0, x1, y1 });
        }
    }
    Ok(found)
}

/// A candidate box in image pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    pub score: f32,
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Scored {
    fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    fn overlap(&self, other: &Scored) -> f32 {
        let width = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let height = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let shared = width * height;
        let union = self.area() + other.area() - shared;
        if union > 0.0 {
            shared / union
        } else {
            0.0
        }
    }
}

/// Non-maximum suppression: the strongest box of each group overlapping by more than
/// `max_overlap` (intersection over union).
pub(super) fn suppress(mut boxes: Vec<Scored>, max_overlap: f32) -> Vec<Scored> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Scored> = Vec::new();
    for candidate in boxes {
        if kept.iter().all(|k| k.overlap(&candidate) <= max_overlap) {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(score: f32, x0: f32) -> Scored {
        Scored { score, x0, y0: 0.0, x1: x0 + 10.0, y1: 10.0 }
    }

    #[test]
    fn overlapping_boxes_are_one_face_and_apart_ones_are_two() {
        let kept = suppress(vec![scored(0.6, 1.0), scored(0.9, 0.0), scored(0.7, 30.0)], 0.3);
        let xs: Vec<f32> = kept.iter().map(|b| b.x0).collect();
        assert_eq!(xs, [0.0, 30.0]);
    }
}
