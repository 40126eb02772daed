//! Backups restore, as docs/operations.md tells operators to make and restore them: SQLite with
//! `meldeweg backup` while the service runs, PostgreSQL with `pg_dump`. Restored into a fresh
//! database, `audit verify` passes and the reports are the same. CI runs this on both databases.

use serde_json::Value;
use sqlx::{Connection, Executor};

use crate::cli::run;
use crate::helpers::*;

#[tokio::test]
async fn a_backup_restored_into_a_fresh_database_verifies_and_holds_the_same_reports() {
    let app = spawn_app().await;
    for (words, lat, lon) in [
        ("Schlagloch vor der Schule", 51.9607, 7.6261),
        ("Laterne kaputt am Spielplatz", 51.9612, 7.6290),
        ("Sperrmüll am Straßenrand", 51.9570, 7.6230),
    ] {
        let citizen = Citizen::new();
        app.send(&citizen, text(words)).await;
        app.send(&citizen, location(lat, lon)).await;
        app.replies(&citizen, 3).await;
    }
    app.queue_drained().await;
    let original = reports(&app, &[]).await;
    assert_eq!(original.as_array().map(Vec::len), Some(3), "{original}");

    let restored = if app.database_url.starts_with("sqlite:") {
        sqlite_backup_restored(&app).await
    } else {
        postgres_dump_restored(&app).await
    };
    let env = [("MELDEWEG_DATABASE_URL", restored.as_str())];
    let (ok, stdout, stderr) = run(&app, &["audit", "verify"], &env).await;
    assert!(ok, "audit verify on the restored database: {stdout}{stderr}");
    assert_eq!(reports(&app, &env).await, original, "the restored reports");
    if let Some(database) = restored.strip_prefix("postgres").and_then(|url| url.split('/').nth(3)) {
        let database = database.split('?').next().unwrap();
        let base = std::env::var("MELDEWEG_TEST_DATABASE_URL").unwrap();
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        admin.execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str()).await.unwrap();
    }
}

/// `meldeweg reports list --json` against the database `env` names (the test's by default).
async fn reports(app: &TestApp, env: &[(&str, &str)]) -> Value {
    let (ok, stdout, stderr) = run(app, &["reports", "list", "--json", "--limit", "100"], env).await;
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).expect("JSON on stdout")
}

/// `meldeweg backup` while the service runs, then the copy as the restored database.
async fn sqlite_backup_restored(app: &TestApp) -> String {
    let copy = app.dir.path().join("backups").join("copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let (ok, stdout, stderr) = run(app, &["backup", copy.to_str().unwrap()], &[]).await;
    assert!(ok && stdout.contains("backup written"), "{stdout}{stderr}");
    assert!(!app.dir.path().join("backups/copy.db.partial").exists(), "no partial file is left");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the copy is its owner's alone: {mode:o}");

    let (ok, _, stderr) = run(app, &["backup", copy.to_str().unwrap()], &[]).await;
    assert!(!ok && stderr.contains("exists already"), "a backup never overwrites a file: {stderr}");

    // A fresh place, as an operator restores it: the copy alone, without the WAL files.
    let restored = app.dir.path().join("restored.db");
    std::fs::copy(&copy, &restored).unwrap();
    format!("sqlite://{}", restored.display())
}

/// `pg_dump` of the test's schema, restored with `pg_restore` into a new database.
async fn postgres_dump_restored(app: &TestApp) -> String {
    let (ok, _, stderr) = run(app, &["backup", app.dir.path().join("x.db").to_str().unwrap()], &[]).await;
    assert!(!ok && stderr.contains("pg_dump"), "PostgreSQL is backed up with pg_dump: {stderr}");

    let base = std::env::var("MELDEWEG_TEST_DATABASE_URL").unwrap();
    let schema = app.database_url.rsplit("search_path%3D").next().unwrap().to_string();
    let dump = app.dir.path().join("meldeweg.dump");
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--schema", &schema, "--file", dump.to_str().unwrap(), "--dbname", &base])
        .output()
        .expect("pg_dump (postgresql-client) is installed");
    assert!(dumped.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dumped.stderr));

    let database = format!("r_{schema}");
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    admin.execute(format!("CREATE DATABASE {database}").as_str()).await.unwrap();
    admin.close().await.unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    let target = format!("{server}/{database}");
    let restored = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &target, dump.to_str().unwrap()])
        .output()
        .expect("pg_restore is installed");
    assert!(restored.status.success(), "pg_restore: {}", String::from_utf8_lossy(&restored.stderr));
    format!("{target}?options=-c%20search_path%3D{schema}")
}
