//! A place in words for people: the nearest address ("Lindenweg 4"), a spot on a street beside
//! an address ("Lindenweg, Höhe Nr. 10") or a crossing ("Kreuzung Bahnhofstraße / Schulstraße"),
//! found among the gazetteer's address points near a point. Coordinates are for machines and
//! for a crew's navigation app; everything Meldeweg shows or says names a place this way.

use crate::conversation::Lang;
use crate::geotag::streets::{AddressPoint, Gazetteer};
use crate::LatLon;

/// Within this distance of an address point, a place *is* that address (metres).
const AT_ADDRESS_M: f64 = 20.0;
/// A second street this close, and hardly further than the first, makes a crossing (metres).
const CROSSING_M: f64 = 40.0;
/// How much further the second street may be than the first for a crossing (metres).
const CROSSING_SLACK_M: f64 = 12.0;
/// How many neighbouring address points are looked at for a second street.
const NEIGHBOURS: usize = 24;

/// Where a point is, in terms of the address points around it.
#[derive(Debug, Clone, PartialEq)]
pub enum Spot<'a> {
    /// At an address: "Lindenweg 4".
    At(&'a AddressPoint),
    /// On a street, the nearest address further off: "Lindenweg, Höhe Nr. 10".
    Beside(&'a AddressPoint),
    /// Where two streets meet, in alphabetical order: "Kreuzung Bahnhofstraße / Schulstraße".
    Crossing(&'a str, &'a str),
}

impl Spot<'_> {
    pub fn words(&self, lang: Lang) -> String {
        match (self, lang) {
            (Spot::At(p), _) => format!("{} {}", p.street, p.number).trim().to_string(),
            (Spot::Beside(p), Lang::De) if !p.number.is_empty() => format!("{}, Höhe Nr. {}", p.street, p.number),
            (Spot::Beside(p), Lang::En) if !p.number.is_empty() => format!("{}, near no. {}", p.street, p.number),
            (Spot::Beside(p), _) => p.street.clone(),
            (Spot::Crossing(a, b), Lang::De) => format!("Kreuzung {a} / {b}"),
            (Spot::Crossing(a, b), Lang::En) => format!("corner of {a} and {b}"),
        }
    }

    /// The street (or the first of two), for grouping and search.
    pub fn street(&self) -> &str {
        match self {
            Spot::At(p) | Spot::Beside(p) => &p.street,
            Spot::Crossing(a, _) => a,
        }
    }
}

impl Gazetteer {
    /// The place at `at` in words, if an address point lies within `max_m` metres.
    pub fn spot(&self, at: LatLon, max_m: f64) -> Option<Spot<'_>> {
        let mut near = self.near(at, NEIGHBOURS);
        let (first, d1) = near.next()?;
        if d1 > max_m {
            return None;
        }
        // A second street about as near as the first: the place is where they meet.
        let crossing = near
            .take_while(|(_, d)| *d <= CROSSING_M.min(d1 + CROSSING_SLACK_M))
            .find(|(p, _)| p.street != first.street);
        Some(match crossing {
            Some((second, _)) if d1 <= CROSSING_M => {
                let (a, b) = if first.street <= second.street { (first, second) } else { (second, first) };
                Spot::Crossing(&a.street, &b.street)
            }
            _ if d1 <= AT_ADDRESS_M => Spot::At(first),
            _ => Spot::Beside(first),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town() -> Gazetteer {
        Gazetteer::from_csv(
            "street,number,lat,lon
Lindenweg,2,52.000000,7.600000
Lindenweg,4,52.000000,7.601000
Lindenweg,6,52.000000,7.602000
Schulstraße,1,52.000300,7.603000
Schulstraße,3,52.001000,7.603000
Marktplatz,,52.010000,7.610000",
        )
        .unwrap()
    }

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    #[test]
    fn at_an_address_its_number_is_named() {
        let g = town();
        let spot = g.spot(point(52.00005, 7.601), 250.0).unwrap();
        assert_eq!(spot.words(Lang::De), "Lindenweg 4");
        assert_eq!(spot.words(Lang::En), "Lindenweg 4");
    }

    #[test]
    fn further_along_the_street_the_nearest_number_is_a_landmark() {
        let g = town();
        let spot = g.spot(point(52.0004, 7.6004), 250.0).unwrap();
        assert_eq!(spot.words(Lang::De), "Lindenweg, Höhe Nr. 2");
        assert_eq!(spot.words(Lang::En), "Lindenweg, near no. 2");
        assert_eq!(spot.street(), "Lindenweg");
    }

    #[test]
    fn between_two_streets_it_is_a_crossing() {
        let g = town();
        let spot = g.spot(point(52.00015, 7.6025), 250.0).unwrap();
        assert_eq!(spot.words(Lang::De), "Kreuzung Lindenweg / Schulstraße");
        assert_eq!(spot.words(Lang::En), "corner of Lindenweg and Schulstraße");
    }

    #[test]
    fn a_square_without_numbers_is_named_alone_and_far_away_is_nothing() {
        let g = town();
        assert_eq!(g.spot(point(52.0104, 7.6100), 250.0).unwrap().words(Lang::De), "Marktplatz");
        assert_eq!(g.spot(point(52.1, 7.7), 250.0), None);
    }

    #[test]
    fn the_demo_towns_places_read_as_addresses() {
        let g = Gazetteer::from_csv(include_str!("../../../config/streets.csv")).unwrap();
        let lindenweg_4 = g.find_in_text("Lindenweg 4").unwrap();
        assert_eq!(g.spot(lindenweg_4.at, 250.0).unwrap().words(Lang::De), "Lindenweg 4");
        let corner = g.find_in_text("Ecke Bahnhofstraße / Schulstraße").unwrap();
        assert_eq!(g.spot(corner.at, 250.0).unwrap().words(Lang::De), "Kreuzung Bahnhofstraße / Schulstraße");
    }
}
