//! Bystander protection (issue 22): a photo's public URL serves only its public copy, with
//! faces (and plates) obscured, and only once it may be seen; staff see the original and
//! moderate; every decision is in the audit chain; photos without a public copy stay private
//! and the report flows on; bad model files stop the service at start.

use meldeweg::config::Publish;
use meldeweg::staff::access::Role;
use sqlx::Row;

use crate::helpers::*;
use crate::staff_helpers::*;

/// The astronaut's face in `tests/fixtures/bystanders/astronaut.jpg` (512 × 512), checked by
/// eye: forehead to chin, cheek to cheek.
const FACE: (u32, u32, u32, u32) = (190, 90, 260, 170);

/// The share of neighbouring pixel pairs in `area` of a JPEG (scaled by `scale`) that differ
/// clearly: about a third in the astronaut's face, near zero in flat blocks (only their edges).
fn detail(jpeg: &[u8], area: (u32, u32, u32, u32), scale: f32) -> f64 {
    let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("a JPEG").into_rgb8();
    let (x0, y0, x1, y1) = area;
    let s = |v: u32| (v as f32 * scale) as u32;
    let (mut differing, mut pairs) = (0u32, 0u32);
    for y in s(y0)..s(y1) {
        for x in s(x0)..s(x1) - 1 {
            let (a, b) = (image.get_pixel(x, y).0, image.get_pixel(x + 1, y).0);
            let difference: u32 = (0..3).map(|c| u32::from(a[c].abs_diff(b[c]))).sum();
            differing += u32::from(difference > 24);
            pairs += 1;
        }
    }
    f64::from(differing) / f64::from(pairs)
}

async fn photo_token(app: &TestApp) -> String {
    eventually("the photo to be stored", || async { app.count("SELECT COUNT(*) FROM photos").await == 1 }).await;
    app.queue_drained().await;
    sqlx::query_scalar("SELECT token FROM photos").fetch_one(app.db.pool()).await.unwrap()
}

