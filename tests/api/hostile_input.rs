//! Hostile input on the HTTP surfaces (issue 21): security headers on every page, text that
//! would reorder or hide words, forged log lines, over-long bodies, uploads sent before their
//! form's token, and a media object that names a foreign host for our access token.

use meldeweg::staff::Role;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::helpers::*;
use crate::staff_helpers::*;

/// The right-to-left override: it turns the text after it around on the screen.
const RLO: char = '\u{202E}';

#[tokio::test]
async fn every_page_and_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/melden", "/m/no-such-report", "/staff/login", "/healthz", "/assets/home.css"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let csp = header("content-security-policy");
        assert!(csp.starts_with("default-src 'self';") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert!(header("permissions-policy").contains("camera=()"), "{path}");
    }
    // With no inline style or script anywhere, the policy breaks no page.
    for path in ["/", "/melden", "/staff/login"] {
        let page = app.http.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<style") && !page.contains(" style=\""), "{path} has inline style");
        assert!(!page.contains("<script>") && !page.contains("onclick="), "{path} has inline script");
    }
}

#[tokio::test]
async fn hidden_and_reordering_characters_never_reach_a_page() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let words = format!("Schlagloch{RLO}ssaB\u{2066} vor\u{200B} Nr. 3\u{2069}\u{200F}");
    let (citizen, reference, order) = reported(&app, &words, (51.9625, 7.6256)).await;
    let stored: String = sqlx::query_scalar("SELECT description FROM reports WHERE reference = $1")
        .bind(&reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, "SchlaglochssaB vor Nr. 3", "a chat text is cleaned as it enters the core");
    // A staff reason with an override: stored and shown without it.
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let reason = format!("Privatgrund{RLO}, bitte Eigentümer ansprechen");
    let body = json!({ "transition": "reject", "reason": reason });
    let path = format!("/api/v1/orders/{order}/transitions");
    let response = app.http.post(app.url(&path)).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.queue_drained().await;
    let page = app.http.get(app.status_link(&reference).await.replace(PUBLIC_URL, &app.address)).send().await;
    let page = page.unwrap().text().await.unwrap();
    assert!(page.contains("Privatgrund, bitte Eigentümer ansprechen"), "the reason is shown: {page}");
    assert!(!page.contains(RLO) && !page.contains('\u{2066}'), "no override on the public page");
    let replies = app.replies(&citizen, 3).await;
    assert!(replies.iter().all(|reply| !reply.contains(RLO)), "nor in the chat: {replies:?}");
}

#[tokio::test]
async fn a_forged_log_line_stays_inside_its_field() {
    let app = spawn_app().await;
    let served = Served::start(&app, &[]).await;
    let forged = "boom\r\n2026-12-06T00:00:00.000000Z ERROR meldeweg: FORGED\u{1b}[2K\u{202E}";
    let mut delivery = delivery(vec![], vec![], vec![]);
    delivery["entry"][0]["changes"][0]["value"]["errors"] = json!([{ "code": 131000, "title": forged }]);
    served.deliver(&delivery).await;
    let log = served.stop().await;
    assert!(log.contains("WhatsApp reported an error in a delivery"), "the delivery was logged:\n{log}");
    assert!(log.lines().all(|line| !line.starts_with("2026-12-06T00:00:00.000000Z")), "a forged line:\n{log}");
    assert!(!log.contains('\u{1b}') && !log.contains(RLO), "escape or override in the log:\n{log}");
    assert!(log.contains("boom\\u{d}\\u{a}2026-12-06"), "the title is kept, escaped:\n{log}");
}

#[tokio::test]
async fn over_long_bodies_are_answered_413() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let (_, _, order) = reported(&app, "Schlagloch", (51.9625, 7.6256)).await;
    let long = json!({ "transition": "accept", "note": "x".repeat(70 * 1024) });
    let path = format!("/api/v1/orders/{order}/transitions");
    let response = app.http.post(app.url(&path)).bearer_auth(&token).json(&long).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("longer than"), "{error}");
    // A staff form without an upload.
    let session = login(&app, "dispo@musterstadt.de").await;
    let text = "x".repeat(70 * 1024);
    let response = session.post(&app, &format!("/staff/orders/{order}/comment"), &[("text", &text)]).await;
    assert_eq!(response.status(), 413);
    // The after-photo form over the photo limit.
    let big = vec![0u8; app.settings.photos.max_input_mib as usize * 1024 * 1024 + 128 * 1024];
    let form = reqwest::multipart::Form::new()
        .text("csrf", session.csrf.clone())
        .part("photo", reqwest::multipart::Part::bytes(big).file_name("p.jpg"));
    let path = format!("/staff/orders/{order}/done");
    let response = session.http.post(app.url(&path)).header(COOKIE, &session.cookie).multipart(form).send().await;
    assert_eq!(response.unwrap().status(), 413);
}

