//! `/webhooks/whatsapp`: handshake, authentication, parsing every message type, redelivery,
//! and bad input answered with a clear 4xx and nothing stored.

use meldeweg::channels::whatsapp::signature::sign;
use meldeweg::texts::TextKey;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_handshake_echoes_the_challenge_for_the_right_verify_token() {
    let app = spawn_app().await;
    let url = app.url(&format!(
        "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    ));
    let response = app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "1158201444");
}

#[tokio::test]
async fn the_handshake_is_refused_for_a_wrong_or_missing_token_or_mode() {
    let app = spawn_app().await;
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
        &format!("hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"),
        "",
    ] {
        let response = app.http.get(app.url(&format!("/webhooks/whatsapp?{query}"))).send().await.unwrap();
        assert_eq!(response.status(), 403, "query {query:?}");
    }
    let script =
        format!("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=%3Cscript%3E");
    let response = app.http.get(app.url(&script)).send().await.unwrap();
    assert_eq!(response.status(), 400, "a challenge that is not a plain token is not echoed");
}

#[tokio::test]
async fn deliveries_without_a_valid_signature_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let body =
        serde_json::to_vec(&delivery(vec![citizen.contact()], vec![citizen.message(text("Müll"))], vec![])).unwrap();

    let missing = app.post_webhook_bytes(body.clone(), None).await;
    assert_eq!(missing.status(), 401);
    assert!(missing.text().await.unwrap().contains("missing"));

    let wrong_secret = sign(b"not-the-app-secret", &body);
    assert_eq!(app.post_webhook_bytes(body.clone(), Some(wrong_secret)).await.status(), 401);

    let mut tampered = body.clone();
    let signature = sign(APP_SECRET.as_bytes(), &body);
    *tampered.last_mut().unwrap() = b' ';
    assert_eq!(app.post_webhook_bytes(tampered, Some(signature)).await.status(), 401);

    assert_eq!(app.post_webhook_bytes(body.clone(), Some("sha256=zz".into())).await.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 0);

    let signature = sign(APP_SECRET.as_bytes(), &body);
    assert_eq!(app.post_webhook_bytes(body, Some(signature)).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 1);
}

#[tokio::test]
async fn malformed_json_gets_400_with_the_reason_and_nothing_is_stored() {
    let app = spawn_app().await;
    for (body, reason) in [
        (&b"{\"object\": \"whatsapp_business_account\", \"entry\": ["[..], "EOF"),
        (b"not json at all", "expected"),
        (b"{\"object\":\"whatsapp_business_account\"}", "entry"),
        (b"{\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":7}}]}]}", "malformed"),
        (
            b"{\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":\"0151 5550123\"}}]}]}",
            "malformed",
        ),
        (b"{\"object\":\"whatsapp_business_account\",\"entry\":\"Anna Meier, 0151 5550123\"}", "invalid type"),
        (b"{\"entry\":\"Anna, expected 0151 5550123\"}", "invalid type"),
    ] {
        let signature = sign(APP_SECRET.as_bytes(), body);
        let response = app.post_webhook_bytes(body.to_vec(), Some(signature)).await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.unwrap();
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(reason), "{message:?} should mention {reason:?}");
        assert!(!message.contains("5550123") && !message.contains("Anna"), "the reason repeats a value: {message:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 64 * 1024).await;
    let citizen = Citizen::new();
    let long = "x".repeat(70 * 1024);
    let body =
        serde_json::to_vec(&delivery(vec![citizen.contact()], vec![citizen.message(text(&long))], vec![])).unwrap();
    let signature = sign(APP_SECRET.as_bytes(), &body);
    assert_eq!(app.post_webhook_bytes(body, Some(signature)).await.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 0);
}

