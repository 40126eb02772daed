//! The `meldeweg` command line as an operator uses it.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::helpers::*;

/// Runs `meldeweg ARGS` against the test's service: (success, stdout, stderr).
pub async fn run(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = app.start_process(args, env).wait_with_output().await.unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn cloud_mode_without_its_secrets_refuses_to_start_and_says_which_are_missing() {
    let app = spawn_app().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"))
        .arg("serve")
        .env_clear()
        .env("MELDEWEG_WHATSAPP_MODE", "cloud")
        .env("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", "123")
        .env("MELDEWEG_DATA_DIR", app.dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert!(!child.wait().await.unwrap().success());
    for secret in ["MELDEWEG_WHATSAPP_APP_SECRET", "MELDEWEG_WHATSAPP_ACCESS_TOKEN", "MELDEWEG_WHATSAPP_VERIFY_TOKEN"] {
        assert!(stderr.contains(secret), "{stderr}");
    }
}

#[tokio::test]
async fn every_command_refuses_a_misspelt_section_and_cloud_mode_without_the_key() {
    let app = spawn_app().await;
    let config = app.dir.path().join("typo.toml");
    std::fs::write(&config, "[retenton]\nphotos_days = 1\n").unwrap();
    let (ok, _, stderr) = run(&app, &["--config", config.to_str().unwrap(), "retention", "run"], &[]).await;
    assert!(!ok && stderr.contains("[retenton]"), "a typo does not run with the defaults: {stderr}");
    let (ok, _, stderr) = run(&app, &["keys", "rotate"], &[("MELDEWEG_ENCRYPTION_KEY", "")]).await;
    assert!(!ok && stderr.contains("MELDEWEG_ENCRYPTION_KEY"), "{stderr}");
    assert!(!app.dir.path().join("secret.key").exists(), "no key of its own in cloud mode");
    let mail = [("MELDEWEG_EMAIL_SMTP_URL", "smtp://127.0.0.1:25"), ("MELDEWEG_EMAIL_FROM", "kein Absender")];
    let (ok, _, stderr) = run(&app, &["audit", "verify"], &mail).await;
    assert!(!ok && stderr.contains("email.from"), "{stderr}");
}

#[tokio::test]
async fn reports_list_json_shows_reports_without_personal_data() {
    let app = spawn_app().await;
    let citizen = Citizen::new();
    app.send(&citizen, text("Spielplatz: Rutsche hat scharfe Kante")).await;
    app.send(&citizen, location(51.96, 7.62)).await;
    app.replies(&citizen, 3).await;
    let (ok, stdout, stderr) = run(&app, &["reports", "list", "--json"], &[]).await;
    assert!(ok, "{stderr}");
    let reports: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let report = &reports[0];
    assert!(report["reference"].as_str().unwrap().starts_with("M-"));
    assert_eq!(report["description"], "Spielplatz: Rutsche hat scharfe Kante");
    assert_eq!(report["status"], "open");
    assert_eq!(report["category"], "spielplatz");
    assert!(!stdout.contains(citizen.phone.as_deref().unwrap()));
    assert!(!stdout.contains(citizen.user_id.as_deref().unwrap()));
}

#[tokio::test]
async fn migrate_applies_the_schema_and_serve_reads_another_config_file() {
    let app = spawn_app().await;
    let (ok, stdout, stderr) = run(&app, &["migrate"], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("migrations applied"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = app.dir.path().join("other.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n[municipality]\nname = \"Beispielheim\"\nprivacy_url = \"https://beispielheim.de/ds\"\nweb_form_url = \"https://beispielheim.de/melden\"\nphone = \"1\"\nemail = \"a@b.de\"\n")).unwrap();
    let server = app.start_process(&["serve", "--config", config.to_str().unwrap()], &[]);
    let home = format!("http://127.0.0.1:{port}/");
    eventually("the server from the other config to answer", || async {
        match reqwest::get(&home).await {
            Ok(response) => response.text().await.unwrap_or_default().contains("Beispielheim"),
            Err(_) => false,
        }
    })
    .await;
    terminate(&server);
    let mut server = server;
    assert!(server.wait().await.unwrap().success(), "serve exits 0 on SIGTERM");
}

#[tokio::test]
async fn photo_clean_writes_a_clean_copy_and_prints_what_it_read() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let input = dir.join("in.png");
    std::fs::write(&input, fixture_photo("screenshot_gps.png")).unwrap();
    let (output, thumb) = (dir.join("out.jpg"), dir.join("thumb.jpg"));
    let args =
        ["photo", "clean", input.to_str().unwrap(), output.to_str().unwrap(), "--thumb", thumb.to_str().unwrap()];
    let (ok, stdout, stderr) = run(&app, &args, &[]).await;
    assert!(ok, "{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!((summary["width"].as_u64(), summary["height"].as_u64()), (Some(1600), Some(1067)));
    assert!((summary["gps"]["lat"].as_f64().unwrap() - 51.9).abs() < 1e-5);
    assert!((summary["gps"]["lon"].as_f64().unwrap() - 10.43).abs() < 1e-5);
    assert_eq!(summary["taken_at"], Value::Null);
    let written = std::fs::read(&output).unwrap();
    use sha2::Digest;
    assert_eq!(summary["sha256"].as_str().unwrap(), hex::encode(sha2::Sha256::digest(&written)));
    assert!(!written.windows(4).any(|w| w == b"0160"), "the PNG comment's phone number is gone");
    assert!(std::fs::metadata(&thumb).unwrap().len() > 0);

    let bad = dir.join("bad.jpg");
    std::fs::write(&bad, b"GIF89a not really a photo").unwrap();
    let not_written = dir.join("never.jpg");
    let (ok, stdout, stderr) =
        run(&app, &["photo", "clean", bad.to_str().unwrap(), not_written.to_str().unwrap()], &[]).await;
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(stderr.contains("GIF files are not accepted"), "{stderr}");
    assert_eq!(stderr.trim().lines().filter(|l| l.starts_with("meldeweg:")).count(), 1, "one line: {stderr}");
    assert!(!not_written.exists());
}

#[tokio::test]
async fn import_streets_turns_an_osm_export_into_a_gazetteer() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let export = dir.join("town.geojson");
    std::fs::write(
        &export,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"addr:street":"Lindenweg","addr:housenumber":"4"},"geometry":{"type":"Point","coordinates":[7.6101,51.9702]}},
            {"type":"Feature","properties":{"addr:street":"Schulstraße","addr:housenumber":"1"},"geometry":{"type":"Point","coordinates":[7.62,51.96]}},
            {"type":"Feature","properties":{"highway":"bus_stop"},"geometry":{"type":"Point","coordinates":[7.6,51.9]}}]}"#,
    )
    .unwrap();
    let output = dir.join("streets.csv");
    let (ok, stdout, stderr) =
        run(&app, &["import-streets", export.to_str().unwrap(), output.to_str().unwrap()], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("2 address points on 2 streets"), "{stdout}");
    let csv = std::fs::read_to_string(&output).unwrap();
    assert!(csv.starts_with("street,number,lat,lon\n") && csv.contains("Lindenweg,4,51.9702000,7.6101000"), "{csv}");

    std::fs::write(&export, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let (ok, _, stderr) = run(&app, &["import-streets", export.to_str().unwrap(), output.to_str().unwrap()], &[]).await;
    assert!(!ok);
    assert!(stderr.contains("no address points"), "{stderr}");
}

