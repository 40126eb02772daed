//! The sandbox simulator: a municipality tries Meldeweg without a WhatsApp account.

use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::*;

async fn spawn_sandbox() -> TestApp {
    spawn_app_with(|s| {
        s.channels.set("whatsapp.mode", "sandbox");
    })
    .await
}

async fn chat(app: &TestApp, from: &str) -> Value {
    let response = app.http.post(app.url("/sandbox/api/chat")).json(&json!({ "from": from })).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn say(app: &TestApp, message: Value) -> reqwest::Response {
    app.http.post(app.url("/sandbox/api/messages")).json(&message).send().await.unwrap()
}

#[tokio::test]
async fn the_sandbox_page_and_its_assets_are_served() {
    let app = spawn_sandbox().await;
    let page = app.http.get(app.url("/sandbox")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("WhatsApp-Sandbox") && html.contains("Musterstadt"));
    let limit = app.settings.photos.max_input_mib as usize * 1024 * 1024;
    assert!(html.contains(&format!("data-max-photo-bytes=\"{limit}\"")), "the page knows the photo limit");
    for asset in ["sandbox.js", "sandbox.css"] {
        let response = app.http.get(app.url(&format!("/assets/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
    let missing = app.http.get(app.url("/assets/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let home = app.http.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/sandbox\"") && home.contains("href=\"/melden\""), "{home}");
}

#[tokio::test]
async fn a_pothole_reported_in_the_sandbox_gets_a_reference_and_nothing_leaves_the_machine() {
    let app = spawn_sandbox().await;
    let from = "4917612345678";
    assert_eq!(
        say(&app, json!({ "from": from, "kind": "text", "text": "Schlagloch in der Lindenstraße" })).await.status(),
        200
    );
    eventually("the location request", || async { chat(&app, from).await["items"].as_array().unwrap().len() >= 3 })
        .await;
    let location = json!({ "from": from, "kind": "location", "lat": 51.9607, "lon": 7.6261, "name": "Rathaus" });
    assert_eq!(say(&app, location).await.status(), 200);
    eventually("the reference number, sent", || async {
        let chat = chat(&app, from).await;
        let items = chat["items"].as_array().unwrap();
        items.iter().any(|i| i["text"].as_str().unwrap().contains("M-"))
            && items.iter().filter(|i| i["direction"] == "out").all(|i| i["state"] == "sent")
    })
    .await;
    let items = chat(&app, from).await["items"].as_array().unwrap().clone();
    let kinds: Vec<(&str, &str)> =
        items.iter().map(|i| (i["direction"].as_str().unwrap(), i["kind"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        vec![("in", "text"), ("out", "text"), ("out", "location_request"), ("in", "location"), ("out", "text")]
    );
    assert!(app.graph.requests().is_empty(), "sandbox mode sends nothing to WhatsApp");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
}

#[tokio::test]
async fn the_chat_long_poll_answers_when_something_changes() {
    let app = spawn_sandbox().await;
    let from = "4917600000001";
    let first = chat(&app, from).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 0);
    let known = first["fingerprint"].clone();
    let waiting = app.http.post(app.url("/sandbox/api/chat")).json(&json!({ "from": from, "known": known })).send();
    let (answer, _) = tokio::join!(waiting, async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        say(&app, json!({ "from": from, "kind": "text", "text": "Hallo" })).await
    });
    let answer: Value = answer.unwrap().json().await.unwrap();
    assert_ne!(answer["fingerprint"], known);
    assert!(!answer["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn sandbox_photos_go_through_cleaning_and_a_confirmed_photo_position_places_the_report() {
    let app = spawn_sandbox().await;
    let post = |bytes: Vec<u8>, from: &str| {
        app.http
            .post(app.url("/sandbox/api/photo"))
            .header("x-sandbox-from", from)
            .header("x-sandbox-caption", "R2zDpHNzY2hlcmJlbg==") // base64 of "Glässcherben"
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
    };
    let pdf = post(b"%PDF-1.7 not a photo".to_vec(), "4917600000002").await.unwrap();
    assert_eq!(pdf.status(), 415);
    let photo = fixture_photo("phone_o6_gps.jpg");
    assert_eq!(post(photo.clone(), "12").await.unwrap().status(), 400, "a bad number is refused");
    let too_big = vec![0xFF; app.settings.photos.max_input_mib as usize * 1024 * 1024 + 1];
    assert_eq!(post(too_big, "4917600000002").await.unwrap().status(), 413);
    assert_eq!(post(photo, "4917600000002").await.unwrap().status(), 200);
    app.queue_drained().await;
    let chat: Value = app
        .http
        .post(app.url("/sandbox/api/chat"))
        .json(&json!({ "from": "4917600000002" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let question = chat["items"].as_array().unwrap().iter().find(|i| i["kind"] == "buttons").expect("place question");
    assert_eq!(question["choices"][0], json!({ "id": "place:yes", "title": "Ja, hier" }));
    let yes = json!({ "from": "4917600000002", "kind": "choice", "id": "place:yes", "title": "Ja, hier" });
    assert_eq!(say(&app, yes).await.status(), 200);
    app.queue_drained().await;
    let row = sqlx::query("SELECT description, location_source FROM reports").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(row.get::<Option<String>, _>("description").as_deref(), Some("Glässcherben"));
    assert_eq!(row.get::<String, _>("location_source"), "photo_exif");
    assert_eq!(app.count("SELECT COUNT(*) FROM photos WHERE report_id IS NOT NULL AND token IS NOT NULL").await, 1);
}

#[tokio::test]
async fn bad_sandbox_input_gets_a_clear_400() {
    let app = spawn_sandbox().await;
    for (message, reason) in [
        (json!({ "from": "+49 176", "kind": "text", "text": "x" }), "6 to 15 digits"),
        (json!({ "kind": "text", "text": "x" }), "number or a user id"),
        (json!({ "from": "4917600000003", "kind": "text", "text": "   " }), "1 to 4096"),
        (json!({ "from": "4917600000003", "kind": "text", "text": "x".repeat(4097) }), "1 to 4096"),
        (json!({ "from": "4917600000003", "kind": "location", "lat": 95.0, "lon": 7.0 }), "latitude"),
        (json!({ "from": "4917600000003", "kind": "choice", "id": "", "title": "Ja" }), "a choice needs"),
        (json!({ "from": "4917600000003", "kind": "choice", "id": "x", "title": "y".repeat(25) }), "a choice needs"),
    ] {
        let response = say(&app, message).await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(reason), "{error} should say {reason:?}");
    }
    let unknown_kind = say(&app, json!({ "from": "4917600000003", "kind": "hologram" })).await;
    assert_eq!(unknown_kind.status(), 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 0);
}

#[tokio::test]
async fn there_is_no_sandbox_in_cloud_mode() {
    let app = spawn_app().await;
    assert_eq!(app.http.get(app.url("/sandbox")).send().await.unwrap().status(), 404);
    let injected = say(&app, json!({ "from": "4917600000004", "kind": "text", "text": "x" })).await;
    assert_eq!(injected.status(), 404);
}
