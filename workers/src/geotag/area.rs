//! The municipality's area: its boundary and districts from GeoJSON, validated on load, and
//! the point lookup "which district is this in?" through an R-tree of district bounding boxes
//! (`rstar`), so a lookup tests only the one or two polygons whose box holds the point.
//!
//! The file is a FeatureCollection of Polygon/MultiPolygon features with the properties
//! `kind` (`"boundary"`, exactly once, or `"district"`), `id` (unique) and `name`.

use geo::{BoundingRect, Contains, Coord, Distance, Euclidean, Intersects, MultiPolygon, Point, Validation};
use geojson::{GeoJson, GeometryValue, PolygonType};
use rstar::{RTree, RTreeObject, AABB};

use crate::LatLon;

/// Why a districts file was refused; names the feature (by index and id) and the reason.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AreaError {
    #[error("not GeoJSON: {0}")]
    Parse(String),
    #[error("the file must be a FeatureCollection")]
    NotACollection,
    #[error("feature {index} ({id}): {reason}")]
    Feature { index: usize, id: String, reason: String },
    #[error("exactly one feature must have kind \"boundary\"; found {0}")]
    Boundary(usize),
    #[error("there are no districts")]
    NoDistricts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub id: String,
    pub name: String,
    shape: MultiPolygon<f64>,
    /// Its place in the file, for error messages.
    feature: usize,
}

/// Where a point lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement<'a> {
    Outside,
    /// Inside the boundary; in a district unless the districts leave a gap there.
    Inside(Option<&'a District>),
}

struct Envelope {
    index: usize,
    bounds: AABB<[f64; 2]>,
}

impl RTreeObject for Envelope {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.bounds
    }
}

pub struct Area {
    pub name: String,
    boundary: MultiPolygon<f64>,
    districts: Vec<District>,
    tree: RTree<Envelope>,
}

impl std::fmt::Debug for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Area").field("name", &self.name).field("districts", &self.districts.len()).finish()
    }
}

impl District {
    /// Its outline, for drawing.
    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.shape
    }
}

impl Area {
    /// The municipality's outline, for drawing.
    pub fn boundary(&self) -> &MultiPolygon<f64> {
        &self.boundary
    }

    pub fn from_geojson(text: &str) -> Result<Self, AreaError> {
        let geojson: GeoJson = text.parse().map_err(|e: geojson::Error| AreaError::Parse(e.to_string()))?;
        let GeoJson::FeatureCollection(collection) = geojson else { return Err(AreaError::NotACollection) };
        let mut boundaries = Vec::new();
        let mut districts: Vec<District> = Vec::new();
        for (index, feature) in collection.features.iter().enumerate() {
            let property = |name: &str| feature.property(name).and_then(|v| v.as_str()).unwrap_or_default().trim();
            let id = property("id").to_string();
            let fail = |reason: String| AreaError::Feature { index, id: id.clone(), reason };
            if id.is_empty() {
                return Err(fail("has no \"id\" property".into()));
            }
            let geometry = feature.geometry.as_ref().ok_or_else(|| fail("has no geometry".into()))?;
            let shape = shape(&geometry.value).map_err(fail)?;
            let name = match property("name") {
                "" => id.clone(),
                name => name.to_string(),
            };
            match property("kind") {
                "boundary" => boundaries.push((name, shape)),
                "district" => {
                    if districts.iter().any(|d| d.id == id) {
                        return Err(fail("the id is used twice".into()));
                    }
                    districts.push(District { id: id.clone(), name, shape, feature: index });
                }
                other => return Err(fail(format!("kind must be \"boundary\" or \"district\", not {other:?}"))),
            }
        }
        if boundaries.len() != 1 {
            return Err(AreaError::Boundary(boundaries.len()));
        }
        let (name, boundary) = boundaries.remove(0);
        if districts.is_empty() {
            return Err(AreaError::NoDistricts);
        }
        for district in &districts {
            if !boundary.contains(&district.shape) {
                return Err(AreaError::Feature {
                    index: district.feature,
                    id: district.id.clone(),
                    reason: "the district is not inside the boundary".into(),
                });
            }
        }
        let envelopes = districts
            .iter()
            .enumerate()
            .filter_map(|(index, d)| d.shape.bounding_rect().map(|r| (index, r)))
            .map(|(index, r)| Envelope {
                index,
                bounds: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
            })
            .collect();
        Ok(Self { name, boundary, districts, tree: RTree::bulk_load(envelopes) })
    }

