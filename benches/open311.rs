//! Open311 (issue 24): `POST requests` against a `meldeweg serve` process on a fresh database,
//! one at a time, without a photo and with a 3-megapixel JPEG as the multipart `media` part,
//! beside the same report through the web form (`POST /melden`) in the same run; then
//! `GET requests` over the seeded history of 1,000,000 reports (the search benchmark's database,
//! `benches/support/seeded.rs`) with each filter, up to the spec's 1,000 results, the list read
//! and written as JSON and as XML (`channels::open311::requests::list` and the document), as
//! the endpoint does.
//!
//!     cargo bench --bench open311                     # SQLite
//!     cargo bench --bench open311 -- --backend postgres
//!     MELDEWEG_BENCH_REPORTS=100000 cargo bench --bench open311   # a smaller history for GET

mod support;

use std::time::{Duration, Instant};

use image::{ImageBuffer, Rgb};
use meldeweg::channels::open311::format::{Document, Format};
use meldeweg::channels::open311::{keys, requests};
use meldeweg::db::Db;
use reqwest::multipart::{Form, Part};
use support::fake_graph::FakeGraph;
use support::{drop_database, fresh_database, percentile_ms, Launch, Options, Server};

#[path = "support/seeded.rs"]
mod seeded;

const POSTS: usize = 200;
/// The web form takes 20 reports per client address and hour.
const POSTS_WITH_MEDIA: usize = 20;
const GETS: usize = 40;
/// Lindenweg 4 in the demo gazetteer.
const LAT: &str = "51.970643";
const LONG: &str = "7.610710";

fn main() {
    let options = Options::parse(0);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(posts(&options));
    runtime.block_on(gets());
}

fn line(what: &str, times: &mut [Duration]) {
    times.sort();
    println!(
        "{what:<44} p50 {:>7.1} ms   p99 {:>7.1} ms   ({} requests)",
        percentile_ms(times, 50.0),
        percentile_ms(times, 99.0),
        times.len()
    );
}

/// A 2048 × 1536 photo-like JPEG (gradients and texture, so it compresses as a photo does).
fn three_megapixels() -> Vec<u8> {
    let image = ImageBuffer::from_fn(2048, 1536, |x, y| {
        let noise = ((x * 7919 + y * 104_729) % 61) as u8;
        Rgb([(x / 8) as u8 ^ noise, (y / 6) as u8, ((x + y) / 14) as u8 ^ (noise / 2)])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&image).unwrap();
    bytes
}

async fn posts(options: &Options) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&options.backend, dir.path()).await;
    let graph = FakeGraph::start().await;
    let mut launch: Launch = options.launch();
    launch.env.push(("MELDEWEG_OPEN311_REQUESTS_PER_MINUTE".into(), "10000".into()));
    let server = Server::launch(&url, dir.path(), &graph, launch).await;
    let key = {
        let settings = meldeweg::config::Settings::load_with_env(None, |_| None).unwrap();
        let db = Db::connect(&url, &settings.database).await.unwrap();
        let mut conn = db.pool().acquire().await.unwrap();
        let key = keys::add(&mut conn, "bench", meldeweg::time::now_ms()).await.unwrap();
        drop(conn);
        db.close().await;
        key
    };
    let http = reqwest::Client::new();
    let endpoint = format!("{}/open311/v2/requests.json", server.base);
    println!("POST on {} (one at a time)", options.backend);

    let mut plain = Vec::new();
    for i in 0..POSTS {
        let description = format!("Schlagloch Nummer {i} vor dem Haus");
        let fields = [
            ("api_key", key.as_str()),
            ("service_code", "strassenschaden"),
            ("lat", LAT),
            ("long", LONG),
            ("description", description.as_str()),
        ];
        let started = Instant::now();
        let response = http.post(&endpoint).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
        response.bytes().await.unwrap();
        plain.push(started.elapsed());
    }
    line("POST requests.json, form-encoded", &mut plain);

    let photo = three_megapixels();
    println!("  (media: {} KiB, 2048 x 1536 JPEG)", photo.len() / 1024);
    let mut with_media = Vec::new();
    let mut form_media = Vec::new();
    for i in 0..POSTS_WITH_MEDIA {
        let form = Form::new()
            .text("api_key", key.clone())
            .text("service_code", "strassenschaden")
            .text("lat", LAT)
            .text("long", LONG)
            .text("description", format!("Schlagloch mit Foto {i}"))
            .part("media", Part::bytes(photo.clone()).file_name("loch.jpg").mime_str("image/jpeg").unwrap());
        let started = Instant::now();
        let response = http.post(&endpoint).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
        response.bytes().await.unwrap();
        with_media.push(started.elapsed());

        // The same report through the web form.
        let form = Form::new()
            .text("category", "strassenschaden")
            .text("lat", LAT)
            .text("lon", LONG)
            .text("description", format!("Schlagloch mit Foto, Formular {i}"))
            .part("photo", Part::bytes(photo.clone()).file_name("loch.jpg").mime_str("image/jpeg").unwrap());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let started = Instant::now();
        let response = client.post(format!("{}/melden", server.base)).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());
        form_media.push(started.elapsed());
    }
    line("POST requests.json, multipart with media", &mut with_media);
    line("POST /melden (web form) with the same photo", &mut form_media);
    println!("  server peak memory: {} MiB", server.peak_memory_mib());
    server.stop().await;
    drop_database(&url).await;
}

async fn gets() {
    let seeded::Seeded { db, url, municipality, now, reports } = seeded::seeded("search").await;
    println!(
        "\nGET requests on {} ({reports} reports), list and document, at most {} results",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
        requests::MAX_RESULTS
    );
    let day = 24 * 3_600_000;
    let ids: Vec<String> = sqlx::query_scalar("SELECT reference FROM reports ORDER BY id DESC LIMIT 100 OFFSET 5000")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let cases: Vec<(&str, requests::Query)> = vec![
        ("no filter (the last 90 days)", requests::Query::default()),
        ("status=open", requests::Query { open: Some(true), ..Default::default() }),
        ("status=closed", requests::Query { open: Some(false), ..Default::default() }),
        (
            "service_code=beleuchtung",
            requests::Query {
                category: meldeweg_workers::category::Category::from_id("beleuchtung"),
                ..Default::default()
            },
        ),
        (
            "start_date and end_date (a year ago, 30 days)",
            requests::Query { from: Some(now - 395 * day), to: Some(now - 365 * day), ..Default::default() },
        ),
        ("service_request_id (100 ids)", requests::Query { ids, ..Default::default() }),
    ];
    let mut all = Vec::new();
    for (what, query) in &cases {
        let mut times = Vec::new();
        let mut found = 0;
        for run in 0..GETS {
            let format = if run % 2 == 0 { Format::Json } else { Format::Xml };
            let mut conn = db.pool().acquire().await.unwrap();
            let started = Instant::now();
            let records = requests::list(&mut conn, query, &municipality, "https://x", false, now).await.unwrap();
            found = records.len();
            let response = Document::List { root: "service_requests", item: "request", records }
                .respond(format, axum::http::StatusCode::OK);
            drop(response);
            times.push(started.elapsed());
        }
        all.extend(times.iter().copied());
        line(&format!("{what} → {found}"), &mut times);
    }
    line("all GET requests", &mut all);
}
