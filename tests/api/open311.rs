//! Open311 GeoReport v2 (issue 24) against the running service: discovery, services and their
//! definitions, a report posted with a key and read back as a request in JSON and XML, its
//! status changes as updates, and the bad inputs, each refused in the spec's error format
//! with nothing stored.

use meldeweg::channels::open311::keys;
use meldeweg::staff::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::*;
use crate::staff_helpers::*;

/// Lindenweg 4 in the demo gazetteer (config/streets.csv).
const LAT: &str = "51.970643";
const LONG: &str = "7.610710";

async fn key(app: &TestApp, name: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    keys::add(&mut conn, name, meldeweg::time::now_ms()).await.unwrap()
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app.http.get(app.url(&format!("/open311/v2/{path}"))).send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers()["content-type"].to_str().unwrap().to_string();
    (status, kind, response.text().await.unwrap())
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.http.post(app.url(&format!("/open311/v2/{path}"))).form(fields).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// An address of 312 characters.
const LONG_ADDRESS: &str =
    "Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lind\
    enweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenwe\
    g 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4 Lindenweg 4X";

/// A form's fields.
type Fields<'a> = Vec<(&'a str, String)>;

async fn photo_token(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT token FROM photos").fetch_one(app.db.pool()).await.unwrap()
}

