//! P9 data-subject rights: AUSKUNFT answers in the chat with everything stored about the
//! citizen and nothing about anyone else; LÖSCHEN asks, then erases the citizen's personal data
//! while the reports stay for the Bauhof; staff do the same for a request that came by letter.

use meldeweg::staff::Role;
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;

use crate::helpers::*;
use crate::staff_helpers::*;

async fn reporter_of(app: &TestApp, reference: &str) -> i64 {
    sqlx::query_scalar("SELECT reporter_id FROM reports WHERE reference = $1")
        .bind(reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn auskunft_lists_every_stored_item_and_nothing_about_anyone_else() {
    let app = spawn_app().await;
    let (citizen, first, _) = reported(&app, "Schlagloch vor der Kita, ziemlich tief", NORD).await;
    let (_, second, _) = reported_by(&app, &citizen, "Laterne flackert seit Tagen", SUED, 0).await;
    let (other, other_reference, _) = reported(&app, "Müll am Spielplatz, Stichwort Zebrastreifen", NORD).await;
    app.send(&citizen, text("Die Bank am Teich ist")).await; // an unfinished report
    let reporter = reporter_of(&app, &first).await;
    app.queue_drained().await;
    let before = app.graph.texts_to(citizen.address()).len();
    let sent = app.count(&format!("SELECT COUNT(*) FROM outbox WHERE reporter_id = {reporter}")).await;

    app.send(&citizen, text("AUSKUNFT")).await;
    let replies = app.replies(&citizen, before + 1).await;
    app.queue_drained().await;
    let answer = app.graph.texts_to(citizen.address())[before..].join("\n");
    let received = app.count(&format!("SELECT COUNT(*) FROM inbound_events WHERE reporter_id = {reporter}")).await;
    assert!(replies.len() > before);
    for item in [
        first.as_str(),
        second.as_str(),
        "„Schlagloch vor der Kita, ziemlich tief“",
        "„Laterne flackert seit Tagen“",
        "„Die Bank am Teich ist“",
        app.texts.notice_version(),
        "verschlüsselt gespeichert",
        &format!("{received} von Ihnen empfangen, {sent} an Sie gesendet"),
    ] {
        assert!(answer.contains(item), "{item:?} missing from:\n{answer}");
    }
    assert!(!answer.contains(&other_reference), "another citizen's report: {answer}");
    assert!(!answer.contains("Zebrastreifen"), "another citizen's words: {answer}");
    assert!(!answer.contains(citizen.phone.as_deref().unwrap()), "the number is not repeated in the chat");
    let given = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE kind = 'reporter.access_given' AND reporter_id = {reporter}"
        ))
        .await;
    assert_eq!(given, 1, "the answered request is on record (P4)");
    let others = app.graph.texts_to(other.address());
    assert!(others.iter().all(|t| !t.contains("Art. 15")), "the other citizen got nothing");
}

