//! Statistics on a small hand-built history whose figures are worked out by hand in the
//! comments: totals, nearest-rank medians and 90th percentiles, backlog buckets, SLA, ISO
//! weeks, breakdowns, filters, the previous period; the page, the CSV and the JSON agree;
//! only managers and admins see them.

use jiff::civil::date;
use meldeweg::staff::Role;
use meldeweg::time::berlin_midnight;
use serde_json::Value;

use crate::helpers::*;
use crate::staff_helpers::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

struct Order {
    number: &'static str,
    category: &'static str,
    district: &'static str,
    depot: &'static str,
    priority: &'static str,
    status: &'static str,
    created: i64,
    accepted: Option<i64>,
    done: Option<i64>,
    closed: Option<i64>,
    due: i64,
    address: &'static str,
}

async fn insert_order(app: &TestApp, o: &Order) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, depot, category, district, lat, lon, address, status, priority, created_at,
                                  updated_at, due_at, accepted_at, done_at, closed_at, channel)
         VALUES ($1, $2, $3, $4, 51.97, 7.63, $5, $6, $7, $8, $8, $9, $10, $11, $12, 'whatsapp') RETURNING id",
    )
    .bind(o.number)
    .bind(o.depot)
    .bind(o.category)
    .bind(o.district)
    .bind(o.address)
    .bind(o.status)
    .bind(o.priority)
    .bind(o.created)
    .bind(o.due)
    .bind(o.accepted)
    .bind(o.done)
    .bind(o.closed)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

async fn insert_report(
    app: &TestApp,
    reference: &str,
    order: Option<(i64, &str)>,
    created: i64,
    category: &str,
    district: Option<&str>,
) {
    sqlx::query(
        "INSERT INTO reports (reference, channel, lat, lon, location_source, status, created_at, category, district,
                              priority, work_order_id, order_link)
         VALUES ($1, 'whatsapp', 51.97, 7.63, 'shared_location', 'open', $2, $3, $4, 'normal', $5, $6)",
    )
    .bind(reference)
    .bind(created)
    .bind(category)
    .bind(district)
    .bind(order.map(|o| o.0))
    .bind(order.map(|o| o.1))
    .execute(app.db.pool())
    .await
    .unwrap();
}

