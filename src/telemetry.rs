//! Operational metrics for Prometheus: what the service counts as it works (webhook
//! deliveries, jobs and their run times, retries and dead letters, outbound messages by result
//! and error code, photo cleaning time, classifier confidence) and what it reads from the
//! database when scraped (queue depth and the age of the oldest job per kind).
//!
//! One recorder per process, installed on first use. Labels never carry personal data: no
//! numbers, no texts, only kinds, results and WhatsApp error codes.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::Row;

use crate::db::Db;
use crate::queue::JobKind;

/// Buckets for run times, from a millisecond to a minute.
const SECONDS_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];
/// Buckets for the classifier's confidence (0 to 1).
const CONFIDENCE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// The process's recorder, installed the first time it is asked for (only when metrics are
/// configured; without a recorder the counting calls do nothing).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(CONFIDENCE.into()), &CONFIDENCE_BUCKETS))
                .expect("the bucket lists are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

const CONFIDENCE: &str = "meldeweg_classifier_confidence";

/// A webhook delivery and how it ended: ok, unauthorized, malformed, unavailable.
pub fn webhook_delivery(result: &'static str) {
    counter!("meldeweg_webhook_deliveries_total", "result" => result).increment(1);
}

/// A job run and how it ended: done, retry, dead (out of attempts or cannot succeed).
pub fn job_finished(kind: &'static str, outcome: &'static str, elapsed: Duration) {
    counter!("meldeweg_jobs_total", "kind" => kind, "outcome" => outcome).increment(1);
    histogram!("meldeweg_job_duration_seconds", "kind" => kind).record(elapsed.as_secs_f64());
}

/// An outbound message's fate: sent, failed, undeliverable, suppressed, retry; with
/// WhatsApp's error code when there was one.
pub fn outbound(result: &'static str, code: Option<i64>) {
    let code = code.map(|c| c.to_string()).unwrap_or_default();
    counter!("meldeweg_outbound_messages_total", "result" => result, "code" => code).increment(1);
}

pub fn photo_cleaned(elapsed: Duration) {
    histogram!("meldeweg_photo_clean_seconds").record(elapsed.as_secs_f64());
}

/// The confidence of a classification the classifier made (not the citizen's own choice).
pub fn classified(confidence: f64) {
    histogram!(CONFIDENCE).record(confidence);
}

/// Drains histogram samples into their buckets every few seconds, so memory stays flat when
/// nobody scrapes; stops with `shutdown`.
pub fn spawn_upkeep(shutdown: tokio_util::sync::CancellationToken) {
    let handle = handle();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
            }
        }
    });
}

/// Reads queue depth, the age of the oldest job that is due (waiting past its run time, so
/// jobs in backoff do not count) and dead letters per kind into gauges.
pub async fn sample_queue(db: &Db, now_ms: i64) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) - COUNT(dead_at) AS waiting, COUNT(dead_at) AS dead,
                MIN(CASE WHEN dead_at IS NULL AND run_at <= $1 THEN run_at END) AS oldest
         FROM jobs GROUP BY kind",
    )
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    for kind in JobKind::ALL {
        let row = rows.iter().find(|row| row.try_get::<String, _>("kind").is_ok_and(|k| k == kind.as_str()));
        let (waiting, dead, oldest) = match row {
            Some(row) => (row.try_get("waiting")?, row.try_get("dead")?, row.try_get::<Option<i64>, _>("oldest")?),
            None => (0i64, 0i64, None),
        };
        let age = oldest.map(|at| (now_ms - at).max(0) as f64 / 1000.0).unwrap_or(0.0);
        gauge!("meldeweg_queue_depth", "kind" => kind.as_str()).set(waiting as f64);
        gauge!("meldeweg_queue_dead_jobs", "kind" => kind.as_str()).set(dead as f64);
        gauge!("meldeweg_queue_oldest_job_age_seconds", "kind" => kind.as_str()).set(age);
    }
    Ok(())
}
