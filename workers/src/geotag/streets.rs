//! The street gazetteer: address points of the municipality (`config/streets.csv`: street,
//! number, lat, lon). It answers two questions offline: which address a point is nearest to
//! (for the work order header), and which place an address written in a message means
//! ("Lindenweg 4", "bahnhof strasse 3", "Ecke Bahnhofstr./Schulstr."), with typo tolerance.

use std::collections::BTreeMap;

use geo::Centroid;
use geojson::{GeoJson, GeometryValue};
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::LatLon;

/// How similar a written street name must be to a known one (Jaro-Winkler on normalised names).
const MIN_SIMILARITY: f64 = 0.92;
/// Longest street name considered, in words.
const MAX_NAME_WORDS: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StreetsError {
    #[error("streets: line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("streets: the file has no address points")]
    Empty,
    #[error("streets: not a GeoJSON FeatureCollection: {0}")]
    GeoJson(String),
}

/// Address points from an OpenStreetMap extract exported as GeoJSON (e.g. `osmium export
/// FILE.osm.pbf -o FILE.geojson`): every feature with `addr:street` and `addr:housenumber`;
/// buildings count at their centroid. Returns the points and how many features were skipped
/// (no address, no usable geometry, or a comma in a name, which the CSV cannot hold).
pub fn address_points_from_osm_geojson(text: &str) -> Result<(Vec<AddressPoint>, usize), StreetsError> {
    let geojson: GeoJson = text.parse().map_err(|e: geojson::Error| StreetsError::GeoJson(e.to_string()))?;
    let GeoJson::FeatureCollection(collection) = geojson else {
        return Err(StreetsError::GeoJson("the top level is not a FeatureCollection".into()));
    };
    let mut points = Vec::new();
    let mut skipped = 0;
    for feature in &collection.features {
        let tag = |name: &str| feature.property(name).and_then(|v| v.as_str()).map(str::trim).filter(|v| !v.is_empty());
        let (Some(street), Some(number)) = (tag("addr:street"), tag("addr:housenumber")) else {
            skipped += 1;
            continue;
        };
        let at = feature.geometry.as_ref().and_then(|g| match &g.value {
            GeometryValue::Point { coordinates } => {
                let c = coordinates.as_slice();
                (c.len() >= 2).then(|| (c[0], c[1]))
            }
            other => {
                let shape: geo::Geometry<f64> = other.clone().try_into().ok()?;
                shape.centroid().map(|p| (p.x(), p.y()))
            }
        });
        match at.and_then(|(lon, lat)| LatLon::new(lat, lon).ok()) {
            Some(at) if !street.contains(',') && !number.contains(',') => {
                points.push(AddressPoint { street: street.into(), number: number.into(), at })
            }
            _ => skipped += 1,
        }
    }
    if points.is_empty() {
        return Err(StreetsError::Empty);
    }
    points.sort_by(|a, b| (&a.street, &a.number).cmp(&(&b.street, &b.number)));
    Ok((points, skipped))
}

