//! Open work orders by place, for finding the one a new report duplicates: an R-tree of order
//! positions in local metres (an equirectangular projection around the municipality, accurate
//! to well under 0.1 % across a town), searched within a category's radius.
//!
//! `Cells` cuts the same plane into squares at least as wide as the largest radius, so every
//! order a report could duplicate lies in the report's square or one of its eight neighbours:
//! triage locks those nine, a change to an order locks its own, and only reports that could be
//! duplicates of each other (or of the orders changing) ever wait for each other.

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::category::Category;
use crate::LatLon;

/// Metres per degree of latitude (WGS 84 mean).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// An open order as the duplicate search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOrder {
    pub id: i64,
    pub category: Category,
    pub at: LatLon,
}

type Entry = GeomWithData<[f64; 2], (i64, Category)>;

pub struct OrderIndex {
    origin: LatLon,
    /// Metres per degree of longitude at the origin.
    lon_scale: f64,
    tree: RTree<Entry>,
}

impl OrderIndex {
    /// An index projected around `origin` (the municipality's centre), holding `orders`.
    pub fn new(origin: LatLon, orders: impl IntoIterator<Item = OpenOrder>) -> Self {
        let lon_scale = METRES_PER_DEGREE * origin.lat().to_radians().cos();
        let mut index = Self { origin, lon_scale, tree: RTree::new() };
        let entries = orders.into_iter().map(|o| Entry::new(index.project(o.at), (o.id, o.category))).collect();
        index.tree = RTree::bulk_load(entries);
        index
    }

