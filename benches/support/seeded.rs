//! A database filled once with `demo seed`'s history, kept between runs: a SQLite file under
//! the target directory named for the benchmark and the number of reports
//! (`MELDEWEG_BENCH_REPORTS`, default 1,000,000), or `MELDEWEG_BENCH_DATABASE_URL`.
//!
//! The history spans two years, or more where that many reports would overrun a year's
//! reference numbers (six digits): 10,000,000 reports span thirteen years.

use std::time::Instant;

use meldeweg::config::Settings;
use meldeweg::db::Db;
use meldeweg::town::Municipality;

/// The seeded database, its URL, the municipality and the time the history ends at.
pub struct Seeded {
    pub db: Db,
    pub url: String,
    pub municipality: Municipality,
    pub now: i64,
    /// How many reports the history has.
    pub reports: usize,
}

/// Opens (and the first time seeds) the database of benchmark `name`.
pub async fn seeded(name: &str) -> Seeded {
    let reports: usize = std::env::var("MELDEWEG_BENCH_REPORTS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let settings = Settings::load_with_env(None, |_| None).unwrap();
    let url = std::env::var("MELDEWEG_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{name}-{reports}"));
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}?mode=rwc", dir.join(format!("{name}.db")).display())
    });
    let db = Db::connect(&url, &settings.database).await.unwrap();
    db.migrate().await.unwrap();
    let municipality = meldeweg::town::load(&settings, &[]).unwrap();
    let now = meldeweg::time::now_ms();
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(db.pool()).await.unwrap();
    if existing == 0 {
        let started = Instant::now();
        let days = history_days(reports);
        let orders = meldeweg::demo::seed(&db, &municipality, &settings.sla, reports, days, 1, now).await.unwrap();
        println!(
            "seeded {reports} reports over {days} days, {orders} orders in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Seeded { db, url, municipality, now, reports: existing.max(reports as i64) as usize }
}

/// Days of history for `reports` reports: two years, or enough years that none holds more than
/// 800,000 of them (below the 999,999 a year's reference numbers allow, with room for chance).
fn history_days(reports: usize) -> i64 {
    (reports.div_ceil(800_000) as i64).max(2) * 365
}
