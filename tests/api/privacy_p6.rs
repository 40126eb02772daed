//! P6 phone numbers: a known test number (and the citizen's WhatsApp user id) appears nowhere in
//! clear — not in the database files, not in the log of the process that handled the messages,
//! not on any staff or public page, API answer or CLI output. Keys rotate: after `meldeweg keys
//! rotate` the new key alone opens everything and known reporters are still recognised; an
//! instance with a key that opens none of the stored data refuses to start.

use meldeweg::staff::Role;
use sqlx::Row;

use crate::cli::run;
use crate::helpers::*;
use crate::staff_helpers::*;

/// Every row of every table as text (PostgreSQL), or the raw bytes of the database files
/// (SQLite: also what sits in free pages and the write-ahead log).
async fn database_contents(app: &TestApp) -> Vec<u8> {
    if app.database_url.starts_with("sqlite:") {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(app.dir.path()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("meldeweg.db") {
                bytes.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(bytes.len() > 10_000, "the database files were found");
        return bytes;
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(tables.len() > 15, "{tables:?}");
    let mut text = String::new();
    for table in tables {
        let rows = sqlx::query(&format!("SELECT CAST(t AS TEXT) AS row FROM {table} t")).fetch_all(app.db.pool()).await;
        for row in rows.unwrap() {
            text.push_str(&row.get::<String, _>("row"));
            text.push('\n');
        }
    }
    text.into_bytes()
}

#[tokio::test]
async fn a_known_number_appears_nowhere_in_clear() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let served = Served::start(&app, &[]).await;
    let citizen = Citizen::new();
    let phone = citizen.phone.clone().unwrap();
    let user_id = citizen.user_id.clone().unwrap();
    let (phone_hex, user_id_hex) = (hex::encode(&phone), hex::encode(&user_id));
    let secrets = [phone.as_str(), user_id.as_str(), phone_hex.as_str(), user_id_hex.as_str()];

    served.send(&citizen, text("Schlagloch vor Hausnummer 4")).await;
    served.send(&citizen, location(NORD.0, NORD.1)).await;
    app.replies(&citizen, 3).await;
    served.send(&citizen, image(&app, "media-p6", fixture_photo("phone_o6_gps.jpg"), Some("noch eins"))).await;
    served.send(&citizen, text("STATUS")).await;
    served.send(&citizen, text("AUSKUNFT")).await;
    served.send(&citizen, text("STOP")).await;
    served.send(&citizen, text("START")).await;
    eventually("every message handled", || async {
        app.count("SELECT COUNT(*) FROM inbound_events WHERE processed_at IS NULL").await == 0
            && app.count("SELECT COUNT(*) FROM jobs WHERE dead_at IS NULL").await == 0
    })
    .await;
    // Meta's message ids carry the number (the fakes' ids do too); a receipt names one.
    let wamid = app.graph.delivered_to(&phone)[0].wamid.clone().unwrap();
    served.deliver(&delivery(vec![], vec![], vec![status(&wamid, "read", &phone, None)])).await;
    eventually("the receipt applied", || async {
        app.count("SELECT COUNT(*) FROM outbox WHERE read_at IS NOT NULL").await == 1
    })
    .await;
    let (reference, token): (String, String) =
        sqlx::query_as("SELECT reference, public_token FROM reports").fetch_one(app.db.pool()).await.unwrap();
    let order: String = sqlx::query_scalar("SELECT number FROM work_orders").fetch_one(app.db.pool()).await.unwrap();

    // Every page staff and the public can open, and the API.
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    let api = api_token(&app, "admin@musterstadt.de").await;
    let session = login(&app, "admin@musterstadt.de").await;
    let mut pages = Vec::new();
    for path in ["/", "/melden", &format!("/m/{token}"), &format!("/m/{token}?lang=en")] {
        pages.push((path.to_string(), app.http.get(app.url(path)).send().await.unwrap().text().await.unwrap()));
    }
    for path in [
        "/staff/orders",
        "/staff/orders?status=all",
        "/staff/map",
        "/staff/print",
        &format!("/staff/orders/{order}"),
        &format!("/staff/orders/{order}/print"),
        "/staff/stats",
        "/stats.csv",
        "/staff/admin",
        "/staff/rights",
    ] {
        let response = session.get(&app, path).await;
        assert_eq!(response.status(), 200, "{path}");
        pages.push((path.to_string(), response.text().await.unwrap()));
    }
    let written = format!("+{} {}", &phone[..2], &phone[2..]);
    let rights = session.post(&app, "/staff/rights", &[("number", &written), ("identity_checked", "yes")]).await;
    assert_eq!(rights.status(), 200);
    pages.push(("/staff/rights (lookup)".into(), rights.text().await.unwrap()));
    for path in
        ["/api/v1/orders", &format!("/api/v1/orders/{order}"), &format!("/api/v1/reports/{reference}"), "/api/v1/stats"]
    {
        let response = app.http.get(app.url(path)).bearer_auth(&api).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        pages.push((path.to_string(), response.text().await.unwrap()));
    }
    for args in [
        vec!["audit", "export", "--report", reference.as_str()],
        vec!["audit", "verify"],
        vec!["reports", "list", "--json"],
        vec!["orders", "list", "--json"],
        vec!["retention", "run", "--dry-run"],
    ] {
        let (ok, stdout, stderr) = run(&app, &args, &[]).await;
        assert!(ok, "{args:?}: {stderr}");
        pages.push((format!("meldeweg {}", args.join(" ")), format!("{stdout}{stderr}")));
    }
    let log = served.stop().await;
    assert!(log.contains("report created") || log.contains("work order opened"), "the log was captured:\n{log}");

    for secret in secrets {
        for (path, page) in &pages {
            assert!(!page.contains(secret), "{path} shows {secret}");
        }
        assert!(!log.contains(secret), "the log holds {secret}:\n{log}");
        assert!(!contains(&database_contents(&app).await, secret.as_bytes()), "the database holds {secret} in clear");
        for file in files_under(&app.settings.data_dir.join("photos")) {
            assert!(!contains(&std::fs::read(&file).unwrap(), secret.as_bytes()), "{} holds {secret}", file.display());
        }
    }
}

#[tokio::test]
async fn after_keys_rotate_the_new_key_alone_opens_everything_and_reporters_are_recognised() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let served = Served::start(&app, &[]).await;
    let citizen = Citizen::new();
    served.send(&citizen, text("Laterne flackert")).await;
    served.send(&citizen, location(NORD.0, NORD.1)).await;
    app.replies(&citizen, 3).await;
    let reference: String = sqlx::query_scalar("SELECT reference FROM reports").fetch_one(app.db.pool()).await.unwrap();
    served.stop().await;
    let key_hash_before: String =
        sqlx::query_scalar("SELECT key_hash FROM reporters").fetch_one(app.db.pool()).await.unwrap();

    let new_key = format!("2:{}", "5a".repeat(32));
    let rotating = [("MELDEWEG_ENCRYPTION_KEY", new_key.as_str()), ("MELDEWEG_ENCRYPTION_OLD_KEYS", ENCRYPTION_KEY)];
    let (ok, stdout, stderr) = run(&app, &["keys", "rotate"], &[]).await;
    assert!(ok, "rotating to the same key is harmless: {stderr}");
    assert!(stdout.contains("sealed with key 1: 1 reporters"), "{stdout}");
    let (ok, _, stderr) = run(&app, &["keys", "rotate"], &[("MELDEWEG_ENCRYPTION_KEY", &new_key)]).await;
    assert!(!ok && stderr.contains("encryption_old_keys"), "without the old key it stops: {stderr}");
    let (ok, stdout, stderr) = run(&app, &["keys", "rotate"], &rotating).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("sealed with key 2: 1 reporters") && stdout.contains("inbound payloads"), "{stdout}");

    let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT phone_enc FROM reporters UNION ALL SELECT user_id_enc FROM reporters
         UNION ALL SELECT payload_enc FROM inbound_events",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(sealed.len() >= 4 && sealed.iter().all(|s| s[0] == 2), "every value carries key id 2");
    let key_hash_after: String =
        sqlx::query_scalar("SELECT key_hash FROM reporters").fetch_one(app.db.pool()).await.unwrap();
    assert_ne!(key_hash_before, key_hash_after, "the lookup hash follows the new key");

    // The service with only the new key: the same citizen is recognised and sees their report.
    let served = Served::start(&app, &[("MELDEWEG_ENCRYPTION_KEY", &new_key)]).await;
    let before = app.graph.texts_to(citizen.address()).len();
    served.send(&citizen, text("STATUS")).await;
    let replies = app.replies(&citizen, before + 1).await;
    assert!(replies[before].contains(&reference), "{:?}", replies[before]);
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 1, "no second reporter for the same number");
    served.stop().await;
    let rotated = app.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'keys.rotated'").await;
    assert_eq!(rotated, 2);
    let (ok, _, stderr) = run(&app, &["audit", "verify"], &[]).await;
    assert!(ok, "{stderr}");
}

