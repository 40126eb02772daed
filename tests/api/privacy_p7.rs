//! P7 deletion concept: with the clock moved past each period in `[retention]`, a run deletes
//! or anonymises exactly that class and nothing else; a dry run counts the same without
//! changing anything; every run is recorded, and the audit chain still verifies.

use std::collections::BTreeMap;

use meldeweg::audit::{self, Verdict};
use meldeweg::retention::{self, Counts};
use meldeweg::staff::Role;
use meldeweg::storage::PhotoStore;

use crate::helpers::*;
use crate::staff_helpers::*;

const DAY_MS: i64 = 86_400_000;

/// A dry run and then a real run at `at`; asserts both counted the same and returns the counts
/// that are not zero.
async fn run_at(app: &TestApp, at: i64) -> BTreeMap<String, u64> {
    let store = PhotoStore::local(&app.settings.data_dir.join("photos")).unwrap();
    let settings = &app.settings.retention;
    let dry = retention::run(&app.db, &store, settings, at, true, "test").await.unwrap();
    let real = retention::run(&app.db, &store, settings, at, false, "test").await.unwrap();
    assert_eq!(dry, real, "the dry run counts what the run then does");
    non_zero(&real)
}

fn non_zero(counts: &Counts) -> BTreeMap<String, u64> {
    counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.to_string(), *n)).collect()
}

fn expected(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

async fn description(app: &TestApp, reference: &str) -> Option<String> {
    sqlx::query_scalar("SELECT description FROM reports WHERE reference = $1")
        .bind(reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_class_goes_exactly_when_its_period_is_over() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    // A: one finished report with a photo and one still open. B: one finished report.
    // C: only said hello.
    let a = Citizen::new();
    app.send(&a, image(&app, "media-a", fixture_photo("recompressed_nometa.jpg"), Some("Schlagloch"))).await;
    let (_, a_done, a_order) = reported_by(&app, &a, "tief und breit", NORD, 0).await;
    transitions(&app, &token, &a_order, &["accept", "done"]).await;
    let (_, a_open, _) = reported_by(&app, &a, "Laterne aus", SUED, 0).await;
    let b = Citizen::new();
    app.send(&b, image(&app, "media-b", fixture_photo("recompressed_nometa.jpg"), Some("Ampel"))).await;
    let (_, b_done, b_order) = reported_by(&app, &b, "hängt schief", NORD, 0).await;
    transitions(&app, &token, &b_order, &["accept", "done"]).await;
    let c = Citizen::new();
    app.send(&c, text("Hallo")).await;
    app.replies(&c, 1).await;
    app.queue_drained().await;
    let t0 = meldeweg::time::now_ms();
    let inbound = app.count("SELECT COUNT(*) FROM inbound_events").await as u64;
    let photos: Vec<String> = sqlx::query_scalar("SELECT token FROM photos").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(photos.len(), 2);
    let photo_url = app.url(&format!("/photos/{}", photos[1]));
    let open_messages = app
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE report_id = (SELECT id FROM reports WHERE reference = '{a_open}')"
        ))
        .await;
    assert!(open_messages > 0);

    assert_eq!(run_at(&app, t0 + DAY_MS).await, expected(&[]), "nothing is due after a day");

    // 7 days: the raw payloads, nothing else.
    assert_eq!(run_at(&app, t0 + 8 * DAY_MS).await, expected(&[("inbound_payloads", inbound)]));
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await as u64, inbound, "rows stay (redeliveries)");
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events WHERE redacted_at IS NULL").await, 0);
    assert!(description(&app, &a_done).await.is_some());

    // 30 days after closing: the closed reports' words and messages, the drafts, the replies
    // without a report; the open report keeps everything.
    let counts = run_at(&app, t0 + 31 * DAY_MS).await;
    assert_eq!(counts.get("report_texts"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("drafts"), Some(&3), "{counts:?}");
    assert!(counts.get("messages").is_some_and(|n| *n > 0), "{counts:?}");
    assert!(counts.get("search_words").is_some_and(|n| *n > 0), "their words leave the search index: {counts:?}");
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert_eq!(description(&app, &a_done).await, None);
    assert_eq!(description(&app, &b_done).await, None);
    assert_eq!(description(&app, &a_open).await.as_deref(), Some("Laterne aus"));
    let open_after = app
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE report_id = (SELECT id FROM reports WHERE reference = '{a_open}')"
        ))
        .await;
    assert_eq!(open_after, open_messages, "the open report's messages stay");

    // 90 days: B's and C's numbers (nothing of theirs is open); A keeps theirs.
    assert_eq!(run_at(&app, t0 + 91 * DAY_MS).await, expected(&[("contacts", 2)]));
    let erased: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM reporters WHERE erased_at IS NOT NULL AND phone_enc IS NULL ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let reporter_of = |reference: String| {
        let pool = app.db.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT reporter_id FROM reports WHERE reference = $1")
                .bind(reference)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let b_id = reporter_of(b_done.clone()).await;
    let a_id = reporter_of(a_done.clone()).await;
    assert!(erased.contains(&b_id) && !erased.contains(&a_id), "{erased:?}");
    assert_eq!(app.http.get(&photo_url).send().await.unwrap().status(), 200, "an expired contact keeps its photos");
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 2);

    // A year: the finished reports' photos, files and rows.
    assert_eq!(run_at(&app, t0 + 366 * DAY_MS).await, expected(&[("photos", 2)]));
    assert_eq!(app.http.get(&photo_url).send().await.unwrap().status(), 404);

    // Ten years: the closed reports are anonymised, their audit details redacted (announced in
    // the chain); the open one and the figures' columns stay.
    let counts = run_at(&app, t0 + (10 * 365 + 3) * DAY_MS).await;
    assert_eq!(counts.get("reports_anonymised"), Some(&2), "{counts:?}");
    assert!(counts.get("audit_details").is_some_and(|n| *n > 0), "{counts:?}");
    let anonymous =
        app.count("SELECT COUNT(*) FROM reports WHERE anonymised_at IS NOT NULL AND reporter_id IS NULL").await;
    assert_eq!(anonymous, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE anonymised_at IS NULL").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE category IS NOT NULL").await, 3, "still counted");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'audit.redacted'").await, 1);
    let mut conn = app.db.pool().acquire().await.unwrap();
    assert!(matches!(audit::verify(&mut conn).await.unwrap(), Verdict::Intact { .. }));
    drop(conn);

    // Every run is on record: counts only; real runs also in the audit chain.
    assert_eq!(app.count("SELECT COUNT(*) FROM retention_runs").await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM retention_runs WHERE dry_run = TRUE").await, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'retention.run'").await, 6);
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT counts FROM retention_runs").fetch_all(app.db.pool()).await.unwrap();
    for counts in recorded {
        assert!(!counts.contains(b.phone.as_deref().unwrap()) && !counts.contains("Ampel"), "{counts}");
    }
}

#[tokio::test]
async fn the_cli_prints_a_dry_run_and_lists_the_runs() {
    let app = spawn_app().await;
    reported(&app, "Bank kaputt", NORD).await;
    let (ok, stdout, stderr) = crate::cli::run(&app, &["retention", "run", "--dry-run"], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("retention would delete or anonymise:"), "{stdout}");
    for class in ["inbound_payloads", "report_texts", "contacts", "photos", "reports_anonymised"] {
        assert!(stdout.contains(class), "{class} in {stdout}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM retention_runs").await, 1);
    let (ok, stdout, stderr) = crate::cli::run(&app, &["retention", "runs"], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("dry run") && stdout.contains("cli"), "{stdout}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE description IS NOT NULL").await, 1, "nothing changed");
}