/// January 2026 (Berlin) and the December before it.
async fn history(app: &TestApp) {
    let jan = |day: i8, hour: i64| berlin_midnight(date(2026, 1, day)) + hour * HOUR;
    let dec = |day: i8, hour: i64| berlin_midnight(date(2025, 12, day)) + hour * HOUR;
    let o1 = insert_order(
        app,
        &Order {
            number: "A-2026-000001",
            category: "strassenschaden",
            district: "nord",
            depot: "bauhof-nord",
            priority: "normal",
            status: "done",
            created: jan(5, 10),
            accepted: Some(jan(5, 12)),
            done: Some(jan(5, 20)),
            closed: Some(jan(5, 20)),
            due: jan(5, 10) + 120 * HOUR,
            address: "Lindenweg 2",
        },
    )
    .await;
    let o2 = insert_order(
        app,
        &Order {
            number: "A-2026-000002",
            category: "strassenschaden",
            district: "nord",
            depot: "bauhof-nord",
            priority: "high",
            status: "done",
            created: jan(6, 8),
            accepted: Some(jan(6, 12)),
            done: Some(jan(7, 14)),
            closed: Some(jan(7, 14)),
            due: jan(6, 8) + 24 * HOUR,
            address: "Hafenstraße 1",
        },
    )
    .await;
    let o3 = insert_order(
        app,
        &Order {
            number: "A-2026-000003",
            category: "beleuchtung",
            district: "sued",
            depot: "stadtwerke-licht",
            priority: "normal",
            status: "in_progress",
            created: jan(12, 9),
            accepted: Some(jan(12, 10)),
            done: None,
            closed: None,
            due: jan(12, 9) + 120 * HOUR,
            address: "Lindenweg 4",
        },
    )
    .await;
    let o4 = insert_order(
        app,
        &Order {
            number: "A-2026-000004",
            category: "muell",
            district: "hafen",
            depot: "bauhof-nord",
            priority: "urgent",
            status: "rejected",
            created: jan(20, 7),
            accepted: None,
            done: None,
            closed: Some(jan(20, 12)),
            due: jan(20, 7) + 4 * HOUR,
            address: "Kaiweg 3",
        },
    )
    .await;
    let o5 = insert_order(
        app,
        &Order {
            number: "A-2025-000005",
            category: "strassenschaden",
            district: "nord",
            depot: "bauhof-nord",
            priority: "normal",
            status: "open",
            created: dec(1, 10),
            accepted: None,
            done: None,
            closed: None,
            due: dec(1, 10) + 120 * HOUR,
            address: "Lindenweg 8",
        },
    )
    .await;
    let o6 = insert_order(
        app,
        &Order {
            number: "A-2025-000006",
            category: "strassenschaden",
            district: "nord",
            depot: "bauhof-nord",
            priority: "normal",
            status: "done",
            created: dec(20, 10),
            accepted: Some(dec(21, 10)),
            done: Some(jan(3, 10)),
            closed: Some(jan(3, 10)),
            due: dec(20, 10) + 120 * HOUR,
            address: "Ring 1",
        },
    )
    .await;
    // A merged order is counted nowhere.
    insert_order(
        app,
        &Order {
            number: "A-2026-000009",
            category: "strassenschaden",
            district: "nord",
            depot: "bauhof-nord",
            priority: "normal",
            status: "merged",
            created: jan(8, 10),
            accepted: None,
            done: None,
            closed: Some(jan(8, 11)),
            due: jan(8, 10) + 120 * HOUR,
            address: "Ring 2",
        },
    )
    .await;
    insert_report(app, "M-2026-000001", Some((o1, "opened")), jan(5, 10), "strassenschaden", Some("nord")).await;
    insert_report(app, "M-2026-000002", Some((o1, "duplicate")), jan(5, 12), "strassenschaden", Some("nord")).await;
    insert_report(app, "M-2026-000003", Some((o2, "opened")), jan(6, 8), "strassenschaden", Some("nord")).await;
    insert_report(app, "M-2026-000004", Some((o3, "opened")), jan(12, 9), "beleuchtung", Some("sued")).await;
    insert_report(app, "M-2026-000005", Some((o4, "opened")), jan(20, 7), "muell", Some("hafen")).await;
    insert_report(app, "M-2026-000006", None, jan(25, 15), "sonstiges", None).await; // outside the town
    insert_report(app, "M-2025-000007", Some((o5, "opened")), dec(1, 10), "strassenschaden", Some("nord")).await;
    insert_report(app, "M-2025-000008", Some((o6, "opened")), dec(20, 10), "strassenschaden", Some("nord")).await;
}

