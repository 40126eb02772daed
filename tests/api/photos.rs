//! Photos end to end: downloaded from the (fake) Cloud API, cleaned, stored without any
//! metadata, their GPS used as the report's place, served at unguessable URLs; and every way a
//! photo can fail ending in a polite reply, not a lost message.

use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;
use serde_json::json;
use sqlx::Row;

use crate::helpers::*;

struct StoredPhoto {
    token: String,
    width: i64,
    height: i64,
    gps: Option<(f64, f64)>,
}

async fn photos(app: &TestApp) -> Vec<StoredPhoto> {
    let rows = sqlx::query("SELECT token, width, height, gps_lat, gps_lon FROM photos ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let lat: Option<f64> = row.get("gps_lat");
            let lon: Option<f64> = row.get("gps_lon");
            StoredPhoto {
                token: row.get("token"),
                width: row.get("width"),
                height: row.get("height"),
                gps: lat.zip(lon),
            }
        })
        .collect()
}

/// Every file under the data directory, for checking that no original was written.
#[tokio::test]
async fn a_phone_photo_with_gps_is_placed_there_once_confirmed_and_is_served_clean() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    let citizen = Citizen::new();
    let original = fixture_photo("phone_o6_gps.jpg");
    assert!(contains(&original, b"Mustermann"), "the fixture names its owner");
    app.send(&citizen, image(&app, "media-phone", original, Some("Schlagloch vor der Schule"))).await;
    let replies = app.replies(&citizen, 2).await;
    // Far outside the demo town, the question says so and how far, in words.
    let question = app.render_in(
        Lang::De,
        TextKey::ConfirmPlace,
        &[("address", "außerhalb von Musterstadt, etwa 192 km vom Zentrum")],
    );
    assert_eq!(replies[1], question, "asked instead of a location request");
    let asked = &app.graph.delivered_to(citizen.address())[1].body;
    assert_eq!(asked["interactive"]["type"], "button");
    let buttons = &asked["interactive"]["action"]["buttons"];
    assert_eq!(buttons[0]["reply"], json!({ "id": "place:yes", "title": "Ja, hier" }));
    assert_eq!(buttons[1]["reply"], json!({ "id": "place:other", "title": "Anderer Ort" }));
    app.send(&citizen, button_reply("place:yes", "Ja, hier")).await;
    let replies = app.replies(&citizen, 3).await;
    // The Harz is not Musterstadt: the report is kept, nothing is opened.
    assert!(replies[2].contains("M-20") && replies[2].contains("nicht in Musterstadt"), "{replies:?}");
    app.queue_drained().await;

    let row = sqlx::query("SELECT location_source, lat, lon, description, status FROM reports")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("location_source"), "photo_exif");
    assert_eq!(row.get::<String, _>("status"), "outside_area");
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders").await, 0);
    assert!((row.get::<f64, _>("lat") - 51.906312).abs() < 1e-5);
    assert!((row.get::<f64, _>("lon") - 10.429187).abs() < 1e-5);
    assert_eq!(row.get::<Option<String>, _>("description").as_deref(), Some("Schlagloch vor der Schule"));
    // P4: the cleaning is in the audit chain with the cleaned file's checksum, not the position.
    app.seal_audit().await;
    let (clean_sha256, detail): (String, String) =
        sqlx::query_as("SELECT p.clean_sha256, a.detail FROM photos p JOIN audit_log a ON a.kind = 'photo.cleaned'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(detail.contains(&clean_sha256) && detail.contains("\"gps_read\":true"), "{detail}");
    assert!(!detail.contains("51.906") && !detail.contains("Mustermann"), "{detail}");
    let attached = app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'report.photos_attached'").await;
    assert_eq!(attached, 1);

    let stored = photos(&app).await;
    assert_eq!(stored.len(), 1);
    let photo = &stored[0];
    assert_eq!((photo.width, photo.height), (1536, 2048), "turned upright and scaled");
    assert_eq!(photo.token.len(), 32);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let listing = meldeweg::reports::list(&mut conn, 10).await.unwrap();
    assert_eq!(listing[0].photos, vec![format!("/staff/photos/{}", photo.token)], "staff get the original");
    drop(conn);

    let response = app.http.get(app.url(&format!("/photos/{}", photo.token))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.headers()["cache-control"], "private, max-age=300");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let served = response.bytes().await.unwrap();
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1536, 2048));
    assert!(!contains(&served, b"Exif") && !contains(&served, b"Mustermann"));
    let thumb = app.http.get(app.url(&format!("/photos/{}/thumb", photo.token))).send().await.unwrap();
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (240, 320));

    for file in files_under(app.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, b"Mustermann"), "{} holds the original's metadata", file.display());
    }
}