/// An XML answer read as a strict client would: well-formed, the declaration first, `root` as
/// the root element holding only `item` elements; each item as its child elements' names and
/// texts (a list inside as the names of its children, joined by commas).
fn xml_items(text: &str, root: &str, item: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "{text}");
    let document = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let top = document.root_element();
    assert_eq!(top.tag_name().name(), root, "{text}");
    top.children()
        .map(|node| {
            assert!(node.is_element(), "only elements under <{root}>: {text}");
            assert_eq!(node.tag_name().name(), item, "{text}");
            node.children()
                .map(|field| {
                    assert!(field.is_element(), "{text}");
                    let value = if field.children().any(|c| c.is_element()) {
                        field.children().map(|c| c.tag_name().name().to_string()).collect::<Vec<_>>().join(",")
                    } else {
                        field.text().unwrap_or_default().to_string()
                    };
                    (field.tag_name().name().to_string(), value)
                })
                .collect()
        })
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn discovery_and_services_in_json_and_xml_in_german_and_english() {
    let app = spawn_app().await;
    let (status, kind, discovery) = get(&app, "discovery.json").await;
    assert_eq!((status, kind.as_str()), (200, "application/json; charset=utf-8"));
    let discovery = json(&discovery);
    assert_eq!(discovery["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(discovery["endpoints"][0]["formats"], serde_json::json!(["text/xml", "application/json"]));
    let (_, kind, xml) = get(&app, "discovery.xml").await;
    assert_eq!(kind, "text/xml; charset=utf-8");
    let discovery_xml = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(discovery_xml.root_element().tag_name().name(), "discovery");
    assert!(xml.contains("<formats><format>text/xml</format><format>application/json</format></formats>"));

    let (_, _, services) = get(&app, "services.json").await;
    let services = json(&services);
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 10, "one service per category");
    let road = list.iter().find(|s| s["service_code"] == "strassenschaden").unwrap();
    assert_eq!(road["service_name"], "Straßenschaden");
    assert_eq!((road["metadata"].clone(), road["type"].clone()), (Value::Bool(true), "realtime".into()));
    assert!(road["keywords"].as_str().unwrap().contains("schlaglo"));
    let waste = list.iter().find(|s| s["service_code"] == "muell").unwrap();
    assert_eq!(waste["metadata"], false, "a category without attributes");
    let (_, _, plain) = get(&app, "services/muell.json").await;
    assert_eq!(json(&plain)["attributes"], serde_json::json!([]));
    let english = app
        .http
        .get(app.url("/open311/v2/services.json"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(english.text().await.unwrap().contains("\"service_name\":\"Road damage\""));
    let (_, _, by_locale) = get(&app, "services.xml?locale=en").await;
    let services = xml_items(&by_locale, "services", "service");
    assert_eq!(services.len(), 10);
    assert_eq!(services[0]["service_code"], "strassenschaden");
    assert_eq!(services[0]["service_name"], "Road damage");
    assert_eq!((services[0]["metadata"].as_str(), services[0]["type"].as_str()), ("true", "realtime"));

    let (status, _, definition) = get(&app, "services/strassenschaden.xml").await;
    assert_eq!(status, 200);
    assert!(definition.contains(
        "<service_definition><service_code>strassenschaden</service_code><attributes><attribute><variable>true</variable>\
         <code>gefahr</code><datatype>singlevaluelist</datatype><required>false</required>"
    ));
    assert!(definition.contains("<values><value><key>ja</key><name>Ja</name></value>"));
    let attributes = roxmltree::Document::parse(&definition).unwrap();
    let values: Vec<&str> = attributes
        .descendants()
        .filter(|n| n.has_tag_name("value"))
        .map(|n| n.children().find(|c| c.has_tag_name("key")).and_then(|k| k.text()).unwrap())
        .collect();
    assert_eq!(values, ["ja", "nein"]);
    let (status, _, missing) = get(&app, "services/vulkan.xml").await;
    assert_eq!(status, 404);
    let errors = xml_items(&missing, "errors", "error");
    assert_eq!(errors[0]["code"], "404");
    assert!(errors[0]["description"].starts_with("there is no service"), "{missing}");
    let (status, kind, _) = get(&app, "services.html").await;
    assert_eq!((status, kind.as_str()), (404, "application/json; charset=utf-8"));
}

#[tokio::test]
async fn a_posted_report_is_read_back_as_a_request_and_its_status_changes_as_updates() {
    let app = spawn_app().await;
    let api_key = key(&app, "stadt-app").await;
    let (status, body) = post(
        &app,
        "requests.json",
        &[
            ("api_key", &api_key),
            ("service_code", "strassenschaden"),
            ("lat", LAT),
            ("long", LONG),
            ("description", "Tiefes Schlagloch vor dem Haus"),
            ("attribute[gefahr]", "ja"),
            ("attribute[unbekannt]", "egal"),
            ("email", "max@example.org"),
            ("first_name", "Max"),
            ("last_name", "Mustermann"),
            ("phone", "+4915112345678"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer = json(&body);
    let id = answer[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("M-"), "{id}");
    for personal in ["max@example.org", "Mustermann", "4915112345678"] {
        let kept = app
            .count(&format!(
                "SELECT COUNT(*) FROM reports WHERE description LIKE '%{personal}%' OR location_label LIKE '%{personal}%'"
            ))
            .await;
        assert_eq!(kept, 0, "{personal} is kept nowhere");
    }
    let channel: String = sqlx::query_scalar("SELECT channel FROM reports WHERE reference = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(channel, "open311:stadt-app", "each key is a channel of its own");
    let text: String = sqlx::query_scalar("SELECT description FROM reports WHERE reference = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(text, "Tiefes Schlagloch vor dem Haus\nGefahr für Personen? Ja", "the answer joins the text");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE kind = 'open311.request' AND actor = 'open311:stadt-app'")
        .await;
    assert_eq!(audited, 1, "the POST is audited with the key's name");

    eventually("the work order", || async {
        app.count("SELECT COUNT(*) FROM reports WHERE work_order_id IS NOT NULL").await == 1
    })
    .await;
    let (status, _, one) = get(&app, &format!("requests/{id}.json")).await;
    assert_eq!(status, 200);
    let request = &json(&one)[0];
    assert_eq!(request["service_request_id"], id.as_str());
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "strassenschaden");
    assert_eq!(request["address"], "Lindenweg 4");
    assert_eq!(request["lat"].as_f64(), Some(51.970643));
    assert!(request["description"].is_null(), "the citizen's words are not published");
    assert!(request["agency_responsible"].as_str().unwrap().starts_with("Bauhof"));
    let requested = request["requested_datetime"].as_str().unwrap();
    assert!(
        requested.len() == 25 && (requested.ends_with("+01:00") || requested.ends_with("+02:00")),
        "W3C with the offset: {requested}"
    );
    let (_, _, xml) = get(&app, &format!("requests/{id}.xml")).await;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><service_request_id>")
    );
    assert!(xml.contains("<status>open</status>") && xml.contains("<description></description>"), "{xml}");

    // The list: by id, by status, by service, in a span.
    let (_, _, listed) = get(&app, "requests.json").await;
    assert_eq!(json(&listed).as_array().unwrap().len(), 1);
    let (_, _, closed) = get(&app, "requests.json?status=closed").await;
    assert_eq!(json(&closed), serde_json::json!([]));
    let (_, _, lights) = get(&app, "requests.json?service_code=beleuchtung").await;
    assert_eq!(json(&lights), serde_json::json!([]));
    let (_, _, by_ids) = get(&app, &format!("requests.json?service_request_id={id},M-2020-000001&status=closed")).await;
    assert_eq!(json(&by_ids).as_array().unwrap().len(), 1, "ids override every other filter");
    let (_, _, old) =
        get(&app, "requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-12-31T00:00:00%2B01:00").await;
    assert_eq!(json(&old), serde_json::json!([]));

    // A crew finishes it: the request is closed, and the updates say so.
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let (order, order_channel): (String, String) = sqlx::query_as(
        "SELECT o.number, o.channel FROM work_orders o JOIN reports r ON r.work_order_id = o.id WHERE r.reference = $1",
    )
    .bind(&id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(order_channel, "open311:stadt-app", "the order keeps the channel of the report that opened it");
    transitions(&app, &token, &order, &["accept", "done"]).await;
    let (_, _, done) = get(&app, &format!("requests/{id}.json")).await;
    assert_eq!(json(&done)[0]["status"], "closed");
    let (status, _, updates) = get(&app, "servicerequestupdates.json").await;
    assert_eq!(status, 200);
    let updates = json(&updates);
    let statuses: Vec<&str> = updates.as_array().unwrap().iter().map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["open", "closed"], "{updates}");
    assert_eq!(updates[1]["service_request_id"], id.as_str());
    assert_eq!(updates[1]["description"], "Erledigt");
    let (_, _, xml) = get(&app, "servicerequestupdates.xml").await;
    let updates = xml_items(&xml, "service_request_updates", "request_update");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1]["status"], "closed");
    assert!(updates[1].contains_key("update_id") && updates[1].contains_key("updated_datetime"));

    // A rejection's reason stays with staff and the citizen.
    let (_, body) =
        post(&app, "requests.json", &[("api_key", &api_key), ("service_code", "gruen"), ("lat", LAT), ("long", LONG)])
            .await;
    let second = json(&body)[0]["service_request_id"].as_str().unwrap().to_string();
    eventually("the second order", || async {
        app.count("SELECT COUNT(*) FROM reports WHERE work_order_id IS NOT NULL").await == 2
    })
    .await;
    let rejected: String = sqlx::query_scalar(
        "SELECT o.number FROM work_orders o JOIN reports r ON r.work_order_id = o.id WHERE r.reference = $1",
    )
    .bind(&second)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let reject = serde_json::json!({ "transition": "reject", "reason": "Privatgrund von Herrn Meier" });
    let response = app
        .http
        .post(app.url(&format!("/api/v1/orders/{rejected}/transitions")))
        .bearer_auth(&token)
        .json(&reject)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, _, answer) = get(&app, &format!("requests/{second}.xml")).await;
    assert!(answer.contains("<status>closed</status><status_notes>Abgelehnt</status_notes>"), "{answer}");
    assert!(!answer.contains("Meier"), "{answer}");

    // By address alone.
    let (status, body) = post(
        &app,
        "requests.xml",
        &[("api_key", &api_key), ("service_code", "muell"), ("address_string", "Bahnhofstraße 40")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer = xml_items(&body, "service_requests", "request");
    assert!(answer[0]["service_request_id"].starts_with("M-"), "{body}");
}

#[tokio::test]
async fn bad_requests_are_refused_in_the_spec_format_and_nothing_is_stored() {
    let app = spawn_app_with(|settings| settings.channels.set("open311.jurisdiction_id", "musterstadt.de")).await;
    let api_key = key(&app, "fixmystreet").await;
    let revoked = key(&app, "alt").await;
    {
        let mut conn = app.db.pool().acquire().await.unwrap();
        keys::revoke(&mut conn, "alt", meldeweg::time::now_ms()).await.unwrap();
    }
    let long = "ä".repeat(4001);
    let good: Vec<(&str, &str)> = vec![
        ("api_key", &api_key),
        ("jurisdiction_id", "musterstadt.de"),
        ("service_code", "strassenschaden"),
        ("lat", LAT),
        ("long", LONG),
    ];
    let with = |changes: &[(&'static str, &'static str)]| -> Fields {
        let mut fields: Fields = good
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        fields.extend(changes.iter().filter(|(_, v)| *v != "<absent>").map(|(k, v)| (*k, v.to_string())));
        fields
    };
    let cases: Vec<(&str, Fields, u16, &str)> = vec![
        ("no key", with(&[("api_key", "<absent>")]), 403, "api_key is missing"),
        ("unknown key", with(&[("api_key", "falsch")]), 403, "unknown or revoked"),
        ("no jurisdiction", with(&[("jurisdiction_id", "<absent>")]), 400, "jurisdiction_id is missing"),
        ("other jurisdiction", with(&[("jurisdiction_id", "anderswo.de")]), 404, "not served here"),
        ("no service", with(&[("service_code", "<absent>")]), 400, "service_code is missing"),
        ("unknown service", with(&[("service_code", "vulkan")]), 400, "there is no service"),
        ("lat alone", with(&[("long", "<absent>")]), 400, "come together"),
        ("no place", with(&[("lat", "<absent>"), ("long", "<absent>")]), 400, "lat and long or address_string"),
        ("not a number", with(&[("lat", "nord")]), 400, "lat is not a number"),
        ("NaN", with(&[("lat", "NaN")]), 400, "lat is not a number"),
        ("infinite", with(&[("long", "inf")]), 400, "long is not a number"),
        ("off the globe", with(&[("lat", "91")]), 400, "within ±90"),
        ("outside the town", with(&[("lat", "48.137"), ("long", "11.575")]), 400, "outside the municipality"),
        (
            "unknown address",
            with(&[("lat", "<absent>"), ("long", "<absent>"), ("address_string", "Mondstraße 1")]),
            400,
            "not known here",
        ),
        ("danger not ja or nein", with(&[("attribute[gefahr]", "vielleicht")]), 400, "must be one of ja, nein"),
        ("a decimal comma", with(&[("lat", "51,970643")]), 400, "lat is not a number"),
        ("an empty service", with(&[("service_code", "  ")]), 400, "service_code is missing"),
        ("an empty key", with(&[("api_key", "")]), 403, "api_key is missing"),
        ("an over-long address", with(&[("address_string", LONG_ADDRESS)]), 400, "address_string has at most"),
    ];
    for (case, fields, status, reason) in &cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (got, body) = post(&app, "requests.json", &fields).await;
        assert_eq!(got, *status, "{case}: {body}");
        let errors = json(&body);
        assert_eq!(errors[0]["code"], *status, "{case}");
        assert!(errors[0]["description"].as_str().unwrap().contains(reason), "{case}: {body}");
    }
    let fields: Vec<(&str, &str)> = good.iter().copied().chain([("description", long.as_str())]).collect();
    let (status, body) = post(&app, "requests.xml", &fields).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>400</code>\
         <description>description is too long</description></error></errors>"
    );
    let revoked_fields: Vec<(&str, &str)> =
        good.iter().map(|(k, v)| if *k == "api_key" { (*k, revoked.as_str()) } else { (*k, *v) }).collect();
    assert_eq!(post(&app, "requests.json", &revoked_fields).await.0, 403, "a revoked key");
    let wrong_type = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 400);
    assert_eq!(post(&app, "services.json", &good).await.0, 404, "nothing is posted to services");
    let crowded: Vec<(String, String)> = (0..101).map(|n| (format!("attribute[x{n}]"), "1".to_string())).collect();
    let crowded: Vec<(&str, &str)> =
        good.iter().copied().chain(crowded.iter().map(|(k, v)| (k.as_str(), v.as_str()))).collect();
    let (status, body) = post(&app, "requests.json", &crowded).await;
    assert_eq!((status, body.contains("at most 100 fields")), (400, true), "{body}");
    let bad_utf8 = reqwest::multipart::Form::new()
        .text("api_key", api_key.clone())
        .part("description", Part::bytes(vec![0xff, 0xfe, 0x41]));
    let response = app.http.post(app.url("/open311/v2/requests.json")).multipart(bad_utf8).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("description is not UTF-8 text"));
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0, "nothing stored");

    // 4,000 characters are characters, not bytes.
    let most = "ä".repeat(4000);
    let fields: Vec<(&str, &str)> = good.iter().copied().chain([("description", most.as_str())]).collect();
    let (status, body) = post(&app, "requests.json", &fields).await;
    assert_eq!(status, 200, "{body}");

    let many_ids = format!(
        "requests.json?jurisdiction_id=musterstadt.de&service_request_id={}",
        (0..1001).map(|n| format!("M-2026-{n:06}")).collect::<Vec<_>>().join(",")
    );
    for (path, status, reason) in [
        ("requests.json", 400, "jurisdiction_id is missing"),
        ("requests.json?jurisdiction_id=musterstadt.de&start_date=2026-12-01T10:00:00", 400, "time zone"),
        ("requests.json?jurisdiction_id=musterstadt.de&start_date=gestern", 400, "time zone"),
        (
            "requests.json?jurisdiction_id=musterstadt.de&start_date=2026-12-02T00:00:00Z&end_date=2026-12-01T00:00:00Z",
            400,
            "after end_date",
        ),
        ("requests.json?jurisdiction_id=musterstadt.de&status=pending", 400, "open or closed"),
        ("requests.json?jurisdiction_id=musterstadt.de&service_code=vulkan", 400, "there is no service"),
        ("requests/M-2026-999999.json?jurisdiction_id=musterstadt.de", 404, "there is no request"),
        ("tokens/abc.json", 404, "no such token"),
        ("servicerequestupdates.json?jurisdiction_id=musterstadt.de&start_date=2026-12-01T00:00:00Z", 400, "come together"),
        ("weather.json?jurisdiction_id=musterstadt.de", 404, "there is no weather"),
        ("requests.html?jurisdiction_id=musterstadt.de", 404, "paths end in .json or .xml"),
        ("services/strassenschaden.json?jurisdiction_id=anderswo", 404, "not served here"),
        (&format!("requests/{}.json?jurisdiction_id=musterstadt.de", "M".repeat(41)), 404, "no such request"),
        (&many_ids, 400, "at most 1000 ids"),
    ] {
        let (got, _, body) = get(&app, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(json(&body)[0]["description"].as_str().unwrap().contains(reason), "{path}: {body}");
    }
}

