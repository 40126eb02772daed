//! Number plates, found as lines of text with PP-OCRv4's text detector (Apache-2.0;
//! `models/README.md`): a DBNet that gives each input pixel the probability of being text.
//! Connected areas above a threshold are text lines; a line confident enough and shaped like
//! the characters of a plate (wider than tall, not a paragraph) is obscured, together with the
//! plate's border around it. No licence-clean plate model ships in a registry package; a text
//! detector finds the plate's characters whatever the country or plate style, at the price of
//! also obscuring some other short text (see `docs/privacy.md`).

use tract_onnx::prelude::*;

use super::canvas::{self, Layout};
use super::faces::{suppress, Scored};
use super::model::{Model, ModelFile};
use super::{Kind, Region};

pub const FILE: ModelFile =
    ModelFile { name: "ppocr_v4_det.onnx", sha256: "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9" };

/// BGR, scaled to −1…1 (PaddleOCR's training input).
const LAYOUT: Layout = Layout { bgr: true, scale: 2.0 / 255.0, offset: -1.0 };
/// A pixel is text above this probability …
const PIXEL_THRESHOLD: f32 = 0.3;
/// … and a line is kept when its mean probability is above this.
const LINE_THRESHOLD: f32 = 0.6;
/// Text lines are grown by area × ratio / perimeter on every side (DBNet shrinks them in
/// training); a little more covers a plate's frame.
const UNCLIP_RATIO: f32 = 2.0;

/// Plate-shaped text lines in `image` at detection size `side`, in the image's pixels.
pub fn find(model: &Model, image: &image::RgbImage, side: u32) -> TractResult<Vec<Region>> {
    let canvas = canvas::lay_out(image, side, LAYOUT)?;
    let outputs = model.run(canvas.tensor)?;
    let map = outputs[0].to_plain_array_view::<f32>()?;
    let (rows, cols) = (map.shape()[2].min(canvas.used_height), map.shape()[3].min(canvas.used_width));
    let probability = |row: usize, col: usize| map[[0, 0, row, col]];
    let lines = components(rows, cols, probability, PIXEL_THRESHOLD);
    let mut found = Vec::new();
    for line in lines {
        let mean = line.sum / line.pixels as f32;
        let (width, height) = ((line.x1 - line.x0 + 1) as f32, (line.y1 - line.y0 + 1) as f32);
        if mean < LINE_THRESHOLD || !plate_shaped(width, height) {
            continue;
        }
        let grow = width * height * UNCLIP_RATIO / (2.0 * (width + height));
        found.push(Scored {
            score: mean,
            x0: (line.x0 as f32 - grow) * canvas.factor,
            y0: (line.y0 as f32 - grow) * canvas.factor,
            x1: (line.x1 as f32 + 1.0 + grow) * canvas.factor,
            y1: (line.y1 as f32 + 1.0 + grow) * canvas.factor,
        });
    }
    let (image_width, image_height) = image.dimensions();
    Ok(suppress(found, 0.5)
        .into_iter()
        .filter_map(|b| Region::clamped(Kind::Plate, b.x0, b.y0, b.x1, b.y1, image_width, image_height))
        .collect())
}

/// A plate's characters form one line, between about 1.5 (a two-line or square plate) and 12
/// times as wide as tall, at least 3 detector pixels high.
fn plate_shaped(width: f32, height: f32) -> bool {
    height >= 3.0 && (1.2..=12.0).contains(&(width / height))
}

/// One connected area of the map: its bounding box, size and summed values.
struct Component {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    pixels: usize,
    sum: f32,
}

/// The 4-connected areas of a `rows` × `cols` grid where `value` is above `threshold`.
fn components(rows: usize, cols: usize, value: impl Fn(usize, usize) -> f32, threshold: f32) -> Vec<Component> {
    let on = |row: usize, col: usize| value(row, col) > threshold;
    let mut seen = vec![false; rows * cols];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start_row in 0..rows {
        for start_col in 0..cols {
            if seen[start_row * cols + start_col] || !on(start_row, start_col) {
                continue;
            }
            seen[start_row * cols + start_col] = true;
            stack.push((start_row, start_col));
            let mut part =
                Component { x0: start_col, y0: start_row, x1: start_col, y1: start_row, pixels: 0, sum: 0.0 };
            while let Some((row, col)) = stack.pop() {
                part.pixels += 1;
                part.sum += value(row, col);
                part.x0 = part.x0.min(col);
                part.x1 = part.x1.max(col);
                part.y0 = part.y0.min(row);
                part.y1 = part.y1.max(row);
                let neighbours =
                    [(row.wrapping_sub(1), col), (row + 1, col), (row, col.wrapping_sub(1)), (row, col + 1)];
                for (r, c) in neighbours {
                    if r < rows && c < cols && !seen[r * cols + c] && on(r, c) {
                        seen[r * cols + c] = true;
                        stack.push((r, c));
                    }
                }
            }
            found.push(part);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_areas_are_separate_lines() {
        let grid = ["##..#", "##..#", ".....", "..###"];
        let value = |r: usize, c: usize| if grid[r].as_bytes()[c] == b'#' { 1.0 } else { 0.0 };
        let mut boxes: Vec<_> =
            components(4, 5, value, 0.5).into_iter().map(|p| (p.x0, p.y0, p.x1, p.y1, p.pixels)).collect();
        boxes.sort();
        assert_eq!(boxes, [(0, 0, 1, 1, 4), (2, 3, 4, 3, 3), (4, 0, 4, 1, 2)]);
    }

    #[test]
    fn a_plate_line_is_wide_and_a_paragraph_or_a_pole_is_not() {
        assert!(plate_shaped(50.0, 10.0));
        assert!(!plate_shaped(10.0, 40.0), "a tall narrow shape");
        assert!(!plate_shaped(300.0, 10.0), "a long line of text");
        assert!(!plate_shaped(4.0, 2.0), "too small to be anything");
    }
}
