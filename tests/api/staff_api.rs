//! The JSON API (/api/v1) with per-user tokens: every cell of the permission matrix (role ×
//! operation × own/other depot), the lifecycle's refusals as status codes, filters, and the
//! OpenAPI description covering every route.

use meldeweg::staff::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::staff_helpers::*;

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.app.http.get(self.app.url(path)).bearer_auth(&self.token).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.app.http.post(self.app.url(path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }
}

/// What each role may do, written out: (role, depot, operations allowed on a Nord order).
const MATRIX: [(&str, Role, Option<&str>, &[&str]); 5] = [
    (
        "nord@musterstadt.de",
        Role::Depot,
        Some("bauhof-nord"),
        &["view", "accept", "start", "done", "reject", "forward", "comment"],
    ),
    ("sued@musterstadt.de", Role::Depot, Some("bauhof-sued"), &[]),
    (
        "dispo@musterstadt.de",
        Role::Dispatcher,
        None,
        &["view", "accept", "start", "done", "reject", "forward", "reopen", "comment", "reroute", "merge"],
    ),
    ("chefin@musterstadt.de", Role::Manager, None, &["view"]),
    ("admin@musterstadt.de", Role::Admin, None, &["view"]),
];

const OPERATIONS: [&str; 10] =
    ["view", "accept", "start", "done", "reject", "forward", "reopen", "comment", "reroute", "merge"];

