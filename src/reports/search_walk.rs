//! Finding orders by words, newest first, however many reports there are. Each query word
//! stands for the index terms that start with it. The rarest word's index entries are read
//! newest report first, a window of report ids at a time, and each entry is kept when its
//! report holds the other words too (a few index lookups each); the window grows until a
//! page's worth of orders has passed the list's other filters. A common word fills a page
//! from its newest entries; a rare one is read whole, which is cheap because it is rare.
//! (BENCHMARKS.md, "Staff search".)

use std::collections::HashSet;

use sqlx::{AnyConnection, Row};

/// Most index terms one query word is looked up as; a word that starts more is read as a
/// range of terms (a prefix of two or three letters).
const MAX_EXPANSION: usize = 200;
/// Index entries counted per word to find the rarest (a word with more is at least this common).
const COUNTED: i64 = 20_000;
/// How many of the rarest word's entries the first window should hold.
const FIRST_WINDOW_ENTRIES: i64 = 500;
/// Most orders checked against the list's filters in one query.
const CHECKED_PER_QUERY: usize = 500;

/// A query word as the index holds it.
#[derive(Debug)]
enum Word {
    /// The terms that start with the word (none: it is found nowhere).
    Terms(Vec<String>),
    /// More terms start with it than are worth naming: the range from the word up to the
    /// last term that starts with it.
    Range(String, String),
}

impl Word {
    /// The terms of the index that start with `prefix`, one index lookup each (a loose
    /// index scan: each step finds the next term after the one before).
    async fn resolve(conn: &mut AnyConnection, prefix: &str) -> sqlx::Result<Word> {
        let end = format!("{prefix}\u{10FFFF}");
        let terms: Vec<String> = sqlx::query_scalar(&format!(
            "WITH RECURSIVE found (term, n) AS (
                 SELECT MIN(term), 1 FROM search_terms WHERE term >= $1 AND term < $2
                 UNION ALL
                 SELECT (SELECT MIN(term) FROM search_terms WHERE term > found.term AND term < $2), n + 1
                 FROM found WHERE found.term IS NOT NULL AND n <= {MAX_EXPANSION}
             )
             SELECT term FROM found WHERE term IS NOT NULL"
        ))
        .bind(prefix)
        .bind(&end)
        .fetch_all(conn)
        .await?;
        Ok(if terms.len() > MAX_EXPANSION { Word::Range(prefix.to_string(), end) } else { Word::Terms(terms) })
    }

    /// The condition on `column` (a `search_terms` term) and its values, numbered from `$first`.
    fn condition(&self, column: &str, first: usize) -> (String, Vec<String>) {
        match self {
            Word::Terms(terms) => {
                let places: Vec<String> = (0..terms.len()).map(|i| format!("${}", first + i)).collect();
                (format!("{column} IN ({})", places.join(", ")), terms.clone())
            }
            Word::Range(from, to) => {
                (format!("{column} >= ${first} AND {column} < ${}", first + 1), vec![from.clone(), to.clone()])
            }
        }
    }

    /// How many index entries the word has, counted up to `COUNTED`.
    async fn entries(&self, conn: &mut AnyConnection) -> sqlx::Result<i64> {
        if matches!(self, Word::Terms(terms) if terms.is_empty()) {
            return Ok(0);
        }
        let (condition, values) = self.condition("term", 1);
        let sql =
            format!("SELECT COUNT(*) FROM (SELECT 1 FROM search_terms WHERE {condition} LIMIT {COUNTED}) AS found");
        let mut count = sqlx::query_scalar(&sql);
        for value in &values {
            count = count.bind(value);
        }
        count.fetch_one(conn).await
    }
}

