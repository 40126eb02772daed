//! Hostile-load benchmark: what a `meldeweg serve` process does under two attacks from loopback,
//! while a well-behaved client keeps using it. Bounded in count and time; 127.0.0.1 only (the
//! attackers' sockets are bound to addresses of 127/8, spread so that no address holds more than
//! the default per-address cap).
//!
//! 1. `slow`: `--sockets` connections (default 2,000) that send a request head one byte a
//!    second, plus as many idle keep-alive connections (one request answered, then silence),
//!    while the webhook client POSTs signed deliveries at 50/s, each on a new connection. Prints how many attack sockets
//!    the server closed and when, the webhook's latency and errors, and the server's peak
//!    memory (VmHWM).
//! 2. `upload`: 50 addresses each send 16 MiB form uploads (a real photo padded to 16 MiB) two at
//!    a time to `/melden`, while citizens send photos on WhatsApp, two a second; a photo's time is
//!    from its webhook POST to the reply at the fake Cloud API. The same photos are first timed
//!    without the flood. Prints answers by status, photo p50/p99 without and with the flood, and
//!    the peak memory.
//!
//! The server starts with an open-files soft limit of 1,024, the usual default (the hard limit
//! stays as it is). `--binary PATH` runs another build of `meldeweg` (e.g. an earlier commit's,
//! for a before/after comparison) under the same load.
//!
//!     cargo bench --bench hostile_load -- --attack slow --seconds 40
//!     cargo bench --bench hostile_load -- --attack upload --seconds 30
//!     cargo bench --bench hostile_load -- --attack slow --binary /tmp/before/target/release/meldeweg

mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::deliveries::signed_delivery;
use support::fake_graph::FakeGraph;
use support::{drop_database, fresh_database, percentile_ms, Launch, Options, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Attack sockets per source address (below the default cap of 64 per address).
const PER_ADDRESS: usize = 40;
/// A place inside the demo town, for the form.
const IN_TOWN: (f64, f64) = (51.975, 7.645);
const UPLOAD_BYTES: usize = 16 * 1024 * 1024 - 64 * 1024;

#[tokio::main]
async fn main() {
    raise_own_open_files();
    let options = Options::parse(40);
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database("sqlite", dir.path()).await;
    let graph = FakeGraph::start().await;
    let launch = Launch { open_files: Some(1024), ..options.launch() };
    println!("binary {}, attack {}, {} s", launch.binary.display(), options.attack, options.seconds);
    let server = Server::launch(&database_url, dir.path(), &graph, launch).await;
    match options.attack.as_str() {
        "slow" => slow(&server, &options).await,
        "upload" => upload(&server, &graph, &options).await,
        other => panic!("--attack slow|upload, not {other:?}"),
    }
    println!("server peak memory (VmHWM): {} MiB", server.peak_memory_mib());
    server.stop().await;
    drop_database(&database_url).await;
}

fn raise_own_open_files() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

/// The `n`th attacker address: 127.1.x.y, `PER_ADDRESS` sockets each.
fn attacker(n: usize) -> IpAddr {
    let address = n / PER_ADDRESS;
    IpAddr::V4(Ipv4Addr::new(127, 1, (address / 250) as u8, (address % 250 + 1) as u8))
}

async fn connect(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// When each attack socket saw the server close it (seconds after the attack began).
#[derive(Default)]
struct Closes {
    slow: Vec<f64>,
    idle: Vec<f64>,
    refused: u64,
}

async fn slow(server: &Server, options: &Options) {
    let to: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let started = Instant::now();
    let end = started + Duration::from_secs(options.seconds);
    let closes = Arc::new(Mutex::new(Closes::default()));
    let mut attackers = Vec::new();
    for n in 0..options.sockets * 2 {
        let closes = closes.clone();
        let idle = n % 2 == 1;
        attackers.push(tokio::spawn(async move {
            let Ok(mut stream) = connect(attacker(n), to).await else {
                closes.lock().unwrap().refused += 1;
                return;
            };
            let closed = if idle { idle_socket(&mut stream, end).await } else { slow_socket(&mut stream, end).await };
            if closed {
                let at = started.elapsed().as_secs_f64();
                let mut closes = closes.lock().unwrap();
                if idle {
                    closes.idle.push(at);
                } else {
                    closes.slow.push(at);
                }
            }
        }));
    }
    let mut webhook = webhook_client(server, end).await;
    for attacker in attackers {
        let _ = attacker.await;
    }
    let closes = closes.lock().unwrap();
    let report = |what: &str, times: &[f64]| {
        let latest = times.iter().copied().fold(0.0, f64::max);
        println!(
            "{what:<34} {} of {} closed by the server, the last after {latest:.1} s",
            times.len(),
            options.sockets
        );
    };
    report("slow heads (1 byte/s)", &closes.slow);
    report("idle keep-alive connections", &closes.idle);
    println!("{:<34} {}", "attack connections not accepted", closes.refused);
    webhook.print("webhook client, 50/s");
}

/// Sends a head a byte a second until the server closes (true) or the attack ends (false).
async fn slow_socket(stream: &mut TcpStream, end: Instant) -> bool {
    if stream.write_all(b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.is_err() {
        return true;
    }
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        if stream.write_all(b"a").await.is_err() {
            return true;
        }
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            return true;
        }
    }
    false
}

/// Asks once with keep-alive, then stays silent until the server closes (true) or the attack
/// ends (false).
async fn idle_socket(stream: &mut TcpStream, end: Instant) -> bool {
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.is_err() {
        return true;
    }
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Latencies and failures of one client's requests (and, for photos, how many got no reply).
struct Timed {
    latencies: Vec<Duration>,
    errors: u64,
    unanswered: u64,
}

impl Timed {
    fn print(&mut self, label: &str) {
        self.latencies.sort();
        println!(
            "{label:<34} {:>6} answered   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>8.2} ms   errors {}   unanswered {}",
            self.latencies.len(),
            percentile_ms(&self.latencies, 50.0),
            percentile_ms(&self.latencies, 99.0),
            percentile_ms(&self.latencies, 100.0),
            self.errors,
            self.unanswered,
        );
    }
}

/// Signed deliveries at 50/s until `end`, each from a new citizen and on a new connection (so
/// each also shows that the server still takes connections).
async fn webhook_client(server: &Server, end: Instant) -> Timed {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0).build().unwrap();
    let url = format!("{}/webhooks/whatsapp", server.base);
    let mut timed = Timed { latencies: Vec::new(), errors: 0, unanswered: 0 };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut n = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        n += 1;
        let (body, signature) = signed_delivery(
            &format!("4917{n:09}"),
            &format!("wamid.slow{n}"),
            r#""type":"text","text":{"body":"Schlagloch"}"#,
        );
        let sent = Instant::now();
        let answer =
            http.post(&url).header("content-type", "application/json").header("x-hub-signature-256", signature);
        match answer.body(body).send().await {
            Ok(response) if response.status() == 200 => timed.latencies.push(sent.elapsed()),
            _ => timed.errors += 1,
        }
    }
    timed
}