#[tokio::test]
async fn photo_urls_cannot_be_guessed() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    let citizen = Citizen::new();
    app.send(&citizen, image(&app, "media-guess", fixture_photo("recompressed_nometa.jpg"), None)).await;
    eventually("the photo to be stored", || async { app.count("SELECT COUNT(*) FROM photos").await == 1 }).await;
    let token = photos(&app).await.remove(0).token;
    for path in [format!("/photos/{token}"), format!("/photos/{token}/thumb")] {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}: the stored photo is served");
    }
    // Near misses of a real token, the files' own names in the store, and paths out of it.
    let (prefix, last) = (&token[..2], token.chars().last().unwrap());
    let other_last = if last == '0' { '1' } else { '0' };
    let near_misses = [
        format!("/photos/{}{other_last}", &token[..31]),
        format!("/photos/{}", &token[..31]),
        format!("/photos/{token}0"),
        format!("/photos/{}", token.to_uppercase()),
        format!("/photos/{token}.jpg"),
        format!("/photos/{prefix}%2F{token}.jpg"),
        format!("/photos/{prefix}/{token}.jpg"),
        format!("/photos/{token}/thumb.jpg"),
        format!("/photos/..%2Fphotos%2F{prefix}%2F{token}.jpg"),
        "/photos/..%2F..%2Fmeldeweg.db".to_string(),
        "/photos/00000000000000000000000000000000".to_string(),
        "/photos/1/thumb".to_string(),
    ];
    for path in near_misses {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body = response.bytes().await.unwrap();
        assert!(!body.starts_with(&[0xFF, 0xD8]), "{path} served a JPEG");
    }
}

#[tokio::test]
async fn a_shared_location_wins_over_the_photos_gps() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, location(51.9607, 7.6261)).await;
    app.replies(&citizen, 2).await; // notice, and what is the problem?
    app.send(&citizen, image(&app, "media-webp", fixture_photo("camera_o1_gps.webp"), None)).await;
    let replies = app.replies(&citizen, 3).await;
    assert_eq!(replies[2], app.render(TextKey::AskCategory), "a photo alone does not say what it is");
    app.send(&citizen, list_reply("category:strassenschaden", "Straßenschaden")).await;
    let replies = app.replies(&citizen, 4).await;
    assert!(replies[3].contains("M-20"), "{replies:?}");
    let row = sqlx::query("SELECT location_source, lat FROM reports").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(row.get::<String, _>("location_source"), "shared_location");
    assert!((row.get::<f64, _>("lat") - 51.9607).abs() < 1e-9);
    let stored = photos(&app).await;
    let (lat, lon) = stored[0].gps.expect("the photo's own position is kept with it");
    assert!((lat - 51.9042).abs() < 1e-5 && (lon - 10.4301).abs() < 1e-5);
}

#[tokio::test]
async fn a_screenshot_sent_as_a_document_uses_its_xmp_position() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let bytes = fixture_photo("screenshot_gps.png");
    let sha256 = announced_sha256(&bytes);
    app.graph.add_media("media-png", bytes);
    let document = json!({ "type": "document", "document": {
        "id": "media-png", "mime_type": "image/png", "sha256": sha256, "filename": "Bildschirmfoto.png",
        "caption": "Müll am Spielplatz",
    }});
    app.send(&citizen, document).await;
    app.replies(&citizen, 2).await; // notice, and is this the place?
    app.send(&citizen, text("ja")).await;
    let replies = app.replies(&citizen, 3).await;
    assert!(replies[2].contains("M-20"), "{replies:?}");
    let source: String =
        sqlx::query_scalar("SELECT location_source FROM reports").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(source, "photo_exif");
}

