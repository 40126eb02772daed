//! Triage through the real path (webhook → intake → triage): placing reports in the demo town,
//! routing them to depots, forwarding, outside the boundary, addresses in the text, urgent
//! reports, and duplicates joining open work orders.

use meldeweg::config::Settings;
use meldeweg::startup::Application;
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;
use sqlx::Row;

use crate::cli::run;
use crate::helpers::*;

/// Points in the demo town's districts.
const NORD: (f64, f64) = (51.975, 7.645);
const HAFEN: (f64, f64) = (51.955, 7.665);
const SUED: (f64, f64) = (51.945, 7.600);
/// 22 m and 28 m north of a point, at this latitude.
const NEAR: f64 = 0.0002;
const JUST_OUTSIDE_25_M: f64 = 0.00025;

/// A new citizen reports `what` at `at`; returns the reference and the acknowledgement.
async fn report(app: &TestApp, what: &str, at: (f64, f64)) -> (String, String) {
    let citizen = Citizen::new();
    app.send(&citizen, text(what)).await;
    app.send(&citizen, location(at.0, at.1)).await;
    let answer = app.replies(&citizen, 3).await.remove(2);
    let start = answer.find("M-").expect("a reference in the answer");
    (answer[start..start + 13].to_string(), answer)
}

async fn report_row(app: &TestApp, reference: &str) -> sqlx::any::AnyRow {
    sqlx::query(
        "SELECT r.status, r.category, r.priority, r.district, r.address, r.forwarded_to, r.order_link, o.number,
                o.depot, o.category AS order_category, o.district AS order_district, o.status AS order_status,
                o.priority AS order_priority, o.address AS order_address
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id WHERE r.reference = $1",
    )
    .bind(reference)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

fn text_of(row: &sqlx::any::AnyRow, column: &str) -> Option<String> {
    row.get::<Option<String>, _>(column)
}

#[tokio::test]
async fn a_report_opens_a_work_order_for_the_depot_of_its_district() {
    let app = spawn_app().await;
    let (reference, answer) = report(&app, "Riesiges Schlagloch auf der Fahrbahn", NORD).await;
    assert_eq!(
        answer,
        app.render_in(
            Lang::De,
            TextKey::ReportCreated,
            &[("reference", &reference), ("link", &app.status_link(&reference).await)]
        )
    );
    let row = report_row(&app, &reference).await;
    assert_eq!(text_of(&row, "status").as_deref(), Some("open"));
    assert_eq!(text_of(&row, "order_link").as_deref(), Some("opened"));
    assert_eq!(text_of(&row, "district").as_deref(), Some("nord"));
    assert_eq!(text_of(&row, "depot").as_deref(), Some("bauhof-nord"));
    assert_eq!(text_of(&row, "order_category").as_deref(), Some("strassenschaden"));
    assert_eq!(text_of(&row, "order_district").as_deref(), Some("nord"));
    assert_eq!(text_of(&row, "order_status").as_deref(), Some("open"));
    assert_eq!(text_of(&row, "order_priority").as_deref(), Some("normal"));
    let number = text_of(&row, "number").unwrap();
    let year = meldeweg::time::berlin_year(meldeweg::time::now_ms());
    assert_eq!(number, format!("A-{year}-000001"));

    // Street lighting anywhere goes to the utility's crew.
    let (reference, _) = report(&app, "Die Straßenlaterne ist seit Tagen aus", SUED).await;
    let row = report_row(&app, &reference).await;
    assert_eq!(text_of(&row, "depot").as_deref(), Some("stadtwerke-licht"));
    assert_eq!(text_of(&row, "district").as_deref(), Some("sued"));
    assert!(text_of(&row, "number").unwrap().ends_with("000002"));
}

#[tokio::test]
async fn the_nearest_address_heads_the_work_order() {
    let app = spawn_app().await;
    // 13 m from Lindenweg 4 (51.970643, 7.610710).
    let (reference, _) = report(&app, "Graffiti an der Hauswand", (51.97076, 7.61071)).await;
    let row = report_row(&app, &reference).await;
    assert_eq!(text_of(&row, "address").as_deref(), Some("Lindenweg 4"));
    assert_eq!(text_of(&row, "order_address").as_deref(), Some("Lindenweg 4"));
    assert_eq!(text_of(&row, "district").as_deref(), Some("lindenviertel"));
}

#[tokio::test]
async fn a_second_report_nearby_joins_the_open_order_and_is_told_it_is_known() {
    let app = spawn_app().await;
    let (first, _) = report(&app, "Schlagloch vor der Einfahrt", NORD).await;
    let (second, answer) = report(&app, "Tiefes Loch im Asphalt", (NORD.0 + NEAR, NORD.1)).await;
    assert_eq!(
        answer,
        app.render_in(
            Lang::De,
            TextKey::ReportKnown,
            &[("reference", &second), ("link", &app.status_link(&second).await)]
        )
    );
    assert!(!answer.contains(&first), "nothing about the other reporter or their report (P13)");
    let (first_row, second_row) = (report_row(&app, &first).await, report_row(&app, &second).await);
    assert_eq!(text_of(&first_row, "number"), text_of(&second_row, "number"));
    assert_eq!(text_of(&second_row, "order_link").as_deref(), Some("duplicate"));
    assert_eq!(text_of(&second_row, "status").as_deref(), Some("open"));

    // Just outside the pothole radius (25 m): a new order.
    let (third, answer) = report(&app, "Schlagloch!", (NORD.0 + JUST_OUTSIDE_25_M, NORD.1)).await;
    assert_eq!(
        answer,
        app.render_in(
            Lang::De,
            TextKey::ReportCreated,
            &[("reference", &third), ("link", &app.status_link(&third).await)]
        )
    );
    // Another category at the very same spot: a new order too.
    let (fourth, _) = report(&app, "Laterne flackert die ganze Nacht", NORD).await;
    assert_eq!(text_of(&report_row(&app, &fourth).await, "order_link").as_deref(), Some("opened"));
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 3);

    let (ok, stdout, stderr) = run(&app, &["orders", "list", "--json"], &[]).await;
    assert!(ok, "{stderr}");
    let orders: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let joined = orders.as_array().unwrap().iter().find(|o| o["reports"].as_array().unwrap().len() == 2).unwrap();
    assert_eq!(joined["reports"], serde_json::json!([first, second]));
    assert_eq!(joined["status"], "open");
    assert_eq!(joined["depot"], "bauhof-nord");
    assert!(!stdout.contains("+49") && !stdout.contains("4917"), "no phone numbers in the listing");
}

