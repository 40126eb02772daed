//! Staff search: finding an order by a reference a citizen reads out ("M-2026-000003", an
//! order's "A-2026-000012"), by its street ("Lindenweg") or by words of what was reported
//! ("Ampel blinkt"). Each report's words go into `search_terms` when it is triaged: the words
//! of its address (kind `p`) and of the citizen's description and shared place name (kind `t`,
//! deleted with those texts by retention and erasure). A word is found by prefix on the
//! table's primary key; `search_walk` reads the index newest first to fill a page of orders.

use sqlx::{AnyConnection, Row};

use crate::db::{Db, DbError};

/// Most words taken from one report; most words of a query.
const MAX_TERMS: usize = 100;
const MAX_QUERY_WORDS: usize = 5;
/// The shortest word indexed, and the shortest prefix searched for.
const MIN_TERM: usize = 3;
const MIN_PREFIX: usize = 2;
/// Longest word kept (longer ones are cut to this many characters).
const MAX_TERM: usize = 40;
/// Reports indexed per transaction when the reports from before the index are caught up.
const BACKFILL_BATCH: i64 = 500;

/// Words too common to find anything by.
const STOP_WORDS: &[&str] = &[
    "ab", "am", "an", "and", "auf", "aus", "bei", "bis", "das", "dem", "den", "der", "des", "die", "ein", "eine",
    "einem", "einen", "einer", "es", "für", "fuer", "hat", "ich", "ihr", "im", "in", "ist", "mit", "nach", "nicht",
    "noch", "oder", "sich", "sie", "sind", "the", "und", "vom", "von", "vor", "war", "wie", "wir", "wird", "zu", "zum",
    "zur",
];

/// A word as it is stored and searched: lower case, umlauts and ß written out ("Müll" →
/// "muell", "Straße" → "strasse"), so that either spelling finds it.
fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out.chars().take(MAX_TERM).collect()
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold)
}

/// The distinct words of `text` worth indexing.
pub fn terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> =
        words(text).filter(|w| w.chars().count() >= MIN_TERM && !STOP_WORDS.contains(&w.as_str())).collect();
    terms.sort();
    terms.dedup();
    terms.truncate(MAX_TERMS);
    terms
}

/// What a staff member searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// A report reference or an order number, written out in full ("M-2026-000003").
    Reference(String),
    /// Word prefixes, all of which must match.
    Words(Vec<String>),
}

impl Search {
    /// `None` when the query holds nothing to search for.
    pub fn parse(query: &str) -> Option<Search> {
        let query = query.trim();
        if let Some(reference) = reference(query) {
            return Some(Search::Reference(reference));
        }
        let mut prefixes: Vec<String> =
            words(query).filter(|w| w.chars().count() >= MIN_PREFIX && !STOP_WORDS.contains(&w.as_str())).collect();
        prefixes.dedup();
        prefixes.truncate(MAX_QUERY_WORDS);
        (!prefixes.is_empty()).then_some(Search::Words(prefixes))
    }

    /// A reference's condition on `work_orders o` and its value, numbered `$first`; words are
    /// found by walking the index instead (`search_walk`).
    pub fn reference_condition(reference: &str, first: usize) -> (String, Vec<String>) {
        (
            format!("(o.number = ${first} OR o.id = (SELECT work_order_id FROM reports WHERE reference = ${first}))"),
            vec![reference.to_string()],
        )
    }
}

/// "m-2026-3", "M 2026 000003", "a-2026-000012" → "M-2026-000003" / "A-2026-000012".
fn reference(query: &str) -> Option<String> {
    let parts: Vec<&str> = query.split(['-', ' ', '/']).filter(|p| !p.is_empty()).collect();
    let [kind, year, number] = parts[..] else { return None };
    let kind = kind.to_ascii_uppercase();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !matches!(kind.as_str(), "M" | "A") || year.len() != 4 || !digits(year) || !digits(number) || number.len() > 6 {
        return None;
    }
    Some(format!("{kind}-{year}-{:0>6}", number))
}

/// Puts report `id`'s words into the index (its address, description and shared place name).
pub async fn index(conn: &mut AnyConnection, id: i64) -> sqlx::Result<()> {
    index_range(conn, id - 1, id).await.map(drop)
}

/// Terms written per statement (three values each).
const TERMS_PER_INSERT: usize = 300;

