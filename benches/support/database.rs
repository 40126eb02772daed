//! Fresh databases for benchmark runs, and dropping them afterwards.

use sqlx::{Connection, Executor};

fn admin_url() -> String {
    std::env::var("MELDEWEG_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one benchmark run: a fresh SQLite file or a fresh PostgreSQL database.
pub async fn fresh_database(backend: &str, dir: &std::path::Path) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        "postgres" => {
            let admin = admin_url();
            let name = format!("meldeweg_bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL reachable");
            conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str()).await.unwrap();
            conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            let base = admin.rsplit_once('/').expect("URL with a database").0;
            format!("{base}/{name}")
        }
        other => panic!("unknown backend {other:?}: use sqlite or postgres"),
    }
}

/// Drops a PostgreSQL database made by `fresh_database` (a SQLite file goes with its directory).
pub async fn drop_database(url: &str) {
    let Some((_, name)) = url.strip_prefix("postgres").and_then(|rest| rest.rsplit_once('/')) else { return };
    let mut conn = sqlx::PgConnection::connect(&admin_url()).await.expect("PostgreSQL reachable");
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.unwrap();
}
