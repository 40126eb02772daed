//! `photo clean`: a copy of a photo without any metadata, exactly as Meldeweg stores it, and
//! what was read from it (size, position, capture time, checksum) as JSON (P5); with
//! `--public`, also its public copy with faces and number plates obscured, as the public pages
//! would show it (P13), and the regions found.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg_workers::bystanders::{self, Detectors};

#[derive(Subcommand)]
pub enum PhotoCommand {
    /// Write a copy of a photo without any metadata (as Meldeweg stores it) and print what was
    /// read from it as JSON: width, height, gps, taken_at, sha256.
    Clean {
        /// A JPEG, PNG or WebP file.
        input: PathBuf,
        /// Where to write the cleaned JPEG.
        output: PathBuf,
        /// Also write the thumbnail here.
        #[arg(long, value_name = "THUMB.jpg")]
        thumb: Option<PathBuf>,
        /// Also write the public copy (faces and plates obscured, with the models in
        /// `photos.models_dir`) here.
        #[arg(long, value_name = "PUBLIC.jpg")]
        public: Option<PathBuf>,
    },
}

pub fn run(settings: &Settings, command: PhotoCommand) -> anyhow::Result<()> {
    let PhotoCommand::Clean { input, output, thumb, public } = command;
    let photos = &settings.photos;
    // The models are checked before any work, as at the service's start.
    let detectors = match &public {
        Some(_) => Some(Detectors::load(&photos.models_dir, photos.detection())?),
        None => None,
    };
    let bytes = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
    let cleaned = meldeweg_workers::photo::clean(&bytes, &photos.limits())
        .with_context(|| format!("{} was not cleaned", input.display()))?;
    std::fs::write(&output, &cleaned.jpeg).with_context(|| format!("writing {}", output.display()))?;
    if let Some(thumb) = thumb {
        std::fs::write(&thumb, &cleaned.thumbnail).with_context(|| format!("writing {}", thumb.display()))?;
    }
    let regions = match (detectors, public) {
        (Some(detectors), Some(public)) => {
            let regions = detectors.find(&cleaned.pixels)?;
            let copy = bystanders::public_copy(&cleaned.pixels, &regions, &photos.limits())?;
            std::fs::write(&public, &copy.jpeg).with_context(|| format!("writing {}", public.display()))?;
            Some(regions)
        }
        _ => None,
    };
    let gps = cleaned.gps.map(|p| serde_json::json!({ "lat": p.lat(), "lon": p.lon() }));
    let mut summary = serde_json::json!({
        "width": cleaned.width,
        "height": cleaned.height,
        "gps": gps,
        "taken_at": cleaned.taken_at,
        "sha256": cleaned.sha256,
    });
    if let Some(regions) = regions {
        summary["obscured"] = serde_json::json!(regions);
    }
    println!("{summary}");
    Ok(())
}
