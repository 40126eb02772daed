//! The staff search (issue 23) on a seeded history: `meldeweg demo seed`'s generator fills a
//! database once (1,000,000 reports by default, each with a description from the shipped
//! training texts and the nearest address, all in the search index), then the order list's
//! query runs with a search as a staff member types it (a report reference, an order number,
//! a street, one or two words of a description, a word found nowhere), one page of 50 and the
//! total count, as `/staff/orders?q=…` does. Each kind of query runs `RUNS` times with
//! different values; p50 and p99 over all runs are printed per kind and overall.
//!
//! Beside it, in the same run, what one would write without the index: the same list with
//! `LIKE '%word%'` over the reports' descriptions and addresses.
//!
//! Then the order board as staff open it, without a search: the active orders, one depot's
//! active orders, the overdue ones, and the archive of done orders paged back (page 1 to 40).
//!
//!     cargo bench --bench search                               # SQLite in target/bench-search-1000000
//!     MELDEWEG_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/meldeweg_search cargo bench --bench search
//!     MELDEWEG_BENCH_REPORTS=100000 cargo bench --bench search  # a smaller history
//!     MELDEWEG_BENCH_SCANS=1 …                                   # fewer LIKE scans (5 per kind)

use std::time::{Duration, Instant};

use meldeweg::orders::board::{self, Filter, StatusFilter};
use meldeweg::reports::search::Search;
use meldeweg_workers::status::OrderStatus;

#[path = "support/seeded.rs"]
mod seeded;
#[path = "support/stats.rs"]
mod stats;
use seeded::{seeded, Seeded};
use stats::percentile_ms;

const RUNS: usize = 40;
const PAGE: i64 = 50;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

/// The p-th percentile of `times` in milliseconds (sorted first).
fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    percentile_ms(times, p)
}

async fn run() {
    let Seeded { db, url, municipality, now, reports } = seeded("search").await;
    let count = |sql: &'static str| async { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() };
    println!(
        "database: {} ({} reports, {} orders, {} search terms)",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
        reports,
        count("SELECT COUNT(*) FROM work_orders").await,
        count("SELECT COUNT(*) FROM search_terms").await,
    );

    // Values for each kind of query, spread over the history.
    let references: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT reference FROM reports WHERE work_order_id IS NOT NULL ORDER BY id LIMIT {RUNS} OFFSET 1000"
    ))
    .fetch_all(db.pool())
    .await
    .unwrap();
    let numbers: Vec<String> =
        sqlx::query_scalar(&format!("SELECT number FROM work_orders ORDER BY id DESC LIMIT {RUNS} OFFSET 500"))
            .fetch_all(db.pool())
            .await
            .unwrap();
    let streets: Vec<String> = municipality.basemap.streets().iter().map(|s| s.name.clone()).collect();
    let words = ["Schlagloch", "Laterne", "Müll", "Graffiti", "Ampel", "Baum", "Spielplatz", "Gully", "Glätte", "Bank"];
    let pairs =
        ["Schlagloch Bahnhofstraße", "Laterne flackert", "Müll Container", "Ast abgebrochen", "Gully verstopft"];
    let kinds: Vec<(&str, Vec<String>)> = vec![
        ("report reference", references),
        ("order number", numbers),
        ("street", streets.iter().cycle().take(RUNS).cloned().collect()),
        ("one word", words.iter().cycle().take(RUNS).map(|w| w.to_string()).collect()),
        ("two words", pairs.iter().cycle().take(RUNS).map(|w| w.to_string()).collect()),
        ("street prefix", streets.iter().cycle().take(RUNS).map(|s| s.chars().take(5).collect()).collect()),
        ("no match", (0..RUNS).map(|i| format!("Vulkanausbruch{i}")).collect()),
    ];

    println!(
        "\nkind                 index p50 / p99 ms    LIKE scan p50 / p99 ms   (each: a page of {PAGE} and the count)"
    );
    // Scans per kind of query (`MELDEWEG_BENCH_SCANS`, default 5): one over 10 M reports takes
    // most of a minute.
    let scans: usize = std::env::var("MELDEWEG_BENCH_SCANS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let mut all = Vec::new();
    let mut all_like = Vec::new();
    for (kind, values) in &kinds {
        let mut times = Vec::new();
        let mut like_times = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let filter =
                Filter { status: StatusFilter::All, search: Search::parse(value), limit: PAGE, ..Filter::default() };
            let mut conn = db.pool().acquire().await.unwrap();
            let started = Instant::now();
            let (rows, (total, _)) = board::page(&mut conn, &filter, now).await.unwrap();
            times.push(started.elapsed());
            assert!(rows.len() as i64 <= total, "{kind} {value}");
            if *kind == "no match" {
                assert_eq!(total, 0, "{value}");
            } else if !kind.starts_with("two") {
                assert!(total > 0, "{kind} {value:?} finds something");
            }
            // The scan only for a few values per kind: it takes a while.
            if i < scans {
                let started = Instant::now();
                like_scan(&mut conn, value, now).await;
                like_times.push(started.elapsed());
            }
        }
        all.extend(times.iter().copied());
        all_like.extend(like_times.iter().copied());
        println!(
            "{kind:<20} {:>8.1} / {:>7.1}        {:>8.1} / {:>7.1}",
            percentile(&mut times, 50.0),
            percentile(&mut times, 99.0),
            percentile(&mut like_times, 50.0),
            percentile(&mut like_times, 99.0)
        );
    }
    println!(
        "{:<20} {:>8.1} / {:>7.1}        {:>8.1} / {:>7.1}   ({} queries with the index, {} scans)",
        "all",
        percentile(&mut all, 50.0),
        percentile(&mut all, 99.0),
        percentile(&mut all_like, 50.0),
        percentile(&mut all_like, 99.0),
        all.len(),
        all_like.len()
    );
    board_views(&db, now).await;
}

