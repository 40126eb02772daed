//! Number plates, found as lines of text with PP-OCRv4's text detector (Apache-2.0;
//! `models/README.md`): a DBNet that gives each input pixel the probability of being text.
//! Connected areas above a threshold are text lines; a line confident enough and shaped like
//! the characters of a plate (a line: long and thin at whatever angle, not a paragraph nor a
//! blob of texture) is obscured, together with the plate's border around it. No licence-clean plate model ships in a registry package; a text
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
        if mean < LINE_THRESHOLD || !line.plate_shaped() {
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

/// One connected area of the map: its bounding box, size and summed values, and the sums of
/// its pixels' coordinates and their products (its shape, whatever its angle).
#[derive(Default)]
struct Component {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    pixels: usize,
    sum: f32,
    moments: [f64; 5],
}

impl Component {
    fn add(&mut self, row: usize, col: usize, value: f32) {
        self.pixels += 1;
        self.sum += value;
        self.x0 = self.x0.min(col);
        self.x1 = self.x1.max(col);
        self.y0 = self.y0.min(row);
        self.y1 = self.y1.max(row);
        let (x, y) = (col as f64, row as f64);
        for (moment, term) in self.moments.iter_mut().zip([x, y, x * x, y * y, x * y]) {
            *moment += term;
        }
    }

    /// Length and thickness of the rectangle with the same spread as the area, along its own
    /// axes (so a tilted line is as long and thin as a level one).
    fn length_and_thickness(&self) -> (f64, f64) {
        let n = self.pixels.max(1) as f64;
        let [sx, sy, sxx, syy, sxy] = self.moments.map(|m| m / n);
        let (cxx, cyy, cxy) = (sxx - sx * sx, syy - sy * sy, sxy - sx * sy);
        let half_sum = (cxx + cyy) / 2.0;
        let spread = (((cxx - cyy) / 2.0).powi(2) + cxy * cxy).sqrt();
        // A filled w × h rectangle has variances w²/12 and h²/12 along its axes.
        let side = |variance: f64| (12.0 * variance.max(0.0)).sqrt();
        (side(half_sum + spread), side(half_sum - spread))
    }

    /// A plate's characters form one line, 2 to 20 times as long as thick (the detector's text
    /// areas taper at their ends, so they look thinner than their box), at least 2 detector
    /// pixels thick. A two-line plate's lines are found one by one; areas of texture the
    /// detector takes for text are blobs, not lines.
    fn plate_shaped(&self) -> bool {
        let (length, thickness) = self.length_and_thickness();
        thickness >= 2.0 && (2.0..=20.0).contains(&(length / thickness))
    }
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
                Component { x0: start_col, y0: start_row, x1: start_col, y1: start_row, ..Default::default() };
            while let Some((row, col)) = stack.pop() {
                part.add(row, col, value(row, col));
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

    /// The area of a `width` × `height` rectangle turned by `degrees` about its centre.
    fn turned(width: f64, height: f64, degrees: f64) -> Component {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let mut part = Component { x0: usize::MAX, y0: usize::MAX, ..Default::default() };
        for row in 0..400 {
            for col in 0..400 {
                let (x, y) = (col as f64 - 200.0, row as f64 - 200.0);
                let (along, across) = (x * cos + y * sin, -x * sin + y * cos);
                if along.abs() <= width / 2.0 && across.abs() <= height / 2.0 {
                    part.add(row, col, 1.0);
                }
            }
        }
        part
    }

    #[test]
    fn a_plate_line_is_long_and_thin_at_any_angle_and_a_blob_or_a_paragraph_is_not() {
        assert!(turned(50.0, 10.0, 0.0).plate_shaped());
        assert!(turned(50.0, 10.0, 12.0).plate_shaped(), "a tilted plate");
        assert!(turned(50.0, 10.0, 90.0).plate_shaped(), "a line is a line whichever way it runs");
        let (length, thickness) = turned(50.0, 10.0, 30.0).length_and_thickness();
        assert!((length - 50.0).abs() < 2.0 && (thickness - 10.0).abs() < 1.0, "{length} × {thickness}");
        assert!(!turned(60.0, 45.0, 0.0).plate_shaped(), "a blob of texture");
        assert!(!turned(60.0, 45.0, 20.0).plate_shaped(), "also tilted");
        assert!(!turned(300.0, 10.0, 0.0).plate_shaped(), "a long line of text");
        assert!(!turned(8.0, 1.0, 0.0).plate_shaped(), "too thin to be anything");
    }
}