async fn api_stats(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.http.get(app.url(&format!("/api/v1/stats?{query}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_figures_of_a_hand_built_month_are_the_hand_computed_ones() {
    let app = spawn_app().await;
    history(&app).await;
    add_staff(&app, "chefin@musterstadt.de", Role::Manager, None).await;
    let token = api_token(&app, "chefin@musterstadt.de").await;
    let s = api_stats(&app, &token, "from=2026-01-01&to=2026-01-31").await;
    let t = &s["totals"];
    assert_eq!(t["received"], 6, "R1–R6");
    assert_eq!(t["opened"], 4, "O1–O4; the merged one is not counted");
    assert_eq!(t["done"], 3, "O1, O2 and O6 (opened in December)");
    assert_eq!((t["rejected"].as_u64(), t["forwarded"].as_u64()), (Some(1), Some(0)));
    assert_eq!((t["linked"].as_u64(), t["duplicates"].as_u64()), (Some(5), Some(1)));
    assert_eq!(t["duplicate_share"], 0.2);
    // Accepted in January: O1 after 2 h, O2 after 4 h, O3 after 1 h → sorted 1, 2, 4 h.
    assert_eq!(t["to_acceptance"]["median_ms"], 2 * HOUR);
    assert_eq!(t["to_acceptance"]["p90_ms"], 4 * HOUR);
    // Done in January: O1 after 10 h, O2 after 30 h, O6 after 14 days.
    assert_eq!(t["to_done"]["median_ms"], 30 * HOUR);
    assert_eq!(t["to_done"]["p90_ms"], 14 * DAY);
    // Due: O1 in time; O2 (24 h) and O6 (120 h) late.
    assert_eq!((t["sla"]["done"].as_u64(), t["sla"]["on_time"].as_u64()), (Some(3), Some(1)));
    assert_eq!(s["sla_by_priority"]["normal"]["on_time"], 1);
    assert_eq!(s["sla_by_priority"]["normal"]["done"], 2);
    assert_eq!(s["sla_by_priority"]["high"]["on_time"], 0);
    // Backlog at the end of January: O3 (19 days old), O5 (61 days).
    let b = &s["backlog"];
    assert_eq!([&b["days_0_7"], &b["days_8_30"], &b["days_31_90"], &b["days_over_90"]], [0, 1, 1, 0]);
    assert_eq!(s["top_streets"][0], serde_json::json!(["Lindenweg", 2]));
    // ISO weeks: 1 January 2026 is a Thursday (W01); 25 January a Sunday (still W04).
    let weeks: Vec<(String, u64, u64)> = s["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (w["week"].as_str().unwrap().to_string(), w["received"].as_u64().unwrap(), w["done"].as_u64().unwrap())
        })
        .collect();
    let expected = [("2026-W01", 0, 1), ("2026-W02", 3, 2), ("2026-W03", 1, 0), ("2026-W04", 2, 0), ("2026-W05", 0, 0)];
    assert_eq!(weeks, expected.map(|(w, r, d)| (w.to_string(), r, d)));
    let category = |id: &str| s["by_category"].as_array().unwrap().iter().find(|b| b["id"] == id).cloned().unwrap();
    assert_eq!(
        (category("strassenschaden")["received"].as_u64(), category("strassenschaden")["done"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(category("beleuchtung")["opened"], 1);
    // December: R7, R8 received; O5, O6 opened; nothing done.
    let p = &s["previous"];
    assert_eq!((p["received"].as_u64(), p["opened"].as_u64(), p["done"].as_u64()), (Some(2), Some(2), Some(0)));

    // Filters combine.
    let nord = api_stats(&app, &token, "from=2026-01-01&to=2026-01-31&district=nord").await;
    assert_eq!(
        (nord["totals"]["received"].as_u64(), nord["totals"]["opened"].as_u64(), nord["totals"]["done"].as_u64()),
        (Some(3), Some(2), Some(3))
    );
    let light = api_stats(&app, &token, "from=2026-01-01&to=2026-01-31&depot=stadtwerke-licht").await;
    assert_eq!(
        (light["totals"]["received"].as_u64(), light["totals"]["opened"].as_u64(), light["totals"]["done"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    let high_nord = api_stats(&app, &token, "from=2026-01-01&to=2026-01-31&district=nord&priority=high").await;
    assert_eq!((high_nord["totals"]["opened"].as_u64(), high_nord["totals"]["done"].as_u64()), (Some(1), Some(1)));
    for bad in [
        "from=2026-02-01&to=2026-01-01",
        "from=gestern",
        "district=mars",
        "priority=egal",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let response = app.http.get(app.url(&format!("/api/v1/stats?{bad}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn page_csv_and_json_agree_and_only_managers_and_admins_see_them() {
    let app = spawn_app().await;
    history(&app).await;
    add_staff(&app, "chefin@musterstadt.de", Role::Manager, None).await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    // A street name from outside that a spreadsheet would run as a formula.
    let late_jan = berlin_midnight(date(2026, 1, 30));
    insert_order(
        &app,
        &Order {
            number: "A-2026-000010",
            category: "muell",
            district: "hafen",
            depot: "bauhof-nord",
            priority: "normal",
            status: "open",
            created: late_jan,
            accepted: None,
            done: None,
            closed: None,
            due: late_jan + 120 * HOUR,
            address: "=HYPERLINK(\"http://x\") 1",
        },
    )
    .await;
    let query = "from=2026-01-01&to=2026-01-31";
    let json = api_stats(&app, &api_token(&app, "chefin@musterstadt.de").await, query).await;
    let manager = login(&app, "chefin@musterstadt.de").await;
    let csv = manager.get(&app, &format!("/stats.csv?{query}")).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("meldeweg-2026-01-01-2026-01-31.csv"));
    let csv = csv.text().await.unwrap();
    let value = |section: &str, item: &str, figure: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{section},{item},{figure},")))
            .and_then(|l| l.rsplit(',').next())
            .unwrap_or_else(|| panic!("{section},{item},{figure} in {csv}"))
            .to_string()
    };
    assert_eq!(value("period", "", "received"), json["totals"]["received"].to_string());
    assert_eq!(value("period", "", "done"), json["totals"]["done"].to_string());
    assert_eq!(value("period", "", "to_done_median_hours"), "30.00");
    assert_eq!(value("previous_period", "", "opened"), json["previous"]["opened"].to_string());
    assert_eq!(value("week", "2026-W02", "received"), "3");
    assert_eq!(value("backlog", "31-90", "orders"), "1");
    assert!(csv.starts_with("\u{feff}section,item,figure,value\n"));
    assert!(csv.contains("street,\"'=HYPERLINK(\"\"http://x\"\")\",open_orders,1"), "{csv}");
    let page = manager.get(&app, &format!("/staff/stats?{query}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let totals = page.split("id=\"totals\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(totals.contains("<td>6</td><td>2</td>"), "received now and before: {totals}");
    assert!(totals.contains("<td>30,0 h</td>"), "median time to done: {totals}");
    assert!(page.contains("<dt>Fristeinhaltung</dt>"), "definitions on the page, in German");

    let crew = login(&app, "crew@musterstadt.de").await;
    assert_eq!(crew.get(&app, "/staff/stats").await.status(), 403);
    assert_eq!(crew.get(&app, "/stats.csv").await.status(), 403);
    let crew_token = api_token(&app, "crew@musterstadt.de").await;
    assert_eq!(app.http.get(app.url("/api/v1/stats")).bearer_auth(crew_token).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn the_figures_from_the_rollups_equal_a_plain_recomputation_also_after_the_history_changed() {
    let app = spawn_app().await;
    let municipality = meldeweg::town::load(&app.settings, &[]).unwrap();
    let now = meldeweg::time::now_ms();
    meldeweg::demo::seed(&app.db, &municipality, &app.settings.sla, 6000, 500, 3, now).await.unwrap();
    let today = meldeweg::stats::today(now);
    let queries = [
        "",
        "category=strassenschaden",
        "district=nord",
        "depot=bauhof-sued",
        "channel=whatsapp",
        "channel=web",
        "priority=urgent",
        "category=winterdienst&district=ost",
        "from=2025-11-01&to=2026-02-28",
    ];
    let same = |stage: &'static str| {
        let app = &app;
        let municipality = &municipality;
        async move {
            let now = meldeweg::time::now_ms();
            for text in queries {
                let query = serde_urlencoded_like(text).parse(municipality, today).unwrap();
                let rolled_up = meldeweg::stats::compute(&app.db, &query, now).await.unwrap();
                let mut conn = app.db.pool().acquire().await.unwrap();
                let plain = meldeweg::stats::compute_from_rows(&mut conn, &query, now).await.unwrap();
                assert!(rolled_up.totals.received > 0 || text.contains("winterdienst"), "{stage} {text}: data");
                assert_eq!(rolled_up, plain, "{stage}: {text}");
            }
        }
    };
    same("seeded").await;
    let dirty: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stat_dirty").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(dirty, 0, "the statistics rebuilt every bucket they read");

    // The history changes the ways the service changes it: a new report through the chat,
    // and the lifecycle over the API (accept, done, reject, reopen, re-route, merge).
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let post = |path: String, body: Value| {
        let request = app.http.post(app.url(&path)).bearer_auth(&token).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path} {body}");
        }
    };
    let pool = app.db.pool();
    let numbers =
        |sql: &'static str| async move { sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await.unwrap() };
    reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let open = numbers("SELECT number FROM work_orders WHERE status = 'open' ORDER BY id LIMIT 3").await;
    let done = numbers(
        "SELECT number FROM work_orders WHERE status = 'done' AND depot = 'bauhof-nord' ORDER BY id DESC LIMIT 2",
    )
    .await;
    // An order of the northern depot with a report in a week none of the order's own events
    // lie in: re-routing it changes that report's depot, and only the report's week shows it.
    let spread = numbers(
        "SELECT o.number FROM work_orders o JOIN reports r ON r.work_order_id = o.id
         WHERE o.depot = 'bauhof-nord' AND o.status IN ('done', 'open') AND o.id NOT IN (SELECT MAX(id) FROM work_orders)
           AND r.created_at / 604800000 NOT IN (o.created_at / 604800000, COALESCE(o.accepted_at / 604800000, -1),
                                                COALESCE(o.done_at / 604800000, -1), COALESCE(o.closed_at / 604800000, -1))
         ORDER BY o.id LIMIT 1",
    )
    .await;
    assert_eq!(spread.len(), 1, "the seeded history has duplicates in a later week");
    let transition = |number: &str| format!("/api/v1/orders/{number}/transitions");
    post(transition(&open[0]), serde_json::json!({ "transition": "accept" })).await;
    post(transition(&open[0]), serde_json::json!({ "transition": "done" })).await;
    post(transition(&open[1]), serde_json::json!({ "transition": "reject", "reason": "Privatgrund" })).await;
    post(transition(&done[0]), serde_json::json!({ "transition": "reopen" })).await;
    post(transition(&done[1]), serde_json::json!({ "transition": "reopen" })).await;
    post(format!("/api/v1/orders/{}/merge", done[1]), serde_json::json!({ "into": done[0] })).await;
    let status: String = sqlx::query_scalar("SELECT status FROM work_orders WHERE number = $1")
        .bind(&spread[0])
        .fetch_one(pool)
        .await
        .unwrap();
    if status == "done" {
        post(transition(&spread[0]), serde_json::json!({ "transition": "reopen" })).await;
    }
    post(format!("/api/v1/orders/{}/reroute", spread[0]), serde_json::json!({ "depot": "bauhof-sued" })).await;
    let dirty: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stat_dirty").fetch_one(app.db.pool()).await.unwrap();
    assert!(dirty > 0, "the changes marked their buckets");
    same("changed").await;
}

/// A query string as the handlers receive it.
fn serde_urlencoded_like(text: &str) -> meldeweg::stats::StatsQueryText {
    let mut query = meldeweg::stats::StatsQueryText::default();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap();
        let value = Some(value.to_string());
        match key {
            "from" => query.from = value,
            "to" => query.to = value,
            "category" => query.category = value,
            "district" => query.district = value,
            "depot" => query.depot = value,
            "channel" => query.channel = value,
            "priority" => query.priority = value,
            _ => panic!("{key}"),
        }
    }
    query
}
