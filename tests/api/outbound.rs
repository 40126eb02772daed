//! Sending replies through the Cloud API: retries, permanent errors, the 24-hour window and
//! templates, delivery statuses, and EU providers with their own path and auth header.

use meldeweg::config::Settings;
use meldeweg::texts::TextKey;
use sqlx::Row;

use crate::fake_graph::Answer;
use crate::helpers::*;

/// Configures approved template `name` for the text `text`, as `[whatsapp.templates.<text>]`.
fn template(settings: &mut Settings, text: &str, name: &str, params: &[&str]) {
    let section = format!("whatsapp.templates.{text}");
    settings.channels.set(&format!("{section}.name"), name);
    settings.channels.set(&format!("{section}.language"), "de");
    settings.channels.set(&format!("{section}.params"), params.to_vec());
}

async fn outbox_row(app: &TestApp, name: &str) -> (String, Option<i64>, Option<String>) {
    let row = sqlx::query("SELECT state, error_code, provider_message_id FROM outbox WHERE name = $1")
        .bind(name)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    (row.get("state"), row.get("error_code"), row.get("provider_message_id"))
}

#[tokio::test]
async fn answers_500_and_429_twice_then_200_deliver_the_reply_exactly_once() {
    let app = spawn_app().await;
    app.graph.script([Answer::Status(500), Answer::Status(429), Answer::Status(500), Answer::Status(429)]);
    let citizen = Citizen::new();
    app.send(&citizen, text("Ampel defekt")).await;
    app.queue_drained().await;
    let delivered = app.graph.texts_to(citizen.address());
    assert_eq!(delivered, vec![app.render(TextKey::Notice), app.render(TextKey::LocationRequest)]);
    assert_eq!(app.graph.requests().len(), 6, "four failures, then each message once");
    assert_eq!(outbox_row(&app, "notice").await.0, "sent");
    // Meta's message ids carry the number: only their keyed hash is stored (P6).
    let wamid = app.graph.delivered_to(citizen.address())[0].wamid.clone().unwrap();
    assert!(wamid.contains(citizen.address()));
    let vault = meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap();
    assert_eq!(outbox_row(&app, "notice").await.2.unwrap(), vault.message_id_hash(&wamid));
}

#[tokio::test]
async fn a_permanent_error_is_recorded_not_retried_and_the_next_message_still_goes() {
    let app = spawn_app().await;
    app.graph.script([Answer::GraphError { status: 400, code: 131026 }]);
    let citizen = Citizen::new();
    app.send(&citizen, text("Ampel defekt")).await;
    app.queue_drained().await;
    assert_eq!(app.graph.requests().len(), 2);
    assert_eq!(outbox_row(&app, "notice").await.0, "failed");
    assert_eq!(outbox_row(&app, "notice").await.1, Some(131026));
    assert_eq!(app.graph.texts_to(citizen.address()), vec![app.render(TextKey::LocationRequest)]);
}

#[tokio::test]
async fn outside_the_24_hour_window_a_template_is_sent_where_configured_else_nothing() {
    let app = spawn_app_with(|s| {
        template(s, "report_created", "meldeweg_eingang", &["reference"]);
    })
    .await;
    let citizen = Citizen::new();
    app.send_at(&citizen, text("Baum auf dem Radweg"), 26 * 3600).await;
    app.send_at(&citizen, location(51.9607, 7.6261), 25 * 3600).await;
    app.queue_drained().await;
    let year = meldeweg::time::berlin_year(meldeweg::time::now_ms());
    assert_eq!(app.graph.texts_to(citizen.address()), vec![format!("template:meldeweg_eingang:M-{year}-000001")]);
    assert!(app.graph.invalid_requests().is_empty());
    assert_eq!(outbox_row(&app, "notice").await.0, "undeliverable");
    assert_eq!(outbox_row(&app, "notice").await.1, Some(131047));
    assert_eq!(outbox_row(&app, "location_request").await.0, "undeliverable");
    assert_eq!(outbox_row(&app, "report_created").await.0, "sent");
}