/// `meldeweg classify` with `input` on stdin: one JSON object per line.
async fn classify(app: &TestApp, input: &str) -> Vec<Value> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"))
        .arg("classify")
        .env_clear()
        .envs(app.process_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn classify_reads_lines_and_prints_one_json_object_each() {
    let app = spawn_app().await;
    let answers = classify(&app, "laterne brennt auch tagsüber\nGully offen, Deckel fehlt!!\n\n").await;
    assert_eq!(answers.len(), 3, "one answer per line, the empty one too");
    assert_eq!(answers[0]["category"], "beleuchtung");
    assert_eq!(answers[0]["priority"], "normal");
    let confidence = answers[0]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(answers[0]["runner_up"].is_string() && answers[0]["runner_up"] != "beleuchtung");
    assert_eq!(answers[1]["category"], "kanal");
    assert_eq!(answers[1]["priority"], "urgent");
    assert_eq!(answers[1]["danger"], serde_json::json!(["offener Schacht"]));
    assert_eq!(answers[2]["confidence"], 0.0, "nothing to go on");

    let (ok, stdout, stderr) = run(&app, &["classify", "--eval", "config/evaluation/eval.tsv"], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("accuracy: ") && stdout.contains("macro-F1: ") && stdout.contains("winterdienst"));
    let bad = app.dir.path().join("bad.tsv");
    std::fs::write(&bad, "category\ttext\nabfall\tMüll\n").unwrap();
    let (ok, _, stderr) = run(&app, &["classify", "--eval", bad.to_str().unwrap()], &[]).await;
    assert!(!ok && stderr.contains("line 2: unknown category \"abfall\""), "{stderr}");
}

#[tokio::test]
async fn a_staff_correction_changes_the_answer_after_the_next_retrain_also_in_the_running_service() {
    let app = spawn_app_with(|s| s.classify.follow_seconds = 1).await;
    let citizen = Citizen::new();
    let words = "Die Bank am Teich wackelt";
    app.send(&citizen, text(words)).await;
    app.send(&citizen, location(51.9607, 7.6261)).await;
    let answer = app.replies(&citizen, 3).await.remove(2);
    let reference = &answer[answer.find("M-").unwrap()..][..13];
    assert_eq!(classify(&app, words).await[0]["category"], "sonstiges");

    let (ok, stdout, stderr) = run(&app, &["reports", "recategorise", reference, "gruen"], &[]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), format!("{reference}: sonstiges -> gruen"));
    let source: String =
        sqlx::query_scalar("SELECT category_source FROM reports").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(source, "staff");
    assert_eq!(classify(&app, words).await[0]["category"], "sonstiges", "not before the retrain");

    let (ok, stdout, stderr) = run(&app, &["classify", "retrain"], &[]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("1 staff corrections included"), "{stdout}");
    assert_eq!(classify(&app, words).await[0]["category"], "gruen");

    // The running service follows the retrain without a restart.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let neighbour = Citizen::new();
    app.send(&neighbour, text(words)).await;
    app.send(&neighbour, location(51.9611, 7.6265)).await;
    app.replies(&neighbour, 3).await;
    let categories: Vec<String> =
        sqlx::query_scalar("SELECT category FROM reports ORDER BY id").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(categories, ["gruen", "gruen"], "the second report is classified by the retrained model");

    let (ok, stdout, _) = run(&app, &["reports", "recategorise", reference, "gruen"], &[]).await;
    assert!(ok && stdout.contains("already gruen"), "{stdout}");
    assert_eq!(app.count("SELECT COUNT(*) FROM category_corrections").await, 1, "no second correction");
    for (args, reason) in [
        (vec!["reports", "recategorise", "M-2026-999999", "gruen"], "there is no report"),
        (vec!["reports", "recategorise", reference, "abfall"], "not a category"),
        (vec!["reports", "recategorise", "M-26-1", "gruen"], "not a reference"),
    ] {
        let (ok, _, stderr) = run(&app, &args, &[]).await;
        assert!(!ok && stderr.contains(reason), "{args:?}: {stderr}");
    }
}