#[tokio::test]
async fn an_upload_without_the_forms_token_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let (_, _, order) = reported(&app, "Schlagloch", (51.9625, 7.6256)).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let path = format!("/staff/orders/{order}/done");
    // The photo comes first and the token never: refused, and the order is not done.
    let photo = reqwest::multipart::Part::bytes(fixture_photo("recompressed_nometa.jpg")).file_name("p.jpg");
    let form = reqwest::multipart::Form::new().part("photo", photo).text("csrf", session.csrf.clone());
    let response = session.http.post(app.url(&path)).header(COOKIE, &session.cookie).multipart(form).send().await;
    assert_eq!(response.unwrap().status(), 403);
    let form = reqwest::multipart::Form::new().text("csrf", "wrong").text("other", "x");
    let response = session.http.post(app.url(&path)).header(COOKIE, &session.cookie).multipart(form).send().await;
    assert_eq!(response.unwrap().status(), 403);
    let status: String = sqlx::query_scalar("SELECT status FROM work_orders WHERE number = $1")
        .bind(&order)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(status, "done");
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 0, "no photo was cleaned");
}

#[tokio::test]
async fn the_access_token_does_not_go_to_a_host_the_media_object_names() {
    let app = spawn_app().await;
    // A listener that would see the download (its TLS hello) if it were tried.
    let thief = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let thief_url = format!("https://{}", thief.local_addr().unwrap());
    app.graph.media_files_at(&thief_url);
    let citizen = Citizen::new();
    app.send(&citizen, image(&app, "media-elsewhere", fixture_photo("recompressed_nometa.jpg"), None)).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[1], app.render(meldeweg::texts::TextKey::PhotoUnavailable));
    let contacted = tokio::time::timeout(std::time::Duration::from_millis(300), thief.accept()).await;
    assert!(contacted.is_err(), "the media download went to the foreign host");
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 0);
}

#[tokio::test]
async fn webhook_bodies_held_at_once_are_bounded_and_a_turned_away_delivery_is_retried() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 1024).await;
    // Sixteen posts that announce a full-size body and send none of it hold the webhook's budget.
    let mut held = Vec::new();
    for _ in 0..16 {
        let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
        let head = "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n";
        tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.unwrap();
        held.push(stream);
    }
    let citizen = Citizen::new();
    let delivery = delivery(vec![citizen.contact()], vec![citizen.message(text("Schlagloch"))], vec![]);
    let refused = app.post_webhook(&delivery).await;
    assert_eq!(refused.status(), 503, "no room for another body: the provider is asked to retry");
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 0);
    held.clear();
    eventually("the budget is free again", || async { app.post_webhook(&delivery).await.status() == 200 }).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events").await, 1);
}

#[tokio::test]
async fn uploads_held_at_once_are_bounded_and_the_next_form_is_asked_to_come_back() {
    let app = spawn_app_with(|s| {
        s.photos.max_input_mib = 1;
        s.http.max_upload_mib_in_flight = 1;
        // The slow form below must not time out while a loaded machine answers the others.
        s.http.body_timeout_seconds = 300;
        s.http.request_timeout_seconds = 600;
        // Each form below comes from its own address (via the proxy), so the limit of 20 forms
        // per address and hour does not end the test before the budget is seen full.
        s.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // A form whose photo is still arriving holds the whole budget.
    let address = app.address.trim_start_matches("http://").to_string();
    let open_slow = || async {
        let head = "POST /melden HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500000\r\n\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nSchlagloch\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n";
        let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut slow, head.as_bytes()).await.unwrap();
        slow
    };
    let mut slow = open_slow().await;
    let form = || {
        reqwest::multipart::Form::new()
            .text("description", "Laterne defekt")
            .text("lat", "51.975")
            .text("lon", "7.645")
            .part("photo", reqwest::multipart::Part::bytes(fixture_photo("recompressed_nometa.jpg")).file_name("p.jpg"))
    };
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut busy = None;
    for n in 0..200 {
        // On a loaded machine the slow form may have come second to a form still being
        // cleaned and been answered 503 itself: then it comes again, to hold the budget.
        let mut answer = [0u8; 64];
        if !matches!(slow.try_read(&mut answer), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            slow = open_slow().await;
        }
        let client = format!("10.0.{}.{}", n / 250, n % 250 + 1);
        let response =
            http.post(app.url("/melden")).header("x-forwarded-for", client).multipart(form()).send().await.unwrap();
        if response.status() == 503 {
            busy = Some(response.text().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let busy = busy.expect("a form found no room while the other photo arrived");
    assert!(busy.contains("sehr viele Fotos"), "{busy}");
    drop(slow);
    let stored = || async {
        let response = http.post(app.url("/melden")).header("x-forwarded-for", "10.9.9.9").multipart(form());
        response.send().await.unwrap().status() == 303
    };
    eventually("the budget is free again", stored).await;
}