#[tokio::test]
async fn loeschen_through_the_webhook_erases_the_personal_data_and_keeps_the_reports() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    add_staff(&app, "crew@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "crew@musterstadt.de").await;
    let citizen = Citizen::new();
    // A photo for a report whose order gets finished, and one for a report still open.
    app.send(&citizen, image(&app, "media-done", fixture_photo("recompressed_nometa.jpg"), Some("Schlagloch Kita")))
        .await;
    let (_, done_reference, done_order) = reported_by(&app, &citizen, "ganz tief", NORD, 0).await;
    transitions(&app, &token, &done_order, &["accept", "done"]).await;
    app.send(&citizen, image(&app, "media-open", fixture_photo("recompressed_nometa.jpg"), Some("Ampel dunkel"))).await;
    let (_, open_reference, _) = reported_by(&app, &citizen, "seit gestern", SUED, 0).await;
    let reporter = reporter_of(&app, &done_reference).await;
    let tokens: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT token, report_id FROM photos ORDER BY id").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(tokens.len(), 2);
    let before = app.graph.texts_to(citizen.address()).len();

    app.send(&citizen, text("LÖSCHEN")).await;
    let replies = app.replies(&citizen, before + 1).await;
    assert_eq!(replies[before], app.render_in(Lang::De, TextKey::ConfirmErase, &[]));
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters WHERE erased_at IS NOT NULL").await, 0, "not before the yes");
    app.send(&citizen, button_reply("erase:yes", "Ja, löschen")).await;
    let replies = app.replies(&citizen, before + 2).await;
    assert_eq!(
        replies[before + 1],
        app.render_in(Lang::De, TextKey::Erased, &[]),
        "the last message still reaches them"
    );
    eventually("the erasure", || async {
        app.count("SELECT COUNT(*) FROM reporters WHERE erased_at IS NOT NULL").await == 1
    })
    .await;
    app.queue_drained().await;

    let (key_hash, sealed, phone_hash): (String, i64, Option<String>) = sqlx::query_as(
        "SELECT key_hash, CAST(CASE WHEN phone_enc IS NULL AND user_id_enc IS NULL THEN 0 ELSE 1 END AS BIGINT), phone_hash
         FROM reporters WHERE id = $1",
    )
    .bind(reporter)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(key_hash, format!("erased:{reporter}"));
    assert_eq!((sealed, phone_hash), (0, None), "neither the sealed number and user id nor their hash");
    let q = |sql: &str| sql.replace("{r}", &reporter.to_string());
    assert_eq!(app.count(&q("SELECT COUNT(*) FROM reports WHERE reporter_id = {r}")).await, 2, "the reports stay");
    assert_eq!(
        app.count(&q("SELECT COUNT(*) FROM reports WHERE reporter_id = {r} AND description IS NOT NULL")).await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 2, "the Bauhof's orders stay");
    assert_eq!(app.count(&q("SELECT COUNT(*) FROM outbox WHERE reporter_id = {r}")).await, 0, "messages to them");
    assert_eq!(app.count(&q("SELECT COUNT(*) FROM conversations WHERE reporter_id = {r}")).await, 0);
    let unredacted =
        app.count(&q("SELECT COUNT(*) FROM inbound_events WHERE reporter_id = {r} AND redacted_at IS NULL")).await;
    assert_eq!(unredacted, 0, "the raw messages with the number are emptied");
    let payload_bytes: i64 =
        app.count(&q("SELECT COALESCE(SUM(LENGTH(payload_enc)), 0) FROM inbound_events WHERE reporter_id = {r}")).await;
    assert_eq!(payload_bytes, 0);
    // The finished report's photo is gone (row and file); the open order keeps its photo.
    let remaining: Vec<String> = sqlx::query_scalar("SELECT token FROM photos").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(remaining.len(), 1);
    let open_report: i64 = sqlx::query_scalar("SELECT id FROM reports WHERE reference = $1")
        .bind(&open_reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (kept, _) = tokens.iter().find(|(token, _)| *token == remaining[0]).unwrap();
    assert_eq!(tokens.iter().find(|(t, _)| t == kept).unwrap().1, Some(open_report));
    let (deleted, _) = tokens.iter().find(|(token, _)| *token != remaining[0]).unwrap();
    assert_eq!(app.http.get(app.url(&format!("/photos/{deleted}"))).send().await.unwrap().status(), 404);
    let copies = |token: &str| format!("SELECT COUNT(*) FROM public_copies WHERE token = '{token}'");
    assert_eq!(app.count(&copies(deleted)).await, 0, "the public copy went with its photo");
    assert_eq!(app.count(&copies(kept)).await, 1);
    assert_eq!(app.http.get(app.url(&format!("/photos/{kept}"))).send().await.unwrap().status(), 200);
    app.seal_audit().await;
    let erased: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE kind = 'reporter.erased' AND reporter_id = $1")
            .bind(reporter)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(erased.contains("\"photos_deleted\":1") && erased.contains("\"photos_kept\":1"), "{erased}");
    let (ok, _, stderr) = crate::cli::run(&app, &["audit", "verify"], &[]).await;
    assert!(ok, "{stderr}");

    // Writing again is a new contact: a new reporter who gets the notice, and knows no reports.
    let count = app.graph.texts_to(citizen.address()).len();
    app.send(&citizen, text("STATUS")).await;
    let replies = app.replies(&citizen, count + 2).await;
    assert_eq!(replies[count], app.render(TextKey::Notice));
    assert_eq!(replies[count + 1], app.render(TextKey::StatusNone));
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 2);
}

