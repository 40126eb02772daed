//! End-to-end benchmark: the time from the webhook POST that completes a report (a citizen's
//! location, after their description) to the reply with the reference number arriving at the
//! (fake) Cloud API, at `--rate` reports per second for `--seconds`, against a `meldeweg serve`
//! process. First every citizen sends a description and gets the notice and location request;
//! then the locations are sent at a steady pace and each acknowledgement is timed.
//!
//!     cargo bench --bench end_to_end -- --backend sqlite --rate 100 --seconds 60
//!     cargo bench --bench end_to_end -- --backend postgres --rate 100 --seconds 60

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::{drop_database, fresh_database, percentile_ms, signed_delivery, Options, Server, TEXT};

const LOCATION: &str = r#""type":"location","location":{"latitude":51.5136,"longitude":7.4653,"name":"Grundschule","address":"Parkstraße 3"}"#;

#[tokio::main]
async fn main() {
    let options = Options::parse(60);
    assert!(options.workers_in_process, "the end-to-end benchmark needs the server's workers");
    let dir = tempfile::tempdir().unwrap();
    let graph = support::fake_graph::FakeGraph::start().await;
    let database_url = fresh_database(&options.backend, dir.path()).await;
    let server = Server::start(&database_url, dir.path(), &graph, options.workers_in_process).await;
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/whatsapp", server.base);
    let reports = (options.rate * options.seconds) as usize;
    let citizens: Vec<String> = (0..reports).map(|n| format!("49160{n:08}")).collect();
    println!("backend {}, {} reports at {}/s", options.backend, reports, options.rate);

    // Every citizen describes a problem and is asked for the location.
    let prepared = Instant::now();
    let mut posts = Vec::new();
    for (n, citizen) in citizens.iter().enumerate() {
        let (body, signature) = signed_delivery(citizen, &format!("wamid.e2e.text.{n}"), TEXT);
        posts.push(http.post(&url).header("x-hub-signature-256", signature).body(body).send());
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
    let started = Instant::now();
    for (n, citizen) in citizens.iter().enumerate() {
        ticker.tick().await;
        let (body, signature) = signed_delivery(citizen, &format!("wamid.e2e.location.{n}"), LOCATION);
        sent_at.insert(citizen.clone(), Instant::now());
        let request = http.post(&url).header("x-hub-signature-256", signature).body(body);
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
    server.stop().await;
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
    println!(
        "webhook POST → reference at the Cloud API: p50 {:.1} ms   p90 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 90.0),
        percentile_ms(&latencies, 99.0),
        percentile_ms(&latencies, 100.0)
    );
}