#[tokio::test]
async fn keys_are_shown_once_kept_hashed_and_revoked_by_name() {
    let app = spawn_app().await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = meldeweg::time::now_ms();
    let first = keys::add(&mut conn, "stadt-app", now).await.unwrap();
    assert!(first.len() >= 40);
    assert!(matches!(keys::add(&mut conn, "stadt-app", now).await, Err(keys::KeyError::Taken(_))));
    assert!(matches!(keys::add(&mut conn, "mit leerzeichen", now).await, Err(keys::KeyError::BadName(_))));
    assert!(matches!(keys::add(&mut conn, "", now).await, Err(keys::KeyError::BadName(_))));
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM open311_keys").fetch_one(&mut *conn).await.unwrap();
    assert_ne!(stored, first, "only the hash is kept");
    assert_eq!(keys::check(&mut conn, &first, now).await.unwrap().as_deref(), Some("stadt-app"));
    keys::revoke(&mut conn, "stadt-app", now).await.unwrap();
    assert_eq!(keys::check(&mut conn, &first, now).await.unwrap(), None);
    assert!(matches!(keys::revoke(&mut conn, "stadt-app", now).await, Err(keys::KeyError::Unknown(_))));
    let listed = keys::list(&mut conn).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some() && listed[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_photo_comes_as_a_multipart_media_part_and_is_published_only_as_its_public_copy() {
    let app = spawn_app().await;
    let api_key = key(&app, "stadt-app").await;
    let form = |media: Vec<Part>| {
        let mut form = Form::new()
            .text("api_key", api_key.clone())
            .text("service_code", "strassenschaden")
            .text("lat", LAT)
            .text("long", LONG)
            .text("description", "Schlagloch, Foto anbei");
        for part in media {
            form = form.part("media", part);
        }
        form
    };
    let photo =
        || Part::bytes(fixture_photo("recompressed_nometa.jpg")).file_name("loch.jpg").mime_str("image/jpeg").unwrap();
    let send = |form: Form| app.http.post(app.url("/open311/v2/requests.json")).multipart(form).send();

    let response = send(form(vec![photo()])).await.unwrap();
    assert_eq!(response.status(), 200);
    let id = json(&response.text().await.unwrap())[0]["service_request_id"].as_str().unwrap().to_string();
    let cleaned = app
        .count(&format!(
            "SELECT COUNT(*) FROM photos p JOIN reports r ON r.id = p.report_id WHERE r.reference = '{id}' AND p.token IS NOT NULL"
        ))
        .await;
    assert_eq!(cleaned, 1, "the photo is cleaned and stored with the report");
    app.queue_drained().await;
    let (_, _, request) = get(&app, &format!("requests/{id}.json")).await;
    let state: String = sqlx::query_scalar("SELECT state FROM public_copies").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(state, "waiting", "by default a photo waits for a staff member's approval");
    assert!(json(&request)[0]["media_url"].is_null(), "no media_url before the public copy is published");

    let token = photo_token(&app).await;
    let order: String = sqlx::query_scalar(
        "SELECT o.number FROM work_orders o JOIN reports r ON r.work_order_id = o.id WHERE r.reference = $1",
    )
    .bind(&id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let dispatcher = login(&app, "dispo@musterstadt.de").await;
    let review = format!("/staff/orders/{order}/photos/{token}");
    dispatcher.post(&app, &review, &[("action", "publish"), ("reason", "nichts zu sehen")]).await;
    let (_, _, published) = get(&app, &format!("requests/{id}.json")).await;
    let url = json(&published)[0]["media_url"].as_str().expect("a media_url once the copy is public").to_string();
    assert!(url.ends_with(&format!("/photos/{token}")), "{url}");
    assert_eq!(app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap().status(), 200);

    let response = send(form(vec![photo(), photo()])).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("at most one media part"));
    let huge = Part::bytes(vec![0u8; app.settings.photos.limits().max_input_bytes + 100_000]).file_name("riesig.jpg");
    let response = send(form(vec![huge])).await.unwrap();
    assert_eq!(response.status(), 413);
    let not_a_photo = Part::bytes(b"kein Foto".to_vec()).file_name("text.jpg");
    let response = send(form(vec![not_a_photo])).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("media file cannot be used"));
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1, "refused requests store nothing");

    // Form-encoded with a charset in the content type.
    let body = format!("api_key={api_key}&service_code=muell&lat={LAT}&long={LONG}&description=M%C3%BCll");
    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// A partner's web server inside the town's network: a photo, a text, and a redirect to the
/// cloud metadata address (which is never asked); counts what it was asked for.
async fn partner_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::response::IntoResponse;
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let photo = fixture_photo("recompressed_nometa.jpg");
    let router = axum::Router::new()
        .route("/loch.jpg", axum::routing::get(move || async move { photo.clone().into_response() }))
        .route("/text", axum::routing::get(|| async { "kein Foto" }))
        .route(
            "/weiter",
            axum::routing::get(|| async {
                (axum::http::StatusCode::FOUND, [("location", "https://169.254.169.254/latest/meta-data")])
            }),
        )
        .layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                next.run(request).await
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (port, asked)
}

