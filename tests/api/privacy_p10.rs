//! P10 opt-out: STOP and START (honoured as the conversation tests show) are each an event of
//! the audit chain, tied to the reporter and carrying nothing personal.

use meldeweg::audit::{self, Verdict};
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;

use crate::helpers::*;

#[tokio::test]
async fn stop_and_start_are_recorded_in_the_audit_chain() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Hundekot-Beutelspender leer")).await;
    app.replies(&citizen, 2).await;
    app.send(&citizen, text("STOP")).await;
    assert_eq!(app.replies(&citizen, 3).await[2], app.render_in(Lang::De, TextKey::Stopped, &[]));
    app.send(&citizen, text("START")).await;
    assert_eq!(app.replies(&citizen, 4).await[3], app.render_in(Lang::De, TextKey::Started, &[]));
    app.queue_drained().await;

    let reporter: i64 = sqlx::query_scalar("SELECT id FROM reporters").fetch_one(app.db.pool()).await.unwrap();
    app.seal_audit().await;
    let events: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT kind, reporter_id, detail FROM audit_log WHERE kind LIKE 'reporter.%' ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let kinds: Vec<&str> = events.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["reporter.notice_sent", "reporter.opted_out", "reporter.opted_in"]);
    assert!(events.iter().all(|(_, id, _)| *id == Some(reporter)), "{events:?}");
    assert!(events[0].2.contains(app.texts.notice_version()), "the notice version seen (P4): {}", events[0].2);
    for (_, _, detail) in &events {
        assert!(!detail.contains(citizen.phone.as_deref().unwrap()), "{detail}");
        assert!(!detail.contains(citizen.user_id.as_deref().unwrap()), "{detail}");
    }
    let mut conn = app.db.pool().acquire().await.unwrap();
    assert!(matches!(audit::verify(&mut conn).await.unwrap(), Verdict::Intact { .. }));
}