#[tokio::test]
async fn a_closed_order_is_no_duplicate_target() {
    let app = spawn_app().await;
    let (first, _) = report(&app, "Gully verstopft, Wasser steht", SUED).await;
    // Staff close the order (the staff workflow writes the same column).
    sqlx::query("UPDATE work_orders SET status = 'done'").execute(app.db.pool()).await.unwrap();

    let (second, answer) = report(&app, "Gully verstopft", SUED).await;
    assert_eq!(
        answer,
        app.render_in(
            Lang::De,
            TextKey::ReportCreated,
            &[("reference", &second), ("link", &app.status_link(&second).await)]
        )
    );
    assert_ne!(text_of(&report_row(&app, &first).await, "number"), text_of(&report_row(&app, &second).await, "number"));
    // The new order is a target again.
    let (_, answer) = report(&app, "Gullideckel klappert und Abfluss verstopft", SUED).await;
    assert!(answer.contains("bereits bekannt"), "{answer}");
}

#[tokio::test]
async fn categories_another_body_handles_are_forwarded_without_an_order() {
    let app = spawn_app().await;
    let (reference, answer) = report(&app, "Verkehrsschild umgefahren, liegt auf dem Gehweg", HAFEN).await;
    assert!(answer.starts_with(&format!("Vielen Dank! Ihre Meldung hat die Nummer {reference}.")), "{answer}");
    assert!(answer.contains("Straßen.NRW"), "the routing rule's own reply: {answer}");
    let row = report_row(&app, &reference).await;
    assert_eq!(text_of(&row, "status").as_deref(), Some("forwarded"));
    assert_eq!(text_of(&row, "forwarded_to").as_deref(), Some("Straßen.NRW, Regionalniederlassung Münsterland"));
    assert_eq!(text_of(&row, "number"), None);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 0);
}

#[tokio::test]
async fn outside_the_boundary_the_report_is_kept_and_the_citizen_told_who_is_responsible() {
    let app = spawn_app().await;
    let (reference, answer) = report(&app, "Müll am Straßenrand", (51.5136, 7.4653)).await;
    assert_eq!(answer, app.render_in(Lang::De, TextKey::ReportOutside, &[("reference", &reference)]));
    assert!(answer.contains("nicht in Musterstadt"));
    let row = report_row(&app, &reference).await;
    assert_eq!(text_of(&row, "status").as_deref(), Some("outside_area"));
    assert_eq!(text_of(&row, "district"), None);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 0);
}