#[tokio::test]
async fn media_urls_are_fetched_later_under_the_rules_and_the_others_get_a_note_for_staff() {
    let (port, asked) = partner_server().await;
    let partner = format!("127.0.0.1:{port}");
    let plain = partner.clone();
    let app = spawn_app_with(move |settings| settings.channels.set("open311.media_plain_hosts", vec![plain])).await;
    let api_key = key(&app, "kreis").await;
    let urls = [
        format!("http://{partner}/loch.jpg"),
        "https://10.1.2.3/loch.jpg".to_string(),
        "http://example.org/loch.jpg".to_string(),
        format!("http://{partner}/weiter"),
        format!("http://{partner}/text"),
    ];
    let mut fields =
        vec![("api_key", api_key.as_str()), ("service_code", "strassenschaden"), ("lat", LAT), ("long", LONG)];
    fields.extend(urls.iter().map(|url| ("media_url", url.as_str())));
    let (status, body) = post(&app, "requests.json", &fields).await;
    assert_eq!(status, 200, "{body}");
    let id = json(&body)[0]["service_request_id"].as_str().unwrap().to_string();

    let notes = "SELECT COUNT(*) FROM order_events WHERE kind = 'comment' AND actor_id IS NULL";
    eventually("the photo job", || async { app.count(notes).await == 4 }).await;
    let added = app
        .count(&format!(
            "SELECT COUNT(*) FROM photos p JOIN reports r ON r.id = p.report_id
             WHERE r.reference = '{id}' AND p.token IS NOT NULL"
        ))
        .await;
    assert_eq!(added, 1, "the photo from the partner is cleaned and added");
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM order_events WHERE kind = 'comment' ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    for (detail, reason) in details.iter().zip([
        "10.1.2.3 is not on the public internet",
        "only https addresses",
        "169.254.169.254 is not on the public internet",
        "kein verwendbares Foto",
    ]) {
        assert!(detail.starts_with("Foto von ") && detail.contains(reason), "{detail}: {reason}");
    }
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 3, "loch.jpg, weiter and text; nothing else");

    let many: Vec<(&str, &str)> = fields.iter().copied().chain([("media_url", "https://example.org/6.jpg")]).collect();
    let (status, body) = post(&app, "requests.json", &many).await;
    assert_eq!(status, 400);
    assert!(body.contains("at most 5 media_url"), "{body}");
}