#[tokio::test]
async fn a_photo_without_gps_asks_for_the_place() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, image(&app, "media-plain", fixture_photo("recompressed_nometa.jpg"), None)).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[1], app.render(TextKey::LocationRequest));
    app.send(&citizen, location(51.9607, 7.6261)).await;
    assert_eq!(app.replies(&citizen, 3).await[2], app.render(TextKey::AskCategory));
    app.send(&citizen, list_reply("category:muell", "Müll")).await;
    assert!(app.replies(&citizen, 4).await[3].contains("M-20"));
    assert_eq!(app.count("SELECT COUNT(*) FROM photos WHERE report_id IS NOT NULL").await, 1);
    let category: String =
        sqlx::query_scalar("SELECT category_source FROM reports").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(category, "reporter");
}

#[tokio::test]
async fn photos_that_cannot_be_used_get_a_polite_reply_and_nothing_is_stored() {
    let app = spawn_app_with(|s| s.photos.max_input_mib = 1).await;
    let phone = fixture_photo("phone_o6_gps.jpg");
    let truncated = phone[..phone.len() / 3].to_vec();
    let plain = fixture_photo("recompressed_nometa.jpg");
    let mut wrong_hash = image(&app, "media-tampered", plain.clone(), None);
    wrong_hash["image"]["sha256"] = json!(announced_sha256(b"other"));
    let cases = [
        ("a truncated photo", image(&app, "media-truncated", truncated, Some("Ampel")), TextKey::PhotoUnreadable),
        (
            "a GIF",
            image(&app, "media-gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), None),
            TextKey::PhotoUnreadable,
        ),
        ("a photo over the size limit", image(&app, "media-big", phone, None), TextKey::PhotoTooLarge),
        ("a photo whose bytes do not match", wrong_hash, TextKey::PhotoUnavailable),
        (
            "a media id that is not a Graph id",
            json!({ "type": "image", "image": { "id": "../v23.0/me?fields=x", "mime_type": "image/jpeg" } }),
            TextKey::PhotoUnavailable,
        ),
        (
            "media WhatsApp no longer has",
            json!({ "type": "image", "image": { "id": "media-expired", "mime_type": "image/jpeg" } }),
            TextKey::PhotoUnavailable,
        ),
    ];
    for (what, message, expected) in cases {
        let citizen = Citizen::new();
        app.send(&citizen, message).await;
        let replies = app.replies(&citizen, 2).await;
        assert_eq!(replies[1], app.render(expected), "{what}");
    }
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE dead_at IS NOT NULL").await, 0);
    assert!(!app.dir.path().join("photos").read_dir().unwrap().any(|_| true), "no file was stored");
    let draft: String = sqlx::query_scalar("SELECT draft FROM conversations WHERE draft LIKE '%Ampel%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(draft.contains("Ampel"), "the caption of a refused photo is kept");
}

#[tokio::test]
async fn a_media_server_failure_is_retried_and_the_photo_still_arrives() {
    let app = spawn_app().await;
    app.graph.script_media([500, 503]);
    let citizen = Citizen::new();
    app.send(&citizen, image(&app, "media-flaky", fixture_photo("recompressed_nometa.jpg"), None)).await;
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies[1], app.render(TextKey::LocationRequest));
    assert_eq!(photos(&app).await.len(), 1);
    assert_eq!(app.graph.media_served(), 2, "after two failures: the media object, then the file");
}

#[tokio::test]
async fn a_photo_beyond_the_reports_limit_is_not_even_downloaded() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    let mut small = Vec::new();
    image::RgbImage::from_pixel(16, 16, image::Rgb([90, 90, 90]))
        .write_to(&mut std::io::Cursor::new(&mut small), image::ImageFormat::Jpeg)
        .unwrap();
    let limit = meldeweg_workers::conversation::draft::MAX_PHOTOS;
    for n in 0..=limit {
        app.send(&citizen, image(&app, &format!("media-{n}"), small.clone(), None)).await;
    }
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM photos").await, limit as i64);
    assert_eq!(app.graph.media_served(), 2 * limit, "the last photo's media object and file were never fetched");
    let replies = app.graph.texts_to(citizen.address());
    assert_eq!(replies.last().unwrap(), &app.render(TextKey::PhotoLimit));
}
