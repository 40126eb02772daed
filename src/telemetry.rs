//! Operational metrics for Prometheus: what the service counts as it works (webhook
//! deliveries, jobs and their run times, retries and dead letters, outbound messages by result
//! and error code, photo cleaning time, classifier confidence) and the queue's state the scrape
//! reads from the database (queue depth and the age of the oldest job per kind).
//!
//! One recorder per process, installed on first use. Labels never carry personal data: no
//! numbers, no texts, only kinds, results and WhatsApp error codes.
//!
//! And the log: `init_logging` writes every field of every line through `text::for_log`, so no
//! text from outside (a path, a provider's error title) can break a line or forge another; as
//! JSON lines (`MELDEWEG_LOG_FORMAT=json`) the encoding does the same.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Logs to standard error at the level `RUST_LOG` asks for (info by default, without the
/// PostgreSQL notices every start's migration check draws, "relation … already exists"): as
/// text, each field value escaped by `for_log`, or with `MELDEWEG_LOG_FORMAT=json` as one JSON
/// object per line with the fields of the span it was written in (the request id among them).
pub fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::field::MakeExt;
    use tracing_subscriber::EnvFilter;

    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    if std::env::var("MELDEWEG_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return;
    }
    let fields = tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let value = meldeweg_workers::text::for_log(&format!("{value:?}"));
        if field.name() == "message" {
            write!(writer, "{value}")
        } else {
            write!(writer, "{field}={value}")
        }
    })
    .delimited(" ");
    tracing_subscriber::fmt()
        .fmt_fields(fields)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

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

/// Time to find faces and plates in one cleaned photo and make its public copy.
pub fn photo_checked(elapsed: Duration) {
    histogram!("meldeweg_photo_check_seconds").record(elapsed.as_secs_f64());
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

/// The queue's state for one kind of job, as sampled at scrape time: jobs waiting or running,
/// dead letters, and how long the oldest due job has waited.
pub fn queue_depth(kind: &'static str, waiting: i64, dead: i64, oldest_age: Duration) {
    gauge!("meldeweg_queue_depth", "kind" => kind).set(waiting as f64);
    gauge!("meldeweg_queue_dead_jobs", "kind" => kind).set(dead as f64);
    gauge!("meldeweg_queue_oldest_job_age_seconds", "kind" => kind).set(oldest_age.as_secs_f64());
}