#[tokio::test]
async fn error_131047_from_the_api_switches_to_the_template() {
    let app = spawn_app_with(|s| {
        template(s, "notice", "meldeweg_hinweis", &[]);
    })
    .await;
    app.graph.script([Answer::GraphError { status: 400, code: 131047 }]);
    let citizen = Citizen::new();
    app.send(&citizen, text("Kanaldeckel klappert")).await;
    app.queue_drained().await;
    assert_eq!(
        app.graph.texts_to(citizen.address()),
        vec!["template:meldeweg_hinweis:".to_string(), app.render(TextKey::LocationRequest)]
    );
    assert_eq!(outbox_row(&app, "notice").await.0, "sent");
}

#[tokio::test]
async fn a_message_that_went_out_as_its_template_is_not_sent_again_when_a_status_says_too_late() {
    let app = spawn_app_with(|s| {
        template(s, "notice", "meldeweg_hinweis", &[]);
    })
    .await;
    app.graph.script([Answer::GraphError { status: 400, code: 131047 }]);
    let citizen = Citizen::new();
    app.send(&citizen, text("Kanaldeckel klappert")).await;
    app.queue_drained().await;
    let sent = app.graph.delivered_to(citizen.address());
    assert_eq!(sent.len(), 2, "the template and the location request");
    let wamid = sent[0].wamid.clone().unwrap();
    let failed = status(&wamid, "failed", citizen.address(), Some(131047));
    assert_eq!(app.post_webhook(&delivery(vec![], vec![], vec![failed])).await.status(), 200);
    app.queue_drained().await;
    assert_eq!(app.graph.texts_to(citizen.address()).len(), 2, "the template is not sent a second time");
    assert_eq!(outbox_row(&app, "notice").await.0, "failed");
    assert_eq!(outbox_row(&app, "notice").await.1, Some(131047));
}

#[tokio::test]
async fn a_failed_status_131047_resends_the_message_as_its_template() {
    let app = spawn_app_with(|s| {
        template(s, "notice", "meldeweg_hinweis", &[]);
    })
    .await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Kanaldeckel klappert")).await;
    app.queue_drained().await;
    let wamid = app.graph.delivered_to(citizen.address())[0].wamid.clone().unwrap();
    let failed = status(&wamid, "failed", citizen.address(), Some(131047));
    for _ in 0..2 {
        assert_eq!(app.post_webhook(&delivery(vec![], vec![], vec![failed.clone()])).await.status(), 200);
    }
    app.queue_drained().await;
    let delivered = app.graph.texts_to(citizen.address());
    assert_eq!(delivered.len(), 3, "one resend, although the status came twice: {delivered:?}");
    assert_eq!(delivered[2], "template:meldeweg_hinweis:");
    assert_eq!(outbox_row(&app, "notice").await.0, "sent");
}

#[tokio::test]
async fn delivery_statuses_move_forward_in_any_order_and_repeats_change_nothing() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Papierkorb voll")).await;
    app.queue_drained().await;
    let sent = app.graph.delivered_to(citizen.address());
    let (notice, request) = (sent[0].wamid.clone().unwrap(), sent[1].wamid.clone().unwrap());
    let to = citizen.address();
    let statuses = vec![
        status(&notice, "read", to, None),
        status(&notice, "delivered", to, None),
        status(&notice, "sent", to, None),
        status(&notice, "read", to, None),
        status(&request, "failed", to, Some(131026)),
        status("wamid.not-ours", "delivered", to, None),
        status(&request, "deleted", to, None),
    ];
    let response = app.post_webhook(&delivery(vec![], vec![], statuses)).await;
    assert_eq!(response.status(), 200);
    let row = sqlx::query("SELECT state, delivered_at, read_at FROM outbox WHERE name = 'notice'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("state"), "read");
    assert!(row.get::<Option<i64>, _>("delivered_at").is_some() && row.get::<Option<i64>, _>("read_at").is_some());
    assert_eq!(outbox_row(&app, "location_request").await.0, "failed");
    assert_eq!(outbox_row(&app, "location_request").await.1, Some(131026));
}

#[tokio::test]
async fn an_eu_provider_gets_the_same_messages_at_its_own_path_and_auth_header() {
    let app = spawn_app_with(|s| {
        s.channels.set("whatsapp.messages_path", "/messages");
        s.channels.set("whatsapp.auth_header", "D360-API-KEY");
        s.channels.set("whatsapp.auth_scheme", "");
    })
    .await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Straßenschild verdreht")).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies, vec![app.render(TextKey::Notice), app.render(TextKey::LocationRequest)]);
}