/// One citizen per message type, so each answer can be checked on its own.
fn every_message_type() -> Vec<(Citizen, Value, Vec<TextKey>)> {
    use TextKey::*;
    let media = |kind: &str, extra: Value| {
        let sha256 = announced_sha256(&fixture_photo("recompressed_nometa.jpg"));
        let mut media = json!({ "id": "1037543291543636", "mime_type": "image/jpeg", "sha256": sha256 });
        for (k, v) in extra.as_object().unwrap() {
            media[k] = v.clone();
        }
        json!({ "type": kind, kind: media })
    };
    let context = json!({ "from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA" });
    let cases = vec![
        (text("Die Laterne vor Nr. 4 ist aus"), vec![Notice, LocationRequest]),
        (media("image", json!({ "caption": "Schlagloch" })), vec![Notice, LocationRequest]),
        (
            media("document", json!({ "mime_type": "application/pdf", "filename": "a.pdf" })),
            vec![Notice, UnsupportedDocument],
        ),
        (media("document", json!({ "filename": "IMG_0001.JPG" })), vec![Notice, LocationRequest]),
        (
            media("audio", json!({ "mime_type": "audio/ogg; codecs=opus", "voice": true })),
            vec![Notice, UnsupportedAudio],
        ),
        (media("video", json!({ "mime_type": "video/mp4" })), vec![Notice, UnsupportedVideo]),
        (media("sticker", json!({ "mime_type": "image/webp", "animated": false })), vec![]),
        (location(51.9607, 7.6261), vec![Notice, AskDescription]),
        (
            json!({ "type": "contacts", "contacts": [{ "name": { "formatted_name": "Max Muster" },
                     "phones": [{ "phone": "+49 151 1111111", "wa_id": "491511111111", "type": "MOBILE" }] }] }),
            vec![Notice, UnsupportedContacts],
        ),
        (
            json!({ "type": "interactive", "context": context,
                    "interactive": { "type": "button_reply", "button_reply": { "id": "yes", "title": "Gehweg kaputt" } } }),
            vec![Notice, LocationRequest],
        ),
        (
            json!({ "type": "interactive", "context": context,
                    "interactive": { "type": "list_reply",
                                     "list_reply": { "id": "r1", "title": "Müll", "description": "wilder Müll" } } }),
            vec![Notice, LocationRequest],
        ),
        (
            json!({ "type": "button", "context": context, "button": { "payload": "STOP", "text": "Abmelden" } }),
            vec![Stopped],
        ),
        (json!({ "type": "reaction", "reaction": { "message_id": "wamid.X", "emoji": "👍" } }), vec![]),
        (
            json!({ "type": "order", "order": { "catalog_id": "1", "text": "", "product_items": [] } }),
            vec![Notice, UnsupportedOther],
        ),
        (
            json!({ "type": "system", "system": { "body": "changed number", "wa_id": "49170", "type": "user_changed_number" } }),
            vec![],
        ),
        (
            json!({ "type": "unsupported", "errors": [{ "code": 131051, "title": "Message type unknown",
                    "message": "Message type unknown", "error_data": { "details": "Message type is currently not supported." } }] }),
            vec![Notice, UnsupportedOther],
        ),
        (
            json!({ "type": "hologram", "hologram": { "depth": 3 }, "brand_new_field": [1, 2] }),
            vec![Notice, UnsupportedOther],
        ),
    ];
    cases.into_iter().map(|(content, expected)| (Citizen::new(), content, expected)).collect()
}

#[tokio::test]
async fn a_delivery_with_every_message_type_is_stored_and_each_gets_the_right_answer() {
    let app = spawn_app().await;
    app.graph.add_media("1037543291543636", fixture_photo("recompressed_nometa.jpg"));
    let cases = every_message_type();
    let contacts = cases.iter().map(|(c, _, _)| c.contact()).collect();
    let messages = cases.iter().map(|(c, content, _)| c.message(content.clone())).collect();
    let statuses = vec![status("wamid.unknown-to-us", "delivered", "4915100000000", None)];
    let mut body = delivery(contacts, messages, statuses);
    body["entry"][0]["changes"][0]["value"]["errors"] =
        json!([{ "code": 131051, "title": "Unsupported message type" }]);
    body["entry"][0]["changes"].as_array_mut().unwrap().push(json!({
        "field": "message_template_status_update", "value": { "event": "APPROVED" } }));

    let response = app.post_webhook(&body).await;
    assert_eq!(response.status(), 200);
    let received: Value = response.json().await.unwrap();
    assert_eq!(received["messages"], cases.len());
    assert_eq!(received["invalid"], 0);
    assert_eq!(received["statuses"], 1);

    app.queue_drained().await;
    for (citizen, content, expected) in &cases {
        let expected: Vec<String> = expected.iter().map(|key| app.render(*key)).collect();
        assert_eq!(app.graph.texts_to(citizen.address()), expected, "answer to a {} message", content["type"]);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 2, "the image and the image document");
    assert!(app.graph.invalid_requests().is_empty(), "{:?}", app.graph.invalid_requests());
}

#[tokio::test]
async fn a_redelivered_delivery_makes_one_report_and_one_answer() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Ampel an der Schule blinkt nur noch gelb")).await;
    app.replies(&citizen, 2).await;
    let located = delivery(vec![citizen.contact()], vec![citizen.message(location(51.9607, 7.6261))], vec![]);
    for _ in 0..3 {
        assert_eq!(app.post_webhook(&located).await.status(), 200);
    }
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 2);
    assert_eq!(app.graph.texts_to(citizen.address()).len(), 3, "notice, location request, reference");
}

