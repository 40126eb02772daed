//! What the load benchmarks share: the fake Graph API from the tests, a `meldeweg serve`
//! process (the release binary) against a fresh database, signed deliveries, and percentiles.
//! `database` and `stats` stand alone, so benchmarks without a server include just those.

pub mod database;
/// Signed WhatsApp deliveries: the load benchmarks send them, the Open311 one does not.
#[allow(dead_code)]
pub mod deliveries;
#[allow(dead_code)]
#[path = "../../tests/api/fake_graph.rs"]
pub mod fake_graph;
pub mod stats;
/// Sampling PostgreSQL's busy sessions: only the benchmarks that look at the database use it.
#[allow(dead_code)]
pub mod waits;

pub use database::{drop_database, fresh_database};
pub use stats::percentile_ms;

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_graph::{FakeGraph, ACCESS_TOKEN, API_VERSION, PHONE_NUMBER_ID};

pub const APP_SECRET: &str = "bench-app-secret";
pub const ENCRYPTION_KEY: &str = "6d656c64657765676d656c64657765676d656c64657765676d656c6465776567";

/// Command-line options after `cargo bench --bench NAME --`.
pub struct Options {
    /// `sqlite`, or `postgres` (uses MELDEWEG_BENCH_DATABASE_URL, default the local server).
    pub backend: String,
    pub seconds: u64,
    pub connections: usize,
    pub rate: u64,
    /// Whether the server's own workers run the conversations during the load (`in-process`)
    /// or the queue only fills (`off`, as when `meldeweg worker` runs on another machine).
    pub workers_in_process: bool,
    /// `hostile_load`: which attack (`slow`, `upload`) and how many sockets of each kind.
    pub attack: String,
    pub sockets: usize,
    /// Another build of `meldeweg` to run instead of this one (a before/after comparison).
    pub binary: Option<std::path::PathBuf>,
    /// `meldeweg serve` processes on the one database (more than one: PostgreSQL only).
    pub instances: usize,
}

impl Options {
    pub fn parse(default_seconds: u64) -> Self {
        let mut options = Options {
            backend: "sqlite".into(),
            seconds: default_seconds,
            connections: 32,
            rate: 100,
            workers_in_process: true,
            attack: "slow".into(),
            sockets: 2000,
            binary: None,
            instances: 1,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = args.get(i + 1).cloned().unwrap_or_default();
            match args[i].as_str() {
                "--backend" => options.backend = value,
                "--seconds" => options.seconds = value.parse().expect("--seconds N"),
                "--connections" => options.connections = value.parse().expect("--connections N"),
                "--rate" => options.rate = value.parse().expect("--rate N"),
                "--attack" => options.attack = value,
                "--sockets" => options.sockets = value.parse().expect("--sockets N"),
                "--binary" => options.binary = Some(value.into()),
                "--instances" => options.instances = value.parse().expect("--instances N"),
                "--workers" => {
                    options.workers_in_process = match value.as_str() {
                        "in-process" => true,
                        "off" => false,
                        other => panic!("--workers in-process|off, not {other:?}"),
                    }
                }
                _ => {
                    i += 1; // `--bench` and other flags cargo passes
                    continue;
                }
            }
            i += 2;
        }
        options
    }

    /// How to start the server for these options.
    pub fn launch(&self) -> Launch {
        let mut launch = Launch { workers_in_process: self.workers_in_process, ..Launch::default() };
        if let Some(binary) = &self.binary {
            launch.binary = binary.clone();
        }
        launch
    }
}

pub struct Server {
    pub base: String,
    child: tokio::process::Child,
}

/// `options.instances` servers on one database, started one after another (the first
/// migrates); several only on PostgreSQL, where instances share the database. Only the
/// benchmarks that take `--instances` use it.
#[allow(dead_code)]
pub async fn launch_instances(
    options: &Options,
    database_url: &str,
    dir: &std::path::Path,
    graph: &FakeGraph,
) -> Vec<Server> {
    assert!(
        options.instances == 1 || options.backend == "postgres",
        "several instances share one PostgreSQL database (--backend postgres)"
    );
    let mut servers = Vec::with_capacity(options.instances);
    for _ in 0..options.instances.max(1) {
        servers.push(Server::launch(database_url, dir, graph, options.launch()).await);
    }
    servers
}

/// How to start a server: which binary (another build, for a before/after comparison), the
/// open-files soft limit it starts with, extra environment.
pub struct Launch {
    pub binary: std::path::PathBuf,
    pub workers_in_process: bool,
    pub open_files: Option<u64>,
    pub env: Vec<(String, String)>,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            binary: env!("CARGO_BIN_EXE_meldeweg").into(),
            workers_in_process: true,
            open_files: None,
            env: Vec::new(),
        }
    }
}

impl Server {
    /// Starts `meldeweg serve` in cloud mode against `graph` as `launch` says, and waits until
    /// it is ready.
    pub async fn launch(database_url: &str, dir: &std::path::Path, graph: &FakeGraph, launch: Launch) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = tokio::process::Command::new(&launch.binary);
        if let Some(limit) = launch.open_files {
            // SAFETY: setrlimit between fork and exec touches only the child's own limits.
            unsafe {
                command.pre_exec(move || {
                    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                    libc::getrlimit(libc::RLIMIT_NOFILE, &mut current);
                    let lowered = libc::rlimit { rlim_cur: limit, rlim_max: current.rlim_max };
                    libc::setrlimit(libc::RLIMIT_NOFILE, &lowered);
                    Ok(())
                });
            }
        }
        let child = command
            .arg("serve")
            .env("MELDEWEG_LISTEN", format!("127.0.0.1:{port}"))
            .env("MELDEWEG_DATA_DIR", dir)
            .env("MELDEWEG_DATABASE_URL", database_url)
            .env("MELDEWEG_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("MELDEWEG_WHATSAPP_MODE", "cloud")
            .env("MELDEWEG_PUBLIC_URL", "https://maengel.musterstadt.test")
            .env("MELDEWEG_WHATSAPP_API_BASE_URL", &graph.url)
            .env("MELDEWEG_WHATSAPP_API_VERSION", API_VERSION)
            .env("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
            .env("MELDEWEG_WHATSAPP_APP_SECRET", APP_SECRET)
            .env("MELDEWEG_WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
            .env("MELDEWEG_WHATSAPP_VERIFY_TOKEN", "bench")
            .env("MELDEWEG_QUEUE_IN_PROCESS", launch.workers_in_process.to_string())
            .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start meldeweg");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{base}/readyz")).await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "meldeweg did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { base, child }
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_memory_mib(&self) -> u64 {
        let pid = self.child.id().expect("the server runs");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib: u64 = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        kib / 1024
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on our own child with SIGTERM has no memory effects.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}