/// Runs `meldeweg` with `input` on stdin (as a password is piped in by a script).
async fn run_with_stdin(app: &TestApp, args: &[&str], input: &str) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"))
        .args(args)
        .env_clear()
        .envs(app.process_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn staff_accounts_and_api_tokens_are_managed_from_the_command_line() {
    let app = spawn_app().await;
    let add = ["user", "add", "--email", "Crew@Musterstadt.de", "--role", "depot", "--depot", "bauhof-nord"];
    let (ok, out, err) = run_with_stdin(&app, &add, "Ein-gutes-Passwort\n").await;
    assert!(ok, "{err}");
    assert!(out.contains("crew@musterstadt.de added as depot"), "{out}");
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM staff_users").fetch_one(app.db.pool()).await.unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("Ein-gutes-Passwort"));

    for (args, input, expected) in [
        (vec!["user", "add", "--email", "x@musterstadt.de", "--role", "depot"], "Ein-gutes-Passwort\n", "need --depot"),
        (
            vec!["user", "add", "--email", "x@musterstadt.de", "--role", "depot", "--depot", "mond"],
            "Ein-gutes-Passwort\n",
            "no depot \"mond\"",
        ),
        (vec!["user", "add", "--email", "x@musterstadt.de", "--role", "boss"], "Ein-gutes-Passwort\n", "not a role"),
        (vec!["user", "add", "--email", "kein-email", "--role", "manager"], "Ein-gutes-Passwort\n", "e-mail address"),
        (vec!["user", "add", "--email", "x@musterstadt.de", "--role", "manager"], "kurz\n", "at least 10"),
        (add.to_vec(), "Ein-gutes-Passwort\n", "already an account"),
        (vec!["user", "disable", "niemand@musterstadt.de"], "", "no account"),
    ] {
        let (ok, _, err) = run_with_stdin(&app, &args, input).await;
        assert!(!ok && err.contains(expected), "{args:?}: {err}");
    }

    let (ok, out, _) =
        run(&app, &["token", "create", "--user", "crew@musterstadt.de", "--label", "Bauhof-Software"], &[]).await;
    assert!(ok);
    let token = out.trim();
    assert!(token.starts_with("mw_"));
    let orders = app.http.get(app.url("/api/v1/orders")).bearer_auth(token).send().await.unwrap();
    assert_eq!(orders.status(), 200);
    let (_, listed, _) = run(&app, &["token", "list"], &[]).await;
    assert!(listed.contains("Bauhof-Software") && !listed.contains(token), "{listed}");

    let (ok, _, _) = run(&app, &["user", "disable", "crew@musterstadt.de"], &[]).await;
    assert!(ok);
    let (_, users, _) = run(&app, &["user", "list"], &[]).await;
    assert!(users.contains("crew@musterstadt.de") && users.contains("disabled"), "{users}");
    let refused = app.http.get(app.url("/api/v1/orders")).bearer_auth(token).send().await.unwrap();
    assert_eq!(refused.status(), 401, "a disabled account's tokens stop working");
    let (ok, out, err) = run_with_stdin(&app, &["user", "reset", "crew@musterstadt.de"], "Noch-ein-Passwort\n").await;
    assert!(ok && out.contains("new password"), "{err}");
}

#[tokio::test]
async fn demo_seed_fills_an_empty_database_with_a_seasonal_history_and_refuses_a_used_one() {
    let app = spawn_app().await;
    let (ok, out, err) = run(&app, &["demo", "seed", "--reports", "3000", "--days", "365", "--seed", "7"], &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("3000 reports"), "{out}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 3000);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE reporter_id IS NOT NULL").await, 0, "nobody's data");
    let orders = app.count("SELECT COUNT(*) FROM work_orders").await;
    assert!((1500..3000).contains(&orders), "most reports have their own order, duplicates join one: {orders}");
    let duplicates = app.count("SELECT COUNT(*) FROM reports WHERE order_link = 'duplicate'").await;
    assert!(duplicates > 100, "{duplicates}");
    let late = app.count("SELECT COUNT(*) FROM work_orders WHERE done_at > due_at").await;
    assert!(late > 0, "some orders were late");
    let winter = app.count("SELECT COUNT(*) FROM reports WHERE category = 'winterdienst'").await;
    assert!(winter > 0);
    // Live numbering continues after the history.
    let (year, last): (i64, i64) =
        sqlx::query_as("SELECT year, last_number FROM reference_counters ORDER BY year DESC LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let newest: String = sqlx::query_scalar("SELECT reference FROM reports ORDER BY created_at DESC LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(newest, format!("M-{year}-{last:06}"));

    let (ok, _, err) = run(&app, &["demo", "seed", "--reports", "10"], &[]).await;
    assert!(!ok && err.contains("empty database"), "{err}");
    let (ok, _, err) = run(&app, &["demo", "seed", "--reports", "0"], &[]).await;
    assert!(!ok && err.contains("--reports"), "{err}");
    let (ok, _, err) = run(&app, &["demo", "seed", "--reports", "10000000", "--days", "3650"], &[]).await;
    assert!(!ok && err.contains("at least 4563 days"), "{err}");
}