async fn copy_state(app: &TestApp, token: &str) -> String {
    sqlx::query_scalar("SELECT state FROM public_copies WHERE token = $1")
        .bind(token)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn get_status(app: &TestApp, path: &str) -> u16 {
    app.http.get(app.url(path)).send().await.unwrap().status().as_u16()
}

/// A citizen reports the astronaut photo at a place in town; returns the photo's token and
/// the order's number.
async fn reported_with_face(app: &TestApp) -> (String, String) {
    let citizen = Citizen::new();
    app.send(&citizen, image(app, "media-astronaut", fixture_bystander("astronaut.jpg"), Some("Schlagloch"))).await;
    let token = photo_token(app).await;
    let (_, _, order) = reported_by(app, &citizen, "Schlagloch vor der Schule", (51.9625, 7.6256), 0).await;
    (token, order)
}

fn fixture_bystander(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bystanders").join(name))
        .expect("fixture")
}

#[tokio::test]
async fn a_face_is_never_served_unobscured_by_a_public_url() {
    let app = spawn_app_with(|s| s.photos.publish = Publish::AfterDetection).await;
    let (token, _) = reported_with_face(&app).await;
    assert_eq!(copy_state(&app, &token).await, "public");
    let regions: String =
        sqlx::query_scalar("SELECT regions FROM public_copies").fetch_one(app.db.pool()).await.unwrap();
    let faces = regions.matches(r#""kind":"face""#).count();
    assert_eq!(faces, 1, "the astronaut's face was found");

    add_staff(&app, "dispo@musterstadt.test", Role::Dispatcher, None).await;
    let staff = login(&app, "dispo@musterstadt.test").await;
    let original = staff.get(&app, &format!("/staff/photos/{token}")).await.bytes().await.unwrap();
    let public = app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap();
    assert_eq!(public.status(), 200);
    let public = public.bytes().await.unwrap();
    let thumb = app.http.get(app.url(&format!("/photos/{token}/thumb"))).send().await.unwrap().bytes().await.unwrap();

    let before = detail(&original, FACE, 1.0);
    assert!(before > 0.15, "the original shows the face in detail ({before:.3})");
    let after = detail(&public, FACE, 1.0);
    assert!(after < 0.05, "the public copy's face is flat blocks ({after:.3} against {before:.3})");
    let thumb_after = detail(&thumb, FACE, 320.0 / 512.0);
    assert!(thumb_after < 0.08, "so is the thumbnail's ({thumb_after:.3})");
    // Outside the face the public copy is the photo (the flag in the top left corner).
    let corner = (10, 10, 80, 80);
    assert!((detail(&public, corner, 1.0) - detail(&original, corner, 1.0)).abs() < 0.05);

    // The original is for staff only.
    let anonymous = client().get(app.url(&format!("/staff/photos/{token}"))).send().await.unwrap();
    assert_ne!(anonymous.status(), 200);
    assert_ne!(anonymous.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/jpeg"));
}

#[tokio::test]
async fn by_default_a_photo_waits_for_approval_and_every_decision_is_audited() {
    let app = spawn_app().await;
    let (token, order) = reported_with_face(&app).await;
    assert_eq!(copy_state(&app, &token).await, "waiting");
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 404);
    assert_eq!(get_status(&app, &format!("/photos/{token}/thumb")).await, 404);
    let public_token: String =
        sqlx::query_scalar("SELECT public_token FROM reports").fetch_one(app.db.pool()).await.unwrap();
    let page = app.http.get(app.url(&format!("/m/{public_token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Foto wird geprüft") && !page.contains(&token), "{page}");

    // The order shows the photo waiting; the crew may look but not decide.
    add_staff(&app, "crew@musterstadt.test", Role::Depot, Some("nord")).await;
    add_staff(&app, "dispo@musterstadt.test", Role::Dispatcher, None).await;
    let dispatcher = login(&app, "dispo@musterstadt.test").await;
    let list = dispatcher.get(&app, "/staff/orders").await.text().await.unwrap();
    assert!(list.contains("1 Foto(s) zur Freigabe"), "the order list shows the waiting photo: {list}");
    let order_page = dispatcher.get(&app, &format!("/staff/orders/{order}")).await.text().await.unwrap();
    assert!(order_page.contains("wartet auf Freigabe"), "{order_page}");
    let review = format!("/staff/orders/{order}/photos/{token}");
    let page = dispatcher.get(&app, &review).await.text().await.unwrap();
    assert!(page.contains("Gesichter: 1") && page.contains("do-publish"), "{page}");

    let depot: String = sqlx::query_scalar("SELECT depot FROM work_orders WHERE number = $1")
        .bind(&order)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    add_staff(&app, "own-crew@musterstadt.test", Role::Depot, Some(&depot)).await;
    let crew = login(&app, "own-crew@musterstadt.test").await;
    let page = crew.get(&app, &review).await.text().await.unwrap();
    assert!(!page.contains("do-publish") && page.contains("Disposition"), "read only for the crew");
    assert_eq!(crew.get(&app, &format!("/staff/photos/{token}")).await.status(), 200, "the crew sees its photo");
    add_staff(&app, "other-crew@musterstadt.test", Role::Depot, Some("anderswo")).await;
    let other_crew = login(&app, "other-crew@musterstadt.test").await;
    for path in [format!("/staff/photos/{token}"), format!("/staff/photos/{token}/public")] {
        assert_eq!(other_crew.get(&app, &path).await.status(), 403, "another depot's crew does not see {path}");
    }
    let unknown = format!("/staff/photos/{}", "ab".repeat(16));
    assert_eq!(dispatcher.get(&app, &unknown).await.status(), 404, "a photo of no report or order");
    let refused = crew.post(&app, &review, &[("action", "publish"), ("reason", "passt")]).await;
    assert_eq!(refused.status(), 403);

    // A decision needs a reason.
    let refused = dispatcher.post(&app, &review, &[("action", "publish"), ("reason", "  ")]).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(copy_state(&app, &token).await, "waiting");

    let approved = dispatcher.post(&app, &review, &[("action", "publish"), ("reason", "Gesicht ist verpixelt")]).await;
    assert!(approved.status().is_redirection() || approved.status() == 200, "{}", approved.status());
    assert_eq!(copy_state(&app, &token).await, "public");
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 200);
    let page = app.http.get(app.url(&format!("/m/{public_token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("/photos/{token}/thumb")) && !page.contains("Foto wird geprüft"));

    let list = dispatcher.get(&app, "/staff/orders").await.text().await.unwrap();
    assert!(!list.contains("zur Freigabe"), "nothing waits any more");
    dispatcher.post(&app, &review, &[("action", "hide"), ("reason", "Kennzeichen im Spiegel")]).await;
    assert_eq!(copy_state(&app, &token).await, "hidden");
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 404);
    let page = app.http.get(app.url(&format!("/m/{public_token}"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(&token) && !page.contains("Foto wird geprüft"), "a hidden photo is not mentioned");

    dispatcher.post(&app, &review, &[("action", "publish"), ("reason", "Spiegel unkenntlich gemacht")]).await;
    assert_eq!(copy_state(&app, &token).await, "public");

    // A photo hidden before it was ever checked cannot be shown: there is no checked copy.
    sqlx::query("UPDATE public_copies SET state = 'checking', checked_at = NULL, attempts = 5")
        .execute(app.db.pool())
        .await
        .unwrap();
    dispatcher.post(&app, &review, &[("action", "hide"), ("reason", "erst prüfen")]).await;
    let refused = dispatcher.post(&app, &review, &[("action", "publish"), ("reason", "doch zeigen")]).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(copy_state(&app, &token).await, "hidden");
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 404);

    app.seal_audit().await;
    let events = sqlx::query("SELECT kind, actor, detail FROM audit_log WHERE kind LIKE 'photo.%' ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let kinds: Vec<String> = events.iter().map(|e| e.get("kind")).collect();
    assert_eq!(kinds, ["photo.cleaned", "photo.approved", "photo.hidden", "photo.shown", "photo.hidden"]);
    let dispatcher_id: i64 = sqlx::query_scalar("SELECT id FROM staff_users WHERE email = 'dispo@musterstadt.test'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    for event in &events[1..] {
        assert_eq!(event.get::<Option<String>, _>("actor"), Some(format!("staff:{dispatcher_id}")));
    }
    let detail: String = events[2].get("detail");
    assert!(detail.contains("Kennzeichen im Spiegel"), "the reason is recorded: {detail}");
}

#[tokio::test]
async fn a_staff_member_obscures_one_more_area_by_its_rectangle() {
    let app = spawn_app_with(|s| s.photos.publish = Publish::AfterDetection).await;
    let (token, order) = reported_with_face(&app).await;
    add_staff(&app, "dispo@musterstadt.test", Role::Dispatcher, None).await;
    let dispatcher = login(&app, "dispo@musterstadt.test").await;
    // The shuttle model on the right: not a face, but staff want it gone.
    let shuttle = (380, 40, 440, 240);
    let before = app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap().bytes().await.unwrap();
    assert!(detail(&before, shuttle, 1.0) > 0.08, "{:.3}", detail(&before, shuttle, 1.0));

    let review = format!("/staff/orders/{order}/photos/{token}");
    let outside =
        [("action", "obscure"), ("x", "600"), ("y", "10"), ("width", "50"), ("height", "50"), ("reason", "x")];
    assert_eq!(dispatcher.post(&app, &review, &outside).await.status(), 422, "a rectangle beside the photo");
    let area =
        [("action", "obscure"), ("x", "380"), ("y", "40"), ("width", "60"), ("height", "200"), ("reason", "Modell")];
    let done = dispatcher.post(&app, &review, &area).await;
    assert!(done.status().is_redirection() || done.status() == 200, "{}", done.status());

    let after = app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap().bytes().await.unwrap();
    assert!(detail(&after, shuttle, 1.0) < 0.05, "the drawn area is flat blocks now");
    assert!(detail(&after, FACE, 1.0) < 0.05, "and the face stays obscured");
    let regions: String =
        sqlx::query_scalar("SELECT regions FROM public_copies").fetch_one(app.db.pool()).await.unwrap();
    assert!(regions.contains(r#""kind":"manual","x":380,"y":40,"width":60,"height":200"#), "{regions}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'photo.area_obscured'").await, 1);
}

#[tokio::test]
async fn two_staff_members_obscuring_at_once_both_keep_their_area() {
    let app = spawn_app_with(|s| s.photos.publish = Publish::AfterDetection).await;
    let (token, order) = reported_with_face(&app).await;
    add_staff(&app, "dispo@musterstadt.test", Role::Dispatcher, None).await;
    add_staff(&app, "admin@musterstadt.test", Role::Admin, None).await;
    let dispatcher = login(&app, "dispo@musterstadt.test").await;
    let admin = login(&app, "admin@musterstadt.test").await;
    let review = format!("/staff/orders/{order}/photos/{token}");
    let (left, right) = ((20, 300, 100, 100), (380, 300, 100, 100));
    let numbers = |(x, y, w, h): (u32, u32, u32, u32)| [x, y, w, h].map(|v| v.to_string());
    let (first, second) = (numbers(left), numbers(right));
    let form = |n: &'_ [String; 4]| -> Vec<(&'static str, String)> {
        let fields = ["x", "y", "width", "height"].into_iter().zip(n.iter().cloned());
        [("action", "obscure".to_string()), ("reason", "Passant".to_string())].into_iter().chain(fields).collect()
    };
    let (first, second) = (form(&first), form(&second));
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (a, b) = tokio::join!(dispatcher.post(&app, &review, &first), admin.post(&app, &review, &second));
    for done in [a, b] {
        assert!(done.status().is_redirection() || done.status() == 200, "{}", done.status());
    }
    let regions: String =
        sqlx::query_scalar("SELECT regions FROM public_copies").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(regions.matches(r#""kind":"manual""#).count(), 2, "neither area was lost: {regions}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'photo.area_obscured'").await, 2);
    let public = app.http.get(app.url(&format!("/photos/{token}"))).send().await.unwrap().bytes().await.unwrap();
    let original = dispatcher.get(&app, &format!("/staff/photos/{token}")).await.bytes().await.unwrap();
    for (x, y, w, h) in [left, right] {
        let area = (x, y, x + w, y + h);
        let (before, after) = (detail(&original, area, 1.0), detail(&public, area, 1.0));
        assert!(after < 0.05 && before > after, "the file has both areas obscured ({after:.3}, was {before:.3})");
    }
}

#[tokio::test]
async fn a_photo_without_a_public_copy_stays_private_while_the_report_flows_and_is_checked_later() {
    let app = spawn_app_with(|s| {
        s.photos.publish = Publish::AfterDetection;
        s.photos.recheck_seconds = 1;
    })
    .await;
    let (token, order) = reported_with_face(&app).await;
    // As a photo stored before this version, or one whose detection failed: no copy yet.
    sqlx::query("UPDATE public_copies SET state = 'checking', regions = '[]', attempts = 0, checked_at = NULL")
        .execute(app.db.pool())
        .await
        .unwrap();
    let public_files = || {
        files_under(app.dir.path()).into_iter().filter(|p| p.to_string_lossy().contains(".public.")).collect::<Vec<_>>()
    };
    for file in public_files() {
        std::fs::remove_file(file).unwrap();
    }
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 404);
    // The report has its order all the same.
    assert!(!order.is_empty());
    eventually("the photo to be checked again", || async { copy_state(&app, &token).await == "public" }).await;
    assert_eq!(public_files().len(), 2, "the copy and its thumbnail");
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 200);

    // When the check cannot be done (here the cleaned photo is gone), the photo stays private
    // and the reason is kept for staff; after a few attempts it is left alone.
    sqlx::query("UPDATE public_copies SET state = 'checking', attempts = 0, checked_at = NULL")
        .execute(app.db.pool())
        .await
        .unwrap();
    for file in files_under(app.dir.path()).into_iter().filter(|p| p.to_string_lossy().contains(&token)) {
        std::fs::remove_file(file).unwrap();
    }
    eventually("the checks to give up", || async {
        app.count("SELECT COUNT(*) FROM public_copies WHERE attempts >= 5").await == 1
    })
    .await;
    assert_eq!(copy_state(&app, &token).await, "checking");
    let failure: Option<String> =
        sqlx::query_scalar("SELECT failure FROM public_copies").fetch_one(app.db.pool()).await.unwrap();
    assert!(failure.is_some_and(|f| f.contains("missing")));
    assert_eq!(get_status(&app, &format!("/photos/{token}")).await, 404);
}

#[tokio::test]
async fn bad_model_files_stop_the_service_at_start_with_a_clear_message() {
    let models = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for name in ["centerface.onnx", "ppocr_v4_det.onnx"] {
        std::fs::copy(shipped.join(name), models.path().join(name)).unwrap();
    }
    // One byte changed.
    let face_model = models.path().join("centerface.onnx");
    let mut bytes = std::fs::read(&face_model).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&face_model, bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let mut settings = test_settings(dir.path(), &database_url, "http://127.0.0.1:9");
    settings.photos.models_dir = models.path().to_path_buf();
    let error =
        meldeweg::startup::Application::build(settings.clone()).await.err().expect("the service refuses to start");
    let message = error.to_string();
    assert!(message.contains("centerface.onnx") && message.contains("SHA-256"), "{message}");

    std::fs::remove_file(models.path().join("ppocr_v4_det.onnx")).unwrap();
    std::fs::copy(shipped.join("centerface.onnx"), &face_model).unwrap();
    let error = meldeweg::startup::Application::build(settings).await.err().expect("the service refuses to start");
    let message = error.to_string();
    assert!(message.contains("ppocr_v4_det.onnx") && message.contains("cannot be read"), "{message}");
}

#[tokio::test]
async fn an_after_photo_that_nothing_names_any_more_is_deleted_a_day_later() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.test", Role::Dispatcher, None).await;
    let dispatcher = login(&app, "dispo@musterstadt.test").await;
    let (_, _, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    add_staff(&app, "crew@musterstadt.test", Role::Depot, Some("bauhof-nord")).await;
    let crew = login(&app, "crew@musterstadt.test").await;
    let transition = format!("/staff/orders/{order}/transition");
    assert_eq!(crew.post(&app, &transition, &[("transition", "accept")]).await.status(), 303);
    let photo = reqwest::multipart::Part::bytes(fixture_bystander("astronaut.jpg")).file_name("nachher.jpg");
    let done = crew
        .http
        .post(app.url(&format!("/staff/orders/{order}/done")))
        .header(reqwest::header::COOKIE, &crew.cookie)
        .multipart(reqwest::multipart::Form::new().text("csrf", crew.csrf.clone()).part("photo", photo))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let after_photo: String =
        sqlx::query_scalar("SELECT after_photo FROM work_orders").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(copy_state(&app, &after_photo).await, "waiting", "an after-photo is checked like any other");
    // Reopening the order drops its after-photo: nothing names the photo any more.
    assert_eq!(dispatcher.post(&app, &transition, &[("transition", "reopen")]).await.status(), 303);
    let files =
        || files_under(app.dir.path()).into_iter().filter(|p| p.to_string_lossy().contains(&after_photo)).count();
    assert_eq!(files(), 4, "cleaned photo, public copy and their thumbnails");

    let store = meldeweg::storage::PhotoStore::local(&app.settings.data_dir.join("photos")).unwrap();
    let run = |at: i64| meldeweg::retention::run(&app.db, &store, &app.settings.retention, at, false, "test");
    let now = meldeweg::time::now_ms();
    assert_eq!(run(now).await.unwrap()["unattached_photos"], 0, "not within the first day");
    assert_eq!(files(), 4);
    let later = run(now + 2 * 86_400_000).await.unwrap();
    assert_eq!(later["unattached_photos"], 1);
    assert_eq!(files(), 0, "its files are gone");
    assert_eq!(app.count("SELECT COUNT(*) FROM public_copies").await, 0);
}

#[tokio::test]
async fn the_command_line_writes_a_photos_public_copy_and_says_what_it_obscured() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let input = dir.join("astronaut.jpg");
    std::fs::write(&input, fixture_bystander("astronaut.jpg")).unwrap();
    let (output, public) = (dir.join("clean.jpg"), dir.join("public.jpg"));
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let args = ["photo", "clean", &path(&input), &path(&output), "--public", &path(&public)];
    let (ok, stdout, stderr) = crate::cli::run(&app, &args, &[]).await;
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let obscured = summary["obscured"].as_array().expect("the regions obscured");
    assert_eq!(obscured.iter().filter(|r| r["kind"] == "face").count(), 1, "{summary}");
    let (original, copy) = (std::fs::read(&output).unwrap(), std::fs::read(&public).unwrap());
    assert!(detail(&original, FACE, 1.0) > 0.15 && detail(&copy, FACE, 1.0) < 0.05);
}
