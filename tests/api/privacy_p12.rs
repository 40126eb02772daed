//! P12 alternatives: the public web form at /melden feeds the same pipeline as the chat (same
//! photo cleaning, same triage), needs no personal data, ends on the report's status page, and
//! sends updates by e-mail (through a local SMTP sink) when the citizen gives an address. Bad
//! input gets the form back with a clear reason and leaves nothing stored.

use meldeweg::staff::Role;
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;
use reqwest::multipart::{Form, Part};
use reqwest::redirect::Policy;

use crate::fake_smtp::FakeSmtp;
use crate::helpers::*;
use crate::staff_helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn post(app: &TestApp, form: Form) -> reqwest::Response {
    no_redirects().post(app.url("/melden")).multipart(form).send().await.unwrap()
}

fn photo(name: &str, bytes: Vec<u8>, mime: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap()
}

async fn with_mail() -> (TestApp, FakeSmtp) {
    let sink = FakeSmtp::start().await;
    let url = sink.url();
    let app = spawn_app_with(|settings| settings.channels.set("email.smtp_url", url)).await;
    (app, sink)
}

#[tokio::test]
async fn a_report_from_the_form_is_triaged_shown_on_its_status_page_and_mailed_about() {
    let (app, sink) = with_mail().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let page = app.http.get(app.url("/melden")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("name=\"email\"") && page.contains("110") && page.contains("name=\"photo\""));

    let form = Form::new()
        .text("description", "Tiefes Schlagloch vor der Einfahrt")
        .text("lat", NORD.0.to_string())
        .text("lon", NORD.1.to_string())
        .text("email", "anna.meier@example.org")
        .part("photo", photo("schlagloch.jpg", fixture_photo("phone_o6_gps.jpg"), "image/jpeg"));
    let response = post(&app, form).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/m/"), "{location}");
    app.queue_drained().await;

    let (reference, channel, source, reporter, sealed): (String, String, String, Option<i64>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT reference, channel, location_source, reporter_id, contact_enc FROM reports")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((channel.as_str(), source.as_str(), reporter), ("web", "map_pin", None));
    let sealed = sealed.expect("the address is kept for updates");
    assert!(!String::from_utf8_lossy(&sealed).contains("anna.meier"), "sealed, not plain");
    let status_page = app.http.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(status_page.contains(&reference), "the citizen lands on the status page");
    assert!(location.ends_with("?neu=mail"), "{location}");
    let location = location.trim_end_matches("?neu=mail").to_string();
    assert!(status_page.contains("Wir schreiben Ihnen an die angegebene E-Mail-Adresse"), "it says how it goes on");
    assert!(!status_page.contains("anna.meier"), "without showing the address");
    let (photo_report, photo_reporter): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT report_id, reporter_id FROM photos").fetch_one(app.db.pool()).await.unwrap();
    assert!(photo_report.is_some() && photo_reporter.is_none());
    let (order, order_channel): (String, String) =
        sqlx::query_as("SELECT number, channel FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(order_channel, "web", "the order keeps the channel of the report that opened it");

    eventually("the acknowledgement by e-mail", || async { !sink.mails().is_empty() }).await;
    let mail = &sink.mails()[0];
    assert_eq!(mail.recipients, ["anna.meier@example.org"]);
    assert!(mail.subject.contains(&reference), "{mail:?}");
    assert!(mail.body.contains(&reference) && mail.body.contains(&location), "{}", mail.body);
    assert_eq!(mail.body.matches(location.as_str()).count(), 1, "the status page once: {}", mail.body);

    transitions(&app, &token, &order, &["accept", "done"]).await;
    eventually("two more e-mails", || async { sink.mails().len() == 3 }).await;
    let bodies: Vec<String> = sink.mails().iter().map(|m| m.body.clone()).collect();
    let link = format!("{}{location}", app.settings.public_base());
    let params = [("reference", reference.as_str()), ("link", link.as_str())];
    for (body, key) in bodies[1..].iter().zip([TextKey::OrderAccepted, TextKey::OrderDone]) {
        let update = app.render_in(Lang::De, key, &params);
        assert!(body.contains(&update), "{update:?} not in {body:?}");
    }
    let kept = app.count("SELECT COUNT(*) FROM reports WHERE contact_enc IS NOT NULL").await;
    assert_eq!(kept, 0, "the address goes with the update that reports the closing");
    let sent = app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'message.sent' AND reporter_id IS NULL").await;
    assert_eq!(sent, 3, "each mail is on record, without the address");
    app.seal_audit().await;
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log WHERE detail IS NOT NULL")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(details.iter().all(|d| !d.contains("anna.meier")));
}

#[tokio::test]
async fn a_citizen_who_used_the_english_form_gets_english_mail() {
    let (app, sink) = with_mail().await;
    let form = Form::new()
        .text("lang", "en")
        .text("description", "Broken bench in the park")
        .text("lat", SUED.0.to_string())
        .text("lon", SUED.1.to_string())
        .text("email", "visitor@example.org");
    let response = post(&app, form).await;
    assert_eq!(response.status(), 303);
    assert!(response.headers()["location"].to_str().unwrap().ends_with("?neu=mail&lang=en"));
    eventually("the acknowledgement by e-mail", || async { !sink.mails().is_empty() }).await;
    let mail = &sink.mails()[0];
    assert!(mail.subject.contains("your report"), "{mail:?}");
    assert!(mail.body.contains("You get this e-mail because"), "{}", mail.body);
}

#[tokio::test]
async fn the_place_can_come_from_an_address_or_the_photo_and_nothing_personal_is_needed() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/melden?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Report a problem") && !page.contains("name=\"email\""), "no e-mail without a server");
    let street: String = {
        let csv = std::fs::read_to_string(format!("{}/config/streets.csv", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let row = csv.lines().find(|line| !line.starts_with('#') && !line.starts_with("street,")).unwrap();
        row.split(',').next().unwrap().to_string()
    };
    let by_address = Form::new().text("description", "Laterne aus").text("address", format!("{street} 3"));
    let answer = post(&app, by_address).await;
    assert_eq!(answer.status(), 303);
    // Without an e-mail address the status page asks to keep its link, and shows it whole.
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?neu=link"), "{location}");
    let page = app.http.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    let own = format!("{}{}", app.settings.public_base(), location.trim_end_matches("?neu=link"));
    assert!(page.contains("Bewahren Sie ihre Adresse auf"), "{page}");
    assert!(page.contains(&format!(r#"<code id="own-link">{own}</code>"#)) && page.contains(r#"id="copy-link""#));
    let by_photo = Form::new().part("photo", photo("bild.jpg", fixture_photo("phone_o6_gps.jpg"), "image/jpeg"));
    assert_eq!(post(&app, by_photo).await.status(), 303);
    app.queue_drained().await;
    let sources: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT location_source, location_label FROM reports ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(sources[0], ("address".to_string(), Some(format!("{street} 3"))));
    assert_eq!(sources[1].0, "photo_exif");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE triaged_at IS NOT NULL").await, 2, "same triage");
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_and_nothing_is_stored() {
    let (app, sink) = with_mail().await;
    let lat = NORD.0.to_string();
    let lon = NORD.1.to_string();
    let pin = |form: Form| form.text("lat", lat.clone()).text("lon", lon.clone());
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let cases: Vec<(Form, &str)> = vec![
        (pin(Form::new().text("description", "x".repeat(4001))), "zu lang"),
        (pin(Form::new().part("photo", photo("antrag.pdf", pdf.clone(), "application/pdf"))), "JPEG, PNG oder WebP"),
        (pin(Form::new().part("photo", photo("tarnung.jpg", pdf, "image/jpeg"))), "JPEG, PNG oder WebP"),
        (Form::new().text("description", "Müll").text("lat", "91").text("lon", "7.6"), "Koordinaten sind ungültig"),
        (Form::new().text("description", "Müll").text("lat", "51.9").text("lon", "NaN"), "Koordinaten sind ungültig"),
        (Form::new().text("description", "Müll").text("lat", "51.9"), "Koordinaten sind ungültig"),
        (Form::new().text("description", "Müll"), "Bitte geben Sie den Ort an"),
        (Form::new().text("description", "Müll").text("address", "Nirgendwostraße 999"), "Adresse kennen wir nicht"),
        (pin(Form::new()), "beschreiben Sie das Problem"),
        (pin(Form::new().text("description", "Müll").text("category", "raketen")), "Kategorie gibt es nicht"),
        (pin(Form::new().text("description", "Müll").text("email", "anna@")), "keine gültige E-Mail-Adresse"),
        (pin(Form::new().text("description", "Müll").text("website", "http://spam")), "unvollständig"),
        (pin(Form::new().text("lat", "x".repeat(500)).text("description", "Müll")), "Feld ist zu lang"),
    ];
    for (form, reason) in cases {
        let response = post(&app, form).await;
        assert_eq!(response.status(), 422, "{reason}");
        let page = response.text().await.unwrap();
        assert!(page.contains(reason), "{reason:?} not in:\n{page}");
    }
    // Script tags are text: shown back escaped, never as markup.
    let response = post(&app, Form::new().text("description", "<script>alert('x')</script>")).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(!page.contains("<script>alert") && page.contains("&#60;script&#62;"), "{page}");
    let not_multipart = no_redirects().post(app.url("/melden")).body("description=x").send().await.unwrap();
    assert!(not_multipart.status().is_client_error());
    let huge = Part::bytes(vec![0u8; app.settings.photos.limits().max_input_bytes + 200_000]).file_name("riesig.jpg");
    let response = post(&app, pin(Form::new().part("photo", huge))).await;
    assert_eq!(response.status(), 413, "a body over the limit is refused before it is read");
    assert!(response.text().await.unwrap().contains("Das Foto ist zu groß"));

    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    let left = files_under(&app.settings.data_dir.join("photos"));
    assert!(left.is_empty(), "no cleaned photo of a refused submission is left: {left:?}");
    assert!(sink.mails().is_empty());

    // A description with markup is accepted as text; the staff page shows it escaped.
    let fine = pin(Form::new().text("description", "<b>Bank</b> kaputt <script>x()</script>"));
    assert_eq!(post(&app, fine).await.status(), 303);
    app.queue_drained().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    let page = session.get(&app, &format!("/staff/orders/{order}")).await.text().await.unwrap();
    assert!(page.contains("&#60;script&#62;x()&#60;/script&#62;") && !page.contains("<script>x()"), "{page}");
}

#[tokio::test]
async fn one_connection_may_send_twenty_reports_an_hour_then_it_is_asked_to_wait() {
    let app = spawn_app().await;
    let report = |n: usize| {
        Form::new()
            .text("description", format!("Müllsack Nummer {n}"))
            .text("lat", NORD.0.to_string())
            .text("lon", NORD.1.to_string())
    };
    for n in 0..20 {
        assert_eq!(post(&app, report(n)).await.status(), 303, "report {n}");
    }
    let refused = post(&app, report(20)).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("sehr viele Meldungen"));
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 20);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE description = 'Müllsack Nummer 20'").await, 0);
}

#[tokio::test]
async fn refused_submissions_use_up_the_allowance_and_a_restart_forgets_nothing() {
    let app = spawn_app().await;
    // Ten submissions without a place: refused, and counted (a photo would have been cleaned).
    for n in 0..10 {
        let form = Form::new().text("description", format!("Ohne Ort {n}"));
        assert_eq!(post(&app, form).await.status(), 422, "submission {n}");
    }
    let report = |n: usize| {
        Form::new()
            .text("description", format!("Laterne Nummer {n}"))
            .text("lat", NORD.0.to_string())
            .text("lon", NORD.1.to_string())
    };
    for n in 0..10 {
        assert_eq!(post(&app, report(n)).await.status(), 303, "report {n}");
    }
    assert_eq!(post(&app, report(10)).await.status(), 429, "20 submissions an hour, refused ones included");
    // Another instance on the same database (or this one after a restart) knows it too.
    let served = Served::start(&app, &[]).await;
    let other = no_redirects().post(format!("{}/melden", served.base)).multipart(report(11)).send().await.unwrap();
    assert_eq!(other.status(), 429);
    served.stop().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 10);
}

#[tokio::test]
async fn a_form_sent_twice_is_one_report() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/melden")).send().await.unwrap().text().await.unwrap();
    let needle = "name=\"submission\" value=\"";
    let start = page.find(needle).expect("the form carries its id") + needle.len();
    let submission = page[start..].split('"').next().unwrap().to_string();
    assert_eq!(submission.len(), 32, "{submission}");
    let form = || {
        Form::new()
            .text("submission", submission.clone())
            .text("description", "Wilder Müll am Waldrand")
            .text("lat", SUED.0.to_string())
            .text("lon", SUED.1.to_string())
    };
    let first = post(&app, form()).await;
    let second = post(&app, form()).await;
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (303, 303));
    assert_eq!(first.headers()["location"], second.headers()["location"], "the same status page");
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM inbound_events WHERE channel = 'web'").await, 1);

    // A different form is a different report; a forged id is not taken as one.
    let other = post(&app, form().text("submission", "not-hex")).await;
    assert_eq!(other.status(), 303);
    assert_ne!(other.headers()["location"], first.headers()["location"]);
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 2);
}