#[tokio::test]
async fn an_instance_with_another_machines_key_refuses_to_start_instead_of_forgetting_every_citizen() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let served = Served::start(&app, &[]).await;
    let citizen = Citizen::new();
    served.send(&citizen, text("Ampel defekt")).await;
    app.replies(&citizen, 2).await;
    served.stop().await;

    // A second machine whose package made a key of its own.
    let own_key = "3c".repeat(32);
    let listen = "127.0.0.1:0";
    let starting = app.start_process(&["serve"], &[("MELDEWEG_ENCRYPTION_KEY", &own_key), ("MELDEWEG_LISTEN", listen)]);
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), starting.wait_with_output())
        .await
        .expect("it stops by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the encryption key opens none of the personal data"), "{stderr}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 1, "no reporter sealed with the other key");

    // The key the data was sealed with still starts, and knows the citizen.
    let served = Served::start(&app, &[]).await;
    served.send(&citizen, text("STATUS")).await;
    app.replies(&citizen, 3).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 1);
    served.stop().await;
}

#[tokio::test]
async fn message_ids_stored_in_clear_before_the_upgrade_are_hashed_at_start() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let old = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNBN0Y";
    // A database from before the upgrade: it has such ids, and no mark of the upgrade.
    sqlx::query("DELETE FROM counters WHERE name = 'privacy.upgraded'").execute(app.db.pool()).await.unwrap();
    sqlx::query(
        "INSERT INTO inbound_events (channel, provider_id, kind, payload_enc, received_at) VALUES ('whatsapp', $1, 'text', $2, 0)",
    )
    .bind(old)
    .bind(meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap().seal(b"{}"))
    .execute(app.db.pool())
    .await
    .unwrap();
    let mut worker = app.start_process(&["worker"], &[]);
    eventually("the clear id replaced", || async {
        app.count("SELECT COUNT(*) FROM inbound_events WHERE provider_id LIKE 'wamid.%'").await == 0
    })
    .await;
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success());
    let vault = meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT provider_id FROM inbound_events").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(stored, vault.message_id_hash(old), "a redelivery of the same message is still recognised");
}

