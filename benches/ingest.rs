//! Ingest benchmark: signed webhook deliveries (one text message each, every one from another
//! citizen) POSTed over loopback by `--connections` concurrent clients for `--seconds`, against
//! a `meldeweg serve` process (its workers busy with the conversations meanwhile). Prints
//! deliveries/s and latency percentiles, and, in the same run, two references: the same server
//! answering `/healthz` (the HTTP ceiling), and what a straightforward webhook handler gets from
//! the same database: a delivery's two INSERTs in one transaction per request, from as many
//! clients.
//!
//! With `--workers off` the server only stores (as when `meldeweg worker` processes run on
//! other machines), which shows what ingest alone costs.
//!
//! Only answers 200 count as throughput (anything else is an error, printed); afterwards every
//! delivery that was answered 200 must be in the database, or the run fails.
//!
//! With `--instances N` (PostgreSQL) the deliveries go round-robin to N `meldeweg serve`
//! processes on the one database.
//!
//!     cargo bench --bench ingest -- --backend sqlite --seconds 20
//!     cargo bench --bench ingest -- --backend postgres --seconds 20 [--workers off] [--instances 2]

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::deliveries::signed_delivery;
use support::{drop_database, fresh_database, percentile_ms, Options, ENCRYPTION_KEY};

/// Every delivery: one text message.
const TEXT: &str = r#""type":"text","text":{"body":"Tiefes Schlagloch vor der Grundschule, bitte schnell reparieren"}"#;

struct Run {
    label: &'static str,
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: u64,
}

impl Run {
    fn print(&self) {
        println!(
            "{:<34} {:>9.0}/s   p50 {:>6.2} ms   p90 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   errors {}",
            self.label,
            self.count as f64 / self.elapsed.as_secs_f64(),
            percentile_ms(&self.latencies, 50.0),
            percentile_ms(&self.latencies, 90.0),
            percentile_ms(&self.latencies, 99.0),
            percentile_ms(&self.latencies, 100.0),
            self.errors,
        );
    }
}

/// Runs `connections` loops of `request` for `seconds` (after a short warm-up).
async fn load<F, Fut>(label: &'static str, connections: usize, seconds: u64, request: F) -> Run
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let counter = Arc::new(AtomicU64::new(0));
    let warm_up = Duration::from_secs(2);
    let start = Instant::now();
    let measure_from = start + warm_up;
    let end = measure_from + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                if sent >= end {
                    return (latencies, errors);
                }
                let ok = request(n).await;
                if sent >= measure_from {
                    if ok {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Run { label, count: latencies.len(), elapsed: Duration::from_secs(seconds), latencies, errors }
}

fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap()
}

#[tokio::main]
async fn main() {
    let options = Options::parse(20);
    let dir = tempfile::tempdir().unwrap();
    let graph = support::fake_graph::FakeGraph::start().await;
    let database_url = fresh_database(&options.backend, dir.path()).await;
    let servers = support::launch_instances(&options, &database_url, dir.path(), &graph).await;
    println!(
        "backend {}, {} instances, workers {}, {} connections, {} s per run, {} cores",
        options.backend,
        servers.len(),
        if options.workers_in_process { "in process" } else { "off" },
        options.connections,
        options.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );

    let http = client(options.connections);
    let urls: Vec<String> = servers.iter().map(|server| format!("{}/webhooks/whatsapp", server.base)).collect();
    let run_id = std::process::id();
    let message_id = move |n: u64| format!("wamid.bench.{run_id}.{n}");
    // Every delivery answered 200, warm-up included: each must be stored.
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let answered = accepted.clone();
    let ingest = load("meldeweg webhook ingest", options.connections, options.seconds, move |n| {
        let (body, signature) = signed_delivery(&format!("49151{:08}", n), &message_id(n), TEXT);
        let request = http
            .post(&urls[n as usize % urls.len()])
            .header("x-hub-signature-256", signature)
            .header("content-type", "application/json")
            .body(body);
        let answered = answered.clone();
        async move {
            let ok = matches!(request.send().await, Ok(r) if r.status() == reqwest::StatusCode::OK);
            if ok {
                answered.lock().unwrap().push(n);
            }
            ok
        }
    })
    .await;

    let http = client(options.connections);
    let url = format!("{}/healthz", servers[0].base);
    let healthz = load("same server, GET /healthz", options.connections, options.seconds, move |_| {
        let request = http.get(&url);
        async move { matches!(request.send().await, Ok(r) if r.status().is_success()) }
    })
    .await;
    for server in servers {
        println!("server peak memory (VmHWM): {} MiB", server.peak_memory_mib());
        server.stop().await;
    }

    let database = database_floor(&options, &database_url).await;
    ingest.print();
    healthz.print();
    database.print();

    let accepted = std::mem::take(&mut *accepted.lock().unwrap());
    let (stored, jobs) = stored_events(&database_url).await;
    let vault = meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap();
    let missing = accepted.iter().filter(|&&n| !stored.contains(&vault.message_id_hash(&message_id(n)))).count();
    println!(
        "deliveries answered 200: {} (warm-up included); stored inbound events: {}; missing: {missing}; intake jobs waiting: {jobs}",
        accepted.len(),
        stored.len()
    );
    drop_database(&database_url).await;
    if missing > 0 || ingest.errors > 0 {
        eprintln!(
            "FAILED: {missing} accepted deliveries are not stored, {} requests were not answered 200",
            ingest.errors
        );
        std::process::exit(1);
    }
}

/// The database alone doing an ingest's writes: insert the event, insert its job, commit.
async fn database_floor(options: &Options, database_url: &str) -> Run {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(if options.backend == "sqlite" { 1 } else { options.connections as u32 })
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                if conn.backend_name() == "SQLite" {
                    // The same settings as the service: WAL, no fsync per commit.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect(database_url)
        .await
        .unwrap();
    let payload = vec![7u8; 400];
    load("one transaction per webhook", options.connections, options.seconds, move |n| {
        let pool = pool.clone();
        let payload = payload.clone();
        async move {
            let work = async {
                let mut tx = pool.begin().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO inbound_events (channel, provider_id, kind, payload_enc, received_at)
                     VALUES ('floor', $1, 'text', $2, 0) RETURNING id",
                )
                .bind(format!("floor.{n}"))
                .bind(payload)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, dead_at) VALUES ('intake', $1, 0, 1, 0, 0)")
                    .bind(format!("{{\"event_id\":{id}}}"))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            };
            work.await.is_ok()
        }
    })
    .await
}

/// The provider ids (keyed hashes of the message ids) of the stored messages, and the jobs left.
async fn stored_events(database_url: &str) -> (HashSet<String>, i64) {
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT provider_id FROM inbound_events WHERE channel = 'whatsapp'")
        .fetch_all(&pool)
        .await
        .unwrap();
    let jobs = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dead_at IS NULL").fetch_one(&pool).await.unwrap();
    (stored.into_iter().collect(), jobs)
}