    pub fn districts(&self) -> &[District] {
        &self.districts
    }

    /// The south-west and north-east corners of the boundary's bounding box.
    pub fn bounds(&self) -> (LatLon, LatLon) {
        let rect = self.boundary.bounding_rect().expect("a validated boundary has a bounding box");
        let corner = |c: Coord<f64>| LatLon::new(c.y, c.x).expect("corners of valid coordinates are valid");
        (corner(rect.min()), corner(rect.max()))
    }

    /// The middle of the boundary's bounding box.
    pub fn centre(&self) -> LatLon {
        let rect = self.boundary.bounding_rect().expect("a validated boundary has a bounding box");
        let centre = rect.center();
        LatLon::new(centre.y, centre.x).expect("the centre of valid coordinates is valid")
    }

    /// The district nearest to a point, for a point inside the boundary that the districts
    /// leave uncovered.
    pub fn nearest_district(&self, at: LatLon) -> &District {
        let point = Point::new(at.lon(), at.lat());
        self.districts
            .iter()
            .map(|d| (d, Euclidean.distance(&point, &d.shape)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(d, _)| d)
            .expect("a validated area has districts")
    }

    /// The district a point lies in. A point on a shared border belongs to the district listed
    /// first in the file; a point on the boundary line counts as inside.
    pub fn locate(&self, at: LatLon) -> Placement<'_> {
        let point = Point::new(at.lon(), at.lat());
        let mut on_border = None;
        for candidate in self.tree.locate_in_envelope_intersecting(&AABB::from_point([at.lon(), at.lat()])) {
            let district = &self.districts[candidate.index];
            if district.shape.contains(&point) {
                return Placement::Inside(Some(district));
            }
            if district.shape.intersects(&point) {
                on_border = Some(on_border.map_or(candidate.index, |first: usize| first.min(candidate.index)));
            }
        }
        match on_border {
            Some(index) => Placement::Inside(Some(&self.districts[index])),
            None if self.boundary.intersects(&point) => Placement::Inside(None),
            None => Placement::Outside,
        }
    }
}