    fn project(&self, at: LatLon) -> [f64; 2] {
        [(at.lon() - self.origin.lon()) * self.lon_scale, (at.lat() - self.origin.lat()) * METRES_PER_DEGREE]
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The nearest open order of `category` within `radius_m` metres of `at`, with its
    /// distance in metres.
    pub fn duplicate_of(&self, at: LatLon, category: Category, radius_m: f64) -> Option<(i64, f64)> {
        let point = self.project(at);
        self.tree
            .locate_within_distance(point, radius_m * radius_m)
            .filter(|entry| entry.data.1 == category)
            .map(|entry| {
                let [x, y] = *entry.geom();
                (entry.data.0, ((x - point[0]).powi(2) + (y - point[1]).powi(2)).sqrt())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// The squares of the duplicate search's lock grid, `side_m` wide, around `origin`.
#[derive(Debug, Clone, Copy)]
pub struct Cells {
    origin: LatLon,
    lon_scale: f64,
    side_m: f64,
}

/// A square of the grid: (column, row).
pub type Cell = (i32, i32);

impl Cells {
    /// A grid around `origin` (the municipality's centre) whose squares are `largest_radius_m`
    /// wide (at least a metre).
    pub fn new(origin: LatLon, largest_radius_m: f64) -> Self {
        let lon_scale = METRES_PER_DEGREE * origin.lat().to_radians().cos();
        Self { origin, lon_scale, side_m: largest_radius_m.max(1.0) }
    }

    /// The square `at` lies in.
    pub fn of(&self, at: LatLon) -> Cell {
        let x = (at.lon() - self.origin.lon()) * self.lon_scale / self.side_m;
        let y = (at.lat() - self.origin.lat()) * METRES_PER_DEGREE / self.side_m;
        (x.floor() as i32, y.floor() as i32)
    }

    /// The square of `at` and its eight neighbours, in one fixed order (so that two lockers
    /// never take the same squares in opposite order).
    pub fn around(&self, at: LatLon) -> Vec<Cell> {
        let (x, y) = self.of(at);
        let mut cells: Vec<Cell> = (-1..=1).flat_map(|dx| (-1..=1).map(move |dy| (x + dx, y + dy))).collect();
        cells.sort_unstable();
        cells
    }

    /// South, north, west and east edges (degrees) of the box within `radius_m` of `at`.
    pub fn bounds(&self, at: LatLon, radius_m: f64) -> [f64; 4] {
        let (dlat, dlon) = (radius_m / METRES_PER_DEGREE, radius_m / self.lon_scale);
        [at.lat() - dlat, at.lat() + dlat, at.lon() - dlon, at.lon() + dlon]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    /// `metres` north of `from`.
    fn north(from: LatLon, metres: f64) -> LatLon {
        at(from.lat() + metres / METRES_PER_DEGREE, from.lon())
    }

    fn order(id: i64, category: Category, place: LatLon) -> OpenOrder {
        OpenOrder { id, category, at: place }
    }

    #[test]
    fn a_report_within_the_radius_of_the_same_category_is_a_duplicate() {
        let school = at(51.9620, 7.6260);
        let index = OrderIndex::new(
            school,
            [order(1, Category::Strassenschaden, school), order(2, Category::Beleuchtung, school)],
        );
        let (id, distance) = index.duplicate_of(north(school, 20.0), Category::Strassenschaden, 25.0).unwrap();
        assert_eq!(id, 1);
        assert!((distance - 20.0).abs() < 0.05, "{distance}");
        assert_eq!(index.duplicate_of(north(school, 26.0), Category::Strassenschaden, 25.0), None, "just outside");
        assert_eq!(index.duplicate_of(school, Category::Muell, 100.0), None, "another category at the same spot");
    }

    #[test]
    fn the_nearest_order_wins() {
        let here = at(51.95, 7.60);
        let far = order(1, Category::Muell, north(here, 80.0));
        let near = order(2, Category::Muell, north(here, 30.0));
        let index = OrderIndex::new(here, [far.clone(), near]);
        assert_eq!(index.duplicate_of(here, Category::Muell, 100.0).map(|d| d.0), Some(2));
        assert_eq!(OrderIndex::new(here, [far]).duplicate_of(here, Category::Muell, 100.0).map(|d| d.0), Some(1));
    }

    #[test]
    fn two_places_within_the_largest_radius_share_squares_and_far_ones_share_none() {
        let origin = at(51.962, 7.626);
        let cells = Cells::new(origin, 100.0);
        let east = |from: LatLon, metres: f64| at(from.lat(), from.lon() + metres / cells.lon_scale);
        // Points all over the town, each with a partner up to 100 m away in every direction.
        for i in 0..40 {
            let a = east(north(origin, f64::from(i) * 37.3 - 700.0), f64::from(i) * 53.1 - 900.0);
            for (dn, de) in [(99.0, 0.0), (0.0, -99.9), (-70.0, 70.0), (0.5, 0.5), (-99.0, -5.0)] {
                let b = east(north(a, dn), de);
                let shared = cells.around(a).iter().filter(|c| cells.around(b).contains(c)).count();
                assert!(shared >= 2, "{a:?} and {b:?} share {shared} squares");
                assert!(cells.around(a).contains(&cells.of(b)), "b's order lies in a's squares");
            }
            // Three squares apart along one axis, their squares never meet.
            let far = east(north(a, 40.0), 300.5);
            assert!(cells.around(a).iter().all(|c| !cells.around(far).contains(c)), "300 m apart: no waiting");
        }
    }

    #[test]
    fn the_bounds_hold_every_point_within_the_radius() {
        let origin = at(51.962, 7.626);
        let cells = Cells::new(origin, 50.0);
        let [south, north_edge, west, east] = cells.bounds(origin, 50.0);
        let inside = north(origin, 49.9);
        assert!(inside.lat() < north_edge && inside.lat() > south);
        assert!(west < origin.lon() && origin.lon() < east);
        assert!(((east - west) * cells.lon_scale - 100.0).abs() < 1e-6);
    }

    #[test]
    fn distances_match_the_haversine_distance_within_a_town() {
        // 3 km east and 2 km north of the origin: the projection is off by far less than a metre.
        let origin = at(51.962, 7.626);
        let lon_per_metre = 1.0 / (METRES_PER_DEGREE * origin.lat().to_radians().cos());
        let target = at(origin.lat() + 2000.0 / METRES_PER_DEGREE, origin.lon() + 3000.0 * lon_per_metre);
        let index = OrderIndex::new(origin, [order(1, Category::Gruen, target)]);
        let (_, projected) = index.duplicate_of(origin, Category::Gruen, 5000.0).unwrap();
        let haversine = origin.distance_m(target);
        assert!((projected - haversine).abs() < 5.0, "projected {projected}, haversine {haversine}");
    }
}
