//! /metrics: Prometheus text that a parser accepts, protected by its token on the main
//! address (or served on an address of its own), whose counters move when work happens.

use std::collections::HashMap;

use crate::helpers::*;

/// Parses Prometheus text format: every non-comment line is `name{labels} value`; returns the
/// value of each series (name with labels) and checks every series has a TYPE line.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut types = HashMap::new();
    let mut series = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = key.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
        if let Some(labels) = key.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(types.contains_key(name) || types.contains_key(family), "no TYPE for {line}");
        series.insert(key.to_string(), value);
    }
    series
}

fn sum(series: &HashMap<String, f64>, prefix: &str) -> f64 {
    series.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum()
}

#[tokio::test]
async fn metrics_need_their_token_parse_as_prometheus_text_and_move_when_work_happens() {
    let app = spawn_app_with(|s| s.metrics.token = "scrape-me".to_string().into()).await;
    assert_eq!(app.http.get(app.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = app.http.get(app.url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let scrape = || async {
        let response = app.http.get(app.url("/metrics")).bearer_auth("scrape-me").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        parse(&response.text().await.unwrap())
    };
    let before = scrape().await;
    assert!(before.contains_key("meldeweg_queue_depth{kind=\"intake\"}"));

    let citizen = Citizen::new();
    app.send(&citizen, text("Schlagloch auf der Fahrbahn")).await;
    app.send(&citizen, location(51.975, 7.645)).await;
    app.replies(&citizen, 3).await;
    app.queue_drained().await;
    let bad = app.post_webhook_bytes(b"{}".to_vec(), Some("sha256=00".into())).await;
    assert_eq!(bad.status(), 401);

    let after = scrape().await;
    // Other tests in this process count too: the figures only ever grow by at least ours.
    let grew = |prefix: &str, by: f64| {
        let (b, a) = (sum(&before, prefix), sum(&after, prefix));
        assert!(a - b >= by, "{prefix}: {b} -> {a}");
    };
    grew("meldeweg_webhook_deliveries_total{result=\"ok\"}", 2.0);
    grew("meldeweg_webhook_deliveries_total{result=\"unauthorized\"}", 1.0);
    grew("meldeweg_jobs_total{kind=\"intake\",outcome=\"done\"}", 2.0);
    grew("meldeweg_jobs_total{kind=\"triage\",outcome=\"done\"}", 1.0);
    grew("meldeweg_job_duration_seconds_count{kind=\"notify\"}", 1.0);
    grew("meldeweg_outbound_messages_total{result=\"sent\"", 3.0);
    grew("meldeweg_classifier_confidence_count", 1.0);
    assert!(after.contains_key("meldeweg_queue_oldest_job_age_seconds{kind=\"triage\"}"));
    assert!(after.keys().any(|k| k.starts_with("meldeweg_job_duration_seconds_bucket{kind=\"intake\",le=")));
}

#[tokio::test]
async fn without_a_token_metrics_are_off_on_the_main_address_and_a_separate_address_serves_them() {
    let app = spawn_app().await;
    let off = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(off.status(), 404);
    assert!(off.text().await.unwrap().contains("MELDEWEG_METRICS_TOKEN"));

    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path(), &fresh_database(dir.path()).await, &app.graph.url);
    settings.metrics.listen = "127.0.0.1:0".into();
    let separate = meldeweg::startup::Application::build(settings).await.unwrap();
    let main = format!("http://{}", separate.local_addr());
    let metrics = format!("http://{}/metrics", separate.metrics_addr().unwrap());
    let shutdown = separate.shutdown_token();
    tokio::spawn(separate.run_until_stopped());
    let scraped = app.http.get(&metrics).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    parse(&scraped.text().await.unwrap());
    assert_eq!(app.http.get(format!("{main}/metrics")).send().await.unwrap().status(), 404, "not on the main address");
    shutdown.cancel();
}
