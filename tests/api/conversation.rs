//! The conversation as a citizen lives it: from the first message to a reference number, the
//! commands, and what is stored about them.

use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;

/// The reference number in an acknowledgement.
fn reference_in(reply: &str) -> String {
    let start = reply.find("M-").expect("a reference in the reply");
    reply[start..start + 13].to_string()
}

#[tokio::test]
async fn a_text_then_a_location_gets_a_reference_number() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Tiefes Schlagloch vor der Grundschule")).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[0], app.render_in(Lang::De, TextKey::Notice, &[]));
    assert_eq!(replies[1], app.render_in(Lang::De, TextKey::LocationRequest, &[]));
    let request = &app.graph.delivered_to(citizen.address())[1];
    assert_eq!(request.body["interactive"]["type"], "location_request_message");

    app.send(&citizen, location(51.9607, 7.6261)).await;
    let replies = app.replies(&citizen, 3).await;
    let reference = reference_in(&replies[2]);
    let year = meldeweg::time::berlin_year(meldeweg::time::now_ms());
    assert_eq!(reference, format!("M-{year}-000001"));
    assert_eq!(
        replies[2],
        app.render_in(
            Lang::De,
            TextKey::ReportCreated,
            &[("reference", &reference), ("link", &app.status_link(&reference).await)]
        )
    );

    let row = sqlx::query("SELECT description, lat, lon, location_source, location_label, status FROM reports")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("description"), "Tiefes Schlagloch vor der Grundschule");
    assert!((row.get::<f64, _>("lat") - 51.9607).abs() < 1e-9);
    assert!((row.get::<f64, _>("lon") - 7.6261).abs() < 1e-9);
    assert_eq!(row.get::<String, _>("location_source"), "shared_location");
    assert_eq!(row.get::<String, _>("location_label"), "Grundschule am Park, Parkstraße 3");
    assert_eq!(row.get::<String, _>("status"), "open");
}

#[tokio::test]
async fn location_first_then_a_description_also_makes_a_report() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, location(51.9607, 7.6261)).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[1], app.render_in(Lang::De, TextKey::AskDescription, &[]));
    app.send(&citizen, text("Laterne brennt auch tagsüber")).await;
    let replies = app.replies(&citizen, 3).await;
    assert!(replies[2].contains("M-"), "{replies:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
}

#[tokio::test]
async fn a_photo_with_a_caption_and_a_location_makes_a_report_with_the_photo() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let bytes = fixture_photo("recompressed_nometa.jpg");
    let photo = json!({ "type": "image", "image": {
        "id": "2754859441498128", "mime_type": "image/jpeg", "sha256": announced_sha256(&bytes),
        "caption": "Glasscherben im Sandkasten!" } });
    app.graph.add_media("2754859441498128", bytes);
    app.send(&citizen, photo).await;
    app.replies(&citizen, 2).await;
    app.send(&citizen, location(51.9607, 7.6261)).await;
    app.replies(&citizen, 3).await;
    let row = sqlx::query("SELECT r.description, p.media_id FROM reports r JOIN photos p ON p.report_id = r.id")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("description"), "Glasscherben im Sandkasten!");
    assert_eq!(row.get::<String, _>("media_id"), "2754859441498128");
}

#[tokio::test]
async fn the_notice_is_sent_once_and_reference_numbers_count_up() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    for (n, what) in ["Müll am Glascontainer", "Gully verstopft"].iter().enumerate() {
        app.send(&citizen, text(what)).await;
        app.send(&citizen, location(51.9607 + n as f64 / 1000.0, 7.6261)).await;
    }
    app.queue_drained().await;
    let replies = app.graph.texts_to(citizen.address());
    let notices = replies.iter().filter(|r| **r == app.render_in(Lang::De, TextKey::Notice, &[])).count();
    assert_eq!(notices, 1, "{replies:?}");
    let references: Vec<String> = replies.iter().filter(|r| r.contains("M-")).map(|r| reference_in(r)).collect();
    assert_eq!(references.len(), 2);
    assert!(references[0].ends_with("000001") && references[1].ends_with("000002"), "{references:?}");
    let version: String =
        sqlx::query_scalar("SELECT notice_version FROM reporters").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(version, app.texts.notice_version(), "the notice version sent is recorded (P3, P4)");
}

#[tokio::test]
async fn status_answers_for_own_reports_and_not_for_someone_elses() {
    let app = spawn_app().await;
    let alice = Citizen::new();
    let bob = Citizen::new();
    app.send(&alice, text("Schlagloch")).await;
    app.send(&alice, location(51.9607, 7.6261)).await;
    let reference = reference_in(&app.replies(&alice, 3).await[2]);

    app.send(&alice, text(&format!("status {}", reference.to_lowercase()))).await;
    let own = app.replies(&alice, 4).await[3].clone();
    assert!(own.contains(&reference) && own.contains("beim Bauhof eingegangen"), "{own}");

    app.send(&alice, text("STATUS")).await;
    let list = app.replies(&alice, 5).await[4].clone();
    assert!(list.starts_with(&app.render_in(Lang::De, TextKey::StatusListHeader, &[])) && list.contains(&reference));

    app.send(&bob, text(&format!("STATUS {reference}"))).await;
    let replies = app.replies(&bob, 2).await;
    assert_eq!(replies[1], app.render_in(Lang::De, TextKey::StatusNotFound, &[]), "no hint that it exists (P13)");

    app.send(&bob, text("STATUS M-2026-ABC")).await;
    assert_eq!(app.replies(&bob, 3).await[2], app.render_in(Lang::De, TextKey::StatusFormat, &[]));
}