#[tokio::test]
async fn reporters_stored_before_the_channel_neutral_core_are_still_recognised() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let citizen = Citizen::new();
    let mut worker = app.start_process(&["worker"], &[]);
    app.send(&citizen, text("Schlagloch vor Hausnummer 4")).await;
    app.send(&citizen, location(NORD.0, NORD.1)).await;
    app.replies(&citizen, 3).await;
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success());
    // The lookup hashes as the versions before the channel-neutral core made them, and no mark
    // of the upgrade.
    let vault = meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap();
    let (phone, user_id) = (citizen.phone.clone().unwrap(), citizen.user_id.clone().unwrap());
    sqlx::query("UPDATE reporters SET key_hash = $1, phone_hash = $2")
        .bind(vault.lookup_hash("user", &user_id))
        .bind(vault.lookup_hash("wa", &phone))
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM counters WHERE name = 'reporters.keyed_per_channel'")
        .execute(app.db.pool())
        .await
        .unwrap();

    let mut worker = app.start_process(&["worker"], &[]);
    let sender = meldeweg_workers::message::Sender { phone: Some(phone), account: Some(user_id) };
    let expected = meldeweg::reporters::key_hash(&vault, "whatsapp", &sender).unwrap();
    eventually("the lookup hashes recomputed", || async {
        let stored: String =
            sqlx::query_scalar("SELECT key_hash FROM reporters").fetch_one(app.db.pool()).await.unwrap();
        stored == expected
    })
    .await;
    let reference: String = sqlx::query_scalar("SELECT reference FROM reports").fetch_one(app.db.pool()).await.unwrap();
    app.send(&citizen, text("STATUS")).await;
    let replies = app.replies(&citizen, 4).await;
    assert!(replies[3].contains(&reference), "the same citizen, with their report: {:?}", replies[3]);
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 1, "no second reporter");
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success());
}

