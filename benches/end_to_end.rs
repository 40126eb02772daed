//! End-to-end benchmark: the time from the webhook POST that completes a report (a citizen's
//! location, after their description) to the reply with the reference number arriving at the
//! (fake) Cloud API, at `--rate` reports per second for `--seconds`, against a `meldeweg serve`
//! process. First every citizen sends a description and gets the notice and location request;
//! then the locations are sent at a steady pace and each acknowledgement is timed.
//!
//! The reports are what a town sees: places inside the demo town on a 60 m grid over all its
//! districts, six categories (so several depots, and the Stadtwerke and Straßen.NRW by routing),
//! and every fifth report a few metres from an earlier one of the same problem, so it joins that
//! work order as a duplicate. So every report runs the whole triage: district, routing, the
//! duplicate search under the open-order lock, and a new order or a link to one.
//!
//! With `--instances N` (PostgreSQL) N `meldeweg serve` processes share the database and the
//! deliveries go round-robin to them (a citizen's messages to different ones, as behind a load
//! balancer). On PostgreSQL the run also samples `pg_stat_activity` every few milliseconds and
//! prints what the database's busy sessions were doing or waiting for: where the time goes.
//!
//!     cargo bench --bench end_to_end -- --backend sqlite --rate 100 --seconds 60
//!     cargo bench --bench end_to_end -- --backend postgres --rate 100 --seconds 60 [--instances 2]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use meldeweg_workers::geotag::{Area, Placement};
use meldeweg_workers::LatLon;
use support::deliveries::signed_delivery;
use support::{drop_database, fresh_database, percentile_ms, Options};

/// One description per category; each classifies with high confidence, so no citizen is asked
/// to pick a category.
const TEXTS: [&str; 6] = [
    "Tiefes Schlagloch vor der Grundschule, bitte schnell reparieren",
    "Illegaler Müll abgeladen am Straßenrand, Sperrmüll und Säcke",
    "Graffiti an der Wand der Unterführung, frisch gesprüht",
    "Straßenlaterne brennt seit Tagen nicht mehr",
    "Verkehrsschild umgefahren und liegt auf dem Gehweg",
    "Äste hängen tief über den Radweg, Hecke wuchert",
];

/// Grid spacing in metres. Points of one category are at least 2.2 spacings (134 m) apart,
/// beyond every category's duplicate radius (at most 100 m), so only the planted duplicates join.
const SPACING_M: f64 = 60.0;

/// A report's place and which of `TEXTS` describes it.
#[derive(Clone, Copy)]
struct Place {
    at: LatLon,
    text: usize,
}

/// `count` places in the demo town: grid points inside its boundary, and every fifth report a
/// duplicate, 4 m from the report four before it, of the same problem.
fn places(count: usize) -> Vec<Place> {
    let geojson = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/districts.geojson")).unwrap();
    let area = Area::from_geojson(&geojson).unwrap();
    let (south, north, west, east): (f64, f64, f64, f64) = (51.9325, 51.9906, 7.5795, 7.6753);
    let dlat = SPACING_M / 111_320.0;
    let dlon = dlat / south.to_radians().cos();
    let mut grid = Vec::new();
    for i in 0..=((north - south) / dlat) as i64 {
        for j in 0..=((east - west) / dlon) as i64 {
            let at = LatLon::new(south + i as f64 * dlat, west + j as f64 * dlon).unwrap();
            if area.locate(at) != Placement::Outside {
                grid.push(Place { at, text: (i + 2 * j).rem_euclid(6) as usize });
            }
        }
    }
    // Spread consecutive reports over the town instead of walking it row by row: a stride
    // coprime with the grid's size visits every point once.
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let stride = (grid.len() / 3..).find(|&s| gcd(s, grid.len()) == 1).unwrap();
    let mut next = 0;
    let mut places: Vec<Place> = Vec::with_capacity(count);
    for n in 0..count {
        if n % 5 == 4 {
            let earlier = places[n - 4];
            let at = LatLon::new(earlier.at.lat() + 4.0 / 111_320.0, earlier.at.lon()).unwrap();
            places.push(Place { at, ..earlier });
        } else {
            assert!(next < grid.len(), "more reports than the grid has places ({})", grid.len());
            places.push(grid[(next * stride) % grid.len()]);
            next += 1;
        }
    }
    places
}

