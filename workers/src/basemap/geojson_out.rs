//! The map background as one GeoJSON FeatureCollection for the interactive maps: the boundary,
//! the districts (`kind` and `name`) and the streets, coordinates to 6 decimals (0.1 m).

use serde_json::{json, Value};

use super::{Basemap, Shape};
use crate::LatLon;

fn position(p: &LatLon) -> Value {
    let round = |v: f64| (v * 1e6).round() / 1e6;
    json!([round(p.lon()), round(p.lat())])
}

fn polygon(shape: &Shape) -> Value {
    let coordinates: Vec<Vec<Vec<Value>>> =
        shape.iter().map(|rings| rings.iter().map(|ring| ring.iter().map(position).collect()).collect()).collect();
    json!({ "type": "MultiPolygon", "coordinates": coordinates })
}

impl Basemap {
    pub fn geojson(&self) -> String {
        let mut features = vec![json!({
            "type": "Feature",
            "properties": { "kind": "boundary", "name": self.town },
            "geometry": polygon(&self.boundary),
        })];
        for (name, rings) in &self.districts {
            features.push(json!({
                "type": "Feature",
                "properties": { "kind": "district", "name": name },
                "geometry": polygon(rings),
            }));
        }
        for street in &self.streets {
            let lines: Vec<Vec<Value>> = street.lines.iter().map(|line| line.iter().map(position).collect()).collect();
            features.push(json!({
                "type": "Feature",
                "properties": { "kind": "street", "name": street.name },
                "geometry": { "type": "MultiLineString", "coordinates": lines },
            }));
        }
        json!({ "type": "FeatureCollection", "features": features }).to_string()
    }
}
