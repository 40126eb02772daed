//! The map background Meldeweg draws itself (no tile server, nothing from another host): the
//! municipality's boundary and districts, and its streets: lines from the municipality's own
//! street file when it has one (`geo.street_lines_file`, e.g. OpenStreetMap ways), otherwise
//! drawn through each street's address points in house-number order. It is sent to the
//! interactive maps as GeoJSON (`geojson`) and drawn as a small SVG picture around a place for
//! the pages that must work without scripts and on paper (`svg`).

mod geojson_out;
mod lines;
mod svg;

use geo::MultiPolygon;

use crate::geotag::{Area, Gazetteer};
use crate::LatLon;

pub use svg::{Pin, View};

/// The colour of a pin for an order or report in `status`, the same on every map (and in
/// assets/maps.js and the legend's CSS): red open, amber accepted, blue in progress, green done.
pub fn status_colour(status: &str) -> &'static str {
    match status {
        "received" | "open" => "#c0392b",
        "accepted" => "#b9770e",
        "in_progress" => "#1f618d",
        "done" => "#1e8449",
        _ => "#6c6c6c",
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BasemapError {
    #[error("street lines: not a GeoJSON FeatureCollection: {0}")]
    GeoJson(String),
    #[error("street lines: feature {0}: {1}")]
    Coordinates(usize, String),
}

/// A ring of a polygon, as (lat, lon) points.
type Ring = Vec<LatLon>;
/// Polygons, each an outer ring and its holes.
type Shape = Vec<Vec<Ring>>;

/// A street as one or more polylines; an empty name for the unnamed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    pub name: String,
    pub lines: Vec<Vec<LatLon>>,
}

#[derive(Debug, Clone)]
pub struct Basemap {
    pub town: String,
    boundary: Shape,
    districts: Vec<(String, Shape)>,
    streets: Vec<Street>,
}

fn shape(polygons: &MultiPolygon<f64>) -> Shape {
    polygons
        .iter()
        .map(|polygon| {
            std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .map(|ring| ring.coords().filter_map(|c| LatLon::new(c.y, c.x).ok()).collect())
                .collect()
        })
        .collect()
}

impl Basemap {
    /// The background for `area`: streets from `street_lines` (GeoJSON text) when given,
    /// otherwise drawn through the gazetteer's address points.
    pub fn new(area: &Area, gazetteer: &Gazetteer, street_lines: Option<&str>) -> Result<Self, BasemapError> {
        let streets = match street_lines {
            Some(text) => lines::from_geojson(text)?,
            None => lines::through_address_points(gazetteer),
        };
        Ok(Self {
            town: area.name.clone(),
            boundary: shape(area.boundary()),
            districts: area.districts().iter().map(|d| (d.name.clone(), shape(d.shape()))).collect(),
            streets,
        })
    }

    pub fn streets(&self) -> &[Street] {
        &self.streets
    }
}
