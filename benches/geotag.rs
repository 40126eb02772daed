//! Geotagging benchmark: point-in-district lookups and duplicate searches on one core, against
//! PostGIS answering the same `ST_Contains` / `ST_DWithin` queries in the same run.
//!
//! Data: 500 district polygons of 200 vertices each (a 25 × 20 grid of cells with jagged
//! edges) and 200,000 open orders in 10 categories, spread over about 70 × 55 km.
//!
//!     taskset -c 0 cargo bench --bench geotag
//!
//! PostGIS: uses MELDEWEG_BENCH_DATABASE_URL's server (default the local one) and a fresh
//! database with the `postgis` extension (Debian: postgresql-15-postgis-3), dropped afterwards.

use std::time::{Duration, Instant};

use meldeweg_workers::category::Category;
use meldeweg_workers::geotag::{Area, OpenOrder, OrderIndex, Placement};
use meldeweg_workers::LatLon;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor, Row};

#[path = "support/database.rs"]
mod database;
#[path = "support/stats.rs"]
mod stats;

const COLUMNS: usize = 25;
const ROWS: usize = 20;
const VERTICES_PER_SIDE: usize = 50;
const ORDERS: usize = 200_000;
const WEST: f64 = 7.0;
const SOUTH: f64 = 51.5;
const CELL_LON: f64 = 0.04;
const CELL_LAT: f64 = 0.025;
const RADIUS_M: f64 = 50.0;
const LOOKUPS: usize = 200_000;
const POSTGIS_QUERIES: usize = 5_000;

/// A cell's ring: 50 points per side, each pulled inwards by up to 10 % of the cell (less near
/// the corners, so neighbouring sides never cross), so the polygon is simple but jagged.
fn cell_ring(rng: &mut rand::rngs::StdRng, column: usize, row: usize) -> Vec<[f64; 2]> {
    let (x0, y0) = (WEST + column as f64 * CELL_LON, SOUTH + row as f64 * CELL_LAT);
    let (x1, y1) = (x0 + CELL_LON, y0 + CELL_LAT);
    let mut ring = Vec::with_capacity(4 * VERTICES_PER_SIDE + 1);
    for i in 0..VERTICES_PER_SIDE {
        let t = i as f64 / VERTICES_PER_SIDE as f64;
        ring.push([x0 + t * CELL_LON, y0 + jitter(rng, t) * CELL_LAT]);
    }
    for i in 0..VERTICES_PER_SIDE {
        let t = i as f64 / VERTICES_PER_SIDE as f64;
        ring.push([x1 - jitter(rng, t) * CELL_LON, y0 + t * CELL_LAT]);
    }
    for i in 0..VERTICES_PER_SIDE {
        let t = i as f64 / VERTICES_PER_SIDE as f64;
        ring.push([x1 - t * CELL_LON, y1 - jitter(rng, t) * CELL_LAT]);
    }
    for i in 0..VERTICES_PER_SIDE {
        let t = i as f64 / VERTICES_PER_SIDE as f64;
        ring.push([x0 + jitter(rng, t) * CELL_LON, y1 - t * CELL_LAT]);
    }
    ring.push(ring[0]);
    ring
}

/// Inward offset as a fraction of the cell: random, at most 0.2 × the distance to the nearer
/// corner (as a fraction of the side), so it is 0 at the corners.
fn jitter(rng: &mut rand::rngs::StdRng, t: f64) -> f64 {
    let room = 0.2 * t.min(1.0 - t);
    if room == 0.0 {
        0.0
    } else {
        rng.random_range(0.0..room)
    }
}

fn random_point(rng: &mut rand::rngs::StdRng) -> LatLon {
    let lon = WEST + rng.random_range(0.0..COLUMNS as f64 * CELL_LON);
    let lat = SOUTH + rng.random_range(0.0..ROWS as f64 * CELL_LAT);
    LatLon::new(lat, lon).unwrap()
}

fn micros(sorted: &[Duration], p: f64) -> f64 {
    stats::percentile_ms(sorted, p) * 1000.0
}