#[tokio::test]
async fn an_address_in_the_text_places_the_report_without_asking() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Schlagloch vor lindenweg 4, bitte schnell")).await;
    let replies = app.replies(&citizen, 2).await;
    assert!(replies[1].contains("M-20"), "no location request: {replies:?}");
    let row = sqlx::query("SELECT location_source, location_label, lat, lon, district FROM reports")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("location_source"), "address");
    assert_eq!(row.get::<String, _>("location_label"), "Lindenweg 4");
    assert!((row.get::<f64, _>("lat") - 51.970643).abs() < 1e-6);
    assert_eq!(row.get::<String, _>("district"), "lindenviertel");

    // A typo and an abbreviation, at a corner.
    let citizen = Citizen::new();
    app.send(&citizen, text("Müll abgeladen Ecke Bahnhofstr./Schulstrase")).await;
    assert!(app.replies(&citizen, 2).await[1].contains("M-20"));
    let label: String = sqlx::query_scalar("SELECT location_label FROM reports WHERE location_label LIKE '%/%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(label, "Bahnhofstraße / Schulstraße");
}

#[tokio::test]
async fn an_urgent_report_gets_the_emergency_numbers_and_raises_its_order() {
    let app = spawn_app().await;
    let (first, _) = report(&app, "Gully verstopft", NORD).await;
    let (_, answer) =
        report(&app, "Der Gullydeckel fehlt, der Schacht ist offen!", (NORD.0 + NEAR / 2.0, NORD.1)).await;
    assert!(answer.contains("bereits bekannt"), "{answer}");
    assert!(answer.ends_with(&app.render_in(Lang::De, TextKey::EmergencyHint, &[])), "{answer}");
    let row = report_row(&app, &first).await;
    assert_eq!(text_of(&row, "order_priority").as_deref(), Some("urgent"), "the order takes the higher priority");
    assert_eq!(text_of(&row, "priority").as_deref(), Some("normal"), "the first report keeps its own");
}

#[tokio::test]
async fn reports_arriving_together_at_one_spot_open_one_order() {
    let app = spawn_app().await;
    let citizens: Vec<Citizen> = (0..6).map(|_| Citizen::new()).collect();
    let deliveries: Vec<_> = citizens
        .iter()
        .map(|c| {
            delivery(
                vec![c.contact()],
                vec![c.message(text("Schlagloch vor der Einfahrt")), c.message(location(SUED.0, SUED.1))],
                vec![],
            )
        })
        .collect();
    futures_util::future::join_all(deliveries.iter().map(|d| app.post_webhook(d))).await;
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE status = 'open'").await, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 1, "one order, five duplicates");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE order_link = 'duplicate'").await, 5);
}

/// Writes `content` to a file in the test's directory and returns its path.
fn write(app: &TestApp, name: &str, content: &str) -> std::path::PathBuf {
    let path = app.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

async fn start_error(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("the service started with bad data"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn bad_municipality_files_stop_the_start_with_file_and_reason() {
    let app = spawn_app().await;
    let districts = include_str!("../../config/districts.geojson");
    let routing = include_str!("../../config/routing.toml");
    let base = || app.settings.clone();

    let mut settings = base();
    settings.geo.districts_file = app.dir.path().join("missing.geojson");
    assert!(start_error(settings).await.contains("missing.geojson"));

    // An unclosed ring: the last position of Nord's outer ring dropped.
    let value: serde_json::Value = serde_json::from_str(districts).unwrap();
    let mut broken = value.clone();
    broken["features"][1]["geometry"]["coordinates"][0].as_array_mut().unwrap().pop();
    let mut settings = base();
    settings.geo.districts_file = write(&app, "unclosed.geojson", &broken.to_string());
    let error = start_error(settings).await;
    assert!(error.contains("unclosed.geojson") && error.contains("(nord)") && error.contains("not closed"), "{error}");

    let mut settings = base();
    let unknown_depot = routing.replace("depot = \"stadtwerke-kanal\"", "depot = \"klaerwerk\"");
    settings.geo.routing_file = write(&app, "routing.toml", &unknown_depot);
    let error = start_error(settings).await;
    assert!(error.contains("routing.toml") && error.contains("unknown depot \"klaerwerk\""), "{error}");

    let mut settings = base();
    settings.geo.routing_file =
        write(&app, "routing2.toml", &routing.replace("category = \"kanal\"", "category = \"abwasser\""));
    let error = start_error(settings).await;
    assert!(error.contains("unknown category \"abwasser\""), "{error}");

    let mut settings = base();
    settings.geo.streets_file = write(&app, "streets.csv", "street,number,lat,lon\nLindenweg,4,91,7.6\n");
    let error = start_error(settings).await;
    assert!(error.contains("streets.csv") && error.contains("line 2"), "{error}");
}
