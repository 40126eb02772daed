//! `import-streets`: the street gazetteer (`streets.csv`) from an OpenStreetMap extract exported
//! as GeoJSON; every feature with a street and a house number becomes an address point.

use std::path::Path;

use anyhow::Context;
use meldeweg_workers::geotag::{streets, Gazetteer};

pub fn import(input: &Path, output: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let (points, skipped) = streets::address_points_from_osm_geojson(&text)
        .with_context(|| format!("{} was not imported", input.display()))?;
    let csv = streets::to_csv(&points);
    let gazetteer = Gazetteer::from_csv(&csv).context("the gazetteer did not load")?;
    std::fs::write(output, csv).with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{} address points on {} streets written to {} ({skipped} features without a usable address skipped)",
        points.len(),
        gazetteer.street_count(),
        output.display()
    );
    Ok(())
}