#[tokio::test]
async fn stop_suppresses_a_reply_still_waiting_and_writing_again_resumes() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Hundekot-Beutelspender leer")).await;
    app.replies(&citizen, 2).await;

    // WhatsApp is down while the report is acknowledged; meanwhile the citizen sends STOP.
    app.graph.script(std::iter::repeat_n(crate::fake_graph::Answer::Status(503), 10_000));
    app.send(&citizen, location(51.9607, 7.6261)).await;
    eventually("the acknowledgement to be tried", || async { app.graph.requests().len() >= 3 }).await;
    app.send(&citizen, text("STOP")).await;
    eventually("the STOP to be recorded", || async {
        app.count("SELECT COUNT(*) FROM reporters WHERE opted_out_at IS NOT NULL").await == 1
    })
    .await;
    app.graph.clear_script();
    app.queue_drained().await;

    let replies = app.graph.texts_to(citizen.address());
    assert_eq!(replies.last().unwrap(), &app.render_in(Lang::De, TextKey::Stopped, &[]));
    assert!(!replies.iter().any(|r| r.contains("M-")), "the acknowledgement must not arrive after STOP");
    let state: String = sqlx::query_scalar("SELECT state FROM outbox WHERE name = 'report_created'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(state, "suppressed");

    app.send(&citizen, text("START")).await;
    let replies = app.replies(&citizen, 4).await;
    assert_eq!(replies[3], app.render_in(Lang::De, TextKey::Started, &[]));
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters WHERE opted_out_at IS NOT NULL").await, 0);
}

#[tokio::test]
async fn help_in_english_switches_the_replies_to_english() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("help")).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[0], app.render_in(Lang::En, TextKey::Notice, &[]));
    assert_eq!(replies[1], app.render_in(Lang::En, TextKey::Help, &[]));
    app.send(&citizen, text("Broken street light")).await;
    assert_eq!(app.replies(&citizen, 3).await[2], app.render_in(Lang::En, TextKey::LocationRequest, &[]));
}

#[tokio::test]
async fn a_citizen_without_a_number_is_answered_by_user_id() {
    let app = spawn_app().await;
    let citizen = Citizen::without_number();
    app.send(&citizen, text("Parkbank beschädigt")).await;
    app.replies(&citizen, 2).await;
    let request = &app.graph.delivered_to(citizen.address())[0];
    assert_eq!(request.body["recipient"], citizen.user_id.clone().unwrap());
    assert!(request.body.get("to").is_none());
}

#[tokio::test]
async fn messages_from_one_new_citizen_arriving_together_make_one_reporter_and_one_notice() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let deliveries: Vec<Value> = ["Graffiti an der Unterführung", "ziemlich groß", "seit gestern"]
        .iter()
        .map(|t| delivery(vec![citizen.contact()], vec![citizen.message(text(t))], vec![]))
        .collect();
    let responses = futures_util::future::join_all(deliveries.iter().map(|d| app.post_webhook(d))).await;
    assert!(responses.iter().all(|r| r.status() == 200));
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 1);
    let replies = app.graph.texts_to(citizen.address());
    assert_eq!(replies.len(), 2, "one notice and one location request: {replies:?}");
    app.send(&citizen, location(51.9607, 7.6261)).await;
    app.replies(&citizen, 3).await;
    let description: String =
        sqlx::query_scalar("SELECT description FROM reports").fetch_one(app.db.pool()).await.unwrap();
    for part in ["Graffiti an der Unterführung", "ziemlich groß", "seit gestern"] {
        assert!(description.contains(part), "{description:?} lacks {part:?}");
    }
}

/// Every text and binary value in every table (PRIVACY P6: numbers only sealed).
async fn all_stored_values(app: &TestApp) -> Vec<Vec<u8>> {
    let tables = ["reporters", "conversations", "inbound_events", "reports", "photos", "outbox", "jobs"];
    let mut values = Vec::new();
    for table in tables {
        for row in sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(app.db.pool()).await.unwrap() {
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    values.push(text.into_bytes());
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    values.push(bytes);
                }
            }
        }
    }
    values
}

#[tokio::test]
async fn the_number_and_user_id_are_never_stored_in_clear() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Schild umgefahren")).await;
    app.send(&citizen, location(51.9607, 7.6261)).await;
    app.replies(&citizen, 3).await;
    let values = all_stored_values(&app).await;
    assert!(values.len() > 20, "the check must see the stored data");
    for secret in [citizen.phone.as_deref().unwrap(), citizen.user_id.as_deref().unwrap()] {
        let found = values.iter().any(|v| v.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert!(!found, "{secret} is stored in clear");
    }
}
