//! `photo clean`: a copy of a photo without any metadata, exactly as Meldeweg stores it, and
//! what was read from it (size, position, capture time, checksum) as JSON (P5).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use meldeweg::config::Settings;

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
    },
}

pub fn run(settings: &Settings, command: PhotoCommand) -> anyhow::Result<()> {
    let PhotoCommand::Clean { input, output, thumb } = command;
    let bytes = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
    let cleaned = meldeweg_workers::photo::clean(&bytes, &settings.photos.limits())
        .with_context(|| format!("{} was not cleaned", input.display()))?;
    std::fs::write(&output, &cleaned.jpeg).with_context(|| format!("writing {}", output.display()))?;
    if let Some(thumb) = thumb {
        std::fs::write(&thumb, &cleaned.thumbnail).with_context(|| format!("writing {}", thumb.display()))?;
    }
    let gps = cleaned.gps.map(|p| serde_json::json!({ "lat": p.lat(), "lon": p.lon() }));
    let summary = serde_json::json!({
        "width": cleaned.width,
        "height": cleaned.height,
        "gps": gps,
        "taken_at": cleaned.taken_at,
        "sha256": cleaned.sha256,
    });
    println!("{summary}");
    Ok(())
}
