//! P8 revision-proof storage: the audit log takes no changes but redaction, and
//! `meldeweg audit verify` finds a changed or removed event and names it.

use meldeweg::audit::{self, Verdict};
use meldeweg::db::Backend;
use serde_json::Value;

use crate::cli::run;
use crate::helpers::*;
use crate::staff_helpers::*;

async fn verdict(app: &TestApp) -> Verdict {
    let mut conn = app.db.pool().acquire().await.unwrap();
    audit::verify(&mut conn).await.unwrap()
}

/// What someone with write access to the database could do: switch the guard off.
async fn without_guard(app: &TestApp, sql: &str) {
    let guard: &[&str] = match app.db.backend() {
        Backend::Sqlite => &["DROP TRIGGER audit_log_append_only", "DROP TRIGGER audit_log_redaction_only"],
        Backend::Postgres => &["ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard"],
    };
    for statement in guard.iter().chain([&sql]) {
        sqlx::query(statement).execute(app.db.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn the_audit_log_refuses_changes_and_deletions_but_allows_redaction() {
    let app = spawn_app().await;
    reported(&app, "Schlagloch vor der Schule", NORD).await;
    let Verdict::Intact { events, redacted: 0, .. } = verdict(&app).await else { panic!("an intact chain") };
    assert!(events >= 2, "report and triage: {events}");
    for change in [
        "UPDATE audit_log SET kind = 'order.done' WHERE id = 2",
        "UPDATE audit_log SET detail = '{}' WHERE id = 1",
        "UPDATE audit_log SET hash = prev_hash WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 2",
        "UPDATE audit_head SET last_id = 0",
        "DELETE FROM audit_head",
    ]
    .into_iter()
    .chain((app.db.backend() == Backend::Postgres).then_some("TRUNCATE audit_log"))
    {
        let refused = sqlx::query(change).execute(app.db.pool()).await.expect_err(change);
        assert!(refused.to_string().contains("append-only"), "{change}: {refused}");
    }
    sqlx::query("UPDATE audit_log SET detail = NULL WHERE id = 1").execute(app.db.pool()).await.unwrap();
    assert!(matches!(verdict(&app).await, Verdict::Intact { redacted: 1, .. }), "redaction keeps the chain");
}

#[tokio::test]
async fn tampering_with_one_event_makes_audit_verify_fail_at_that_event() {
    let app = spawn_app().await;
    reported(&app, "Schlagloch vor der Schule", NORD).await;
    reported(&app, "Laterne defekt am Markt", SUED).await;
    let (ok, stdout, stderr) = run(&app, &["audit", "verify", "--json"], &[]).await;
    assert!(ok, "{stderr}");
    let intact: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(intact["result"], "intact");
    let recorded = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(recorded >= 6, "two notices, two reports, two triages and the messages: {recorded}");
    assert_eq!(intact["events"], recorded);

    without_guard(&app, "UPDATE audit_log SET at = at + 1 WHERE id = 3").await;
    assert_eq!(verdict(&app).await, Verdict::Broken { event: 3, reason: "its fields were changed".into() });
    let (ok, _, stderr) = run(&app, &["audit", "verify"], &[]).await;
    assert!(!ok, "a broken chain fails the command");
    assert!(stderr.contains("audit chain broken at event 3: its fields were changed"), "{stderr}");
}

#[tokio::test]
async fn a_changed_detail_a_removed_event_and_a_cut_off_end_are_each_found() {
    let app = spawn_app().await;
    reported(&app, "Schlagloch vor der Schule", NORD).await;
    reported(&app, "Laterne defekt am Markt", SUED).await;
    app.seal_audit().await;
    without_guard(&app, "UPDATE audit_log SET detail = '{\"reference\":\"M-2026-000099\"}' WHERE id = 1").await;
    assert_eq!(verdict(&app).await, Verdict::Broken { event: 1, reason: "its detail was changed".into() });
    sqlx::query("UPDATE audit_log SET detail = NULL WHERE id = 1").execute(app.db.pool()).await.unwrap();
    assert!(matches!(verdict(&app).await, Verdict::Intact { .. }), "the detail redacted, the chain holds");

    sqlx::query("DELETE FROM audit_log WHERE id = 2").execute(app.db.pool()).await.unwrap();
    let Verdict::Broken { event: 2, reason } = verdict(&app).await else { panic!("the gap is found") };
    assert!(reason.contains("event 2 is missing"), "{reason}");

    let app = spawn_app().await;
    reported(&app, "Schlagloch vor der Schule", NORD).await;
    app.seal_audit().await;
    without_guard(&app, "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)").await;
    let Verdict::Broken { reason, .. } = verdict(&app).await else { panic!("the cut-off end is found") };
    assert!(reason.contains("events were removed"), "{reason}");
}