#[tokio::test]
async fn an_address_no_configured_key_opens_is_recorded_undeliverable_at_once() {
    let (app, sink) = with_mail().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let form = Form::new()
        .text("description", "Bank im Park zerbrochen")
        .text("lat", NORD.0.to_string())
        .text("lon", NORD.1.to_string())
        .text("email", "anna.meier@example.org");
    assert_eq!(post(&app, form).await.status(), 303);
    eventually("the acknowledgement by e-mail", || async { sink.mails().len() == 1 }).await;
    // The address was sealed with a key this installation no longer has.
    let lost_key = meldeweg::crypto::Vault::from_key_text(&format!("9:{}", "77".repeat(32))).unwrap();
    sqlx::query("UPDATE reports SET contact_enc = $1")
        .bind(lost_key.seal(b"anna.meier@example.org"))
        .execute(app.db.pool())
        .await
        .unwrap();
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    transitions(&app, &token, &order, &["accept"]).await;
    app.queue_drained().await;
    let (state, detail): (String, String) =
        sqlx::query_as("SELECT state, error_detail FROM outbox WHERE name = 'order_accepted'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(state, "undeliverable");
    assert!(detail.contains("does not open"), "{detail}");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0, "nothing left to retry or dead");
    assert_eq!(sink.mails().len(), 1);
}
