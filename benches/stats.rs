//! The statistics page's computation on a seeded history (issue 7): `meldeweg demo seed`'s
//! generator fills a database once (1,000,000 reports by default, ~75 % with their own work
//! order) and the roll-ups are built (timed), then `stats::compute` runs for the last 12 months
//! without filters and with each single filter, several times each; then once more after one
//! work order changed (its bucket rebuilt first, as a page view after a change does); then the
//! plain recomputation from every row (what a report script reading the tables would do) for
//! comparison.
//!
//!     cargo bench --bench stats                                  # SQLite in target/bench-stats
//!     MELDEWEG_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/meldeweg_bench cargo bench --bench stats
//!     MELDEWEG_BENCH_REPORTS=100000 cargo bench --bench stats    # a smaller history

use std::time::Instant;

use meldeweg::stats::{self, StatsQueryText};

#[path = "support/seeded.rs"]
mod seeded;
use seeded::{seeded, Seeded};

const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let Seeded { db, url, municipality, now, reports, .. } = seeded("stats").await;
    let started = Instant::now();
    let buckets = stats::rollup::refresh(&db).await.unwrap();
    println!("roll-ups: {buckets} dirty buckets rebuilt in {:.1} s", started.elapsed().as_secs_f64());
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_orders").fetch_one(db.pool()).await.unwrap();
    println!(
        "database: {} ({reports} reports, {orders} orders)",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
    );
    let filters: [(&str, StatsQueryText); 6] = [
        ("no filter", StatsQueryText::default()),
        ("category", StatsQueryText { category: Some("strassenschaden".into()), ..Default::default() }),
        ("district", StatsQueryText { district: Some("nord".into()), ..Default::default() }),
        ("depot", StatsQueryText { depot: Some("bauhof-nord".into()), ..Default::default() }),
        ("channel", StatsQueryText { channel: Some("whatsapp".into()), ..Default::default() }),
        ("priority", StatsQueryText { priority: Some("high".into()), ..Default::default() }),
    ];
    println!("{:<10} {:>9} {:>9} {:>9}", "12 months", "p50 ms", "max ms", "received");
    for (name, text) in filters {
        let query = text.parse(&municipality, stats::today(now)).unwrap();
        let mut times = Vec::with_capacity(RUNS);
        let mut received = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let figures = stats::compute(&db, &query, now).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            received = figures.totals.received;
        }
        times.sort_by(f64::total_cmp);
        println!("{name:<10} {:>9.1} {:>9.1} {received:>9}", times[RUNS / 2], times[RUNS - 1]);
    }
    // A page view after a change: the latest order's bucket is rebuilt first.
    let query = StatsQueryText::default().parse(&municipality, stats::today(now)).unwrap();
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        sqlx::query("UPDATE work_orders SET priority = $1 WHERE id = (SELECT MAX(id) FROM work_orders)")
            .bind(if run % 2 == 0 { "high" } else { "normal" })
            .execute(db.pool())
            .await
            .unwrap();
        let started = Instant::now();
        stats::compute(&db, &query, now).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:<10} {:>9.1} {:>9.1}   (no filter, one order changed before each run)",
        "changed",
        times[RUNS / 2],
        times[RUNS - 1]
    );
    // The plain recomputation (every row into the service, as a report script would do it),
    // for comparison in the same run.
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut conn = db.pool().acquire().await.unwrap();
        let started = Instant::now();
        stats::compute_from_rows(&mut conn, &query, now).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:<10} {:>9.1} {:>9.1}   (plain recomputation from every row, no filter)",
        "rows",
        times[RUNS / 2],
        times[RUNS - 1]
    );
    db.close().await;
}