/// A point in the harbour district, where traffic signs are Straßen.NRW's (config/routing.toml).
const HARBOUR: (f64, f64) = (51.9613, 7.6574);
const STRASSEN_NRW: &str = "Straßen.NRW, Regionalniederlassung Münsterland";

/// A citizen reports a knocked-over sign in the harbour, which the town forwards.
async fn reports_a_sign_in_the_harbour(town: &TestApp) -> Citizen {
    let citizen = Citizen::new();
    town.send(&citizen, text("Verkehrsschild umgefahren und liegt auf dem Gehweg")).await;
    town.send(&citizen, location(HARBOUR.0, HARBOUR.1)).await;
    citizen
}

/// The town forwards traffic signs in the harbour to the body at `endpoint` over Open311.
fn forwarding_to(endpoint: String, api_key: String) -> impl FnOnce(&mut meldeweg::config::Settings) {
    move |settings| {
        settings.channels.set("open311.partners.kreis.body", STRASSEN_NRW);
        settings.channels.set("open311.partners.kreis.endpoint", endpoint);
        settings.channels.set("open311.partners.kreis.api_key", api_key);
        settings.channels.set("open311.partners.kreis.services.verkehrszeichen", "verkehrszeichen");
        settings.channels.set("open311.partners.kreis.follow_seconds", 1i64);
    }
}

