//! Photo storage, local disk against an S3-compatible store: each cleaned photo's two files
//! (image and thumbnail, as the photo stage writes them) written through `PhotoStore`, then
//! the image read back, one photo after another, timed per photo. The S3 store is a real
//! SeaweedFS server on this machine (`weed mini`, the one the tests use; set
//! MELDEWEG_TEST_WEED), so the figures show the cost of the S3 protocol (signing, HTTP, the
//! server's own storage), not of a network.
//!
//!     MELDEWEG_TEST_WEED=~/.cache/meldeweg-ci/seaweedfs/bin/weed cargo bench --bench photo_store -- --photos 500

// The tests' S3 server; the benchmark configures it in-process only (not `env`).
#[allow(dead_code)]
#[path = "../tests/api/s3_server.rs"]
mod s3_server;
#[path = "support/stats.rs"]
mod stats;

use std::time::{Duration, Instant};

use meldeweg::storage::{PhotoStore, Variant};
use s3_server::S3Server;
use stats::percentile_ms;

#[tokio::main]
async fn main() {
    let photos: usize = std::env::args()
        .skip_while(|arg| arg != "--photos")
        .nth(1)
        .map(|n| n.parse().expect("--photos N"))
        .unwrap_or(500);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/photos");
    // A cleaned photo is a JPEG of a few hundred KB; its thumbnail a few KB.
    let image = std::fs::read(format!("{fixtures}/recompressed_nometa.jpg")).unwrap();
    let thumbnail = image[..12_000].to_vec();
    println!("{photos} photos of {} KB + {} KB, one after another", image.len() / 1024, thumbnail.len() / 1024);

    let dir = tempfile::tempdir().unwrap();
    let local = PhotoStore::local(&dir.path().join("photos")).unwrap();
    measure("local disk (data_dir/photos)", &local, photos, &image, &thumbnail).await;

    let s3 = S3Server::start(&dir.path().join("s3")).await;
    let mut settings: meldeweg::config::StorageSettings =
        meldeweg::config::Settings::load_with_env(None, |_| None).unwrap().storage;
    s3.configure(&mut settings, "bench");
    let bucket = PhotoStore::open(&settings, dir.path()).unwrap();
    measure("S3 (SeaweedFS 4.48 on loopback)", &bucket, photos, &image, &thumbnail).await;
}

async fn measure(name: &str, store: &PhotoStore, photos: usize, image: &[u8], thumbnail: &[u8]) {
    let (mut writes, mut reads) = (Vec::with_capacity(photos), Vec::with_capacity(photos));
    for n in 0..photos {
        let token = format!("{:032x}", 0xbe9c_0000_0000_0000_0000_0000_0000_0000u128 + n as u128);
        let started = Instant::now();
        store.put(&token, image.to_vec(), thumbnail.to_vec()).await.unwrap();
        writes.push(started.elapsed());
        let started = Instant::now();
        let read = store.get(&token, Variant::Image).await.unwrap().expect("written above");
        reads.push(started.elapsed());
        assert_eq!(read.len(), image.len());
    }
    print(name, "write (image + thumbnail)", &mut writes);
    print(name, "read (image)", &mut reads);
}

fn print(name: &str, what: &str, latencies: &mut [Duration]) {
    latencies.sort_unstable();
    println!(
        "{name:<34} {what:<26} p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
        percentile_ms(latencies, 50.0),
        percentile_ms(latencies, 99.0),
        percentile_ms(latencies, 100.0)
    );
}
