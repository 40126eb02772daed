//! Open work orders by place, for finding the one a new report duplicates: an R-tree of order
//! positions in local metres (an equirectangular projection around the municipality, accurate
//! to well under 0.1 % across a town), searched within a category's radius.

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

    pub fn insert(&mut self, order: OpenOrder) {
        let entry = Entry::new(self.project(order.at), (order.id, order.category));
        self.tree.insert(entry);
    }

    /// Forgets an order (it was resolved); `false` if it was not there.
    pub fn remove(&mut self, order: &OpenOrder) -> bool {
        let entry = Entry::new(self.project(order.at), (order.id, order.category));
        self.tree.remove(&entry).is_some()
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
    fn the_nearest_order_wins_and_a_removed_order_is_no_target() {
        let here = at(51.95, 7.60);
        let far = order(1, Category::Muell, north(here, 80.0));
        let near = order(2, Category::Muell, north(here, 30.0));
        let mut index = OrderIndex::new(here, [far.clone(), near.clone()]);
        assert_eq!(index.duplicate_of(here, Category::Muell, 100.0).map(|d| d.0), Some(2));
        assert!(index.remove(&near));
        assert!(!index.remove(&near));
        assert_eq!(index.duplicate_of(here, Category::Muell, 100.0).map(|d| d.0), Some(1));
        index.insert(order(3, Category::Muell, here));
        assert_eq!(index.duplicate_of(here, Category::Muell, 100.0).map(|d| d.0), Some(3));
        assert_eq!(index.len(), 2);
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
