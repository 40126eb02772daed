//! Where photos live: the local folder (the default) or an S3-compatible bucket (a real
//! SeaweedFS server, `s3_server`). A photo's files are written before its transaction commits;
//! files no photo row names are deleted by the retention run a day later. `storage migrate`
//! copies the local photos into a bucket and verifies each.

use meldeweg::retention;
use meldeweg::storage::{PhotoStore, Variant};

use crate::cli::run;
use crate::helpers::*;
use crate::s3_server::S3Server;

const DAY_MS: i64 = 86_400_000;

/// A citizen's photo report; returns the photo's token.
async fn report_with_photo(app: &TestApp) -> String {
    let citizen = Citizen::new();
    let photo =
        image(app, "media-storage", fixture_photo("recompressed_nometa.jpg"), Some("Schlagloch vor der Schule"));
    app.send(&citizen, photo).await;
    app.replies(&citizen, 2).await;
    app.send(&citizen, location(51.9607, 7.6261)).await;
    assert!(app.replies(&citizen, 3).await[2].contains("M-20"));
    app.queue_drained().await;
    sqlx::query_scalar("SELECT token FROM photos").fetch_one(app.db.pool()).await.unwrap()
}

/// An orphan: both files of a photo no row names, as a job leaves them that wrote the files and
/// then died before its transaction committed.
async fn put_orphan(store: &PhotoStore) -> String {
    let token = "0123456789abcdef0123456789abcdef".to_string();
    store.put(&token, b"jpeg".to_vec(), b"thumb".to_vec()).await.unwrap();
    token
}

/// Runs retention at `at` and returns how many orphans it deleted.
async fn orphans_deleted_at(app: &TestApp, store: &PhotoStore, at: i64) -> u64 {
    let counts = retention::run(&app.db, store, &app.settings.retention, at, false, "test").await.unwrap();
    counts["orphan_files"]
}

#[tokio::test]
async fn files_of_a_photo_whose_transaction_never_committed_are_deleted_a_day_later() {
    let app = spawn_app().await;
    let kept = report_with_photo(&app).await;
    let store = PhotoStore::local(&app.settings.data_dir.join("photos")).unwrap();
    let orphan = put_orphan(&store).await;
    let now = meldeweg::time::now_ms();
    assert_eq!(orphans_deleted_at(&app, &store, now).await, 0, "a file written just now may still be committed");
    assert!(store.get(&orphan, Variant::Image).await.unwrap().is_some());
    assert_eq!(orphans_deleted_at(&app, &store, now + 2 * DAY_MS).await, 1);
    assert!(store.get(&orphan, Variant::Image).await.unwrap().is_none());
    assert!(store.get(&orphan, Variant::Thumbnail).await.unwrap().is_none());
    assert!(store.get(&kept, Variant::Image).await.unwrap().is_some(), "a photo with its row stays");
}

#[tokio::test]
#[ignore = "needs SeaweedFS (MELDEWEG_TEST_WEED); CI runs it with --ignored s3_"]
async fn s3_photos_live_in_the_bucket_and_storage_migrate_copies_and_verifies_local_ones() {
    // Public copies are shown without a staff approval, so the public page can fetch one.
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    let token = report_with_photo(&app).await;
    let local_dir = app.settings.data_dir.join("photos");
    let local_files = files_under(&local_dir).len();
    assert_eq!(local_files, 4, "image, thumbnail and their public copies");

    let s3 = S3Server::start(&app.dir.path().join("s3")).await;
    let mut env: Vec<(&str, String)> = s3.env("musterstadt");
    env.push(("MELDEWEG_PHOTOS_PUBLISH", "after_detection".to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (ok, _, stderr) = run(&app, &["storage", "migrate"], &[]).await;
    assert!(!ok && stderr.contains("names no bucket"), "{stderr}");
    let (ok, stdout, stderr) = run(&app, &["storage", "migrate"], &env).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("{local_files} files copied and verified, 0 already there")), "{stdout}");
    let (ok, stdout, _) = run(&app, &["storage", "migrate"], &env).await;
    assert!(ok && stdout.contains(&format!("0 files copied and verified, {local_files} already there")), "{stdout}");

    let mut settings = app.settings.storage.clone();
    s3.configure(&mut settings, "musterstadt");
    let bucket = PhotoStore::open(&settings, &app.settings.data_dir).unwrap();
    let local = PhotoStore::local(&local_dir).unwrap();
    for variant in Variant::ALL {
        let copied = bucket.get(&token, variant).await.unwrap().expect("the photo is in the bucket");
        assert_eq!(copied, local.get(&token, variant).await.unwrap().unwrap());
    }

    // A service on the bucket serves the (public copy of the) photo from there, with the local
    // folder gone.
    std::fs::rename(&local_dir, app.dir.path().join("photos-before")).unwrap();
    let served = Served::start(&app, &env).await;
    let response = reqwest::get(format!("{}/photos/{token}", served.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), local_copy(&app, &token).await);
    served.stop().await;
    assert!(!local_dir.exists(), "nothing was written to the local folder");

    // Orphans in the bucket go the same way as on disk.
    let orphan = put_orphan(&bucket).await;
    let now = meldeweg::time::now_ms();
    assert_eq!(orphans_deleted_at(&app, &bucket, now).await, 0);
    assert_eq!(orphans_deleted_at(&app, &bucket, now + 2 * DAY_MS).await, 1);
    assert!(bucket.get(&orphan, Variant::Image).await.unwrap().is_none());
    assert!(bucket.get(&token, Variant::Image).await.unwrap().is_some());
}

async fn local_copy(app: &TestApp, token: &str) -> bytes::Bytes {
    let moved = PhotoStore::local(&app.dir.path().join("photos-before")).unwrap();
    moved.get(token, Variant::PublicImage).await.unwrap().unwrap()
}
