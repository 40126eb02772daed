//! P5 data minimisation, for the web form (the chat's photos are covered in `photos.rs` and the
//! cleaning itself in `workers/tests/photo_clean.rs`): an uploaded phone photo with GPS, capture
//! time and its owner's name is stored and served without any of it, the original never reaches
//! the disk, and when the citizen gave the place, the photo's position is not kept either.

use reqwest::multipart::{Form, Part};

use crate::helpers::*;
use crate::staff_helpers::NORD;

#[tokio::test]
async fn a_web_form_photo_is_stored_and_served_without_its_metadata() {
    let app = spawn_app_with(|s| s.photos.publish = meldeweg::config::Publish::AfterDetection).await;
    let original = fixture_photo("phone_o6_gps.jpg");
    assert!(contains(&original, b"Mustermann") && contains(&original, b"Exif"), "the fixture carries metadata");
    let form = Form::new()
        .text("description", "Wilder Müll am Waldweg")
        .text("lat", NORD.0.to_string())
        .text("lon", NORD.1.to_string())
        .part("photo", Part::bytes(original.clone()).file_name("IMG_2041.jpg").mime_str("image/jpeg").unwrap());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.post(app.url("/melden")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);

    let (token, lat, taken_at): (String, Option<f64>, Option<String>) =
        sqlx::query_as("SELECT token, gps_lat, taken_at FROM photos").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!((lat, taken_at), (None, None), "the place came from the map: the photo's position is not kept");
    for path in [format!("/photos/{token}"), format!("/photos/{token}/thumb")] {
        let served = app.http.get(app.url(&path)).send().await.unwrap().bytes().await.unwrap();
        assert!(image::load_from_memory(&served).is_ok(), "{path} is a picture");
        assert!(!contains(&served, b"Exif") && !contains(&served, b"Mustermann"), "{path} carries metadata");
    }
    let files = files_under(&app.settings.data_dir.join("photos"));
    assert_eq!(files.len(), 4, "the cleaned image, its public copy and their thumbnails, nothing else: {files:?}");
    for file in files_under(app.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, b"Mustermann"), "{} holds the original's metadata", file.display());
        assert!(!contains(&bytes, &original[..4096]), "{} holds the original", file.display());
    }
}