#[tokio::test]
async fn a_reporter_no_configured_key_opens_does_not_stop_the_upgrade_and_a_rotation_finishes_it() {
    let app = spawn_app_with(|settings| settings.queue.in_process = false).await;
    let (readable, unreadable) = (Citizen::new(), Citizen::new());
    let mut worker = app.start_process(&["worker"], &[]);
    for citizen in [&readable, &unreadable] {
        app.send(citizen, text("Ampel defekt")).await;
        app.replies(citizen, 2).await;
    }
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success());
    let vault = meldeweg::crypto::Vault::from_key_text(ENCRYPTION_KEY).unwrap();
    let lost_key_text = format!("9:{}", "77".repeat(32));
    let lost_key = meldeweg::crypto::Vault::from_key_text(&lost_key_text).unwrap();
    let old_hash = |citizen: &Citizen| vault.lookup_hash("user", citizen.user_id.as_deref().unwrap());
    for citizen in [&readable, &unreadable] {
        sqlx::query("UPDATE reporters SET key_hash = $1 WHERE key_hash = $2")
            .bind(old_hash(citizen))
            .bind(key_hash_of(&vault, citizen))
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    // The second reporter's number was sealed with a key this installation no longer has.
    sqlx::query("UPDATE reporters SET phone_enc = $1 WHERE key_hash = $2")
        .bind(lost_key.seal(unreadable.phone.as_deref().unwrap().as_bytes()))
        .bind(old_hash(&unreadable))
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM counters WHERE name = 'reporters.keyed_per_channel'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let marked = "SELECT COUNT(*) FROM counters WHERE name = 'reporters.keyed_per_channel'";

    let mut worker = app.start_process(&["worker"], &[]);
    eventually("the readable reporter upgraded", || async { holding(&app, key_hash_of(&vault, &readable)).await == 1 })
        .await;
    app.send(&readable, text("STATUS")).await;
    app.replies(&readable, 3).await;
    // The other citizen writes again meanwhile: not recognised, they start as a new reporter.
    app.send(&unreadable, text("Ampel immer noch defekt")).await;
    app.send(&unreadable, location(NORD.0, NORD.1)).await;
    app.replies(&unreadable, 5).await;
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success(), "the worker ran and stopped normally");
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 3);
    assert_eq!(holding(&app, old_hash(&unreadable)).await, 1, "the reporter that does not open is left as it was");
    assert_eq!(app.count(marked).await, 0, "the upgrade stays due until every reporter opens");

    // With the lost key as an old key, a rotation re-seals everyone; the newer reporter keeps
    // the number's hash, and the next start finds nothing left to do.
    let (ok, _, stderr) = run(&app, &["keys", "rotate"], &[("MELDEWEG_ENCRYPTION_OLD_KEYS", &lost_key_text)]).await;
    assert!(ok, "{stderr}");
    let mut worker = app.start_process(&["worker"], &[]);
    eventually("the upgrade marked as done", || async { app.count(marked).await == 1 }).await;
    let before = app.graph.texts_to(unreadable.address()).len();
    app.send(&unreadable, text("STATUS")).await;
    let replies = app.replies(&unreadable, before + 1).await;
    assert!(replies[before].contains("M-"), "the newer reporter's report: {:?}", replies[before]);
    terminate(&worker);
    assert!(worker.wait().await.unwrap().success());
    assert_eq!(holding(&app, key_hash_of(&vault, &unreadable)).await, 1, "one reporter answers to the number");
    assert_eq!(app.count("SELECT COUNT(*) FROM reporters").await, 3);
}

/// The lookup hash the current core gives `citizen` on WhatsApp.
fn key_hash_of(vault: &meldeweg::crypto::Vault, citizen: &Citizen) -> String {
    let sender = meldeweg_workers::message::Sender { phone: citizen.phone.clone(), account: citizen.user_id.clone() };
    meldeweg::reporters::key_hash(vault, "whatsapp", &sender).unwrap()
}

/// How many reporters have lookup hash `hash`.
async fn holding(app: &TestApp, hash: String) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM reporters WHERE key_hash = $1")
        .bind(hash)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}