fn report(label: &str, mut latencies: Vec<Duration>, total: Duration) -> f64 {
    latencies.sort_unstable();
    let per_second = latencies.len() as f64 / total.as_secs_f64();
    println!(
        "{label:<44} {per_second:>12.0}/s   p50 {:>9.2} µs   p99 {:>9.2} µs   max {:>9.2} µs",
        micros(&latencies, 50.0),
        micros(&latencies, 99.0),
        micros(&latencies, 100.0)
    );
    micros(&latencies, 50.0)
}

fn geojson(rings: &[Vec<[f64; 2]>]) -> String {
    let outer = [
        [WEST - 0.01, SOUTH - 0.01],
        [WEST + COLUMNS as f64 * CELL_LON + 0.01, SOUTH - 0.01],
        [WEST + COLUMNS as f64 * CELL_LON + 0.01, SOUTH + ROWS as f64 * CELL_LAT + 0.01],
        [WEST - 0.01, SOUTH + ROWS as f64 * CELL_LAT + 0.01],
        [WEST - 0.01, SOUTH - 0.01],
    ];
    let feature = |kind: &str, id: String, ring: &[[f64; 2]]| {
        serde_json::json!({ "type": "Feature", "properties": { "kind": kind, "id": id },
            "geometry": { "type": "Polygon", "coordinates": [ring] } })
    };
    let mut features = vec![feature("boundary", "region".into(), &outer)];
    features.extend(rings.iter().enumerate().map(|(i, ring)| feature("district", format!("d{i}"), ring)));
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

fn wkt(ring: &[[f64; 2]]) -> String {
    let points: Vec<String> = ring.iter().map(|[x, y]| format!("{x} {y}")).collect();
    format!("POLYGON(({}))", points.join(","))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let rings: Vec<Vec<[f64; 2]>> = (0..ROWS)
        .flat_map(|row| (0..COLUMNS).map(move |column| (column, row)))
        .map(|(c, r)| cell_ring(&mut rng, c, r))
        .collect();
    let orders: Vec<OpenOrder> = (0..ORDERS)
        .map(|i| OpenOrder {
            id: i as i64,
            category: Category::ALL[i % Category::ALL.len()],
            at: random_point(&mut rng),
        })
        .collect();
    let queries: Vec<(LatLon, Category)> =
        (0..LOOKUPS).map(|i| (random_point(&mut rng), Category::ALL[i % Category::ALL.len()])).collect();
    println!(
        "{} districts × {} vertices, {} open orders, radius {RADIUS_M} m, {} queries each",
        rings.len(),
        rings[0].len() - 1,
        ORDERS,
        LOOKUPS
    );

    let started = Instant::now();
    let area = Area::from_geojson(&geojson(&rings)).expect("the generated districts are valid");
    println!("loading and validating the districts: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    let started = Instant::now();
    let origin = LatLon::new(SOUTH + ROWS as f64 * CELL_LAT / 2.0, WEST + COLUMNS as f64 * CELL_LON / 2.0).unwrap();
    let index = OrderIndex::new(origin, orders.iter().cloned());
    println!("building the order index: {:.0} ms\n", started.elapsed().as_secs_f64() * 1e3);

    let mut found = 0usize;
    let mut latencies = Vec::with_capacity(LOOKUPS);
    let started = Instant::now();
    for (point, _) in &queries {
        let t = Instant::now();
        if matches!(area.locate(*point), Placement::Inside(Some(_))) {
            found += 1;
        }
        latencies.push(t.elapsed());
    }
    let ours_contains = report("meldeweg: point in district", latencies, started.elapsed());
    let mut duplicates = 0usize;
    let mut latencies = Vec::with_capacity(LOOKUPS);
    let started = Instant::now();
    for (point, category) in &queries {
        let t = Instant::now();
        if index.duplicate_of(*point, *category, RADIUS_M).is_some() {
            duplicates += 1;
        }
        latencies.push(t.elapsed());
    }
    let ours_dwithin = report("meldeweg: duplicate within 50 m", latencies, started.elapsed());
    println!("  ({found} of {LOOKUPS} points in a district, {duplicates} with a duplicate)\n");

    let url = database::fresh_database("postgres", std::path::Path::new(".")).await;
    let mut pg = sqlx::PgConnection::connect(&url).await.unwrap();
    pg.execute("CREATE EXTENSION postgis").await.expect("PostGIS installed (postgresql-15-postgis-3)");
    pg.execute(
        "CREATE TABLE districts (id INT PRIMARY KEY, geom geometry(Polygon, 4326) NOT NULL);
         CREATE TABLE orders (id BIGINT PRIMARY KEY, category TEXT NOT NULL, geom geography(Point, 4326) NOT NULL)",
    )
    .await
    .unwrap();
    for (i, ring) in rings.iter().enumerate() {
        sqlx::query("INSERT INTO districts VALUES ($1, ST_GeomFromText($2, 4326))")
            .bind(i as i32)
            .bind(wkt(ring))
            .execute(&mut pg)
            .await
            .unwrap();
    }
    for chunk in orders.chunks(10_000) {
        let ids: Vec<i64> = chunk.iter().map(|o| o.id).collect();
        let categories: Vec<&str> = chunk.iter().map(|o| o.category.id()).collect();
        let lons: Vec<f64> = chunk.iter().map(|o| o.at.lon()).collect();
        let lats: Vec<f64> = chunk.iter().map(|o| o.at.lat()).collect();
        sqlx::query(
            "INSERT INTO orders SELECT id, category, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography
             FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::float8[]) AS t(id, category, lon, lat)",
        )
        .bind(ids)
        .bind(categories)
        .bind(lons)
        .bind(lats)
        .execute(&mut pg)
        .await
        .unwrap();
    }
    pg.execute(
        "CREATE INDEX ON districts USING gist (geom); CREATE INDEX ON orders USING gist (geom);
         CREATE INDEX ON orders (category); ANALYZE districts; ANALYZE orders",
    )
    .await
    .unwrap();

    let contains = "SELECT id FROM districts WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT 1";
    let dwithin = "SELECT id FROM orders WHERE category = $3
                   AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $4)
                   ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography LIMIT 1";
    let mut pg_found = 0usize;
    let mut latencies = Vec::with_capacity(POSTGIS_QUERIES);
    let started = Instant::now();
    for (point, _) in &queries[..POSTGIS_QUERIES] {
        let t = Instant::now();
        let row = sqlx::query(contains).bind(point.lon()).bind(point.lat()).fetch_optional(&mut pg).await.unwrap();
        pg_found += usize::from(row.is_some());
        latencies.push(t.elapsed());
    }
    let postgis_contains = report("PostGIS: ST_Contains (prepared statement)", latencies, started.elapsed());
    let mut pg_duplicates = 0usize;
    let mut latencies = Vec::with_capacity(POSTGIS_QUERIES);
    let started = Instant::now();
    for (point, category) in &queries[..POSTGIS_QUERIES] {
        let t = Instant::now();
        let row = sqlx::query(dwithin)
            .bind(point.lon())
            .bind(point.lat())
            .bind(category.id())
            .bind(RADIUS_M)
            .fetch_optional(&mut pg)
            .await
            .unwrap();
        pg_duplicates += usize::from(row.map(|r| r.get::<i64, _>("id")).is_some());
        latencies.push(t.elapsed());
    }
    let postgis_dwithin = report("PostGIS: ST_DWithin (prepared statement)", latencies, started.elapsed());

    // The two must agree on the queries both answered.
    let ours_found = queries[..POSTGIS_QUERIES]
        .iter()
        .filter(|(p, _)| matches!(area.locate(*p), Placement::Inside(Some(_))))
        .count();
    let ours_duplicates =
        queries[..POSTGIS_QUERIES].iter().filter(|(p, c)| index.duplicate_of(*p, *c, RADIUS_M).is_some()).count();
    println!("  (agreement on the first {POSTGIS_QUERIES}: districts {ours_found} vs {pg_found}, duplicates {ours_duplicates} vs {pg_duplicates})");
    println!(
        "\nmedian speed-up over PostGIS: point in district {:.0}×, duplicate search {:.0}×",
        postgis_contains / ours_contains,
        postgis_dwithin / ours_dwithin
    );
    drop(pg);
    database::drop_database(&url).await;
}
