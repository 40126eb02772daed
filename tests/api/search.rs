//! The staff search's walk over the index (newest report first, a window at a time) finds
//! exactly what a plain recomputation over every report finds, in the same order, on every
//! page and with the list's other filters; on a seeded history of 6,000 reports, for a
//! prefix that stands for more terms than are looked up one by one, and for a word in every
//! report (more entries than the walk counts, so its first window starts narrow).

use meldeweg::orders::board::{self, Filter, StatusFilter, COUNT_CAP};
use meldeweg::reports::search::Search;
use meldeweg::staff::Role;
use meldeweg_workers::category::Category;
use meldeweg_workers::status::OrderStatus;
use sqlx::Row;

use crate::helpers::*;
use crate::staff_helpers::*;

/// The order numbers of the orders with a report holding every word of `query`, by their
/// newest such report, newest first, that pass `keep`: by reading every report's words.
async fn recomputed(app: &TestApp, query: &str, keep: impl Fn(&sqlx::any::AnyRow) -> bool) -> Vec<String> {
    let Some(Search::Words(prefixes)) = Search::parse(query) else { panic!("{query} is words") };
    let checks: Vec<String> = (0..prefixes.len())
        .map(|i| {
            format!(
                "EXISTS (SELECT 1 FROM search_terms t WHERE t.report_id = r.id AND t.term >= ${} AND t.term < ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    let sql = format!(
        "SELECT o.number, o.status, o.depot, o.category, MAX(r.id) AS newest FROM reports r
         JOIN work_orders o ON o.id = r.work_order_id WHERE {}
         GROUP BY o.number, o.status, o.depot, o.category ORDER BY newest DESC",
        checks.join(" AND ")
    );
    let mut statement = sqlx::query(&sql);
    for prefix in &prefixes {
        statement = statement.bind(prefix.clone()).bind(format!("{prefix}\u{10FFFF}"));
    }
    let rows = statement.fetch_all(app.db.pool()).await.unwrap();
    rows.iter().filter(|row| keep(row)).map(|row| row.get::<String, _>("number")).collect()
}

/// Every page of `filter`'s list as the board shows it, and the count of the first.
pub async fn walked(app: &TestApp, filter: &Filter, now: i64) -> (Vec<String>, (i64, bool)) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let mut numbers = Vec::new();
    let mut first_count = None;
    for page in 0.. {
        let filter = Filter { offset: page * filter.limit, ..filter.clone() };
        let (rows, count) = board::page(&mut conn, &filter, now).await.unwrap();
        first_count.get_or_insert(count);
        if rows.is_empty() {
            break;
        }
        numbers.extend(rows.into_iter().map(|row| row.number));
    }
    let listed = board::list(&mut conn, &Filter { offset: 0, limit: 500, ..filter.clone() }, now).await.unwrap();
    let listed: Vec<String> = listed.into_iter().map(|row| row.number).collect();
    assert_eq!(listed, numbers[..numbers.len().min(500)], "list and pages agree");
    (numbers, first_count.unwrap())
}

#[tokio::test]
async fn the_search_walk_finds_what_reading_every_report_finds_in_the_same_order() {
    let app = spawn_app().await;
    let municipality = meldeweg::town::load(&app.settings, &[]).unwrap();
    let now = meldeweg::time::now_ms();
    meldeweg::demo::seed(&app.db, &municipality, &app.settings.sla, 6000, 500, 7, now).await.unwrap();

    // A prefix that starts more terms than are looked up one by one, on a few old reports,
    // some of them in a street whose name has "Straße".
    let reports: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM reports WHERE id <= 3 OR id IN (SELECT report_id FROM search_terms
         WHERE term >= 'strasse' AND term < 'strassf' AND report_id < 1000 ORDER BY report_id LIMIT 3)",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    for n in 0..300 {
        let report = reports[n % reports.len()];
        sqlx::query("INSERT INTO search_terms (term, report_id, kind) VALUES ($1, $2, 't')")
            .bind(format!("qq{n:04}"))
            .bind(report)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    // Four terms in every report: 24,000 entries, more than the walk counts per word.
    sqlx::query(
        "INSERT INTO search_terms (term, report_id, kind)
         SELECT 'zz' || v.n, r.id, 't' FROM reports r
         CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) v",
    )
    .execute(app.db.pool())
    .await
    .unwrap();

    let all = |_: &sqlx::any::AnyRow| true;
    let done = |row: &sqlx::any::AnyRow| row.get::<String, _>("status") == "done";
    let south = |row: &sqlx::any::AnyRow| row.get::<String, _>("depot") == "bauhof-sued";
    let lights = |row: &sqlx::any::AnyRow| row.get::<String, _>("category") == "beleuchtung";
    let search = |query: &str, status, depot: Option<&str>, category| Filter {
        status,
        depot: depot.map(str::to_string),
        category,
        search: Search::parse(query),
        limit: 50,
        ..Filter::default()
    };
    let cases: Vec<(&str, Filter, Vec<String>)> = vec![
        ("common word", search("Schlagloch", StatusFilter::All, None, None), recomputed(&app, "Schlagloch", all).await),
        ("prefix", search("Stra", StatusFilter::All, None, None), recomputed(&app, "Stra", all).await),
        (
            "two words",
            search("Laterne flackert", StatusFilter::All, None, None),
            recomputed(&app, "Laterne flackert", all).await,
        ),
        (
            "word and street",
            search("Müll Bahnhofstr", StatusFilter::All, None, None),
            recomputed(&app, "Müll Bahnhofstr", all).await,
        ),
        ("rare word", search("Wespennest", StatusFilter::All, None, None), recomputed(&app, "Wespennest", all).await),
        (
            "finished only",
            search("Schlagloch", StatusFilter::Only(OrderStatus::Done), None, None),
            recomputed(&app, "Schlagloch", done).await,
        ),
        (
            "a depot",
            search("Baum", StatusFilter::All, Some("bauhof-sued"), None),
            recomputed(&app, "Baum", south).await,
        ),
        (
            "a category",
            search("Straße", StatusFilter::All, None, Some(Category::Beleuchtung)),
            recomputed(&app, "Straße", lights).await,
        ),
        ("many terms", search("qq", StatusFilter::All, None, None), recomputed(&app, "qq", all).await),
        (
            "many terms and a word",
            search("qq Straße", StatusFilter::All, None, None),
            recomputed(&app, "qq Straße", all).await,
        ),
        ("in every report", Filter { limit: 400, ..search("zz", StatusFilter::All, None, None) }, {
            recomputed(&app, "zz", all).await
        }),
        (
            "in every report, finished in one depot",
            search("zz", StatusFilter::Only(OrderStatus::Done), Some("bauhof-sued"), None),
            recomputed(&app, "zz", |row| done(row) && south(row)).await,
        ),
        ("nothing", search("Vulkanausbruch", StatusFilter::All, None, None), Vec::new()),
    ];
    let mut large = false;
    for (case, filter, expected) in cases {
        let (numbers, (count, exact)) = walked(&app, &filter, now).await;
        assert_eq!(numbers, expected, "{case}");
        let cap = filter.limit.max(COUNT_CAP);
        if expected.len() as i64 > cap {
            large = true;
            assert_eq!((count, exact), (cap, false), "{case}: more than the cap");
        } else {
            assert_eq!((count, exact), (expected.len() as i64, true), "{case}");
        }
        assert!(case == "nothing" || !expected.is_empty(), "{case} finds something on the seeded history");
    }
    assert!(large, "some search finds more orders than the list counts");

    // The staff list shows the first page of the same search.
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let (status, list) = session.page(&app, "/staff/orders?q=Schlagloch").await;
    assert_eq!(status, 200);
    let first = recomputed(&app, "Schlagloch", all).await;
    let shown: Vec<&String> = first.iter().filter(|number| list.contains(number.as_str())).collect();
    assert_eq!(shown, first.iter().take(50).collect::<Vec<_>>(), "the newest 50");
}
