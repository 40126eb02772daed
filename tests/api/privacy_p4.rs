//! P4 accountability: every processing step of a report is an event of the audit log, and
//! `meldeweg audit export --report REF` hands over a report's whole history with its hashes.

use meldeweg::staff::Role;
use serde_json::{json, Value};

use crate::cli::run;
use crate::helpers::*;
use crate::staff_helpers::*;

#[tokio::test]
async fn a_reports_steps_are_recorded_and_exported_with_their_hashes() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let token = api_token(&app, "crew@musterstadt.de").await;
    let (citizen, reference, order) = reported(&app, "Schlagloch vor der Schule", NORD).await;
    let (_, other_reference, _) = reported(&app, "Laterne defekt am Markt", SUED).await;
    let accept = json!({ "transition": "accept" });
    let transitions = format!("/api/v1/orders/{order}/transitions");
    let response = app.http.post(app.url(&transitions)).bearer_auth(&token).json(&accept).send().await.unwrap();
    assert_eq!(response.status(), 200);
    app.queue_drained().await;

    let (ok, stdout, stderr) = run(&app, &["audit", "export", "--report", &reference], &[]).await;
    assert!(ok, "{stderr}");
    let history: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(history["reference"], reference.as_str());
    assert_eq!(history["order"], order.as_str());
    let events = history["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["report.received", "order.opened", "message.sent", "order.accept", "message.sent"]);
    assert_eq!(events[2]["detail"]["message"], "report_created", "the acknowledgement, not its text");
    assert_eq!(events[4]["detail"]["message"], "order_accepted");
    assert_eq!(events[0]["detail"]["reference"], reference.as_str());
    assert_eq!(events[0]["actor"], Value::Null, "Meldeweg's own step");
    assert!(events[3]["actor"].as_str().unwrap().starts_with("staff:"), "the crew member who accepted");
    assert_eq!(events[3]["detail"]["from"], "open");
    assert_eq!(events[3]["detail"]["to"], "accepted");
    for event in events {
        for hash in ["hash", "prev_hash", "detail_hash"] {
            assert_eq!(event[hash].as_str().unwrap().len(), 64, "{event}");
        }
    }
    let (ok, _, stderr) = run(&app, &["audit", "verify"], &[]).await;
    assert!(ok, "the exported events are part of an intact chain: {stderr}");
    assert!(!stdout.contains(&other_reference), "nothing about another report");
    assert!(!stdout.contains(citizen.phone.as_deref().unwrap()), "no phone number in the history");
    assert!(!stdout.contains("Schlagloch vor der Schule"), "the citizen's words stay in the report");

    let (ok, _, stderr) = run(&app, &["audit", "export", "--report", "M-2026-999999"], &[]).await;
    assert!(!ok);
    assert!(stderr.contains("there is no report M-2026-999999"), "{stderr}");
}

#[tokio::test]
async fn a_merged_reports_history_follows_it_into_the_other_order_and_no_further_back() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let post = |path: String, body: Value| {
        let request = app.http.post(app.url(&path)).bearer_auth(&token).json(&body);
        async move { request.send().await.unwrap().status() }
    };
    let (_, reference, order) = reported(&app, "Schlagloch vor der Schule", NORD).await;
    let (_, _, other) = reported(&app, "Straßenschaden am Markt", SUED).await;
    let before = json!({ "text": "Vor der Zusammenlegung: Anwohner Müller informiert" });
    assert_eq!(post(format!("/api/v1/orders/{other}/comments"), before).await, 201);
    assert_eq!(post(format!("/api/v1/orders/{order}/comments"), json!({ "text": "Kaltasphalt bestellt" })).await, 201);
    assert_eq!(post(format!("/api/v1/orders/{order}/merge"), json!({ "into": other })).await, 200);
    let accept = json!({ "transition": "accept" });
    assert_eq!(post(format!("/api/v1/orders/{other}/transitions"), accept).await, 200);

    let (ok, stdout, stderr) = run(&app, &["audit", "export", "--report", &reference], &[]).await;
    assert!(ok, "{stderr}");
    let history: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(history["order"], other.as_str(), "the order it belongs to now");
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let steps: Vec<&str> = kinds.into_iter().filter(|kind| !kind.starts_with("message.")).collect();
    assert_eq!(
        steps,
        ["report.received", "order.opened", "order.comment", "order.merged", "order.absorbed", "order.accept"]
    );
    assert!(stdout.contains("Kaltasphalt bestellt"), "its own order's comment");
    assert!(!stdout.contains("Müller"), "nothing the other order held before the report joined it");
}
