//! The README's quick start, tried as a newcomer would: the release binary on its embedded
//! defaults, a depot account that sees the sandbox's reports, links that follow the address the
//! service listens on, a clear word when the municipality's files are missing, and a quick stop.

use std::process::Stdio;

use meldeweg::staff::Role;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use crate::helpers::*;
use crate::staff_helpers::*;

/// The depot account the README creates.
const README_DEPOT: &str = "bauhof-nord";

/// The place presets of the sandbox page: (name, gazetteer address, lat, lon).
fn presets(page: &str) -> Vec<(String, String, f64, f64)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..].split('"').next()?.to_string())
    };
    page.split("<button")
        .skip(1)
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            Some((
                attribute(tag, "data-name")?,
                attribute(tag, "data-address")?,
                attribute(tag, "data-lat")?.parse().ok()?,
                attribute(tag, "data-lon")?.parse().ok()?,
            ))
        })
        .collect()
}

#[tokio::test]
async fn the_readme_depot_account_sees_the_reports_made_at_the_sandbox_presets() {
    let app = spawn_app_with(|s| s.channels.set("whatsapp.mode", "sandbox")).await;
    let page = app.http.get(app.url("/sandbox")).send().await.unwrap().text().await.unwrap();
    let presets = presets(&page);
    assert_eq!(presets.len(), 3, "{page}");
    let municipality = meldeweg::town::load(&app.settings, &[]).expect("the demo town loads");
    for (i, (name, address, lat, lon)) in presets.iter().enumerate() {
        let at = meldeweg_workers::LatLon::new(*lat, *lon).unwrap();
        assert_eq!(municipality.address_near(at).as_deref(), Some(address.as_str()), "{name} lies at its address");
        let from = format!("49176000000{i:02}");
        for message in [
            json!({ "from": from, "kind": "text", "text": "Tiefes Schlagloch auf der Fahrbahn" }),
            json!({ "from": from, "kind": "location", "lat": lat, "lon": lon, "name": name }),
        ] {
            let response = app.http.post(app.url("/sandbox/api/messages")).json(&message).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    eventually("three work orders", || async { app.count("SELECT COUNT(*) FROM work_orders").await == 3 }).await;

    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some(README_DEPOT)).await;
    let token = api_token(&app, "crew@musterstadt.de").await;
    let orders: Value =
        app.http.get(app.url("/api/v1/orders")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let orders = orders["orders"].as_array().expect("a list of orders");
    assert_eq!(orders.len(), 3, "the README's account sees every preset's pothole: {orders:?}");
    assert!(orders.iter().all(|o| o["depot"] == README_DEPOT), "{orders:?}");
}

#[tokio::test]
async fn an_empty_order_list_says_which_depot_the_account_is_limited_to() {
    let app = spawn_app().await;
    add_staff(&app, "licht@musterstadt.de", Role::Depot, Some("stadtwerke-licht")).await;
    let session = login(&app, "licht@musterstadt.de").await;
    let page = session.get(&app, "/staff/orders").await.text().await.unwrap();
    assert!(page.contains("Keine Aufträge für diese Auswahl."), "{page}");
    assert!(page.contains("Dieses Konto sieht nur die Aufträge von Stadtwerke – Beleuchtung."), "{page}");

    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let page = session.get(&app, "/staff/orders").await.text().await.unwrap();
    assert!(!page.contains("Dieses Konto sieht nur"), "a dispatcher sees every depot: {page}");
}

#[tokio::test]
async fn a_folder_without_the_municipality_files_gets_one_clear_line_and_keeps_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"))
        .current_dir(folder.path())
        .env_clear()
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert!(!child.wait().await.unwrap().success());
    assert!(stderr.contains("config/districts.geojson") && stderr.contains("geo.districts_file"), "{stderr}");
    assert!(stderr.contains("Start Meldeweg in the folder that holds config/"), "says what to do: {stderr}");
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "the cause once: {stderr}");
    let left: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
    assert!(left.is_empty(), "a start that failed leaves nothing behind: {left:?}");
}

#[tokio::test]
async fn links_follow_the_listen_address_and_a_stop_does_not_wait_for_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    // The embedded defaults (sandbox, no public_url) with another port, as the README's
    // `MELDEWEG_LISTEN` example has it.
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("MELDEWEG_LISTEN", format!("127.0.0.1:{port}"))
        .env("MELDEWEG_DATA_DIR", dir.path())
        .env("MELDEWEG_DATABASE_URL", &database_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    eventually("the server to answer", || async { http.get(format!("{base}/healthz")).send().await.is_ok() }).await;

    let from = "4917699999999";
    for message in [
        json!({ "from": from, "kind": "text", "text": "Laterne am Rathaus ist kaputt" }),
        json!({ "from": from, "kind": "location", "lat": 51.96208, "lon": 7.62617, "name": "Rathaus" }),
    ] {
        let response = http.post(format!("{base}/sandbox/api/messages")).json(&message).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let chat = || async {
        let response = http.post(format!("{base}/sandbox/api/chat")).json(&json!({ "from": from })).send().await;
        response.unwrap().json::<Value>().await.unwrap()
    };
    eventually("the reference with its status link", || async {
        chat().await["items"].as_array().unwrap().iter().any(|i| i["text"].as_str().unwrap().contains("/m/"))
    })
    .await;
    let chat = chat().await;
    let texts: Vec<&str> = chat["items"].as_array().unwrap().iter().filter_map(|i| i["text"].as_str()).collect();
    let all = texts.join("\n");
    assert!(all.contains(&format!("{base}/m/")), "the status link names the port: {all}");
    assert!(all.contains(&format!("{base}/melden")), "the notice's web form names the port: {all}");
    assert!(!all.contains("127.0.0.1:8080"), "{all}");

    // A chat request that waits for news (the page's long poll), then SIGTERM: the request is
    // answered and the service exits without waiting for the poll to run out.
    let known = chat["fingerprint"].clone();
    let waiting = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/sandbox/api/chat");
        async move { http.post(url).json(&json!({ "from": from, "known": known })).send().await.map(|r| r.status()) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    terminate(&server);
    let answered = tokio::time::timeout(DEADLINE, waiting).await.expect("the waiting chat request is answered");
    assert_eq!(answered.unwrap().unwrap(), 200);
    let exited = tokio::time::timeout(DEADLINE, server.wait()).await.expect("the service exits");
    assert!(exited.unwrap().success(), "exit 0 on SIGTERM");
}

#[tokio::test]
async fn settings_changed_after_loading_are_held_to_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let mut settings = test_settings(dir.path(), &database_url, "http://127.0.0.1:9");
    settings.queue.concurrency = 0;
    let refused = meldeweg::startup::Application::build(settings).await.err().expect("the start is refused");
    assert!(refused.to_string().contains("queue.concurrency"), "{refused}");
}