/// The gazetteer file for `points`, readable by `Gazetteer::from_csv`.
pub fn to_csv(points: &[AddressPoint]) -> String {
    let mut out = String::from("street,number,lat,lon\n");
    for p in points {
        out.push_str(&format!("{},{},{:.7},{:.7}\n", p.street, p.number, p.at.lat(), p.at.lon()));
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct AddressPoint {
    pub street: String,
    pub number: String,
    pub at: LatLon,
}

/// An address found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The street as the gazetteer spells it ("Bahnhofstraße"), or "A / B" for a corner.
    pub street: String,
    pub number: Option<String>,
    pub at: LatLon,
    /// Pinpoints a place: a known house number, or a corner. A street alone does not.
    pub precise: bool,
}

type Entry = GeomWithData<[f64; 3], usize>;

pub struct Gazetteer {
    points: Vec<AddressPoint>,
    /// Normalised street name → indexes of its points.
    streets: BTreeMap<String, Vec<usize>>,
    tree: RTree<Entry>,
}

/// Lower case, "str." / "strasse" / "str" → "straße", no spaces, hyphens or dots.
fn normalise(name: &str) -> String {
    let lower = name.to_lowercase().replace("strasse", "straße").replace("str.", "straße");
    let mut out: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if out.ends_with("str") {
        out.push_str("aße");
    }
    out
}

/// Unit-sphere coordinates, so nearest-neighbour search in 3-D is nearest on the globe.
fn unit(at: LatLon) -> [f64; 3] {
    let (lat, lon) = (at.lat().to_radians(), at.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer").field("points", &self.points.len()).field("streets", &self.streets.len()).finish()
    }
}

impl Gazetteer {
    pub fn from_csv(text: &str) -> Result<Self, StreetsError> {
        let mut points = Vec::new();
        let mut header_seen = false;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                if line != "street,number,lat,lon" {
                    return Err(StreetsError::Line {
                        line: line_no,
                        reason: "the header must be street,number,lat,lon".into(),
                    });
                }
                header_seen = true;
                continue;
            }
            let fail = |reason: &str| StreetsError::Line { line: line_no, reason: reason.into() };
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [street, number, lat, lon] = fields[..] else { return Err(fail("expected 4 fields")) };
            if street.is_empty() {
                return Err(fail("the street is empty"));
            }
            let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
                return Err(fail("lat and lon must be numbers"));
            };
            let at = LatLon::new(lat, lon).map_err(|e| fail(&e.to_string()))?;
            points.push(AddressPoint { street: street.into(), number: number.into(), at });
        }
        if points.is_empty() {
            return Err(StreetsError::Empty);
        }
        let mut streets: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, point) in points.iter().enumerate() {
            streets.entry(normalise(&point.street)).or_default().push(index);
        }
        let tree = RTree::bulk_load(points.iter().enumerate().map(|(i, p)| Entry::new(unit(p.at), i)).collect());
        Ok(Self { points, streets, tree })
    }

    /// How many distinct streets the gazetteer knows.
    pub fn street_count(&self) -> usize {
        self.streets.len()
    }

    /// Each street's address points, in the file's order.
    pub fn by_street(&self) -> impl Iterator<Item = Vec<&AddressPoint>> + '_ {
        self.streets.values().map(|indexes| indexes.iter().map(|&i| &self.points[i]).collect())
    }

    /// The address point nearest to `at`, with its distance in metres.
    pub fn nearest(&self, at: LatLon) -> Option<(&AddressPoint, f64)> {
        let point = &self.points[self.tree.nearest_neighbor(&unit(at))?.data];
        Some((point, at.distance_m(point.at)))
    }

    /// Up to `count` address points nearest to `at`, nearest first, with their distances in metres.
    pub fn near(&self, at: LatLon, count: usize) -> impl Iterator<Item = (&AddressPoint, f64)> + '_ {
        self.tree.nearest_neighbor_iter(&unit(at)).take(count).map(move |entry| {
            let point = &self.points[entry.data];
            (point, at.distance_m(point.at))
        })
    }

    /// The known street a written name means, if one is close enough.
    fn street(&self, written: &str) -> Option<&str> {
        let written = normalise(written);
        if written.len() < 4 {
            return None;
        }
        if let Some((known, _)) = self.streets.get_key_value(&written) {
            return Some(known);
        }
        // Names of very different length cannot reach the similarity needed.
        let length = written.chars().count() as f64;
        self.streets
            .keys()
            .filter(|known| {
                let ratio = known.chars().count() as f64 / length;
                (0.6..=1.0 / 0.6).contains(&ratio)
            })
            .map(|known| (known, strsim::jaro_winkler(&written, known)))
            .filter(|(_, score)| *score >= MIN_SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(known, _)| known.as_str())
    }

    /// Finds an address in a message: a street with an optional house number, or a corner of
    /// two streets ("Ecke A/B", "A Ecke B").
    pub fn find_in_text(&self, text: &str) -> Option<Found> {
        let words: Vec<&str> =
            text.split(|c: char| c.is_whitespace() || c == ',' || c == '/').filter(|w| !w.is_empty()).collect();
        let mut found: Vec<(usize, usize, &str)> = Vec::new(); // (start word, end word, street key)
        let mut start = 0;
        while start < words.len() {
            // House numbers are never part of a name.
            let name_words = words[start..].iter().take(MAX_NAME_WORDS).take_while(|w| !starts_with_digit(w)).count();
            let longest = (1..=name_words)
                .rev()
                .find_map(|len| self.street(&words[start..start + len].join(" ")).map(|key| (len, key)));
            match longest {
                Some((len, key)) => {
                    found.push((start, start + len, key));
                    start += len;
                }
                None => start += 1,
            }
        }
        let (_, end, first) = *found.first()?;
        match found.iter().find(|f| f.2 != first) {
            Some(&(_, _, second)) => self.corner(first, second),
            None => {
                let number = words
                    .get(end)
                    .map(|w| w.trim_end_matches(['.', '!', '?', ':']))
                    .filter(|w| starts_with_digit(w) && w.len() <= 6);
                Some(self.address(first, number))
            }
        }
    }

    fn address(&self, key: &str, number: Option<&str>) -> Found {
        let indexes = &self.streets[key];
        let exact = number.and_then(|n| indexes.iter().find(|&&i| self.points[i].number.eq_ignore_ascii_case(n)));
        match exact {
            Some(&i) => {
                let point = &self.points[i];
                Found { street: point.street.clone(), number: Some(point.number.clone()), at: point.at, precise: true }
            }
            None => {
                // No such number: the middle of the street's points stands for the street.
                let point = &self.points[indexes[indexes.len() / 2]];
                Found { street: point.street.clone(), number: None, at: point.at, precise: false }
            }
        }
    }

    /// Where two streets meet: the closest pair of their address points, halfway between.
    fn corner(&self, a: &str, b: &str) -> Option<Found> {
        let (p, q) = self.streets[a]
            .iter()
            .flat_map(|&i| self.streets[b].iter().map(move |&j| (&self.points[i], &self.points[j])))
            .map(|(p, q)| (p, q, p.at.distance_m(q.at)))
            .min_by(|x, y| x.2.total_cmp(&y.2))
            .map(|(p, q, _)| (p, q))?;
        let at = LatLon::new((p.at.lat() + q.at.lat()) / 2.0, (p.at.lon() + q.at.lon()) / 2.0).ok()?;
        Some(Found { street: format!("{} / {}", p.street, q.street), number: None, at, precise: true })
    }
}

