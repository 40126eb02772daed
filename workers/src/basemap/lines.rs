//! The streets of the map background: read from a GeoJSON file of named lines, or drawn
//! through each street's address points when the municipality has only those.

use geojson::{GeoJson, GeometryValue, Position};

use super::{BasemapError, Street};
use crate::geotag::{AddressPoint, Gazetteer};
use crate::LatLon;

/// Two address points further apart than this are not joined: the street has a gap there
/// (metres).
const MAX_JOIN_M: f64 = 250.0;

/// `LineString` and `MultiLineString` features (other geometries are skipped); features of one
/// `name` are one street, those without a name (a service road, a path) are drawn unlabelled.
pub(super) fn from_geojson(text: &str) -> Result<Vec<Street>, BasemapError> {
    let geojson: GeoJson = text.parse().map_err(|e: geojson::Error| BasemapError::GeoJson(e.to_string()))?;
    let GeoJson::FeatureCollection(collection) = geojson else {
        return Err(BasemapError::GeoJson("the top level is not a FeatureCollection".into()));
    };
    let mut streets: Vec<Street> = Vec::new();
    for (index, feature) in collection.features.iter().enumerate() {
        let lines: Vec<&Vec<Position>> = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(GeometryValue::LineString { coordinates }) => vec![coordinates],
            Some(GeometryValue::MultiLineString { coordinates }) => coordinates.iter().collect(),
            _ => continue,
        };
        let name = feature.property("name").and_then(|v| v.as_str()).map_or("", str::trim);
        let mut converted = Vec::with_capacity(lines.len());
        for line in lines {
            let points = line
                .iter()
                .map(|c| match c.as_slice() {
                    [lon, lat, ..] => LatLon::new(*lat, *lon).map_err(|e| e.to_string()),
                    _ => Err("a position needs a longitude and a latitude".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| BasemapError::Coordinates(index, reason))?;
            if points.len() >= 2 {
                converted.push(points);
            }
        }
        match streets.iter_mut().find(|s| s.name == name) {
            Some(street) => street.lines.extend(converted),
            None => streets.push(Street { name: name.to_string(), lines: converted }),
        }
    }
    Ok(streets)
}

/// The number of a house number ("12a" → 12) and what follows it, for ordering.
fn house_order(point: &AddressPoint) -> (u32, String) {
    let digits: String = point.number.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u32::MAX), point.number[digits.len()..].to_string())
}

fn midpoint(a: LatLon, b: LatLon) -> LatLon {
    LatLon::new((a.lat() + b.lat()) / 2.0, (a.lon() + b.lon()) / 2.0).unwrap_or(a)
}

/// Each street as a line through its address points in house-number order, each point
/// averaged with the next so that the odd and the even side meet in the middle of the road.
pub(super) fn through_address_points(gazetteer: &Gazetteer) -> Vec<Street> {
    gazetteer
        .by_street()
        .filter_map(|mut points| {
            points.sort_by_key(|p| house_order(p));
            let name = points.first()?.street.clone();
            let centre: Vec<LatLon> = match points.len() {
                0 | 1 => return None,
                2 => vec![points[0].at, points[1].at],
                _ => points.windows(2).map(|pair| midpoint(pair[0].at, pair[1].at)).collect(),
            };
            let mut lines = vec![vec![centre[0]]];
            for pair in centre.windows(2) {
                if pair[0].distance_m(pair[1]) > MAX_JOIN_M {
                    lines.push(Vec::new());
                }
                lines.last_mut().expect("one line at least").push(pair[1]);
            }
            lines.retain(|line| line.len() >= 2);
            (!lines.is_empty()).then_some(Street { name, lines })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_points_become_a_line_down_the_middle_of_the_road() {
        let gazetteer = Gazetteer::from_csv(
            "street,number,lat,lon
Weg,3,52.0002,7.6020
Weg,1,52.0002,7.6000
Weg,2,52.0000,7.6010
Weg,4,52.0000,7.6030
Weg,90,52.1000,7.7000
Platz,1,52.0100,7.6100",
        )
        .unwrap();
        let streets = through_address_points(&gazetteer);
        assert_eq!(streets.len(), 1, "a street of one point has no line: {streets:?}");
        let weg = &streets[0];
        assert_eq!(weg.lines.len(), 1, "the far number 90 starts a piece of one point, which is dropped");
        let lats: Vec<f64> = weg.lines[0].iter().map(|p| (p.lat() * 1e4).round() / 1e4).collect();
        assert_eq!(lats, vec![52.0001, 52.0001, 52.0001], "midway between the sides");
    }

    #[test]
    fn lines_are_read_by_name_and_bad_ones_are_named() {
        let lines = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"Lindenweg"},"geometry":{"type":"LineString","coordinates":[[7.60,52.0],[7.61,52.0]]}},
            {"type":"Feature","properties":{"name":"Lindenweg"},"geometry":{"type":"MultiLineString","coordinates":[[[7.62,52.0],[7.63,52.0]]]}},
            {"type":"Feature","properties":{"name":"Brunnen"},"geometry":{"type":"Point","coordinates":[7.6,52.0]}}
        ]}"#;
        let streets = from_geojson(lines).unwrap();
        assert_eq!(streets.len(), 1);
        assert_eq!((streets[0].name.as_str(), streets[0].lines.len()), ("Lindenweg", 2));
        let unnamed = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[7.60,52.0],[7.61,52.0]]}}]}"#;
        let paths = from_geojson(unnamed).unwrap();
        assert_eq!((paths.len(), paths[0].name.as_str()), (1, ""), "drawn without a label");
        let outside = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"X"},"geometry":{"type":"LineString","coordinates":[[7.60,95.0],[7.61,52.0]]}}]}"#;
        assert!(matches!(from_geojson(outside), Err(BasemapError::Coordinates(0, _))));
        assert!(matches!(from_geojson("{}"), Err(BasemapError::GeoJson(_))));
    }
}
