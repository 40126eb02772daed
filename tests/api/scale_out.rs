//! Several instances on one PostgreSQL and one bucket (docs/operations.md, "Several instances"):
//! two `meldeweg serve` processes take a burst of WhatsApp photo reports, one is killed
//! (SIGKILL) in the middle, and nothing is lost or done twice: every message the instances
//! acknowledged became exactly one report with its photo and one reference reply, and each
//! scheduled job ran once across both. Needs PostgreSQL and SeaweedFS: CI runs it in its
//! PostgreSQL round with `--ignored scale_out_`.

use meldeweg::storage::{PhotoStore, Variant};

use crate::helpers::*;
use crate::s3_server::S3Server;

const CITIZENS: usize = 16;
const SCHEDULES: [&str; 3] = ["photo_recheck", "retention", "statistics"];

#[tokio::test]
#[ignore = "needs PostgreSQL and SeaweedFS; CI runs it with --ignored scale_out_"]
async fn scale_out_two_instances_lose_nothing_and_do_nothing_twice_when_one_is_killed() {
    // The test's own service only reads: the two processes do all the work.
    let app = spawn_app_with(|s| s.queue.in_process = false).await;
    assert!(app.database_url.starts_with("postgres"), "several instances need PostgreSQL (MELDEWEG_TEST_DATABASE_URL)");
    let s3 = S3Server::start(&app.dir.path().join("s3")).await;
    let mut env = s3.env("stadt");
    for (key, value) in [
        // One turn of each schedule in the test's time: the first comes within a minute of the
        // start, the next an hour (or five minutes) later.
        ("MELDEWEG_PHOTOS_RECHECK_SECONDS", "3600"),
        ("MELDEWEG_RETENTION_RUN_EVERY_HOURS", "1"),
        // As in the tests' own service: small pictures for the detectors in a debug build.
        ("MELDEWEG_PHOTOS_FACE_SIDE", "512"),
        ("MELDEWEG_PHOTOS_PLATE_SIDE", "512"),
    ] {
        env.push((key, value.to_string()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (first, second) = tokio::join!(Served::start(&app, &env), Served::start(&app, &env));
    let mut first = Some(first);

    let citizens: Vec<Citizen> = (0..CITIZENS).map(|_| Citizen::new()).collect();
    let photo = fixture_photo("recompressed_nometa.jpg");
    let mut acknowledged_by_first = 0;
    for (i, citizen) in citizens.iter().enumerate() {
        if i == CITIZENS / 2 {
            // Mid-burst, with photos of its own still being cleaned.
            first.take().expect("running").kill().await;
        }
        let content = image(&app, &format!("media-burst-{i}"), photo.clone(), Some("Schlagloch vor der Schule"));
        let delivery = delivery(vec![citizen.contact()], vec![citizen.message(content)], vec![]);
        let took_it = match (&first, i % 2) {
            (Some(first), 0) => first.try_deliver(&delivery).await,
            _ => false,
        };
        acknowledged_by_first += usize::from(took_it);
        if !took_it {
            // What was not acknowledged, Meta delivers again: here, to the other instance.
            second.deliver(&delivery).await;
        }
    }
    assert_eq!(acknowledged_by_first, CITIZENS / 4, "the killed instance took its share of the burst");

    for citizen in &citizens {
        app.replies(citizen, 2).await;
        second.send(citizen, location(51.9607, 7.6261)).await;
    }
    for citizen in &citizens {
        let replies = app.replies(citizen, 3).await;
        assert!(replies[2].contains("M-20"), "{replies:?}");
    }
    app.queue_drained().await;

    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, CITIZENS as i64, "one report per citizen");
    // All at one spot: one order, whichever instance triaged which report.
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 1, "one order for one pothole");
    let with_one_photo =
        "SELECT COUNT(*) FROM reports r WHERE (SELECT COUNT(*) FROM photos p WHERE p.report_id = r.id) = 1";
    assert_eq!(app.count(with_one_photo).await, CITIZENS as i64, "each report has its photo, once");
    for citizen in &citizens {
        let sent = app.graph.texts_to(citizen.address());
        let references = sent.iter().filter(|text| text.contains("M-20")).count();
        assert_eq!((sent.len(), references), (3, 1), "each citizen got each reply once: {sent:?}");
    }
    let mut settings = app.settings.storage.clone();
    s3.configure(&mut settings, "stadt");
    let bucket = PhotoStore::open(&settings, &app.settings.data_dir).unwrap();
    let tokens: Vec<String> = sqlx::query_scalar("SELECT token FROM photos").fetch_all(app.db.pool()).await.unwrap();
    for token in &tokens {
        assert!(bucket.get(token, Variant::Image).await.unwrap().is_some(), "photo {token} is in the bucket");
    }
    assert!(files_under(&app.settings.data_dir.join("photos")).is_empty(), "no photo on a local disk");

    // Retention's and the statistics' first turns come a minute after the start.
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    eventually("every schedule to have run", || async {
        app.count("SELECT COUNT(*) FROM schedules WHERE runs >= 1").await == SCHEDULES.len() as i64
    })
    .await;
    let runs: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, runs FROM schedules ORDER BY name").fetch_all(app.db.pool()).await.unwrap();
    let expected: Vec<(String, i64)> = SCHEDULES.iter().map(|name| (name.to_string(), 1)).collect();
    assert_eq!(runs, expected, "each scheduled job ran once across both instances");
    assert_eq!(app.count("SELECT COUNT(*) FROM retention_runs").await, 1, "one retention run");
    second.stop().await;
}