#[tokio::test]
async fn loeschen_is_undone_by_no_and_by_anything_else_in_between() {
    let app = spawn_app().await;
    let (citizen, reference, _) = reported(&app, "Gully verstopft", NORD).await;
    let before = app.graph.texts_to(citizen.address()).len();
    app.send(&citizen, text("löschen")).await;
    app.send(&citizen, text("Nein")).await;
    let replies = app.replies(&citizen, before + 2).await;
    assert_eq!(replies[before + 1], app.render(TextKey::EraseCancelled));
    app.send(&citizen, text("Daten löschen")).await;
    app.send(&citizen, text("STATUS")).await;
    app.send(&citizen, button_reply("erase:yes", "Ja, löschen")).await;
    let replies = app.replies(&citizen, before + 5).await;
    assert!(replies[before + 3].contains(&reference), "STATUS answered: {}", replies[before + 3]);
    assert_eq!(replies[before + 4], app.render(TextKey::EraseExpired), "a stale button erases nothing");
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters WHERE erased_at IS NOT NULL").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE description IS NOT NULL").await, 1);
}

#[tokio::test]
async fn staff_answer_a_letter_from_the_admin_page() {
    let app = spawn_app().await;
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let (citizen, reference, _) = reported(&app, "Baum auf dem Radweg", NORD).await;
    let (_, other_reference, _) = reported(&app, "Schild umgefahren", SUED).await;
    let phone = citizen.phone.clone().unwrap();
    // As a letter writes it: "+49 151 ..." with spaces.
    let written = format!("+{} {} {}", &phone[..2], &phone[2..5], &phone[5..]);

    let crew = login(&app, "crew@musterstadt.de").await;
    assert_eq!(crew.get(&app, "/staff/rights").await.status(), 403);
    let checked = ("identity_checked", "yes");
    assert_eq!(crew.post(&app, "/staff/rights", &[("number", &written), checked]).await.status(), 403);

    let admin = login(&app, "admin@musterstadt.de").await;
    let form = admin.get(&app, "/staff/rights").await;
    assert_eq!(form.status(), 200);
    let unchecked = admin.post(&app, "/staff/rights", &[("number", &written)]).await;
    assert_eq!(unchecked.status(), 422, "nothing is shown before the identity check");
    assert!(!unchecked.text().await.unwrap().contains(&reference));
    let bad = admin.post(&app, "/staff/rights", &[("number", "<script>alert(1)</script>"), checked]).await;
    assert_eq!(bad.status(), 422);
    let body = bad.text().await.unwrap();
    assert!(body.contains("keine Telefonnummer") && !body.contains("<script>alert"), "escaped and explained");
    let unknown = admin.post(&app, "/staff/rights", &[("number", "+49 151 99999999"), checked]).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(admin.post_raw(&app, "/staff/rights", &[("number", &written), checked]).await.status(), 403, "CSRF");

    let found = admin.post(&app, "/staff/rights", &[("number", &written), checked]).await;
    assert_eq!(found.status(), 200);
    let page = found.text().await.unwrap();
    assert!(page.contains(&reference) && page.contains("Baum auf dem Radweg"), "{page}");
    assert!(!page.contains(&other_reference) && !page.contains("Schild umgefahren"));
    assert!(!page.contains(&phone), "the page shows only what the staff member typed");
    let reporter = reporter_of(&app, &reference).await.to_string();

    let unconfirmed = admin.post(&app, "/staff/rights/erase", &[("reporter", &reporter), ("number", &written)]).await;
    let other = reporter_of(&app, &other_reference).await.to_string();
    let mismatched =
        admin.post(&app, "/staff/rights/erase", &[("reporter", &other), ("number", &written), checked]).await;
    assert_eq!(mismatched.status(), 400, "only the reporter of the checked number");
    assert_eq!(unconfirmed.status(), 422, "the identity check must be confirmed");
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters WHERE erased_at IS NOT NULL").await, 0);
    let erased = admin
        .post(
            &app,
            "/staff/rights/erase",
            &[("reporter", &reporter), ("number", &written), ("identity_checked", "yes")],
        )
        .await;
    assert_eq!(erased.status(), 200);
    let page = erased.text().await.unwrap();
    assert!(page.contains("Gelöscht") && page.contains(&reference) && !page.contains("Baum auf dem Radweg"));
    app.seal_audit().await;
    let actor: String = sqlx::query_scalar("SELECT actor FROM audit_log WHERE kind = 'reporter.erased'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(actor.starts_with("staff:"), "{actor}");
    let again = admin.post(&app, "/staff/rights", &[("number", &written), checked]).await;
    assert_eq!(again.status(), 404, "after erasure the number leads nowhere");
}
