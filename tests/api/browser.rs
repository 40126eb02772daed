//! Meldeweg as people use it, in Debian's Chromium driven through chromedriver's WebDriver API:
//! a citizen reports a pothole in the sandbox and reads the reference number; a depot crew
//! member on a phone-sized screen logs in, opens the order, accepts it and marks it done with
//! an after-photo, and both citizens who reported it hear about it. Needs `chromium` and
//! `chromium-driver`; `.ci/run` installs them and runs these with `--ignored`, so on other
//! machines they show as ignored, never as passed.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

/// W3C WebDriver's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What WebDriver answered instead of a value: its error code and message.
#[derive(Debug)]
struct WebDriverError {
    error: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: tokio::process::Child,
}

impl Browser {
    /// A desktop-sized window, or with `phone`, Chromium's emulation of a 390 × 844 phone.
    async fn start(profile: &std::path::Path, phone: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) is installed");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        eventually("chromedriver to listen", || {
            let request = http.get(format!("{base}/status"));
            async move { request.send().await.is_ok() }
        })
        .await;
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--window-size=1200,900", format!("--user-data-dir={}", profile.display())],
        });
        if phone {
            options["mobileEmulation"] = json!({ "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0 } });
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let answer: Value =
            http.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let session = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {answer}"));
        Self { http, session: format!("{base}/session/{session}"), _driver: driver }
    }

    /// A WebDriver command's value; a WebDriver error fails the test with its message.
    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.call(method, path, body).await.unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    /// A WebDriver command: its value, or the error WebDriver answered with.
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, WebDriverError> {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() { request } else { request.json(&body) };
        let response =
            request.send().await.map_err(|e| WebDriverError { error: "unreachable".into(), message: e.to_string() })?;
        let ok = response.status().is_success();
        let answer: Value =
            response.json().await.map_err(|e| WebDriverError { error: "unreadable".into(), message: e.to_string() })?;
        let value = answer["value"].clone();
        match value["error"].as_str() {
            Some(error) if !ok || !error.is_empty() => Err(WebDriverError {
                error: error.to_string(),
                message: value["message"].as_str().unwrap_or_default().to_string(),
            }),
            _ if !ok => Err(WebDriverError { error: "failed".into(), message: answer.to_string() }),
            _ => Ok(value),
        }
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        self.try_find(css).await.unwrap_or_else(|found| panic!("no element {css}: {found}"))
    }

    /// The element, or `Err` when there is none (yet); any other WebDriver error fails the test.
    async fn try_find(&self, css: &str) -> Result<String, WebDriverError> {
        let body = json!({ "using": "css selector", "value": css });
        match self.call(reqwest::Method::POST, "/element", body).await {
            Ok(found) => Ok(found[ELEMENT].as_str().expect("an element reference").to_string()),
            Err(error) if error.error == "no such element" => Err(error),
            Err(error) => panic!("WebDriver: finding {css}: {error}"),
        }
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{element}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{element}/value"), json!({ "text": text })).await;
    }

    /// The element's text, or `None` when the page replaced it meanwhile (Chromium says so
    /// as a stale element, or, while the new page loads, as an element of no document).
    async fn text_of(&self, element: &str) -> Option<String> {
        match self.call(reqwest::Method::GET, &format!("/element/{element}/text"), Value::Null).await {
            Ok(text) => Some(text.as_str().expect("an element's text").to_string()),
            Err(error) if ["stale element reference", "no such element"].contains(&error.error.as_str()) => None,
            Err(error) if error.message.contains("does not belong to the document") => None,
            Err(error) => panic!("WebDriver: reading an element's text: {error}"),
        }
    }

    /// Waits until the element exists and its text contains `needle` (the page may still be
    /// loading after a click); returns the text.
    async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        assert!(!needle.is_empty(), "waiting for an empty text waits for nothing");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let text = match self.try_find(css).await {
                Ok(element) => self.text_of(&element).await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "{needle:?} never appeared in {css}: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves the window as `name.png` beside the test build, and in `MELDEWEG_SCREENS` when it
    /// is set (how docs/screens/ is made: `MELDEWEG_SCREENS=$PWD/docs/screens cargo test …`).
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let screenshot = self.command(reqwest::Method::GET, "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD.decode(screenshot.as_str().unwrap()).unwrap();
        std::fs::write(format!("{}/{name}.png", env!("CARGO_TARGET_TMPDIR")), &png).unwrap();
        if let Some(dir) = std::env::var_os("MELDEWEG_SCREENS") {
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Waits until an element matching `css` exists (a map drawn by script).
    async fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + DEADLINE;
        while self.try_find(css).await.is_err() {
            assert!(Instant::now() < deadline, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many elements match `css`.
    async fn count(&self, css: &str) -> usize {
        let body = json!({ "using": "css selector", "value": css });
        self.command(reqwest::Method::POST, "/elements", body).await.as_array().map_or(0, Vec::len)
    }

    /// Runs axe-core (tests/browser/node_modules, installed by `.ci/run`) on the current page
    /// against WCAG 2.1 A and AA; fails with the violations found.
    async fn assert_accessible(&self, page: &str) {
        let axe =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe).expect("axe-core is installed (npm ci --prefix tests/browser)");
        self.command(reqwest::Method::POST, "/execute/sync", json!({ "script": axe, "args": [] })).await;
        let script = "const done = arguments[0];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));";
        let violations =
            self.command(reqwest::Method::POST, "/execute/async", json!({ "script": script, "args": [] })).await;
        assert_eq!(violations, json!([]), "accessibility problems on {page}");
    }

    /// Drags a finger across `css` from `from` to `to`, offsets from the element's centre.
    async fn drag(&self, css: &str, from: (i64, i64), to: (i64, i64)) {
        let element = self.find(css).await;
        let origin = json!({ ELEMENT: element });
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "finger", "parameters": { "pointerType": "touch" },
            "actions": [
                { "type": "pointerMove", "origin": origin, "x": from.0, "y": from.1 },
                { "type": "pointerDown", "button": 0 },
                { "type": "pointerMove", "origin": origin, "x": to.0, "y": to.1, "duration": 300 },
                { "type": "pointerUp", "button": 0 }
            ]
        }]});
        self.command(reqwest::Method::POST, "/actions", actions).await;
    }

    /// The value of a form field.
    async fn value_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        let value =
            self.command(reqwest::Method::GET, &format!("/element/{element}/property/value"), Value::Null).await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn close(self) {
        self.command(reqwest::Method::DELETE, "", Value::Null).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_person_reports_a_pothole_in_the_sandbox_and_gets_a_reference() {
    let app = spawn_app_with(|s| s.channels.set("whatsapp.mode", "sandbox")).await;
    for (size, phone) in [("desktop", false), ("phone", true)] {
        let browser = Browser::start(&app.dir.path().join(format!("chromium-{size}")), phone).await;
        browser.open(&app.url("/sandbox")).await;
        browser.type_into("#text", "Tiefes Schlagloch vor der Grundschule").await;
        browser.click("#send").await;
        browser.wait_for_text("#chat", "Standort").await;

        // The place is picked on the town's map, or one of its addresses is taken.
        browser.click("#share-location").await;
        browser.wait_for("#pick-map .leaflet-basemap-pane path").await;
        browser.click("#pick-map").await;
        browser.wait_for_text("#picked", "Gewählt: Punkt auf der Karte").await;
        browser.click(".presets button[data-name='Rathaus']").await;
        browser.wait_for_text("#picked", "Gewählt: Rathaus").await;
        browser.assert_accessible(&format!("the sandbox's place picker ({size})")).await;
        browser.screenshot(&format!("sandbox-place-{size}")).await;
        browser.click("#location-form button[type=submit]").await;
        let chat = browser.wait_for_text("#chat", "M-20").await;
        assert!(chat.contains("Tiefes Schlagloch vor der Grundschule"), "the citizen's own message shows: {chat}");
        // The status page link in the acknowledgement is a link.
        browser.wait_for("#chat a[href*='/m/']").await;
        // The newest message is in view without scrolling the page.
        let in_view = browser
            .command(
                reqwest::Method::POST,
                "/execute/sync",
                json!({ "script": "const last = document.querySelector('#chat li:last-child').getBoundingClientRect();
                                   return last.bottom <= window.innerHeight && last.top >= 0;", "args": [] }),
            )
            .await;
        assert_eq!(in_view, json!(true), "the latest message is in view ({size})");
        browser.screenshot(&format!("sandbox-{size}")).await;
        browser.close().await;
    }
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT location_source FROM reports").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(sources, vec!["shared_location", "shared_location"]);
    let labels: Vec<Option<String>> =
        sqlx::query_scalar("SELECT location_label FROM reports").fetch_all(app.db.pool()).await.unwrap();
    assert!(labels.iter().all(|l| l.as_deref().is_some_and(|l| l.contains("Marktplatz 1"))), "{labels:?}");
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_crew_member_on_a_phone_marks_an_order_done_with_a_photo_and_both_reporters_hear_it() {
    use crate::staff_helpers::*;
    // The session cookie is marked Secure (public_url is https); Chromium keeps Secure cookies
    // from http://127.0.0.1 as it does from https, so the test serves plain http as it is.
    // Photos are public once checked, so the done message may carry the after-photo's copy.
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    add_staff(&app, "crew@musterstadt.de", meldeweg::staff::Role::Depot, Some("bauhof-nord")).await;
    let late = Citizen::new();
    let (_, late_reference, order) = reported_by(&app, &late, "Schlagloch auf der Fahrbahn", NORD, 25 * 3600).await;
    let (recent, recent_reference, duplicate_of) = reported(&app, "Tiefes Schlagloch", (NORD.0 + 0.0001, NORD.1)).await;
    assert_eq!(duplicate_of, order);

    let browser = Browser::start(&app.dir.path().join("chromium"), true).await;
    browser.open(&app.url("/staff/login")).await;
    browser.assert_accessible("the login page").await;
    browser.type_into("#email", "crew@musterstadt.de").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_text("main", &order).await;
    browser.screenshot("crew-orders-phone").await;
    browser.assert_accessible("the order list").await;
    browser.click(&format!("a[href='/staff/orders/{order}']")).await;
    browser.wait_for_text("h1", &order).await;
    browser.click("#do-accept").await;
    browser.wait_for_text("#order-status", "übernommen").await;
    let photo = fixture_path("phone_o6_gps.jpg");
    let photo = photo.canonicalize().expect("the fixture photo");
    browser.type_into("#after-photo", photo.to_str().unwrap()).await;
    browser.screenshot("crew-order-phone").await;
    browser.click("#do-done").await;
    browser.wait_for_text("#order-status", "erledigt").await;
    browser.assert_accessible("the order page").await;
    browser.open(&app.url("/staff/map?status=all")).await;
    browser.wait_for_text("main", &order).await;
    browser.assert_accessible("the map").await;
    browser.screenshot("crew-map-phone").await;
    let link = app.status_link(&recent_reference).await;
    browser.open(&app.url(&link[link.find("/m/").unwrap()..])).await;
    browser.wait_for_text("#report-status", "erledigt").await;
    browser.assert_accessible("the public status page").await;
    browser.screenshot("status-done-phone").await;
    browser.close().await;

    app.queue_drained().await;
    let to_recent = app.graph.delivered_to(recent.address()).pop().unwrap();
    assert_eq!(to_recent.body["type"], "image", "the done message carries the after-photo");
    let caption = to_recent.body["image"]["caption"].as_str().unwrap();
    assert!(caption.starts_with("Erledigt!") && caption.contains(&recent_reference), "{caption}");
    let link = app.status_link(&late_reference).await;
    let to_late = app.graph.texts_to(late.address());
    assert_eq!(to_late.last().unwrap(), &format!("template:meldeweg_erledigt:{late_reference},{link}"));
    let after_photo: Option<String> = sqlx::query_scalar("SELECT after_photo FROM work_orders WHERE number = $1")
        .bind(&order)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(after_photo.is_some());
    assert!(app.graph.invalid_requests().is_empty());
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_person_without_whatsapp_reports_on_the_web_form_from_a_phone() {
    let app = spawn_app().await;
    let browser = Browser::start(&app.dir.path().join("chromium"), true).await;
    browser.open(&app.url("/melden")).await;
    browser.assert_accessible("the web form").await;
    // Sent without a place: the form comes back with the reason, still accessible.
    browser.type_into("#description", "Laterne am Spielplatz flackert").await;
    browser.click("#send").await;
    browser.wait_for_text("#problems", "Ort").await;
    browser.assert_accessible("the web form with its problems").await;
    browser.screenshot("web-form-phone").await;
    // A tap on the map sets the pin.
    browser.click("#pin-map").await;
    browser.click("#send").await;
    browser.wait_for_text("#report-status", "eingegangen").await;
    let page = browser.wait_for_text("h1", "M-20").await;
    // Without an e-mail address the page asks to keep its link, with a button that copies it.
    browser.wait_for_text("#keep-link", "Bewahren Sie ihre Adresse auf").await;
    browser.wait_for("#copy-link:not([hidden])").await;
    browser.assert_accessible("the status page after the web form").await;
    browser.screenshot("web-form-done-phone").await;
    browser.close().await;

    let (reference, source, description): (String, String, Option<String>) =
        sqlx::query_as("SELECT reference, location_source, description FROM reports")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(page.contains(&reference), "{page}");
    assert_eq!(source, "map_pin");
    assert_eq!(description.as_deref(), Some("Laterne am Spielplatz flackert"), "kept from the first try");
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_dispatcher_on_a_phone_checks_a_photo_obscures_more_by_dragging_and_approves_it() {
    use crate::staff_helpers::*;
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", meldeweg::staff::Role::Dispatcher, None).await;
    let citizen = Citizen::new();
    let face =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bystanders/astronaut.jpg"))
            .unwrap();
    app.send(&citizen, image(&app, "media-face", face, Some("Schlagloch"))).await;
    eventually("the photo to be stored", || async { app.count("SELECT COUNT(*) FROM photos").await == 1 }).await;
    let (_, _, order) = reported_by(&app, &citizen, "Schlagloch", NORD, 0).await;
    let token: String = sqlx::query_scalar("SELECT token FROM photos").fetch_one(app.db.pool()).await.unwrap();

    for phone in [false, true] {
        let browser = Browser::start(&app.dir.path().join(format!("chromium-{phone}")), phone).await;
        browser.open(&app.url("/staff/login")).await;
        browser.type_into("#email", "dispo@musterstadt.de").await;
        browser.type_into("#password", PASSWORD).await;
        browser.click("form button[type=submit]").await;
        browser.wait_for_text("main", &order).await;
        browser.open(&app.url(&format!("/staff/orders/{order}"))).await;
        browser.wait_for_text("main", "wartet auf Freigabe").await;
        browser.click(&format!("a[href='/staff/orders/{order}/photos/{token}']")).await;
        browser.wait_for_text("#photo-state", "wartet auf Freigabe").await;
        browser.assert_accessible("the photo review page").await;
        browser.screenshot(if phone { "photo-review-phone" } else { "photo-review-desktop" }).await;
        if !phone {
            browser.close().await;
            continue;
        }
        // A finger drags a rectangle on the original: the numbers fill in, in the photo's pixels.
        browser.drag("#original", (40, -120), (120, 40)).await;
        let width: u32 = browser.value_of("#area-width").await.parse().expect("the width is filled in");
        let height: u32 = browser.value_of("#area-height").await.parse().expect("the height is filled in");
        assert!(width > 40 && height > 60, "{width} × {height}");
        browser.type_into("#obscure-reason", "Spiegelung").await;
        browser.click("#do-obscure").await;
        browser.wait_for_text("#photo-found", "von Hand: 1").await;
        browser.type_into("#decide-reason", "geprüft").await;
        browser.click("#do-publish").await;
        browser.wait_for_text("#photo-state", "öffentlich").await;
        browser.assert_accessible("the photo review page after approval").await;
        browser.close().await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE kind IN ('photo.area_obscured', 'photo.approved')").await,
        2
    );
    let public = app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap();
    assert_eq!(public.status(), 200);
}

/// Opens `path` in a phone-sized and a desktop-sized window in turn, waits for `ready`, checks the
/// page with axe-core and saves `name-phone.png` and `name-desktop.png`.
async fn both_sizes(app: &TestApp, phone: &Browser, desktop: &Browser, path: &str, ready: &str, name: &str) {
    for (browser, size) in [(phone, "phone"), (desktop, "desktop")] {
        browser.open(&app.url(path)).await;
        browser.wait_for(ready).await;
        browser.assert_accessible(&format!("{path} ({size})")).await;
        browser.screenshot(&format!("{name}-{size}")).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_citizen_sees_the_place_on_the_status_page_and_known_problems_on_the_public_map() {
    use crate::staff_helpers::*;
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    add_staff(&app, "dispo@musterstadt.de", meldeweg::staff::Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let (_, reference, _) = reported(&app, "Tiefes Schlagloch", (51.970643, 7.610710)).await;
    let (_, _, light) = reported(&app, "Laterne kaputt", (51.963689, 7.632925)).await;
    reported(&app, "Müll am Container", (51.9623, 7.6254)).await;
    transitions(&app, &token, &light, &["accept", "done"]).await;
    let link = app.status_link(&reference).await;
    let status = &link[link.find("/m/").unwrap()..];

    let phone = Browser::start(&app.dir.path().join("chromium-phone"), true).await;
    let desktop = Browser::start(&app.dir.path().join("chromium-desktop"), false).await;
    both_sizes(&app, &phone, &desktop, status, "svg.basemap", "status").await;
    let place = phone.wait_for_text("#report-place", "Lindenweg 4").await;
    assert_eq!(place, "Lindenweg 4");
    assert!(phone.count("svg.basemap textPath").await > 0, "street names on the status page's map");

    // The public map: the town's own background and one marker per known problem.
    both_sizes(&app, &phone, &desktop, "/karte", ".leaflet-basemap-pane path", "karte").await;
    phone.wait_for_text("#count", "3 Probleme").await;
    assert_eq!(desktop.count(".leaflet-overlay-pane path.leaflet-interactive").await, 3, "three markers");
    assert!(desktop.count(".leaflet-tile").await == 0, "no tiles from anywhere");
    desktop.open(&app.url("/karte?kategorie=beleuchtung")).await;
    desktop.wait_for_text("#count", "1 Problem").await;
    desktop.wait_for(".leaflet-overlay-pane path.leaflet-interactive").await;
    assert_eq!(desktop.count(".leaflet-overlay-pane path.leaflet-interactive").await, 1);
    desktop.click(".leaflet-overlay-pane path.leaflet-interactive").await;
    desktop.wait_for_text(".leaflet-popup-content", "erledigt").await;
    desktop.screenshot("karte-popup-desktop").await;
    phone.close().await;
    desktop.close().await;
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_dispatcher_finds_an_order_a_citizen_calls_about_and_works_the_list_on_a_phone() {
    use crate::staff_helpers::*;
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", meldeweg::staff::Role::Dispatcher, None).await;
    add_staff(&app, "chefin@musterstadt.de", meldeweg::staff::Role::Manager, None).await;
    let (_, reference, order) = reported(&app, "Die Ampel blinkt nur noch gelb", (51.970643, 7.610710)).await;
    let (_, _, other) = reported(&app, "Schlagloch vor der Einfahrt, sehr tief, Autos weichen aus", NORD).await;
    reported(&app, "Laterne flackert", (51.963689, 7.632925)).await;

    let phone = Browser::start(&app.dir.path().join("chromium-phone"), true).await;
    let desktop = Browser::start(&app.dir.path().join("chromium-desktop"), false).await;
    for (browser, email) in [(&phone, "dispo@musterstadt.de"), (&desktop, "chefin@musterstadt.de")] {
        browser.open(&app.url("/staff/login")).await;
        browser.type_into("#email", email).await;
        browser.type_into("#password", PASSWORD).await;
        browser.click("form button[type=submit]").await;
        browser.wait_for_text("#order-count", "3 Aufträge").await;
    }
    both_sizes(&app, &phone, &desktop, "/staff/orders", ".orders", "staff-orders").await;
    let list = phone.wait_for_text(".orders", &other).await;
    assert!(list.contains("Lindenweg 4, Lindenviertel") && list.contains("1 Meldung"), "{list}");

    // A citizen calls: "the traffic light in the Lindenweg" — then reads out the reference.
    phone.type_into("#q", "Lindenweg Ampel").await;
    phone.click("form.search button").await;
    let found = phone.wait_for_text("#order-count", "1 Auftrag").await;
    assert!(found.contains("1 Auftrag"));
    assert_eq!(phone.count(&format!("a[href='/staff/orders/{order}']")).await, 1);
    phone.assert_accessible("the search result").await;
    phone.screenshot("staff-search-phone").await;
    phone.open(&app.url("/staff/orders")).await;
    phone.type_into("#q", &reference.to_lowercase()).await;
    phone.click("form.search button").await;
    phone.wait_for_text("h1", &order).await;
    phone.wait_for_text("#order-place", "Lindenweg 4").await;
    phone.screenshot("staff-order-phone").await;

    both_sizes(&app, &phone, &desktop, &format!("/staff/orders/{order}"), ".leaflet-basemap-pane path", "staff-order")
        .await;
    both_sizes(&app, &phone, &desktop, "/staff/map", ".leaflet-overlay-pane path.leaflet-interactive", "staff-map")
        .await;
    both_sizes(&app, &phone, &desktop, "/staff/orders/A-2026-999999", "h1", "staff-not-found").await;
    phone.wait_for_text("h1", "Nicht gefunden").await;
    // The statistics are the manager's (on the desktop).
    desktop.open(&app.url("/staff/stats")).await;
    desktop.wait_for("#totals").await;
    desktop.assert_accessible("/staff/stats").await;
    desktop.screenshot("staff-stats-desktop").await;
    both_sizes(&app, &phone, &desktop, &format!("/staff/orders/{order}/print"), "svg.basemap", "staff-print").await;
    phone.close().await;
    desktop.close().await;
}
