//! What citizens, crews and managers see (issue 23): places in words instead of coordinates,
//! the map background Meldeweg draws itself, the public map of known problems, the staff
//! search, the order list, refusals as pages, and the public status page.

use meldeweg::staff::Role;
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;

use crate::helpers::*;
use crate::staff_helpers::*;

/// The demo gazetteer's address points (config/streets.csv).
const LINDENWEG_4: (f64, f64) = (51.970643, 7.610710);
const BAHNHOFSTRASSE_40: (f64, f64) = (51.963689, 7.632925);

/// The names of the streets in the map background.
fn street_names(background: &Value) -> Vec<&str> {
    let features = background["features"].as_array().unwrap();
    features
        .iter()
        .filter(|f| f["properties"]["kind"] == "street")
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect()
}

async fn public(app: &TestApp, path: &str) -> (u16, String) {
    let response = client().get(app.url(path)).header(ACCEPT, "text/html").send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn places_are_named_by_address_with_the_shared_place_and_a_way_to_navigate() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let (_, reference, order) = reported(&app, "Schlagloch vor dem Haus", LINDENWEG_4).await;
    let session = login(&app, "dispo@musterstadt.de").await;

    let (_, list) = session.page(&app, "/staff/orders").await;
    assert!(list.contains("Lindenweg 4, Lindenviertel"), "the list names the address and district");
    assert!(!list.contains("51.97064"), "no coordinates in the list");

    let (status, detail) = session.page(&app, &format!("/staff/orders/{order}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains(r#"<dd id="order-place">Lindenweg 4, Lindenviertel</dd>"#), "{detail}");
    assert!(detail.contains(r#"href="geo:51.970643,7.610710?q=51.970643,7.610710""#), "a link for the phone's map app");
    assert!(detail.contains("Geteilter Standort: Grundschule am Park, Parkstraße 3"), "the shared place is kept");

    let link = app.status_link(&reference).await;
    let (status, citizen_page) = public(&app, &link[link.find("/m/").unwrap()..]).await;
    assert_eq!(status, 200);
    assert!(citizen_page.contains(r#"<dd id="report-place">Lindenweg 4</dd>"#), "the status page says where");
    assert!(citizen_page.contains(r#"class="basemap""#) && citizen_page.contains(">Lindenweg</textPath>"));
    assert!(!citizen_page.contains("Schlagloch vor dem Haus"), "the citizen's words are not on the public page");
    assert!(!citizen_page.contains("Grundschule am Park"), "nor the place name they shared");
    assert!(citizen_page.contains("Weiteres Problem melden") && citizen_page.contains(r#"href="/karte""#));
}

#[tokio::test]
async fn the_map_background_is_served_from_the_towns_own_files_and_no_page_names_another_host() {
    let app = spawn_app().await;
    let response = client().get(app.url("/karte/grundlage.geojson")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let background: Value = response.json().await.unwrap();
    let names = street_names(&background);
    assert!(names.contains(&"Lindenweg") && names.contains(&"Bahnhofstraße"), "{names:?}");
    let (_, map) = public(&app, "/karte").await;
    assert!(map.contains(r#"data-tiles="""#), "no tile server unless one is configured");
    let csp = client().get(app.url("/karte")).send().await.unwrap().headers()["content-security-policy"].clone();
    assert!(csp.to_str().unwrap().contains("img-src 'self' data: blob:;"), "{csp:?}");
}

#[tokio::test]
async fn the_public_map_shows_known_problems_by_category_without_texts_or_unapproved_photos() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    reported(&app, "Tiefes Schlagloch vor meinem Haus, Familie Meier", LINDENWEG_4).await;
    let (_, _, light) = reported(&app, "Laterne kaputt, seit Tagen dunkel", BAHNHOFSTRASSE_40).await;
    let (_, _, rejected) = reported(&app, "Schlagloch in der Einfahrt", NORD).await;
    let reject = serde_json::json!({ "transition": "reject", "reason": "Privatgrund" });
    let path = format!("/api/v1/orders/{rejected}/transitions");
    let response = app.http.post(app.url(&path)).bearer_auth(&token).json(&reject).send().await.unwrap();
    assert_eq!(response.status(), 200);
    transitions(&app, &token, &light, &["accept", "done"]).await;

    let (status, map) = public(&app, "/karte").await;
    assert_eq!(status, 200);
    assert!(map.contains(r#"<h2 id="count">2 Probleme</h2>"#), "open and recently done, not rejected");
    assert!(map.contains("Straßenschaden") && map.contains("Straßenbeleuchtung"));
    assert!(map.contains("Lindenweg 4, Lindenviertel") && map.contains("erledigt"));
    assert!(!map.contains("Meier") && !map.contains("seit Tagen"), "no report text on the public map");
    assert!(!map.contains("/m/"), "no status page links");
    assert!(!map.contains("/photos/"), "no photo that is not public");

    let (_, lights) = public(&app, "/karte?kategorie=beleuchtung").await;
    let listed = lights.split(r#"<ul class="known">"#).nth(1).unwrap();
    assert!(lights.contains(r#"<h2 id="count">1 Problem</h2>"#) && !listed.contains("Straßenschaden"));
    let (_, english) = public(&app, "/karte?lang=en").await;
    assert!(english.contains("2 problems") && english.contains("Known problems"));
    let (status, bad) = public(&app, "/karte?kategorie=vulkan").await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test]
async fn staff_find_an_order_by_reference_street_or_words_and_an_unknown_one_gets_a_page() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    add_staff(&app, "sued@musterstadt.de", Role::Depot, Some("bauhof-sued")).await;
    let (_, reference, order) = reported(&app, "Die Ampel blinkt nur noch gelb", LINDENWEG_4).await;
    let (_, _, other) = reported(&app, "Müll neben dem Container", BAHNHOFSTRASSE_40).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: String| {
        no_redirect.get(app.url(&path)).header(COOKIE, &session.cookie).header(ACCEPT, "text/html").send()
    };

    // A reference read out on the phone, however it is written, opens its order.
    for query in [reference.clone(), reference.to_lowercase(), order.clone()] {
        let response = get(format!("/staff/orders?q={query}")).await.unwrap();
        assert_eq!(response.status(), 303, "{query}");
        assert_eq!(response.headers()["location"], format!("/staff/orders/{order}").as_str());
    }
    for (query, found, not_found) in [
        ("Lindenweg", &order, &other),
        ("lindenw", &order, &other),
        ("ampel blinkt", &order, &other),
        ("Muell", &other, &order),
        ("Bahnhofstr", &other, &order),
    ] {
        let (status, list) = session.page(&app, &format!("/staff/orders?q={query}")).await;
        assert_eq!(status, 200);
        assert!(list.contains(found.as_str()) && !list.contains(not_found.as_str()), "{query}");
        assert!(list.contains(r#"<strong id="order-count">1 Auftrag</strong>"#), "{query}");
    }
    let (_, nothing) = session.page(&app, "/staff/orders?q=Vulkanausbruch").await;
    assert!(nothing.contains("Nichts gefunden") && nothing.contains("0 Aufträge"));
    let (status, _) = session.page(&app, &format!("/staff/orders?q={}", "x".repeat(201))).await;
    assert_eq!(status, 400, "an over-long search is refused");

    // A crew of another depot finds nothing of Bauhof Nord's.
    let crew = login(&app, "sued@musterstadt.de").await;
    let (_, theirs) = crew.page(&app, "/staff/orders?q=Lindenweg").await;
    assert!(!theirs.contains(order.as_str()) && theirs.contains("Nichts gefunden"));

    // Unknown numbers and addresses get a page with a way back; the API keeps JSON.
    let unknown_photo = format!("/staff/orders/{order}/photos/0123456789abcdef0123456789abcdef");
    for path in [
        "/staff/orders/A-2026-999999",
        "/staff/orders/A-2026-999999/print",
        "/staff/nonsense",
        "/staff/photos/0123456789abcdef0123456789abcdef",
        unknown_photo.as_str(),
    ] {
        let (status, html) = session.page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.starts_with("<!doctype html>") && html.contains("Nicht gefunden"), "{path}: {html}");
        assert!(html.contains(r#"href="/staff/orders""#) && html.contains(r#"name="q""#));
    }
    let json = session.get(&app, "/staff/orders/A-2026-999999").await;
    assert_eq!(json.status(), 404);
    assert!(json.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn erased_texts_are_no_longer_found_but_the_street_still_is() {
    let app = spawn_app().await;
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    let (citizen, _, order) = reported(&app, "Wespennest im Briefkasten", LINDENWEG_4).await;
    let words = "SELECT COUNT(*) FROM search_terms WHERE kind = 't'";
    assert!(app.count(words).await > 0);
    let before = app.graph.texts_to(citizen.address()).len();
    app.send(&citizen, text("LÖSCHEN")).await;
    app.replies(&citizen, before + 1).await;
    app.send(&citizen, button_reply("erase:yes", "Ja, löschen")).await;
    eventually("the erasure", || async { app.count(words).await == 0 }).await;
    let session = login(&app, "admin@musterstadt.de").await;
    let (_, by_words) = session.page(&app, "/staff/orders?q=Wespennest").await;
    assert!(!by_words.contains(order.as_str()), "the citizen's words are gone from the index");
    let (_, by_street) = session.page(&app, "/staff/orders?q=Lindenweg").await;
    assert!(by_street.contains(order.as_str()), "the place stays findable");
}

#[tokio::test]
async fn the_order_list_counts_pages_and_shows_an_excerpt() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let long =
        "Ein tiefes Schlagloch direkt vor dem Eingang der Grundschule, die Kinder laufen jeden Morgen daran vorbei";
    reported(&app, long, LINDENWEG_4).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let (_, list) = session.page(&app, "/staff/orders").await;
    assert!(list.contains(r#"<strong id="order-count">1 Auftrag</strong>"#));
    assert!(list.contains("1 Meldung") && !list.contains("1 Meldungen"), "singular");
    assert!(
        list.contains("<q>Ein tiefes Schlagloch direkt vor dem Eingang der Grundschule, die Kinder laufen jeden…</q>")
    );
    for i in 0..3 {
        reported(&app, &format!("Schlagloch Nummer {i}"), (NORD.0 + f64::from(i) * 0.002, NORD.1)).await;
    }
    let (_, first) = session.page(&app, "/staff/orders?limit=2").await;
    assert!(first.contains("4 Aufträge") && first.contains("Seite 1 von 2") && first.contains(r#"rel="next""#));
    let (_, second) = session.page(&app, "/staff/orders?limit=2&offset=2").await;
    assert!(second.contains("Seite 2 von 2") && second.contains(r#"rel="prev""#) && !second.contains(r#"rel="next""#));
}

#[tokio::test]
async fn an_unknown_status_link_gets_a_page_that_says_so() {
    let app = spawn_app().await;
    for path in ["/m/0123456789abcdef0123456789abcdef", "/m/not-a-token", "/m/0123456789abcdef0123456789abcdef?lang=en"]
    {
        let (status, html) = public(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Meldung nicht gefunden") || html.contains("Report not found"), "{path}");
        assert!(html.contains(r#"href="/karte"#), "{path}");
    }
}

#[tokio::test]
async fn the_sandbox_offers_places_the_gazetteer_knows_and_a_map_to_pick_one() {
    let app = spawn_app_with(|settings| settings.channels.set("whatsapp.mode", "sandbox")).await;
    let (_, sandbox) = public(&app, "/sandbox").await;
    assert!(sandbox.contains(r#"id="pick-map""#));
    for (name, address) in
        [("Rathaus", "Marktplatz 1"), ("Lindenweg 4", "Lindenweg 4"), ("Bahnhofstraße 40", "Bahnhofstraße 40")]
    {
        assert!(sandbox.contains(&format!(r#"data-name="{name}" data-address="{address}""#)), "{name}");
    }
    assert!(sandbox.contains(r#"data-lat="51.970643" data-lon="7.61071""#), "Lindenweg 4 where the gazetteer has it");
}

#[tokio::test]
async fn a_further_photo_before_the_place_is_acknowledged() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let photo = fixture_photo("recompressed_nometa.jpg");
    app.send(&citizen, image(&app, "media-first", photo.clone(), None)).await;
    app.replies(&citizen, 2).await;
    app.send(&citizen, image(&app, "media-second", photo, None)).await;
    let replies = app.replies(&citizen, 3).await;
    assert_eq!(replies[1], app.render(TextKey::LocationRequest), "the first photo: where is it?");
    let arrived = app.render_in(Lang::De, TextKey::PhotoAdded, &[("count", "2"), ("max", "10")]);
    assert_eq!(replies[2], arrived, "the second photo is acknowledged");
}

#[tokio::test]
async fn street_lines_come_from_the_towns_file_and_a_bad_file_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("streets.geojson");
    std::fs::write(
        &lines,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"Lindenweg","highway":"residential"},
             "geometry":{"type":"LineString","coordinates":[[7.6085,51.9702],[7.6200,51.9760]]}},
            {"type":"Feature","properties":{"highway":"service"},
             "geometry":{"type":"LineString","coordinates":[[7.61,51.97],[7.62,51.97]]}}]}"#,
    )
    .unwrap();
    let app = spawn_app_with(|settings| settings.geo.street_lines_file = lines.clone()).await;
    let background: Value =
        client().get(app.url("/karte/grundlage.geojson")).send().await.unwrap().json().await.unwrap();
    let streets = street_names(&background);
    assert_eq!(streets, vec!["Lindenweg", ""], "the file's lines, not the gazetteer's");

    let mut settings = app.settings.clone();
    std::fs::write(&lines, "{\"type\": \"Feature\"").unwrap();
    let error = meldeweg::town::load(&settings, &[]).unwrap_err().to_string();
    assert!(error.contains("streets.geojson") && error.contains("GeoJSON"), "{error}");
    settings.geo.street_lines_file = dir.path().join("missing.geojson");
    let error = meldeweg::town::load(&settings, &[]).unwrap_err().to_string();
    assert!(error.contains("missing.geojson") && error.contains("geo.street_lines_file"), "{error}");
}
