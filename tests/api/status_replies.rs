//! Closing the loop with citizens: every reporter linked to an order (duplicates included)
//! hears when it is accepted, done, rejected or forwarded — as free text inside the 24-hour
//! window, as the configured template outside it, nothing after STOP — and can follow the
//! report on its public status page, which shows nothing personal.

use meldeweg::staff::Role;
use serde_json::json;

use crate::helpers::*;
use crate::staff_helpers::*;

const DAY_AND_AN_HOUR: i64 = 25 * 3600;

#[tokio::test]
async fn every_reporter_of_an_order_hears_about_it_and_late_ones_get_the_template() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let token = api_token(&app, "crew@musterstadt.de").await;
    let late = Citizen::new();
    let (_, late_reference, order) =
        reported_by(&app, &late, "Schlagloch auf der Fahrbahn", NORD, DAY_AND_AN_HOUR).await;
    let accept = json!({ "transition": "accept" });
    let transitions = format!("/api/v1/orders/{order}/transitions");
    let response = app.http.post(app.url(&transitions)).bearer_auth(&token).json(&accept).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (recent, recent_reference, same) = reported(&app, "Tiefes Schlagloch", (NORD.0 + 0.0001, NORD.1)).await;
    assert_eq!(same, order, "the second report is a duplicate");
    let status: String = sqlx::query_scalar("SELECT status FROM reports WHERE reference = $1")
        .bind(&recent_reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "accepted", "a duplicate joins the order where it stands");
    let stopped = Citizen::new();
    let (_, _, also) = reported_by(&app, &stopped, "Schlagloch hier", (NORD.0, NORD.1 + 0.0001), 0).await;
    assert_eq!(also, order);
    app.send(&stopped, text("STOP")).await;
    app.queue_drained().await;
    let before = |c: &Citizen| app.graph.delivered_to(c.address()).len();
    let (late_before, recent_before, stopped_before) = (before(&late), before(&recent), before(&stopped));

    for transition in ["start", "done"] {
        let response = app
            .http
            .post(app.url(&transitions))
            .bearer_auth(&token)
            .json(&json!({ "transition": transition }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    app.queue_drained().await;
    let recent_texts = app.graph.texts_to(recent.address())[recent_before..].to_vec();
    assert_eq!(recent_texts.len(), 1, "{recent_texts:?}");
    assert!(recent_texts[0].starts_with("Erledigt!") && recent_texts[0].contains(&recent_reference));
    assert!(!recent_texts.concat().contains(&late_reference), "nobody hears about another's report (P13)");
    let late_texts = app.graph.texts_to(late.address())[late_before..].to_vec();
    let link = app.status_link(&late_reference).await;
    assert_eq!(late_texts, [format!("template:meldeweg_erledigt:{late_reference},{link}")]);
    let accepted_before = app.graph.texts_to(late.address());
    assert!(accepted_before.contains(&format!("template:meldeweg_auftrag_uebernommen:{late_reference},{link}")));
    assert_eq!(before(&stopped), stopped_before, "STOP means nothing more");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE state = 'suppressed' AND name LIKE 'order_%'").await, 1);
    assert!(app.graph.invalid_requests().is_empty());
}

#[tokio::test]
async fn done_with_an_after_photo_sends_the_photo_and_rejections_and_forwards_carry_their_reason() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let session = login(&app, "crew@musterstadt.de").await;
    let (citizen, reference, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    session.post(&app, &format!("/staff/orders/{order}/transition"), &[("transition", "accept")]).await;
    let photo = reqwest::multipart::Part::bytes(fixture_photo("phone_o6_gps.jpg")).file_name("nachher.jpg");
    let form = reqwest::multipart::Form::new().text("csrf", session.csrf.clone()).part("photo", photo);
    let done = session
        .http
        .post(app.url(&format!("/staff/orders/{order}/done")))
        .header(reqwest::header::COOKIE, &session.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    app.queue_drained().await;
    let last = app.graph.delivered_to(citizen.address()).pop().unwrap();
    assert_eq!(last.body["type"], "image");
    let link = last.body["image"]["link"].as_str().unwrap();
    assert!(last.body["image"]["caption"].as_str().unwrap().contains(&reference));
    let path = &link[link.find("/photos/").unwrap()..];
    let served = app.http.get(app.url(path)).send().await.unwrap().bytes().await.unwrap();
    let cleaned = meldeweg_workers::photo::clean(&served, &app.settings.photos.limits()).unwrap();
    assert!(cleaned.gps.is_none(), "the after-photo went through the same cleaning (no GPS left)");

    let (second, second_reference, second_order) = reported(&app, "Schlagloch vor dem Haus", (51.98, 7.65)).await;
    session
        .post(
            &app,
            &format!("/staff/orders/{second_order}/transition"),
            &[("transition", "reject"), ("note", "Privatgrundstück")],
        )
        .await;
    app.queue_drained().await;
    let text = app.graph.texts_to(second.address()).pop().unwrap();
    assert!(text.contains(&second_reference) && text.contains("Grund: Privatgrundstück"), "{text}");
}

#[tokio::test]
async fn the_public_status_page_follows_the_order_and_shows_nothing_personal() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let token = api_token(&app, "crew@musterstadt.de").await;
    let (citizen, reference, order) = reported(&app, "Schlagloch bei Familie Mustermann vor der Tür", NORD).await;
    let link = app.status_link(&reference).await;
    let path = &link[link.find("/m/").unwrap()..];
    let page = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-robots-tag"], "noindex, nofollow");
    let page = page.text().await.unwrap();
    assert!(page.contains(&reference) && page.contains("beim Bauhof eingegangen") && page.contains("Nord"));
    assert!(!page.contains("Mustermann"), "the description is not public");
    assert!(!page.contains(citizen.phone.as_deref().unwrap()));
    let commented = app
        .http
        .post(app.url(&format!("/api/v1/orders/{order}/comments")))
        .bearer_auth(&token)
        .json(&json!({ "text": "Anwohner Herr Meier war unfreundlich" }))
        .send()
        .await
        .unwrap();
    assert!(commented.status().is_success(), "{}", commented.text().await.unwrap_or_default());
    let stored = app.count("SELECT COUNT(*) FROM order_events WHERE kind = 'comment' AND detail LIKE '%Meier%'").await;
    assert_eq!(stored, 1, "the comment is on the order");
    transitions(&app, &token, &order, &["accept", "done"]).await;
    let page = app.http.get(app.url(path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("erledigt") && page.contains("übernommen"), "timeline and status");
    assert!(!page.contains("Meier") && !page.contains("crew@"), "no comments, no staff");
    let english = app.http.get(app.url(&format!("{path}?lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(english.contains("Timeline") && english.contains("done"));
    for bad in ["/m/0123456789abcdef0123456789abcdef", "/m/short", "/m/..%2F..%2Fetc"] {
        assert_eq!(app.http.get(app.url(bad)).send().await.unwrap().status(), 404, "{bad}");
    }
}