/// A board view's filter for run `i` (of `RUNS`), given the depots.
type BoardView = fn(usize, &[String]) -> Filter;

/// The order board without a search, `RUNS` times per view: a page of `PAGE` and the count.
async fn board_views(db: &meldeweg::db::Db, now: i64) {
    let depots: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT depot FROM work_orders ORDER BY depot").fetch_all(db.pool()).await.unwrap();
    let views: [(&str, BoardView); 5] = [
        ("active", |_, _| Filter { limit: PAGE, ..Filter::default() }),
        ("one depot, active", |i, depots| Filter {
            depot: Some(depots[i % depots.len()].clone()),
            limit: PAGE,
            ..Filter::default()
        }),
        ("overdue", |_, _| Filter { overdue: true, limit: PAGE, ..Filter::default() }),
        ("done, page 1 to 40", |i, _| Filter {
            status: StatusFilter::Only(OrderStatus::Done),
            limit: PAGE,
            offset: i as i64 * PAGE,
            ..Filter::default()
        }),
        ("all, page 1 to 40", |i, _| Filter {
            status: StatusFilter::All,
            limit: PAGE,
            offset: i as i64 * PAGE,
            ..Filter::default()
        }),
    ];
    println!(
        "
board without a search   p50 / p99 ms   (each: a page of {PAGE} and the count)"
    );
    let mut all = Vec::new();
    for (view, filter) in views {
        let (mut times, mut found) = (Vec::new(), 0);
        for i in 0..RUNS {
            let filter = filter(i, &depots);
            let mut conn = db.pool().acquire().await.unwrap();
            let started = Instant::now();
            let (rows, (total, _)) = board::page(&mut conn, &filter, now).await.unwrap();
            times.push(started.elapsed());
            assert!(rows.len() as i64 <= total, "{view}: {} of {total}", rows.len());
            found = found.max(total);
        }
        all.extend(times.iter().copied());
        let (p50, p99) = (percentile(&mut times, 50.0), percentile(&mut times, 99.0));
        println!("{view:<24} {p50:>6.1} / {p99:>6.1}   (counted: {found})");
    }
    println!("{:<24} {:>6.1} / {:>6.1}", "all", percentile(&mut all, 50.0), percentile(&mut all, 99.0));
}

/// The order list without the index: every word of `query` in a report's description or
/// address, found by scanning them (`LIKE '%…%'`), a page and the count.
async fn like_scan(conn: &mut sqlx::AnyConnection, query: &str, now: i64) {
    let words: Vec<String> = query.split_whitespace().map(|w| format!("%{}%", w.to_lowercase())).collect();
    let clauses: Vec<String> = (0..words.len())
        .map(|i| {
            format!(
                "o.id IN (SELECT r.work_order_id FROM reports r
                          WHERE LOWER(r.description) LIKE ${n} OR LOWER(r.address) LIKE ${n} OR r.reference = ${m}
                             OR r.work_order_id IN (SELECT id FROM work_orders WHERE number = ${m}))",
                n = 2 * i + 1,
                m = 2 * i + 2
            )
        })
        .collect();
    let filter = clauses.join(" AND ");
    let list = format!(
        "SELECT o.number FROM work_orders o WHERE {filter}
         ORDER BY CASE WHEN o.due_at < {now} THEN 0 ELSE 1 END, o.created_at, o.id LIMIT {PAGE}"
    );
    let total = format!("SELECT COUNT(*) FROM work_orders o WHERE {filter}");
    for sql in [list, total] {
        let mut statement = sqlx::query(&sql);
        for (i, word) in words.iter().enumerate() {
            statement =
                statement.bind(word.clone()).bind(query.split_whitespace().nth(i).unwrap_or_default().to_string());
        }
        statement.fetch_all(&mut *conn).await.unwrap();
    }
}