/// The status an order is in, read from the database (the caller may not be allowed to see it).
async fn order_status(api: &Api<'_>, order: &str) -> String {
    let mut conn = api.app.db.pool().acquire().await.unwrap();
    sqlx::query_scalar("SELECT status FROM work_orders WHERE number = $1")
        .bind(order)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Where a transition takes an order.
fn target(transition: &str) -> String {
    match transition {
        "accept" => "accepted",
        "start" => "in_progress",
        "done" => "done",
        "reject" => "rejected",
        "forward" => "forwarded",
        "reopen" => "open",
        other => panic!("no transition {other}"),
    }
    .to_string()
}

#[tokio::test]
async fn every_cell_of_the_permission_matrix_holds() {
    let app = spawn_app().await;
    let (_, reference, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    for (email, role, depot, allowed) in MATRIX {
        add_staff(&app, email, role, depot).await;
        let api = Api { token: api_token(&app, email).await, app: &app };
        for operation in OPERATIONS {
            let before = order_status(&api, &order).await;
            // Bodies that would fail after the permission check (unknown depot, unknown
            // order, missing reason), so allowed cells change as little as possible.
            let response = match operation {
                "view" => api.get(&format!("/api/v1/orders/{order}")).await,
                "comment" => api.post(&format!("/api/v1/orders/{order}/comments"), json!({ "text": "" })).await,
                "reroute" => {
                    api.post(&format!("/api/v1/orders/{order}/reroute"), json!({ "depot": "nirgendwo" })).await
                }
                "merge" => api.post(&format!("/api/v1/orders/{order}/merge"), json!({ "into": "A-2026-999999" })).await,
                transition => {
                    // Empty reasons are refused after the permission check; accept, start and
                    // done change the order when allowed, which later cells only see as 409s.
                    let body = json!({ "transition": transition, "reason": "", "to": "" });
                    api.post(&format!("/api/v1/orders/{order}/transitions"), body).await
                }
            };
            let status = response.status().as_u16();
            let reason = response.text().await.unwrap();
            if allowed.contains(&operation) {
                // Past the permission check each cell ends the one way its body and the order's
                // status decide; a 403 or any other answer fails.
                let after = order_status(&api, &order).await;
                let cell = format!("{email} may {operation}: {status} {reason}");
                match operation {
                    "view" => assert_eq!(status, 200, "{cell}"),
                    "comment" => assert!(status == 400 && reason.contains("Kommentar"), "{cell}"),
                    "reroute" => assert!(status == 400 && reason.contains("nirgendwo"), "{cell}"),
                    "merge" => assert!(status == 400 && reason.contains("A-2026-999999"), "{cell}"),
                    transition => match status {
                        200 => assert_eq!(after, target(transition), "{cell}"),
                        // A reason or a body is asked for before anything changes.
                        400 => assert!(
                            ["reject", "forward"].contains(&transition) && reason.contains("Bitte") && after == before,
                            "{cell}"
                        ),
                        // The order's status does not allow it (an earlier cell moved it on).
                        409 => assert_eq!(after, before, "{cell}"),
                        _ => panic!("{cell}"),
                    },
                }
            } else {
                assert_eq!(status, 403, "{email} may not {operation}: {reason}");
                assert!(reason.contains("\"error\""), "{reason}");
                assert_eq!(order_status(&api, &order).await, before, "a refused {operation} changes nothing");
            }
        }
        let report = api.get(&format!("/api/v1/reports/{reference}")).await;
        let expected = if allowed.contains(&"view") { 200 } else { 403 };
        assert_eq!(report.status(), expected, "{email} reads the report");
    }
}

#[tokio::test]
async fn tokens_are_required_and_revoked_tokens_stop_working() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let none = app.http.get(app.url("/api/v1/orders")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.text().await.unwrap().contains("Bearer"));
    let bad = app.http.get(app.url("/api/v1/orders")).bearer_auth("mw_nope").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let api = Api { token: token.clone(), app: &app };
    assert_eq!(api.get("/api/v1/orders").await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE 'mw_%'").await, 0, "stored hashed");
    let mut conn = app.db.pool().acquire().await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens").fetch_one(&mut *conn).await.unwrap();
    meldeweg::staff::store::revoke_token(&mut conn, id, meldeweg::time::now_ms()).await.unwrap();
    drop(conn);
    assert_eq!(api.get("/api/v1/orders").await.status(), 401);
}

#[tokio::test]
async fn the_lifecycle_over_the_api_refuses_what_the_status_does_not_allow() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let api = Api { token: api_token(&app, "dispo@musterstadt.de").await, app: &app };
    let (_, _, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let (_, _, other) = reported(&app, "Schlagloch vor dem Haus", SUED).await;
    let transitions = format!("/api/v1/orders/{order}/transitions");
    let done = api.post(&transitions, json!({ "transition": "done" })).await;
    assert_eq!(done.status(), 409);
    assert!(done.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("übernehmen"));
    assert_eq!(api.post(&transitions, json!({ "transition": "reject" })).await.status(), 400);
    assert_eq!(api.post(&transitions, json!({ "transition": "fly" })).await.status(), 400);
    for (body, says) in [
        (json!({ "transition": "Anna, 0151 5550123" }), "unknown transition"),
        (json!({ "transition": 15155501230u64 }), "invalid type"),
        (json!({ "transition": "accept", "reason": ["Anna, expected: 0151 5550123"] }), "invalid type"),
    ] {
        let refused = api.post(&transitions, body).await;
        assert_eq!(refused.status(), 400);
        let reason = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(reason.contains(says) && !reason.contains("5550123"), "the answer repeats a value: {reason}");
    }
    let malformed = app
        .http
        .post(app.url(&transitions))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    // axum names the key it was reading; a key is the sender's text too (found by fuzzing).
    for raw in [r#"{"Erika Mustermann 015155501230": tru}"#, r#"{"transition": {"Erika 015155501230": 1}}"#] {
        let refused = app
            .http
            .post(app.url(&transitions))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        let reason = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
        assert!(!reason.contains("Erika") && !reason.contains("5550123"), "the answer repeats a key: {reason}");
        assert!(reason.contains("at line 1"), "the reason still says where: {reason}");
    }
    assert_eq!(
        api.post("/api/v1/orders/A-2026-999999/transitions", json!({ "transition": "accept" })).await.status(),
        404
    );

    let accepted: Value = api.post(&transitions, json!({ "transition": "accept" })).await.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["accepted_at"].is_i64());
    let comment = api.post(&format!("/api/v1/orders/{order}/comments"), json!({ "text": "Material bestellt" })).await;
    assert_eq!(comment.status(), 201);
    let rerouted: Value = api
        .post(&format!("/api/v1/orders/{order}/reroute"), json!({ "depot": "bauhof-sued" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((rerouted["depot"].as_str(), rerouted["status"].as_str()), (Some("bauhof-sued"), Some("open")));
    let merged: Value =
        api.post(&format!("/api/v1/orders/{order}/merge"), json!({ "into": other })).await.json().await.unwrap();
    assert_eq!(merged["number"], other.as_str());
    assert_eq!(merged["reports"].as_array().unwrap().len(), 2, "the reports followed");
    let source: Value = api.get(&format!("/api/v1/orders/{order}")).await.json().await.unwrap();
    assert_eq!(source["status"], "merged");
    assert_eq!(source["merged_into"], other.as_str());
    let kinds: Vec<&str> = source["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "accept", "comment", "rerouted", "merged"]);
    assert_eq!(api.post(&transitions, json!({ "transition": "accept" })).await.status(), 409, "merged is final");
    let rejected: Value = api
        .post(
            &format!("/api/v1/orders/{other}/transitions"),
            json!({ "transition": "reject", "reason": "Privatgrundstück" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rejected["status"].as_str(), rejected["reason"].as_str()),
        (Some("rejected"), Some("Privatgrundstück"))
    );
    let reopened: Value = api
        .post(&format!("/api/v1/orders/{other}/transitions"), json!({ "transition": "reopen" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["status"], "open");
    assert!(reopened["reason"].is_null());
}

#[tokio::test]
async fn the_order_list_filters_combine_and_bad_filters_are_refused() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let api = Api { token: api_token(&app, "dispo@musterstadt.de").await, app: &app };
    let (_, _, nord) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let (_, _, sued) = reported(&app, "Schlagloch vor dem Haus", SUED).await;
    let numbers = |body: Value| -> Vec<String> {
        body["orders"].as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap().to_string()).collect()
    };
    let all: Value = api.get("/api/v1/orders").await.json().await.unwrap();
    assert_eq!(numbers(all).len(), 2);
    let south: Value = api.get("/api/v1/orders?district=sued&category=strassenschaden").await.json().await.unwrap();
    assert_eq!(numbers(south), [sued]);
    let none: Value = api.get("/api/v1/orders?district=sued&depot=bauhof-nord").await.json().await.unwrap();
    assert!(numbers(none).is_empty());
    // Overdue: push one order's due date into the past.
    sqlx::query("UPDATE work_orders SET due_at = 1 WHERE number = $1")
        .bind(&nord)
        .execute(app.db.pool())
        .await
        .unwrap();
    let late: Value = api.get("/api/v1/orders?overdue=true").await.json().await.unwrap();
    assert_eq!(numbers(late.clone()), [nord]);
    assert_eq!(late["orders"][0]["overdue"], true);
    for bad in
        ["status=kaputt", "category=nothing", "district=mars", "depot=x", "overdue=maybe", "limit=100000", "offset=-1"]
    {
        let response = api.get(&format!("/api/v1/orders?{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn the_openapi_description_is_served_and_covers_every_route() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let spec: Value = response.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{number}", "get"),
        ("/api/v1/orders/{number}/transitions", "post"),
        ("/api/v1/orders/{number}/comments", "post"),
        ("/api/v1/orders/{number}/reroute", "post"),
        ("/api/v1/orders/{number}/merge", "post"),
        ("/api/v1/reports/{reference}", "get"),
        ("/api/v1/stats", "get"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path}");
    }
    let transition = &spec["components"]["schemas"]["TransitionRequest"]["properties"]["transition"]["enum"];
    assert_eq!(transition, &json!(["accept", "start", "done", "reject", "forward", "reopen"]));

    // What the API answers has every field the description promises, and no other.
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let api = Api { token: api_token(&app, "dispo@musterstadt.de").await, app: &app };
    let (_, reference, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let list: Value = api.get("/api/v1/orders").await.json().await.unwrap();
    let detail: Value = api.get(&format!("/api/v1/orders/{order}")).await.json().await.unwrap();
    let report: Value = api.get(&format!("/api/v1/reports/{reference}")).await.json().await.unwrap();
    let schemas = &spec["components"]["schemas"];
    for (schema, value) in [
        ("OrderSummary", &list["orders"][0]),
        ("OrderDetail", &detail),
        ("OrderReport", &detail["reports"][0]),
        ("Event", &detail["history"][0]),
        ("Report", &report),
    ] {
        let mut promised: Vec<&str> =
            schemas[schema]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut answered: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        promised.sort_unstable();
        answered.sort_unstable();
        assert_eq!(answered, promised, "{schema}");
    }
}
