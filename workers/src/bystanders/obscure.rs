//! Making a region unrecognisable for good: the region, grown by a margin, is replaced by a
//! grid of at most `BLOCKS` × `BLOCKS` flat squares, each the mean colour of what it covers.
//! A face becomes a handful of colours: there is no detail left to sharpen or reverse, unlike
//! a fine mosaic or a light blur.

use image::RgbImage;

use super::Region;

/// Squares along the region's long side.
const BLOCKS: u32 = 4;
/// Grown on every side by this share of the region's size (a detector's box is tight around
/// the face; hair, ears and a plate's frame lie outside it).
const MARGIN: f32 = 0.2;

/// `image` with every region obscured.
pub fn obscure(image: &RgbImage, regions: &[Region]) -> RgbImage {
    let mut out = image.clone();
    let (width, height) = image.dimensions();
    for region in regions {
        let grow_x = (region.width as f32 * MARGIN).ceil() as u32;
        let grow_y = (region.height as f32 * MARGIN).ceil() as u32;
        let x0 = region.x.saturating_sub(grow_x);
        let y0 = region.y.saturating_sub(grow_y);
        let x1 = (region.x + region.width + grow_x).min(width);
        let y1 = (region.y + region.height + grow_y).min(height);
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let block = ((x1 - x0).max(y1 - y0)).div_ceil(BLOCKS).max(1);
        let mut by = y0;
        while by < y1 {
            let mut bx = x0;
            let block_bottom = (by + block).min(y1);
            while bx < x1 {
                let block_right = (bx + block).min(x1);
                fill_with_mean(&mut out, bx, by, block_right, block_bottom);
                bx = block_right;
            }
            by = block_bottom;
        }
    }
    out
}

fn fill_with_mean(image: &mut RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) {
    let mut sum = [0u64; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            let px = image.get_pixel(x, y).0;
            for c in 0..3 {
                sum[c] += u64::from(px[c]);
            }
        }
    }
    let count = u64::from((x1 - x0) * (y1 - y0));
    let mean = image::Rgb(sum.map(|s| ((s + count / 2) / count) as u8));
    for y in y0..y1 {
        for x in x0..x1 {
            image.put_pixel(x, y, mean);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bystanders::Kind;

    #[test]
    fn a_region_and_its_margin_become_a_few_flat_squares_and_the_rest_stays() {
        // A fine checkerboard: every pixel differs from its neighbours.
        let image =
            RgbImage::from_fn(
                100,
                100,
                |x, y| if (x + y) % 2 == 0 { image::Rgb([255; 3]) } else { image::Rgb([0; 3]) },
            );
        let region = Region { kind: Kind::Face, x: 40, y: 40, width: 20, height: 20 };
        let out = obscure(&image, &[region]);
        // The margin: 4 pixels on each side, so 36..64 is obscured.
        let mut colours = std::collections::BTreeSet::new();
        for y in 36..64 {
            for x in 36..64 {
                colours.insert(out.get_pixel(x, y).0);
            }
        }
        assert!(colours.len() <= 2, "the checkerboard is gone: {colours:?}");
        assert_eq!(out.get_pixel(35, 35), image.get_pixel(35, 35));
        assert_eq!(out.get_pixel(64, 64), image.get_pixel(64, 64));
        assert_eq!(out.get_pixel(0, 0), image.get_pixel(0, 0));
    }

    #[test]
    fn a_region_at_the_edge_stays_inside_the_image() {
        let image = RgbImage::from_pixel(10, 10, image::Rgb([9, 9, 9]));
        let out = obscure(&image, &[Region { kind: Kind::Plate, x: 8, y: 8, width: 2, height: 2 }]);
        assert_eq!(out.dimensions(), (10, 10));
    }
}
