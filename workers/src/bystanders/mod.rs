//! Bystander protection (issue 22): faces and number plates found on the municipality's own
//! machine, and a public copy of a photo in which they are obscured for good.
//!
//! The detectors are small published ONNX networks run by tract (pure Rust, no cloud, no
//! Python): CenterFace for faces, PP-OCRv4's text detector for the characters of plates (see
//! `models/README.md` for files, sources, licences and hashes). They look at the cleaned,
//! upright pixels the photo stage already has, scaled to a detection size. Staff may add regions
//! by hand (`Kind::Manual`); the public copy is always made from the cleaned photo and every
//! region known for it.

mod canvas;
mod faces;
mod model;
mod obscure;
mod plates;

use std::path::Path;

pub use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use model::{ModelError, ModelFile};
pub use obscure::obscure;

use crate::photo::{self, Limits, PhotoError};
use model::Model;

/// The model files the detectors need, for the models folder's check at start.
pub const MODEL_FILES: [ModelFile; 2] = [faces::FILE, plates::FILE];

/// What a region shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Face,
    Plate,
    /// Drawn by a staff member.
    Manual,
}

/// A rectangle of a photo, in the cleaned photo's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub kind: Kind,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Region {
    /// The box from (x0, y0) to (x1, y1) cut to a `width` × `height` image; `None` when nothing
    /// of it is inside.
    pub fn clamped(kind: Kind, x0: f32, y0: f32, x1: f32, y1: f32, width: u32, height: u32) -> Option<Region> {
        let clamp = |v: f32, max: u32| (v.max(0.0).round() as u32).min(max);
        let (left, top) = (clamp(x0, width), clamp(y0, height));
        let (right, bottom) = (clamp(x1, width), clamp(y1, height));
        (right > left && bottom > top).then_some(Region {
            kind,
            x: left,
            y: top,
            width: right - left,
            height: bottom - top,
        })
    }
}

/// How the detectors run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Long side of the picture the face detector sees, in pixels (a multiple of 32).
    pub face_side: u32,
    /// … and the plate detector.
    pub plate_side: u32,
    /// Heat-map score above which a face counts, 0–1.
    pub face_threshold: f32,
}

/// Why detection failed on a photo. The photo then stays private (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("the {model} detector failed: {reason}")]
    Model { model: &'static str, reason: String },
    #[error("the {0} detector stopped with a panic")]
    Panicked(&'static str),
}

/// Both detectors, loaded once at start and shared by every photo.
pub struct Detectors {
    faces: Model,
    plates: Model,
    settings: Settings,
}

impl Detectors {
    /// Loads and checks the model files in `dir`.
    pub fn load(dir: &Path, settings: Settings) -> Result<Self, ModelError> {
        Ok(Self { faces: Model::load(dir, faces::FILE)?, plates: Model::load(dir, plates::FILE)?, settings })
    }

    /// Every face and plate found in `image`.
    pub fn find(&self, image: &RgbImage) -> Result<Vec<Region>, DetectError> {
        let Settings { face_side, plate_side, face_threshold } = self.settings;
        let mut regions = guarded(&self.faces, || faces::find(&self.faces, image, face_side, face_threshold))?;
        regions.extend(guarded(&self.plates, || plates::find(&self.plates, image, plate_side))?);
        Ok(regions)
    }
}

/// A photo's public copy: the cleaned picture with every region obscured, encoded as the
/// photo is (JPEG and thumbnail).
pub struct PublicCopy {
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// The public copy of `pixels` (a cleaned photo) with `regions` obscured.
pub fn public_copy(pixels: &RgbImage, regions: &[Region], limits: &Limits) -> Result<PublicCopy, PhotoError> {
    let (jpeg, thumbnail) = photo::encode(&obscure(pixels, regions), limits)?;
    Ok(PublicCopy { jpeg, thumbnail })
}

/// Runs one detector, turning its errors and panics into a `DetectError`.
fn guarded(
    model: &Model,
    run: impl FnOnce() -> tract_onnx::prelude::TractResult<Vec<Region>>,
) -> Result<Vec<Region>, DetectError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(regions)) => Ok(regions),
        Ok(Err(error)) => Err(DetectError::Model { model: model.name(), reason: error.to_string() }),
        Err(_) => Err(DetectError::Panicked(model.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_is_cut_to_the_image_and_one_outside_is_none() {
        let inside = Region::clamped(Kind::Face, -5.0, 2.4, 20.0, 300.0, 100, 50);
        assert_eq!(inside, Some(Region { kind: Kind::Face, x: 0, y: 2, width: 20, height: 48 }));
        assert_eq!(Region::clamped(Kind::Face, 120.0, 0.0, 150.0, 10.0, 100, 50), None);
    }
}