#[tokio::test]
async fn a_town_hands_a_report_to_its_county_over_open311_and_tells_the_citizen_when_it_is_done() {
    // The county runs Meldeweg too, with its own crews for the harbour's signs.
    let county = spawn_app_with(|settings| {
        let routing = std::fs::read_to_string(&settings.geo.routing_file).unwrap();
        let own = routing.split("# Signs and signals in the harbour area").next().unwrap().to_string();
        let path = std::env::temp_dir().join(format!("meldeweg-county-routing-{}.toml", std::process::id()));
        std::fs::write(&path, own).unwrap();
        settings.geo.routing_file = path;
    })
    .await;
    let api_key = key(&county, "musterstadt").await;
    let town = spawn_app_with(forwarding_to(county.url("/open311/v2"), api_key)).await;

    let citizen = reports_a_sign_in_the_harbour(&town).await;
    eventually("the hand-over", || async {
        town.count("SELECT COUNT(*) FROM forwarded_requests WHERE remote_id IS NOT NULL").await == 1
    })
    .await;
    let (reference, remote): (String, String) = sqlx::query_as(
        "SELECT r.reference, f.remote_id FROM forwarded_requests f JOIN reports r ON r.id = f.report_id",
    )
    .fetch_one(town.db.pool())
    .await
    .unwrap();
    let (channel, description): (String, String) =
        sqlx::query_as("SELECT channel, description FROM reports WHERE reference = $1")
            .bind(&remote)
            .fetch_one(county.db.pool())
            .await
            .unwrap();
    assert_eq!(channel, "open311:musterstadt");
    assert!(description.contains("Verkehrsschild umgefahren") && description.contains(&reference), "{description}");
    let told = town.graph.texts_to(citizen.address());
    assert!(told.iter().any(|t| t.contains("Straßen.NRW")), "the citizen hears where it went: {told:?}");

    // The county's crew finishes it; the town notices and tells its citizen.
    eventually("the county's order", || async {
        county.count("SELECT COUNT(*) FROM reports WHERE work_order_id IS NOT NULL").await == 1
    })
    .await;
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(county.db.pool()).await.unwrap();
    add_staff(&county, "kreis@strassen.nrw", Role::Dispatcher, None).await;
    let token = api_token(&county, "kreis@strassen.nrw").await;
    let before = town.graph.texts_to(citizen.address()).len();
    transitions(&county, &token, &order, &["accept", "done"]).await;
    let done = town.replies(&citizen, before + 1).await;
    assert!(done.last().unwrap().contains(&format!("Ihrer Meldung {reference} wurde behoben")), "{done:?}");
    let closed = "SELECT COUNT(*) FROM forwarded_requests WHERE closed = 1 AND closed_at IS NOT NULL";
    assert_eq!(town.count(closed).await, 1);
    town.queue_drained().await;
    assert_eq!(town.count("SELECT COUNT(*) FROM jobs WHERE kind = 'follow'").await, 0, "no more looks");
}

#[tokio::test]
async fn a_county_that_is_down_delays_the_hand_over_and_loses_nothing() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let town = spawn_app_with(forwarding_to(format!("http://127.0.0.1:{closed_port}/open311/v2"), "k".into())).await;
    reports_a_sign_in_the_harbour(&town).await;
    eventually("a second try", || async {
        town.count("SELECT COUNT(*) FROM jobs WHERE kind = 'forward' AND attempts >= 2 AND dead_at IS NULL").await == 1
    })
    .await;
    let error: String = sqlx::query_scalar("SELECT last_error FROM jobs WHERE kind = 'forward'")
        .fetch_one(town.db.pool())
        .await
        .unwrap();
    assert!(error.contains("temporary failure") || error.contains("error sending request"), "{error}");
    assert_eq!(town.count("SELECT COUNT(*) FROM forwarded_requests").await, 0, "nothing handed over yet");
    assert_eq!(town.count("SELECT COUNT(*) FROM reports WHERE status = 'forwarded'").await, 1, "the report stands");
}

#[tokio::test]
async fn a_county_that_refuses_a_report_stops_the_hand_over_with_its_reason() {
    let county = spawn_app().await;
    let api_key = key(&county, "musterstadt").await;
    let endpoint = county.url("/open311/v2");
    let town = spawn_app_with(move |settings| {
        forwarding_to(endpoint, api_key)(settings);
        settings.channels.set("open311.partners.kreis.services.verkehrszeichen", "vulkan");
    })
    .await;
    reports_a_sign_in_the_harbour(&town).await;
    eventually("the refusal", || async {
        town.count("SELECT COUNT(*) FROM jobs WHERE kind = 'forward' AND dead_at IS NOT NULL").await == 1
    })
    .await;
    let error: String = sqlx::query_scalar("SELECT last_error FROM jobs WHERE kind = 'forward'")
        .fetch_one(town.db.pool())
        .await
        .unwrap();
    assert!(error.contains("refused it: 400") && error.contains("there is no service"), "{error}");
    assert_eq!(county.count("SELECT COUNT(*) FROM reports").await, 0, "the county stored nothing");
    assert_eq!(town.count("SELECT COUNT(*) FROM reports WHERE status = 'forwarded'").await, 1, "the report stands");
}