fn starts_with_digit(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../config/streets.csv");

    fn demo() -> Gazetteer {
        Gazetteer::from_csv(DEMO).unwrap()
    }

    #[test]
    fn addresses_are_found_with_typos_abbreviations_and_spacing() {
        let g = demo();
        for (text, street, number) in [
            ("Schlagloch vor Lindenweg 4, ziemlich tief", "Lindenweg", Some("4")),
            ("Laterne aus in der Bahnhofstr 12", "Bahnhofstraße", Some("12")),
            ("bahnhof strasse 3 müll", "Bahnhofstraße", Some("3")),
            ("Bahnhofstrase 7", "Bahnhofstraße", Some("7")),
            ("Gully verstopft Hauptstr.", "Hauptstraße", None),
            ("Am Stadtpark 2: Bank kaputt", "Am Stadtpark", Some("2")),
            ("Hafenstraße 999", "Hafenstraße", None),
        ] {
            let found = g.find_in_text(text).unwrap_or_else(|| panic!("nothing found in {text:?}"));
            assert_eq!((found.street.as_str(), found.number.as_deref()), (street, number), "{text}");
        }
    }

    #[test]
    fn a_corner_is_where_the_two_streets_meet() {
        let g = demo();
        let found = g.find_in_text("Ecke Bahnhofstr./Schulstr. Ampel kaputt").unwrap();
        assert_eq!(found.street, "Bahnhofstraße / Schulstraße");
        let (nearest, distance) = g.nearest(found.at).unwrap();
        assert!(distance < 60.0, "{distance} m from {nearest:?}");
    }

    #[test]
    fn text_without_an_address_finds_nothing() {
        let g = demo();
        for text in ["Schlagloch", "Die Straße ist kaputt", "Müll im Park", "", "12 34"] {
            assert_eq!(g.find_in_text(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_nearest_address_is_found_for_a_point() {
        let g = demo();
        let lindenweg_4 = g.find_in_text("Lindenweg 4").unwrap();
        let (point, distance) = g.nearest(lindenweg_4.at).unwrap();
        assert_eq!((point.street.as_str(), point.number.as_str(), distance < 0.01), ("Lindenweg", "4", true));
    }

    #[test]
    fn an_osm_export_becomes_a_gazetteer() {
        let export = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"addr:street":"Lindenweg","addr:housenumber":"4"},
             "geometry":{"type":"Point","coordinates":[7.6101,51.9702]}},
            {"type":"Feature","properties":{"addr:street":"Lindenweg","addr:housenumber":"6a","building":"yes"},
             "geometry":{"type":"Polygon","coordinates":[[[7.6110,51.9700],[7.6112,51.9700],[7.6112,51.9702],[7.6110,51.9702],[7.6110,51.9700]]]}},
            {"type":"Feature","properties":{"amenity":"bench"},"geometry":{"type":"Point","coordinates":[7.6,51.9]}},
            {"type":"Feature","properties":{"addr:street":"Weg, Nord","addr:housenumber":"1"},"geometry":{"type":"Point","coordinates":[7.6,51.9]}}
        ]}"#;
        let (points, skipped) = address_points_from_osm_geojson(export).unwrap();
        assert_eq!((points.len(), skipped), (2, 2));
        let gazetteer = Gazetteer::from_csv(&to_csv(&points)).unwrap();
        let found = gazetteer.find_in_text("Lindenweg 6a").unwrap();
        assert_eq!(found.number.as_deref(), Some("6a"));
        assert!(
            (found.at.lat() - 51.9701).abs() < 1e-6 && (found.at.lon() - 7.6111).abs() < 1e-6,
            "a building's centroid"
        );
        assert!(matches!(address_points_from_osm_geojson("[]"), Err(StreetsError::GeoJson(_))));
    }

    #[test]
    fn bad_files_name_the_line() {
        let header = "street,number,lat,lon\n";
        for (text, expected) in [
            ("name,lat\nA,1,2\n".to_string(), "line 1: the header must be"),
            (format!("{header}Weg,1,51.9\n"), "line 2: expected 4 fields"),
            (format!("{header}Weg,1,north,7.6\n"), "line 2: lat and lon must be numbers"),
            (format!("{header}# comment\nWeg,1,95,7.6\n"), "line 3: latitude 95"),
            (format!("{header},1,51.9,7.6\n"), "line 2: the street is empty"),
            (header.to_string(), "no address points"),
        ] {
            let error = Gazetteer::from_csv(&text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(expected), "expected {expected:?}, got {error:?}");
        }
    }
}