fn location(at: LatLon) -> String {
    format!(r#""type":"location","location":{{"latitude":{},"longitude":{},"name":"Meldung"}}"#, at.lat(), at.lon())
}

fn text(body: &str) -> String {
    format!(r#""type":"text","text":{{"body":"{body}"}}"#)
}

#[tokio::main]
async fn main() {
    let options = Options::parse(60);
    assert!(options.workers_in_process, "the end-to-end benchmark needs the server's workers");
    let dir = tempfile::tempdir().unwrap();
    let graph = support::fake_graph::FakeGraph::start().await;
    let database_url = fresh_database(&options.backend, dir.path()).await;
    let servers = support::launch_instances(&options, &database_url, dir.path(), &graph).await;
    let http = reqwest::Client::new();
    let urls: Vec<String> = servers.iter().map(|server| format!("{}/webhooks/whatsapp", server.base)).collect();
    let url = |n: usize| &urls[n % urls.len()];
    let reports = (options.rate * options.seconds) as usize;
    let citizens: Vec<String> = (0..reports).map(|n| format!("49160{n:08}")).collect();
    let places = places(reports);
    println!("backend {}, {} instances, {} reports at {}/s", options.backend, servers.len(), reports, options.rate);

    // Every citizen describes a problem and is asked for the location.
    let prepared = Instant::now();
    let mut posts = Vec::new();
    for (n, citizen) in citizens.iter().enumerate() {
        let (body, signature) = signed_delivery(citizen, &format!("wamid.e2e.text.{n}"), &text(TEXTS[places[n].text]));
        posts.push(http.post(url(n)).header("x-hub-signature-256", signature).body(body).send());
        if posts.len() == 32 {
            for response in futures_util::future::join_all(posts.drain(..)).await {
                assert!(response.unwrap().status().is_success());
            }
        }
    }
    futures_util::future::join_all(posts).await;
    let expected = reports * 2;
    while graph.requests().len() < expected {
        assert!(prepared.elapsed() < Duration::from_secs(600), "preparation did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("prepared {} conversations in {:.1} s", reports, prepared.elapsed().as_secs_f64());

    // The locations, at a steady rate; each POST's start time is kept per citizen.
    let interval = Duration::from_secs_f64(1.0 / options.rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent_at = HashMap::with_capacity(reports);
    let mut in_flight = Vec::with_capacity(reports);
    let sampler = (options.backend == "postgres").then(|| support::waits::Sampler::start(&database_url));
    let started = Instant::now();
    for (n, citizen) in citizens.iter().enumerate() {
        ticker.tick().await;
        let (body, signature) = signed_delivery(citizen, &format!("wamid.e2e.location.{n}"), &location(places[n].at));
        sent_at.insert(citizen.clone(), Instant::now());
        let request = http.post(url(n + 1)).header("x-hub-signature-256", signature).body(body);
        in_flight.push(tokio::spawn(async move { request.send().await.map(|r| r.status().is_success()) }));
    }
    let offered = started.elapsed();
    let mut refused = 0;
    for post in in_flight {
        if !matches!(post.await.unwrap(), Ok(true)) {
            refused += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while graph.requests().len() < expected + reports && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waits = match sampler {
        Some(sampler) => Some(sampler.stop().await),
        None => None,
    };
    for server in servers {
        println!("server peak memory (VmHWM): {} MiB", server.peak_memory_mib());
        server.stop().await;
    }
    let outcome = outcomes(&database_url).await;
    drop_database(&database_url).await;

    let mut latencies = Vec::with_capacity(reports);
    for request in graph.requests() {
        if request.succeeded() && request.text().contains("M-") {
            let citizen = request.recipient().unwrap_or_default();
            if let Some(sent) = sent_at.get(citizen) {
                latencies.push(request.at.duration_since(*sent));
            }
        }
    }
    latencies.sort_unstable();
    println!(
        "offered {:.1} reports/s; acknowledged {} of {} ({} POSTs refused)",
        reports as f64 / offered.as_secs_f64(),
        latencies.len(),
        reports,
        refused
    );
    println!("{outcome}");
    println!(
        "webhook POST → reference at the Cloud API: p50 {:.1} ms   p90 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 90.0),
        percentile_ms(&latencies, 99.0),
        percentile_ms(&latencies, 100.0)
    );
    if let Some(waits) = waits {
        println!("{waits}");
    }
}

/// How the reports ended: new work orders, duplicates joined to one, forwarded to another body,
/// and the depots that got orders.
async fn outcomes(database_url: &str) -> String {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    let opened = count("SELECT COUNT(*) FROM reports WHERE order_link = 'opened'").await;
    let duplicates = count("SELECT COUNT(*) FROM reports WHERE order_link = 'duplicate'").await;
    let forwarded = count("SELECT COUNT(*) FROM reports WHERE status = 'forwarded'").await;
    let outside = count("SELECT COUNT(*) FROM reports WHERE status = 'outside_area'").await;
    let depots = count("SELECT COUNT(DISTINCT depot) FROM work_orders").await;
    let districts = count("SELECT COUNT(DISTINCT district) FROM reports").await;
    pool.close().await;
    format!(
        "reports: {opened} opened a work order, {duplicates} joined one as duplicates, {forwarded} forwarded, \
         {outside} outside the town; orders for {depots} depots in {districts} districts"
    )
}
