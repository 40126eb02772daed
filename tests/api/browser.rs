//! The sandbox as a person uses it: Debian's Chromium, driven through chromedriver's WebDriver
//! API, opens /sandbox, reports a pothole, shares a place and reads the reference number in
//! the chat. Needs `chromium` and `chromium-driver`; `.ci/run` installs them and runs this
//! with `--ignored`, so on other machines it shows as ignored, never as passed.

use std::time::{Duration, Instant};

use meldeweg::config::WhatsAppMode;
use serde_json::{json, Value};

use crate::helpers::*;

/// W3C WebDriver's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: tokio::process::Child,
}

impl Browser {
    async fn start(profile: &std::path::Path) -> Self {
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
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--window-size=1200,900", format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let answer: Value =
            http.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let session = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {answer}"));
        Self { http, session: format!("{base}/session/{session}"), _driver: driver }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() { request } else { request.json(&body) };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let found =
            self.command(reqwest::Method::POST, "/element", json!({ "using": "css selector", "value": css })).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_string()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{element}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{element}/value"), json!({ "text": text })).await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.command(reqwest::Method::GET, &format!("/element/{element}/text"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element's text contains `needle`; returns the text.
    async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "{needle:?} never appeared in {css}: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn close(self) {
        self.command(reqwest::Method::DELETE, "", Value::Null).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's chromium and chromium-driver; .ci/run installs them and runs it"]
async fn browser_a_person_reports_a_pothole_in_the_sandbox_and_gets_a_reference() {
    let app = spawn_app_with(|s| s.whatsapp.mode = WhatsAppMode::Sandbox).await;
    let browser = Browser::start(&app.dir.path().join("chromium")).await;
    browser.open(&app.url("/sandbox")).await;
    browser.type_into("#text", "Tiefes Schlagloch vor der Grundschule").await;
    browser.click("#send").await;
    browser.wait_for_text("#chat", "Standort").await;

    browser.click("#share-location").await;
    browser.click(".presets button[data-name='Rathaus']").await;
    browser.click("#location-form button[type=submit]").await;
    let chat = browser.wait_for_text("#chat", "M-20").await;
    assert!(chat.contains("Tiefes Schlagloch vor der Grundschule"), "the citizen's own message shows: {chat}");

    let screenshot = browser.command(reqwest::Method::GET, "/screenshot", Value::Null).await;
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(screenshot.as_str().unwrap()).unwrap();
    std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/sandbox.png"), png).unwrap();
    browser.close().await;

    let row = sqlx::query_scalar::<_, String>("SELECT location_source FROM reports").fetch_one(app.db.pool()).await;
    assert_eq!(row.unwrap(), "whatsapp_location");
}