async fn upload(server: &Server, graph: &FakeGraph, options: &Options) {
    let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/photos/phone_o6_gps.jpg")).unwrap();
    let mut padded = photo.clone();
    padded.resize(UPLOAD_BYTES, 0);
    let padded = bytes::Bytes::from(padded);
    let phase = Duration::from_secs(options.seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let mut quiet = whatsapp_photos(server, graph, &photo, Instant::now() + phase / 2, counter.clone()).await;
    quiet.print("WhatsApp photos, no flood");
    println!("{:<34} {} MiB", "server peak memory before the flood", server.peak_memory_mib());

    let end = Instant::now() + phase;
    let statuses = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let mut flood = Vec::new();
    for address in 0..50 {
        for _ in 0..2 {
            let (base, padded, statuses) = (server.base.clone(), padded.clone(), statuses.clone());
            flood.push(tokio::spawn(async move {
                let from = IpAddr::V4(Ipv4Addr::new(127, 2, 0, address + 1));
                let http = reqwest::Client::builder()
                    .local_address(from)
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(60))
                    .build();
                let http = http.unwrap();
                while Instant::now() < end {
                    let part = reqwest::multipart::Part::stream(padded.clone()).file_name("foto.jpg");
                    let form = reqwest::multipart::Form::new()
                        .text("description", "Schlagloch")
                        .text("lat", IN_TOWN.0.to_string())
                        .text("lon", IN_TOWN.1.to_string())
                        .part("photo", part);
                    let sent = http.post(format!("{base}/melden")).multipart(form).send().await;
                    let status = match sent {
                        Ok(response) => response.status().as_u16().to_string(),
                        Err(_) => "error".to_string(),
                    };
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                }
            }));
        }
    }
    let mut flooded = whatsapp_photos(server, graph, &photo, end, counter).await;
    for uploader in flood {
        let _ = uploader.await;
    }
    flooded.print("WhatsApp photos, during the flood");
    println!("{:<34} {:?}", "form uploads by answer", statuses.lock().unwrap());
}

/// A citizen's photo every 500 ms until `end`, each timed from its POST to its first reply at
/// the Cloud API (sent once the photo is cleaned), watched while the photos go out.
async fn whatsapp_photos(server: &Server, graph: &FakeGraph, photo: &[u8], end: Instant, n: Arc<AtomicU64>) -> Timed {
    use base64::Engine;
    use sha2::Digest;
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/whatsapp", server.base);
    let sha256 = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(photo));
    let timed = Mutex::new(Timed { latencies: Vec::new(), errors: 0, unanswered: 0 });
    let waiting = Mutex::new(Vec::<(String, Instant)>::new());
    let sending = async {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        while Instant::now() < end {
            tick.tick().await;
            let n = n.fetch_add(1, Ordering::Relaxed);
            let (from, media) = (format!("4916{n:09}"), format!("media-{n}"));
            graph.add_media(&media, photo.to_vec());
            let content =
                format!(r#""type":"image","image":{{"id":"{media}","mime_type":"image/jpeg","sha256":"{sha256}"}}"#);
            let (body, signature) = signed_delivery(&from, &format!("wamid.photo{n}"), &content);
            let sent = Instant::now();
            let posted = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await;
            match posted {
                Ok(response) if response.status() == 200 => waiting.lock().unwrap().push((from, sent)),
                _ => timed.lock().unwrap().errors += 1,
            }
        }
    };
    let watching = async {
        let deadline = end + Duration::from_secs(60);
        loop {
            let done_sending = Instant::now() >= end;
            waiting.lock().unwrap().retain(|(from, sent)| {
                if graph.delivered_to(from).is_empty() {
                    return true;
                }
                timed.lock().unwrap().latencies.push(sent.elapsed());
                false
            });
            if (done_sending && waiting.lock().unwrap().is_empty()) || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::join!(sending, watching);
    let mut timed = timed.into_inner().unwrap();
    timed.unanswered = waiting.into_inner().unwrap().len() as u64;
    timed
}