#[tokio::test]
async fn an_unreadable_message_is_kept_as_invalid_and_the_others_are_answered() {
    let app = spawn_app().await;
    let good = Citizen::new();
    let broken = json!({ "from": "4915199999999", "type": "text", "text": { "body": "no id, no timestamp" } });
    let bad_location = Citizen::new().message(json!({ "type": "location", "location": { "latitude": "north" } }));
    // Values in the wrong place: the reason kept for them must not repeat the number or the text.
    let number_as_number = json!({
        "id": "wamid.misplaced.1", "from": 4915188877766u64, "timestamp": "1767225600",
        "type": "text", "text": { "body": "Laterne aus" }
    });
    let text_as_string = json!({
        "id": "wamid.misplaced.2", "from": "4915188877766", "timestamp": "1767225600",
        "type": "text", "text": "Anna, expected: ruf mich an, 0151 5550123"
    });
    let messages = vec![broken, bad_location, number_as_number, text_as_string, good.message(text("Baum umgestürzt"))];
    let response = app.post_webhook(&delivery(vec![good.contact()], messages, vec![])).await;
    assert_eq!(response.status(), 200);
    let received: Value = response.json().await.unwrap();
    assert_eq!((received["messages"].as_u64(), received["invalid"].as_u64()), (Some(1), Some(4)));
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events WHERE kind = 'invalid'").await, 4);
    let reasons: Vec<String> = sqlx::query_scalar("SELECT error FROM inbound_events WHERE kind = 'invalid'")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(reasons.iter().filter(|r| r.contains("invalid type")).count(), 3, "{reasons:?}");
    for reason in &reasons {
        for value in ["4915188877766", "5550123", "Anna", "north"] {
            assert!(!reason.contains(value), "{value} in {reason}");
        }
    }
    assert_eq!(app.replies(&good, 2).await.len(), 2);
}

#[tokio::test]
async fn an_eu_provider_can_authenticate_webhooks_with_a_header_instead_of_a_signature() {
    let app = spawn_app_with(|s| {
        s.channels.set("whatsapp.webhook_auth", "header");
        s.channels.set("whatsapp.webhook_auth_header", "X-Provider-Secret");
    })
    .await;
    let citizen = Citizen::new();
    let body =
        serde_json::to_vec(&delivery(vec![citizen.contact()], vec![citizen.message(text("Müll"))], vec![])).unwrap();
    let post = |secret: Option<&'static str>| {
        let mut request = app.http.post(app.url("/webhooks/whatsapp")).body(body.clone());
        if let Some(secret) = secret {
            request = request.header("x-provider-secret", secret);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(post(Some(APP_SECRET)).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_start_page_introduces_each_channel_and_shows_no_simulator_in_cloud_mode() {
    let app = spawn_app().await;
    let home = app.http.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/webhooks/whatsapp") && home.contains("href=\"/melden\""), "{home}");
    assert!(!home.contains("href=\"/sandbox\""), "no simulator in cloud mode: {home}");
}

#[tokio::test]
async fn health_and_readiness_report_the_process_and_the_database() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");

    // A newer version migrated the database further (a rollback without its restore).
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99999999, 'from a newer version', $1, $2, 1)",
    )
    .bind(true)
    .bind(vec![0u8; 48])
    .execute(app.db.pool())
    .await
    .unwrap();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let reason = ready.json::<Value>().await.unwrap()["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason.contains("newer version") && reason.contains("upgrade this instance"), "{reason}");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version >= 99999999").execute(app.db.pool()).await.unwrap();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "back to the versions this build knows");

    app.db.close().await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "a closed database is not ready");
}

/// Posts `delivery` signed, with `X-Request-Id: request_id`; returns the id the answer names.
async fn post_with_request_id(app: &TestApp, delivery: &Value, request_id: &str) -> String {
    let body = serde_json::to_vec(delivery).unwrap();
    let response = app
        .http
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), &body))
        .header("x-request-id", request_id)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_request_id_of_a_delivery_follows_its_message_into_every_job_it_leads_to() {
    let app = spawn_app().await;
    // Replies fail for now, so the reply's job stays in the queue to be looked at.
    app.graph.script(std::iter::repeat_n(crate::fake_graph::Answer::Status(503), 10_000));
    let citizen = Citizen::new();
    let first = delivery(vec![citizen.contact()], vec![citizen.message(text("Laterne kaputt"))], vec![]);
    assert_eq!(post_with_request_id(&app, &first, "proxy-4711").await, "proxy-4711", "the answer names it");
    eventually("the intake to have queued the reply", || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND request_id = 'proxy-4711'").await == 1
    })
    .await;

    // An id a client could forge lines with is not taken: the request gets one of its own.
    let other = Citizen::new();
    let second = delivery(vec![other.contact()], vec![other.message(text("Müll"))], vec![]);
    let given = post_with_request_id(&app, &second, "a b\tc").await;
    assert!(given.len() == 16 && given.bytes().all(|b| b.is_ascii_hexdigit()), "{given}");
}