/// Indexes the reports with ids after `after` up to `up_to`, at most `BACKFILL_BATCH` of them;
/// returns the last id indexed and how many there were, `None` when there was none.
async fn index_range(conn: &mut AnyConnection, after: i64, up_to: i64) -> sqlx::Result<Option<(i64, u64)>> {
    let rows = sqlx::query(&format!(
        "SELECT id, description, location_label, address FROM reports WHERE id > $1 AND id <= $2
         ORDER BY id LIMIT {BACKFILL_BATCH}"
    ))
    .bind(after)
    .bind(up_to)
    .fetch_all(&mut *conn)
    .await?;
    let mut entries: Vec<(String, i64, &'static str)> = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let text = |column: &str| -> sqlx::Result<String> {
            Ok(row.try_get::<Option<String>, _>(column)?.unwrap_or_default())
        };
        // Place words first: a word that is both stays when the texts are deleted.
        entries.extend(terms(&text("address")?).into_iter().map(|term| (term, id, "p")));
        let written = format!("{} {}", text("description")?, text("location_label")?);
        entries.extend(terms(&written).into_iter().map(|term| (term, id, "t")));
    }
    for chunk in entries.chunks(TERMS_PER_INSERT) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
        let sql = format!(
            "INSERT INTO search_terms (term, report_id, kind) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut insert = sqlx::query(&sql);
        for (term, id, kind) in chunk {
            insert = insert.bind(term.as_str()).bind(*id).bind(*kind);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(match rows.last() {
        Some(row) => Some((row.try_get("id")?, rows.len() as u64)),
        None => None,
    })
}

/// Indexes every report after id `after`, a batch per transaction (the demo history, which is
/// written in bulk); returns how many reports there were.
pub async fn index_all_after(db: &Db, mut after: i64) -> Result<u64, DbError> {
    let mut indexed = 0;
    loop {
        let mut tx = db.begin().await?;
        let Some((last, count)) = index_range(tx.conn(), after, i64::MAX).await? else { return Ok(indexed) };
        tx.commit().await?;
        indexed += count;
        after = last;
    }
}

/// Forgets the words of the texts of reporter `reporter_id`'s reports (erasure, P9).
pub async fn forget_texts_of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM search_terms WHERE kind = 't' AND report_id IN (SELECT id FROM reports WHERE reporter_id = $1)",
    )
    .bind(reporter_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The condition on `search_terms` for the words of the texts of the reports `report_ids`
/// (an SQL query of report ids) selects: retention deletes them with the texts.
pub fn text_words_of(report_ids: &str) -> String {
    format!("kind = 't' AND report_id IN ({report_ids})")
}

/// Indexes the reports that came before the index (migration 0019), a batch per transaction,
/// remembering how far it got; returns how many it indexed. Cheap when there is nothing to do.
pub async fn catch_up(db: &Db) -> Result<u64, DbError> {
    let mut indexed = 0;
    loop {
        let mut tx = db.begin().await?;
        let counter =
            |name: &'static str| sqlx::query_scalar::<_, i64>("SELECT value FROM counters WHERE name = $1").bind(name);
        let to = counter("search.backfill_to").fetch_one(tx.conn()).await?;
        let done = counter("search.backfilled").fetch_one(tx.conn()).await?;
        if done >= to {
            return Ok(indexed);
        }
        let (reached, count) = index_range(tx.conn(), done, to).await?.unwrap_or((to, 0));
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'search.backfilled'")
            .bind(reached)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        indexed += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_deduplicated_and_stop_words_dropped() {
        assert_eq!(
            terms("Die Ampel an der Bahnhofstraße blinkt, die AMPEL!! Müll 12"),
            vec!["ampel", "bahnhofstrasse", "blinkt", "muell"]
        );
        assert!(terms("").is_empty());
        assert_eq!(terms(&"wort ".repeat(1000)), vec!["wort"]);
        let long = "x".repeat(500);
        assert_eq!(terms(&long)[0].len(), MAX_TERM);
    }

    #[test]
    fn references_are_recognised_however_they_are_written() {
        for (query, expected) in [
            ("M-2026-000003", "M-2026-000003"),
            ("m-2026-3", "M-2026-000003"),
            (" M 2026 000003 ", "M-2026-000003"),
            ("a-2026-12", "A-2026-000012"),
        ] {
            assert_eq!(Search::parse(query), Some(Search::Reference(expected.into())), "{query}");
        }
        assert_eq!(Search::parse("M-26-3"), Some(Search::Words(vec!["26".into()])), "not a reference");
        assert_eq!(Search::parse("X-2026-000003"), Some(Search::Words(vec!["2026".into(), "000003".into()])));
    }

    #[test]
    fn queries_become_prefixes_and_empty_ones_nothing() {
        assert_eq!(Search::parse("Lindenweg"), Some(Search::Words(vec!["lindenweg".into()])));
        assert_eq!(
            Search::parse("die Ampel in der Bahnhofstr."),
            Some(Search::Words(vec!["ampel".into(), "bahnhofstr".into()]))
        );
        assert_eq!(Search::parse("   "), None);
        assert_eq!(Search::parse("a , ."), None);
        let Some(Search::Words(many)) = Search::parse("eins zwei drei vier fünf sechs sieben") else { panic!() };
        assert_eq!(many.len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn a_reference_condition_numbers_its_value_from_the_first_free_one() {
        let (sql, values) = Search::reference_condition("M-2026-000003", 3);
        assert!(sql.contains("o.number = $3") && sql.contains("reference = $3"), "{sql}");
        assert_eq!(values, vec!["M-2026-000003"]);
    }
}