/// The orders (ids) with a report that holds every word of `prefixes`, newest report first,
/// that pass `filter` (a condition on `work_orders o` and its values from `$1`, empty for
/// none): the first `wanted` of them, fewer when there are no more.
pub async fn orders(
    conn: &mut AnyConnection,
    prefixes: &[String],
    filter: (&str, &[String]),
    wanted: usize,
) -> sqlx::Result<Vec<i64>> {
    let mut words = Vec::with_capacity(prefixes.len());
    for prefix in prefixes {
        let word = Word::resolve(&mut *conn, prefix).await?;
        let entries = word.entries(&mut *conn).await?;
        if entries == 0 {
            return Ok(Vec::new());
        }
        words.push((entries, word));
    }
    // The rarest word leads, the terms named before ranges.
    words.sort_by_key(|(entries, word)| (matches!(word, Word::Range(..)), *entries));
    let (entries, lead) = &words[0];
    let others: Vec<&Word> = words[1..].iter().map(|(_, word)| word).collect();

    let (lead_condition, mut values) = lead.condition("t.term", 1);
    let mut checks = Vec::new();
    for word in &others {
        let (condition, more) = word.condition("u.term", values.len() + 1);
        checks.push(format!(
            " AND EXISTS (SELECT 1 FROM search_terms u WHERE u.report_id = t.report_id AND {condition})"
        ));
        values.extend(more);
    }
    let checks = checks.concat();

    let mut hi: i64 =
        sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM reports").fetch_one(&mut *conn).await? + 1;
    // A window of report ids expected to hold `FIRST_WINDOW_ENTRIES` of the lead word's
    // entries. A word counted only up to `COUNTED` may be in nearly every report: its first
    // window is as narrow as if it were, and widens at the rate its entries turn up. A range
    // is read whole (its entries are found by term, not by report).
    let mut width = match lead {
        Word::Range(..) => hi,
        Word::Terms(_) if *entries >= COUNTED => FIRST_WINDOW_ENTRIES,
        Word::Terms(_) => (FIRST_WINDOW_ENTRIES.saturating_mul(hi) / entries.max(&1)).max(1),
    };
    let (mut found, mut seen) = (Vec::new(), HashSet::new());
    while hi > 1 && found.len() < wanted {
        let lo = (hi - width).max(1);
        let sql = format!(
            "SELECT t.report_id, r.work_order_id FROM search_terms t JOIN reports r ON r.id = t.report_id
             WHERE {lead_condition} AND t.report_id >= {lo} AND t.report_id < {hi}
               AND r.work_order_id IS NOT NULL{checks}
             ORDER BY t.report_id DESC"
        );
        let mut query = sqlx::query(&sql);
        for value in &values {
            query = query.bind(value);
        }
        let mut fresh = Vec::new();
        for row in query.fetch_all(&mut *conn).await? {
            let order: i64 = row.try_get("work_order_id")?;
            if seen.insert(order) {
                fresh.push(order);
            }
        }
        let before = found.len();
        found.extend(passing(&mut *conn, fresh, filter).await?);
        let hits = (found.len() - before) as i64;
        hi = lo;
        // Wide enough for the orders still wanted at the rate this window found them, at most
        // eight times as wide.
        let missing = wanted.saturating_sub(found.len()) as i64;
        width = if hits == 0 { width * 8 } else { (width * missing * 5 / (hits * 4)).clamp(width, width * 8) };
    }
    found.truncate(wanted);
    Ok(found)
}

/// Those of `orders` that pass `filter`, in the same order.
async fn passing(conn: &mut AnyConnection, orders: Vec<i64>, filter: (&str, &[String])) -> sqlx::Result<Vec<i64>> {
    let (condition, values) = filter;
    if condition.is_empty() || orders.is_empty() {
        return Ok(orders);
    }
    let mut pass = HashSet::new();
    for chunk in orders.chunks(CHECKED_PER_QUERY) {
        let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!("SELECT o.id FROM work_orders o WHERE o.id IN ({}) AND {condition}", ids.join(", "));
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for value in values {
            query = query.bind(value);
        }
        pass.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(orders.into_iter().filter(|order| pass.contains(order)).collect())
}