/// A (multi)polygon from GeoJSON, checked for what geo-types would silently repair or accept:
/// rings must be closed, coordinates plausible, and the shape valid (no self-intersections).
fn shape(value: &GeometryValue) -> Result<MultiPolygon<f64>, String> {
    let polygons: Vec<&PolygonType> = match value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        _ => return Err("the geometry must be a Polygon or MultiPolygon".into()),
    };
    let mut built = Vec::new();
    for rings in polygons {
        let mut converted = Vec::new();
        for (ring_index, ring) in rings.iter().enumerate() {
            let which = if ring_index == 0 { "the outer ring".to_string() } else { format!("hole {ring_index}") };
            if ring.len() < 4 {
                return Err(format!("{which} has fewer than 4 positions"));
            }
            if ring.first().map(|p| p.as_slice()) != ring.last().map(|p| p.as_slice()) {
                return Err(format!("{which} is not closed (its first and last positions differ)"));
            }
            let mut coords = Vec::with_capacity(ring.len());
            for position in ring {
                let (Some(&lon), Some(&lat)) = (position.as_slice().first(), position.as_slice().get(1)) else {
                    return Err(format!("{which} has a position without two coordinates"));
                };
                if !((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
                    return Err(format!(
                        "{which} has a position off the globe: [{lon}, {lat}] (GeoJSON is [lon, lat])"
                    ));
                }
                coords.push(Coord { x: lon, y: lat });
            }
            converted.push(geo::LineString::new(coords));
        }
        let mut rings = converted.into_iter();
        let exterior = rings.next().ok_or("a polygon without rings")?;
        built.push(geo::Polygon::new(exterior, rings.collect()));
    }
    let shape = MultiPolygon::new(built);
    if let Some(problem) = shape.validation_errors().first() {
        return Err(format!("invalid shape: {problem}"));
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../config/districts.geojson");

    fn square(kind: &str, id: &str, x0: f64, y0: f64, size: f64) -> String {
        let (x1, y1) = (x0 + size, y0 + size);
        format!(
            r#"{{"type":"Feature","properties":{{"kind":"{kind}","id":"{id}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#
        )
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    fn at(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    #[test]
    fn the_demo_town_loads_and_places_points() {
        let area = Area::from_geojson(DEMO).unwrap();
        assert_eq!(area.name, "Musterstadt");
        assert_eq!(area.districts().len(), 6);
        let north = area.locate(at(51.985, 7.627));
        assert!(matches!(north, Placement::Inside(Some(d)) if d.id == "nord"), "{north:?}");
        assert_eq!(area.locate(at(52.2, 7.6)), Placement::Outside);
        assert_eq!(area.locate(at(48.1, 11.5)), Placement::Outside);
    }

    #[test]
    fn a_point_on_a_shared_border_belongs_to_the_district_listed_first() {
        let text = collection(&[
            square("boundary", "town", 0.0, 0.0, 2.0),
            square("district", "left", 0.0, 0.0, 1.0),
            square("district", "right", 1.0, 0.0, 1.0),
        ]);
        let area = Area::from_geojson(&text).unwrap();
        assert!(matches!(area.locate(at(0.5, 1.0)), Placement::Inside(Some(d)) if d.id == "left"));
        assert!(matches!(area.locate(at(0.5, 1.5)), Placement::Inside(Some(d)) if d.id == "right"));
        assert_eq!(area.locate(at(1.5, 0.5)), Placement::Inside(None), "inside the town, in no district");
        assert!(matches!(area.locate(at(2.0, 0.5)), Placement::Inside(None)), "on the boundary line");
    }

    #[test]
    fn bad_files_are_refused_with_the_feature_and_the_reason() {
        let town = square("boundary", "town", 0.0, 0.0, 2.0);
        let unclosed = r#"{"type":"Feature","properties":{"kind":"district","id":"open"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}"#;
        let bowtie = r#"{"type":"Feature","properties":{"kind":"district","id":"bowtie"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}"#;
        let swapped = r#"{"type":"Feature","properties":{"kind":"district","id":"swapped"},"geometry":{"type":"Polygon","coordinates":[[[7,200],[8,200],[8,201],[7,200]]]}}"#;
        let cases = [
            (collection(&[town.clone(), unclosed.into()]), "feature 1 (open): the outer ring is not closed"),
            (collection(&[town.clone(), bowtie.into()]), "feature 1 (bowtie): invalid shape"),
            (
                collection(&[town.clone(), swapped.into()]),
                "feature 1 (swapped): the outer ring has a position off the globe",
            ),
            (
                collection(&[town.clone(), square("district", "far", 5.0, 5.0, 1.0)]),
                "feature 1 (far): the district is not inside the boundary",
            ),
            (
                collection(&[
                    town.clone(),
                    square("district", "a", 0.0, 0.0, 1.0),
                    square("district", "a", 1.0, 1.0, 1.0),
                ]),
                "feature 2 (a): the id is used twice",
            ),
            (collection(&[town.clone(), square("park", "p", 0.0, 0.0, 1.0)]), "feature 1 (p): kind must be"),
            (
                collection(&[square("district", "a", 0.0, 0.0, 1.0)]),
                "exactly one feature must have kind \"boundary\"; found 0",
            ),
            (collection(&[town]), "there are no districts"),
            ("{\"type\":\"Point\",\"coordinates\":[1,2]}".into(), "must be a FeatureCollection"),
            ("{".into(), "not GeoJSON"),
        ];
        for (text, expected) in cases {
            let error = Area::from_geojson(&text).unwrap_err().to_string();
            assert!(error.contains(expected), "expected {expected:?}, got {error:?}");
        }
    }
}