#[tokio::test]
async fn each_key_is_a_channel_of_its_own_in_the_statistics() {
    let app = spawn_app().await;
    let (app_key, fms_key) = (key(&app, "stadt-app").await, key(&app, "fixmystreet").await);
    for api_key in [&app_key, &app_key, &fms_key] {
        let fields = [("api_key", api_key.as_str()), ("service_code", "muell"), ("lat", LAT), ("long", LONG)];
        assert_eq!(post(&app, "requests.json", &fields).await.0, 200);
    }
    let citizen = Citizen::new();
    app.send(&citizen, text("Müll am Straßenrand abgeladen")).await;
    app.send(&citizen, location(51.970643, 7.610710)).await;
    eventually("four reports", || async { app.count("SELECT COUNT(*) FROM reports").await == 4 }).await;
    app.queue_drained().await;
    add_staff(&app, "chefin@musterstadt.de", Role::Manager, None).await;
    let token = api_token(&app, "chefin@musterstadt.de").await;
    for (channel, received) in
        [("", 4), ("open311", 3), ("open311:stadt-app", 2), ("open311:fixmystreet", 1), ("whatsapp", 1)]
    {
        let url = app.url(&format!("/api/v1/stats?channel={channel}"));
        let stats: Value = app.http.get(url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(stats["totals"]["received"], received, "{channel}: {stats}");
    }
    let refused = app.http.get(app.url("/api/v1/stats?channel=open311:")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let manager = login(&app, "chefin@musterstadt.de").await;
    let (_, page) = manager.page(&app, "/staff/stats?channel=open311:fixmystreet").await;
    assert!(page.contains(r#"<option value="open311:fixmystreet" selected>Open311: fixmystreet</option>"#), "{page}");
    assert!(page.contains(r#"<option value="open311:stadt-app">Open311: stadt-app</option>"#));
}

#[tokio::test]
async fn keys_are_made_listed_and_revoked_from_the_command_line() {
    let app = spawn_app().await;
    let (ok, key, _) = crate::cli::run(&app, &["open311", "key", "add", "stadt-app"], &[]).await;
    assert!(ok);
    let key = key.trim().to_string();
    let fields = [("api_key", key.as_str()), ("service_code", "muell"), ("lat", LAT), ("long", LONG)];
    assert_eq!(post(&app, "requests.json", &fields).await.0, 200, "the printed key works");
    let (ok, _, error) = crate::cli::run(&app, &["open311", "key", "add", "stadt-app"], &[]).await;
    assert!(!ok && error.contains("already a key named"), "{error}");
    let (ok, listed, _) = crate::cli::run(&app, &["open311", "key", "list"], &[]).await;
    assert!(ok && listed.starts_with("stadt-app\tcreated ") && listed.contains("last used"), "{listed}");
    assert!(!listed.contains(&key), "the key itself is never shown again");
    let (ok, revoked, _) = crate::cli::run(&app, &["open311", "key", "revoke", "stadt-app"], &[]).await;
    assert!(ok && revoked.contains("revoked"), "{revoked}");
    assert_eq!(post(&app, "requests.json", &fields).await.0, 403, "a revoked key is refused");
}

#[tokio::test]
async fn a_key_over_its_rate_is_told_to_wait_and_other_keys_are_not() {
    let app = spawn_app_with(|settings| settings.channels.set("open311.requests_per_minute", 2i64)).await;
    let (busy, other) = (key(&app, "eilig").await, key(&app, "ruhig").await);
    let fields = |api_key: &str| {
        vec![
            ("api_key", api_key.to_string()),
            ("service_code", "muell".into()),
            ("lat", LAT.into()),
            ("long", LONG.into()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move { app.http.post(app.url("/open311/v2/requests.json")).form(&fields).send().await.unwrap() }
    };
    for _ in 0..2 {
        assert_eq!(send(fields(&busy)).await.status(), 200);
    }
    let refused = send(fields(&busy)).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("too many requests with this api_key"));
    assert_eq!(send(fields(&other)).await.status(), 200, "another key has its own allowance");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 3);
}

#[tokio::test]
async fn a_duplicate_answers_with_the_order_it_joined() {
    let app = spawn_app().await;
    let api_key = key(&app, "stadt-app").await;
    let mut ids = Vec::new();
    for description in ["Schlagloch vor Hausnummer 4", "Tiefes Loch in der Fahrbahn"] {
        let fields = [
            ("api_key", api_key.as_str()),
            ("service_code", "strassenschaden"),
            ("lat", LAT),
            ("long", LONG),
            ("description", description),
        ];
        let (_, body) = post(&app, "requests.json", &fields).await;
        ids.push(json(&body)[0]["service_request_id"].as_str().unwrap().to_string());
        app.queue_drained().await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 1, "the second report joined the first's order");
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    transitions(&app, &token, &order, &["accept", "done"]).await;
    let (_, _, both) = get(&app, &format!("requests.json?service_request_id={},{}", ids[0], ids[1])).await;
    let both = json(&both);
    let statuses: Vec<&str> = both.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["closed", "closed"]);
}

#[tokio::test]
async fn the_general_service_leaves_the_category_to_the_classifier() {
    let app = spawn_app().await;
    let api_key = key(&app, "stadt-app").await;
    let fields = [
        ("api_key", api_key.as_str()),
        ("service_code", "sonstiges"),
        ("lat", LAT),
        ("long", LONG),
        ("description", "Die Straßenlaterne vor dem Haus flackert seit Tagen"),
    ];
    let (_, body) = post(&app, "requests.json", &fields).await;
    let id = json(&body)[0]["service_request_id"].as_str().unwrap().to_string();
    app.queue_drained().await;
    let (_, _, request) = get(&app, &format!("requests/{id}.json")).await;
    assert_eq!(json(&request)[0]["service_code"], "beleuchtung", "the words said what it is");
}

#[tokio::test]
async fn every_endpoint_answers_in_both_formats_as_a_strict_client_reads_them() {
    let app = spawn_app().await;
    let api_key = key(&app, "stadt-app").await;
    let fields = [("api_key", api_key.as_str()), ("service_code", "gruen"), ("lat", LAT), ("long", LONG)];
    let (_, body) = post(&app, "requests.json", &fields).await;
    let id = json(&body)[0]["service_request_id"].as_str().unwrap().to_string();
    app.queue_drained().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    transitions(&app, &token, &order, &["accept"]).await;
    let span = "start_date=2020-01-01T00:00:00Z&end_date=2099-01-01T00:00:00%2B01:00";
    // (path without its extension, status, XML root, XML item; "" for a single object)
    let walk = [
        ("discovery".to_string(), 200, "discovery", ""),
        ("services".to_string(), 200, "services", "service"),
        ("services/gruen".to_string(), 200, "service_definition", ""),
        (format!("requests?{span}&status=open&service_code=gruen"), 200, "service_requests", "request"),
        (format!("requests/{id}"), 200, "service_requests", "request"),
        (format!("servicerequestupdates?{span}"), 200, "service_request_updates", "request_update"),
        ("tokens/abc".to_string(), 404, "errors", "error"),
        ("requests/M-2026-999999".to_string(), 404, "errors", "error"),
        ("requests?status=pending".to_string(), 400, "errors", "error"),
    ];
    for (path, status, root, item) in walk {
        let (file, query) = path.split_once('?').unwrap_or((&path, ""));
        let (json_status, json_type, json_body) = get(&app, &format!("{file}.json?{query}")).await;
        let (xml_status, xml_type, xml_body) = get(&app, &format!("{file}.xml?{query}")).await;
        assert_eq!((json_status, xml_status), (status, status), "{path}");
        assert_eq!(json_type, "application/json; charset=utf-8", "{path}");
        assert_eq!(xml_type, "text/xml; charset=utf-8", "{path}");
        let parsed = json(&json_body);
        if item.is_empty() {
            assert!(parsed.is_object(), "{path}: {json_body}");
            let document = roxmltree::Document::parse(&xml_body).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(document.root_element().tag_name().name(), root);
        } else {
            let list = parsed.as_array().unwrap_or_else(|| panic!("{path}: a list: {json_body}"));
            let items = xml_items(&xml_body, root, item);
            assert_eq!(items.len(), list.len(), "{path}: the same items in both formats");
            assert!(!items.is_empty(), "{path} lists something");
            for (from_xml, from_json) in items.iter().zip(list) {
                for (field, value) in from_xml {
                    let expected = match &from_json[field.as_str()] {
                        Value::String(text) => text.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    assert_eq!(*value, expected, "{path}: {field}");
                }
            }
        }
    }
    // The attributes and their values, as lists.
    let (_, _, definition) = get(&app, "services/gruen.xml").await;
    let document = roxmltree::Document::parse(&definition).unwrap();
    let attributes = document.descendants().find(|n| n.has_tag_name("attributes")).unwrap();
    let attribute: Vec<_> = attributes.children().collect();
    assert!(attribute.iter().all(|n| n.has_tag_name("attribute")) && attribute.len() == 1);
    let values = attribute[0].children().find(|n| n.has_tag_name("values")).unwrap();
    assert!(values.children().all(|n| n.has_tag_name("value")) && values.children().count() == 2);
    // Times are W3C with an offset everywhere.
    let (_, _, requests) = get(&app, &format!("requests.json?{span}")).await;
    for field in ["requested_datetime", "updated_datetime", "expected_datetime"] {
        let time = json(&requests)[0][field].as_str().unwrap().to_string();
        assert!(time.parse::<jiff::Timestamp>().is_ok() && time.len() == 25, "{field}: {time}");
    }
}

/// A county's Open311 server that is busy at first: the first hand-over gets a 503, the first
/// look a 500; then it takes the report as `K-1`, says it is open, and then closed. Counts the
/// calls it got.
async fn busy_county() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::StatusCode;
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (posted, looked) = (calls.clone(), calls.clone());
    let router = axum::Router::new()
        .route(
            "/v2/requests.json",
            axum::routing::post(move |body: String| {
                let calls = posted.clone();
                async move {
                    let mut calls = calls.lock().unwrap();
                    calls.push(format!("POST {body}"));
                    if calls.iter().filter(|c| c.starts_with("POST")).count() == 1 {
                        (StatusCode::SERVICE_UNAVAILABLE, r#"[{"code":503,"description":"busy"}]"#)
                    } else {
                        (StatusCode::OK, r#"[{"service_request_id":"K-1"}]"#)
                    }
                }
            }),
        )
        .route(
            "/v2/requests/{file}",
            axum::routing::get(move |axum::extract::Path(file): axum::extract::Path<String>| {
                let calls = looked.clone();
                async move {
                    let mut calls = calls.lock().unwrap();
                    calls.push(format!("GET {file}"));
                    match calls.iter().filter(|c| c.starts_with("GET")).count() {
                        1 => (StatusCode::INTERNAL_SERVER_ERROR, "kaputt"),
                        2 => (StatusCode::OK, r#"[{"service_request_id":"K-1","status":"open"}]"#),
                        _ => (
                            StatusCode::OK,
                            r#"[{"service_request_id":"K-1","status":"closed","status_notes":"repariert"}]"#,
                        ),
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn a_busy_county_delays_the_hand_over_and_the_looks_and_the_citizen_still_hears() {
    let (endpoint, calls) = busy_county().await;
    let town = spawn_app_with(forwarding_to(endpoint, "k".into())).await;
    let citizen = reports_a_sign_in_the_harbour(&town).await;
    let before = 3; // welcome, the place question, the reference
    town.replies(&citizen, before).await;
    let done = town.replies(&citizen, before + 1).await;
    assert!(done.last().unwrap().starts_with("Erledigt!"), "{done:?}");
    let notes: String =
        sqlx::query_scalar("SELECT notes FROM forwarded_requests WHERE remote_id = 'K-1' AND closed = 1")
            .fetch_one(town.db.pool())
            .await
            .unwrap();
    assert_eq!(notes, "repariert");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.iter().filter(|c| c.starts_with("POST")).count(), 2, "handed over again after the 503: {calls:?}");
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("GET K-1.json")).count(),
        3,
        "looked again after the 500: {calls:?}"
    );
    let posted = calls.iter().find(|c| c.starts_with("POST")).unwrap();
    for field in
        ["api_key=k", "service_code=verkehrszeichen", "lat=51.9613", "long=7.6574", "description=Verkehrsschild"]
    {
        assert!(posted.contains(field), "{field} in {posted}");
    }
    let number = citizen.address().trim_start_matches('+').to_string();
    assert!(!posted.contains(&number[number.len() - 7..]), "nothing about the citizen: {posted}");
}
