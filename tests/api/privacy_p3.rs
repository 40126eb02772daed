//! P3 notice on first contact: the first reply says what the channel is for, that urgent
//! danger needs 110/112, where the privacy statement is and which other channels exist; the
//! version and time each reporter received are stored and in the audit chain; a changed notice
//! is sent again on the reporter's next contact.

use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;

use crate::helpers::*;

async fn notice_of(app: &TestApp) -> (Option<String>, Option<i64>) {
    sqlx::query_as("SELECT notice_version, notice_sent_at FROM reporters").fetch_one(app.db.pool()).await.unwrap()
}

#[tokio::test]
async fn the_notice_is_versioned_recorded_and_sent_again_after_it_changed() {
    let app = spawn_app().await;
    let notice = app.render_in(Lang::De, TextKey::Notice, &[]);
    for part in ["110", "112", &app.settings.municipality.privacy_url, &app.settings.municipality.web_form_url] {
        assert!(notice.contains(part), "{part} in the notice: {notice}");
    }
    let citizen = Citizen::new();
    let before = meldeweg::time::now_ms();
    app.send(&citizen, text("Hundekot-Beutelspender leer")).await;
    assert_eq!(app.replies(&citizen, 2).await[0], notice, "the first reply is the notice");
    app.queue_drained().await;
    let (version, sent_at) = notice_of(&app).await;
    assert_eq!(version.as_deref(), Some(app.texts.notice_version()));
    assert!(sent_at.is_some_and(|at| at >= before), "{sent_at:?}");

    app.send(&citizen, text("Er ist am Spielplatz")).await;
    app.queue_drained().await;
    let notices =
        |app: &TestApp| app.graph.texts_to(citizen.address()).iter().filter(|reply| **reply == notice).count();
    assert_eq!(notices(&app), 1, "the same notice is not sent twice");

    // The municipality changes its notice: this reporter saw the older one.
    sqlx::query("UPDATE reporters SET notice_version = 'a0b1c2d3e4f5'").execute(app.db.pool()).await.unwrap();
    app.send(&citizen, text("Hallo?")).await;
    app.queue_drained().await;
    assert_eq!(notices(&app), 2, "the new notice on the next contact");
    assert_eq!(notice_of(&app).await.0.as_deref(), Some(app.texts.notice_version()));
    app.seal_audit().await;
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE kind = 'reporter.notice_sent' ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(versions.len(), 2, "each notice sent is in the audit chain: {versions:?}");
    assert!(versions.iter().all(|detail| detail.contains(app.texts.notice_version())), "{versions:?}");
}
