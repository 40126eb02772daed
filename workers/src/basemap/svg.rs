//! A small map picture as SVG around a place: the map background with street names along the
//! streets and coloured pins. It needs no script and no tile server, prints sharply, and is
//! what the public status page and the printed work order show. Colours are presentation
//! attributes (no `style`), so the strict content security policy allows the picture inline.

use std::fmt::Write;

use super::{Basemap, Shape};
use crate::LatLon;

/// Metres per degree of latitude (and of longitude at the equator).
const M_PER_DEGREE: f64 = 111_320.0;

/// What a picture shows: `width_m` × `height_m` metres around `centre`.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub centre: LatLon,
    pub width_m: f64,
    pub height_m: f64,
}

/// A marker on the picture with its fill colour (`#rrggbb`).
#[derive(Debug, Clone, Copy)]
pub struct Pin {
    pub at: LatLon,
    pub colour: &'static str,
}

struct Projection {
    view: View,
    cos_lat: f64,
}

impl Projection {
    fn xy(&self, p: LatLon) -> (f64, f64) {
        let c = self.view.centre;
        (
            (p.lon() - c.lon()) * self.cos_lat * M_PER_DEGREE + self.view.width_m / 2.0,
            (c.lat() - p.lat()) * M_PER_DEGREE + self.view.height_m / 2.0,
        )
    }

    /// Whether a point lies in the picture or within `margin` metres of it.
    fn near(&self, (x, y): (f64, f64), margin: f64) -> bool {
        (-margin..=self.view.width_m + margin).contains(&x) && (-margin..=self.view.height_m + margin).contains(&y)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn path_data(points: &[(f64, f64)], close: bool) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { " L" });
    }
    if close {
        d.push('Z');
    }
    d
}

fn length(points: &[(f64, f64)]) -> f64 {
    points.windows(2).map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt()).sum()
}

impl Basemap {
    fn shape_path(&self, projection: &Projection, shape: &Shape) -> String {
        shape
            .iter()
            .flatten()
            .map(|ring| path_data(&ring.iter().map(|p| projection.xy(*p)).collect::<Vec<_>>(), true))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The picture: `label` is its accessible name; `id` makes the ids of its street paths
    /// unique on a page that shows several pictures.
    pub fn svg(&self, view: View, pins: &[Pin], label: &str, id: &str) -> String {
        let projection = Projection { view, cos_lat: view.centre.lat().to_radians().cos() };
        let (w, h) = (view.width_m, view.height_m);
        let road = w / 40.0;
        let font = w / 28.0;
        let mut svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="basemap" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="{label}"><title>{label}</title><rect width="{w:.0}" height="{h:.0}" fill="#e8e4da"/>"##,
            label = escape(label),
        );
        let _ = write!(
            svg,
            r##"<path d="{}" fill="#f8f6f1" fill-rule="evenodd" stroke="#6b6251" stroke-width="{:.1}" stroke-dasharray="{:.1} {:.1}"/>"##,
            self.shape_path(&projection, &self.boundary),
            road / 3.0,
            road,
            road / 2.0
        );
        for (_, district) in &self.districts {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="none" stroke="#b5ab97" stroke-width="{:.1}"/>"##,
                self.shape_path(&projection, district),
                road / 5.0
            );
        }
        let mut labels = String::new();
        for (index, street) in self.streets.iter().enumerate() {
            let runs: Vec<Vec<(f64, f64)>> = street
                .lines
                .iter()
                .map(|line| line.iter().map(|p| projection.xy(*p)).collect::<Vec<_>>())
                .filter(|line| line.iter().any(|p| projection.near(*p, w / 2.0)))
                .collect();
            for run in &runs {
                let d = path_data(run, false);
                let _ = write!(
                    svg,
                    r##"<path d="{d}" fill="none" stroke="#a89f8c" stroke-width="{:.1}" stroke-linecap="round" stroke-linejoin="round"/><path d="{d}" fill="none" stroke="#ffffff" stroke-width="{:.1}" stroke-linecap="round" stroke-linejoin="round"/>"##,
                    road * 1.3,
                    road
                );
            }
            // The name along the longest stretch inside the picture, reading left to right.
            let inside = runs
                .iter()
                .map(|run| run.iter().copied().filter(|p| projection.near(*p, 0.0)).collect::<Vec<_>>())
                .max_by(|a, b| length(a).total_cmp(&length(b)));
            let room = |s: &Vec<(f64, f64)>| length(s) > street.name.chars().count() as f64 * font * 0.6;
            if let Some(mut stretch) = inside.filter(room).filter(|_| !street.name.is_empty()) {
                if stretch.first().map(|p| p.0) > stretch.last().map(|p| p.0) {
                    stretch.reverse();
                }
                let _ = write!(
                    labels,
                    r##"<path id="{id}-s{index}" d="{}" fill="none"/><text font-family="sans-serif" font-size="{font:.1}" fill="#3d3a33" dy="{:.1}"><textPath href="#{id}-s{index}" startOffset="50%" text-anchor="middle">{}</textPath></text>"##,
                    path_data(&stretch, false),
                    font / 3.0,
                    escape(&street.name)
                );
            }
        }
        svg.push_str(&labels);
        for pin in pins {
            let (x, y) = projection.xy(pin.at);
            let _ = write!(
                svg,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="{:.1}" fill="{}" stroke="#ffffff" stroke-width="{:.1}"/>"##,
                road * 0.9,
                pin.colour,
                road / 3.0
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geotag::{Area, Gazetteer};

    fn demo() -> Basemap {
        let area = Area::from_geojson(include_str!("../../../config/districts.geojson")).unwrap();
        let streets = Gazetteer::from_csv(include_str!("../../../config/streets.csv")).unwrap();
        Basemap::new(&area, &streets, None).unwrap()
    }

    #[test]
    fn a_picture_around_an_address_names_its_street_and_marks_the_place() {
        let map = demo();
        let gazetteer = Gazetteer::from_csv(include_str!("../../../config/streets.csv")).unwrap();
        let at = gazetteer.find_in_text("Lindenweg 4").unwrap().at;
        let view = View { centre: at, width_m: 400.0, height_m: 260.0 };
        let svg = map.svg(view, &[Pin { at, colour: "#c0392b" }], "Karte: Lindenweg 4", "m1");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-label="Karte: Lindenweg 4""#));
        assert!(svg.contains(">Lindenweg</textPath>"), "the street is named: {svg}");
        assert!(svg.contains(r##"<circle cx="200.0" cy="130.0""##), "the pin is in the middle");
        assert!(svg.contains(r##"href="#m1-s"##), "ids carry the picture's prefix");
        assert!(!svg.contains("style="), "no inline style for the content security policy");
    }

    #[test]
    fn names_are_escaped() {
        let mut map = demo();
        map.streets[0].name = "A & <B>".into();
        let at = map.streets[0].lines[0][0];
        let svg = map.svg(View { centre: at, width_m: 2000.0, height_m: 2000.0 }, &[], "<x>", "p");
        assert!(svg.contains("A &amp; &lt;B&gt;") && svg.contains("&lt;x&gt;") && !svg.contains("<B>"));
    }

    #[test]
    fn the_geojson_has_the_boundary_districts_and_streets() {
        let map = demo();
        let value: serde_json::Value = serde_json::from_str(&map.geojson()).unwrap();
        let kinds: Vec<&str> =
            value["features"].as_array().unwrap().iter().map(|f| f["properties"]["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "boundary").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "district").count(), 6);
        assert_eq!(kinds.iter().filter(|k| **k == "street").count(), 12, "every demo street has a line");
    }
}
