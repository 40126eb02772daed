//! The deletion concept (PRIVACY P7): each class of data is deleted or anonymised once its
//! period in `[retention]` is over, by a scheduled run and by `meldeweg retention run`.
//!
//! | class | what | period from |
//! |---|---|---|
//! | inbound payloads | the raw messages as delivered (with the number); the row stays for de-duplication | receipt |
//! | conversation | the citizen's words and shared place names on reports, messages sent and received, unfinished drafts | the report's closing (messages without a report and drafts: their time) |
//! | contact | the sealed number / user id and lookup hash; a web-form e-mail address | the closing of the reporter's last report (or their last message) |
//! | photos | citizens' photos and crews' after-photos, file and row; photos of reporters who asked for erasure as soon as the report closes | the closing |
//! | unattached photos | photos no report, draft or work order names (an after-photo of a reopened order, or one whose "done" failed) | a day after they were stored |
//! | orphan files | photo files no photo row names (written before a transaction that did not commit) | a day after they were written |
//! | reports | closed reports are anonymised: no texts, no link to a reporter; comments on their work orders and the audit details of both are redacted | the closing |
//!
//! A report is closed once finished, rejected, passed on or outside the area (`reports::closed_sql`).
//! A dry run counts with the same conditions a real run applies. Every run is recorded in
//! `retention_runs` with its counts (never the data); a real run is also an audit event, and
//! redacted audit details are announced by an `audit.redacted` event, so the chain still verifies.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit;
use crate::config::RetentionSettings;
use crate::db::Db;
use crate::reports::{closed_sql, search, CLOSED_AT_SQL as REPORT_CLOSED_AT};
use crate::storage::{PhotoStore, StorageError};
use crate::time::now_ms;
use crate::{inbox as inbound_events, public_copies, reporters};

const DAY_MS: i64 = 86_400_000;
/// Photos deleted per round: files first, then their rows.
const PHOTO_BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// How many items of each kind a run deleted (or, dry, would delete), by name.
pub type Counts = BTreeMap<&'static str, u64>;

/// The moments before which each class is due, from `now_ms` and the periods.
struct Cutoffs {
    inbound: i64,
    conversation: i64,
    contact: i64,
    photo: i64,
    report: i64,
}

impl Cutoffs {
    fn new(settings: &RetentionSettings, now_ms: i64) -> Self {
        let days = |n: u32| now_ms - i64::from(n) * DAY_MS;
        let years = i64::from(settings.report_years);
        Self {
            inbound: days(settings.inbound_payload_days),
            conversation: days(settings.conversation_days),
            contact: days(settings.contact_days),
            photo: days(settings.photo_days),
            report: now_ms - (years * 365 + years / 4) * DAY_MS,
        }
    }
}

/// Reports (`r`, with its order `o`) closed before `cutoff`.
fn closed_before(cutoff: i64) -> String {
    format!(
        "SELECT r.id FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
         WHERE {} AND {REPORT_CLOSED_AT} < {cutoff}",
        closed_sql()
    )
}

/// One class: the rows of `table` it concerns (`condition`, with the cutoffs written in) and
/// what a run does to them. A dry run counts the same rows.
struct Step {
    name: &'static str,
    table: &'static str,
    condition: String,
    action: Action,
}

enum Action {
    /// Rows changed in one transaction.
    Rows(Rows),
    /// Photo files deleted, then their references: `token` is the column naming the files,
    /// `clear` removes the reference with id `$1`.
    Photos { token: &'static str, clear: &'static str },
}

enum Rows {
    /// `UPDATE table SET …` on the rows.
    Set(String),
    Delete,
    /// Inbound payloads emptied (the rows stay).
    EmptyPayloads,
    /// Reporters' identities forgotten.
    ForgetIdentities,
    /// Audit details emptied, announced in the chain.
    Redact,
}

impl Step {
    fn new(name: &'static str, table: &'static str, condition: String, action: Action) -> Self {
        Self { name, table, condition, action }
    }

    fn count_sql(&self) -> String {
        format!("SELECT COUNT(*) FROM {} WHERE {}", self.table, self.condition)
    }
}

fn steps(c: &Cutoffs, now_ms: i64) -> Vec<Step> {
    let report_closed = closed_sql();
    let texts_due = closed_before(c.conversation);
    let contact_due = closed_before(c.contact);
    let reports_due = closed_before(c.report);
    let citizen_photos = format!(
        "id IN (SELECT f.id FROM photos f LEFT JOIN reports r ON r.id = f.report_id
                    LEFT JOIN work_orders o ON o.id = r.work_order_id LEFT JOIN reporters p ON p.id = f.reporter_id
                WHERE (f.report_id IS NULL AND f.received_at < {draft})
                   OR ({report_closed} AND ({REPORT_CLOSED_AT} < {photo} OR p.erasure_requested_at IS NOT NULL)))",
        draft = c.conversation,
        photo = c.photo,
    );
    let contacts_due = format!(
        "erased_at IS NULL AND last_inbound_at < {cutoff} AND NOT EXISTS (
             SELECT 1 FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
             WHERE r.reporter_id = reporters.id AND NOT ({report_closed} AND {REPORT_CLOSED_AT} < {cutoff}))",
        cutoff = c.contact
    );
    let orders_due = format!("SELECT id FROM work_orders WHERE closed_at < {}", c.report);
    let texts = "(description IS NOT NULL OR location_label IS NOT NULL)";
    vec![
        Step::new(
            "inbound_payloads",
            "inbound_events",
            format!("redacted_at IS NULL AND received_at < {}", c.inbound),
            Action::Rows(Rows::EmptyPayloads),
        ),
        Step::new(
            "report_texts",
            "reports",
            format!("{texts} AND id IN ({texts_due})"),
            Action::Rows(Rows::Set("description = NULL, location_label = NULL".into())),
        ),
        Step::new("search_words", "search_terms", search::text_words_of(&texts_due), Action::Rows(Rows::Delete)),
        Step::new(
            "messages",
            "outbox",
            format!(
                "state <> 'queued' AND (report_id IN ({texts_due}) OR (report_id IS NULL AND created_at < {}))",
                c.conversation
            ),
            Action::Rows(Rows::Delete),
        ),
        Step::new("drafts", "conversations", format!("updated_at < {}", c.conversation), Action::Rows(Rows::Delete)),
        Step::new("contacts", "reporters", contacts_due, Action::Rows(Rows::ForgetIdentities)),
        Step::new(
            "email_addresses",
            "reports",
            format!("contact_enc IS NOT NULL AND id IN ({contact_due})"),
            Action::Rows(Rows::Set("contact_enc = NULL".into())),
        ),
        Step::new(
            "photos",
            "photos",
            citizen_photos,
            Action::Photos { token: "token", clear: "DELETE FROM photos WHERE id = $1" },
        ),
        Step::new(
            "after_photos",
            "work_orders",
            format!("after_photo IS NOT NULL AND closed_at < {}", c.photo),
            Action::Photos { token: "after_photo", clear: "UPDATE work_orders SET after_photo = NULL WHERE id = $1" },
        ),
        Step::new(
            "reports_anonymised",
            "reports",
            format!("anonymised_at IS NULL AND id IN ({reports_due})"),
            Action::Rows(Rows::Set(format!(
                "reporter_id = NULL, description = NULL, location_label = NULL, contact_enc = NULL,
                 anonymised_at = {now_ms}"
            ))),
        ),
        Step::new(
            "order_comments",
            "order_events",
            format!("detail IS NOT NULL AND work_order_id IN ({orders_due})"),
            Action::Rows(Rows::Set("detail = NULL".into())),
        ),
        Step::new(
            "audit_details",
            "audit_log",
            format!("detail IS NOT NULL AND (report_id IN ({reports_due}) OR order_id IN ({orders_due}))"),
            Action::Rows(Rows::Redact),
        ),
    ]
}

/// Runs every class once at `now_ms`; `dry_run` only counts. `started_by` names the trigger
/// ("schedule", "cli"). Returns the counts, which are also recorded.
pub async fn run(
    db: &Db,
    store: &PhotoStore,
    settings: &RetentionSettings,
    now_ms: i64,
    dry_run: bool,
    started_by: &str,
) -> Result<Counts, RetentionError> {
    let cutoffs = Cutoffs::new(settings, now_ms);
    let mut counts = Counts::new();
    for step in steps(&cutoffs, now_ms) {
        let done = if dry_run {
            let mut conn = db.pool().acquire().await?;
            sqlx::query_scalar::<_, i64>(&step.count_sql()).fetch_one(&mut *conn).await? as u64
        } else {
            apply(db, store, &step, now_ms).await?
        };
        counts.insert(step.name, done);
    }
    counts.insert("unattached_photos", delete_unattached(db, store, now_ms - DAY_MS, dry_run).await?);
    counts.insert("orphan_files", delete_orphan_files(db, store, now_ms - DAY_MS, dry_run).await?);
    record_run(db, &counts, now_ms, dry_run, started_by).await?;
    if counts.values().any(|n| *n > 0) {
        tracing::info!(dry_run, counts = ?counts, "retention run");
    }
    Ok(counts)
}

async fn apply(db: &Db, store: &PhotoStore, step: &Step, now_ms: i64) -> Result<u64, RetentionError> {
    let (table, condition) = (step.table, step.condition.as_str());
    let rows = match &step.action {
        Action::Photos { token, clear } => {
            let select = format!("SELECT id, {token} FROM {table} WHERE {condition}");
            return delete_photos(db, store, &select, clear).await;
        }
        Action::Rows(rows) => rows,
    };
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let done = match rows {
        Rows::Set(set) => execute(conn, &format!("UPDATE {table} SET {set} WHERE {condition}")).await?,
        Rows::Delete => execute(conn, &format!("DELETE FROM {table} WHERE {condition}")).await?,
        Rows::EmptyPayloads => inbound_events::empty_payloads(conn, condition, now_ms).await?,
        Rows::ForgetIdentities => reporters::forget_identities(conn, condition, now_ms).await?,
        Rows::Redact => audit::redact(conn, condition, "retention", now_ms).await?,
    };
    tx.commit().await?;
    Ok(done)
}

async fn execute(conn: &mut AnyConnection, sql: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query(sql).execute(conn).await?.rows_affected())
}

/// Deletes the files of photos that no photo row names and that were last written before
/// `cutoff` (their job wrote them, then its transaction did not commit); returns how many
/// photos' files went (dry: would go).
async fn delete_orphan_files(db: &Db, store: &PhotoStore, cutoff: i64, dry_run: bool) -> Result<u64, RetentionError> {
    let mut deleted = 0;
    for tokens in store.tokens_older_than(cutoff).await?.chunks(PHOTO_BATCH as usize) {
        let known = {
            let mut conn = db.pool().acquire().await?;
            crate::reports::photos::known_tokens(&mut conn, tokens).await?
        };
        for token in tokens.iter().filter(|token| !known.contains(*token)) {
            if !dry_run {
                store.delete(token).await?;
            }
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Deletes photos in batches: the files first, then the rows naming them, so an interruption
/// never leaves a file without its row.
async fn delete_photos(db: &Db, store: &PhotoStore, select: &str, clear: &str) -> Result<u64, RetentionError> {
    let mut deleted = 0;
    loop {
        let batch: Vec<(i64, Option<String>)> = {
            let mut conn = db.pool().acquire().await?;
            sqlx::query_as(&format!("{select} LIMIT {PHOTO_BATCH}")).fetch_all(&mut *conn).await?
        };
        if batch.is_empty() {
            return Ok(deleted);
        }
        for (_, token) in &batch {
            if let Some(token) = token {
                store.delete(token).await?;
            }
        }
        let mut tx = db.begin().await?;
        for (id, token) in &batch {
            deleted += sqlx::query(clear).bind(id).execute(tx.conn()).await?.rows_affected();
            if let Some(token) = token {
                public_copies::forget(tx.conn(), token).await?;
            }
        }
        tx.commit().await?;
        delete_again(store, batch.iter().filter_map(|(_, token)| token.as_deref())).await?;
    }
}

/// Deletes the files of photos whose rows are gone once more: a public copy written while the
/// row was being deleted (its writer held the row) is not left behind.
async fn delete_again<'a>(store: &PhotoStore, tokens: impl Iterator<Item = &'a str>) -> Result<(), StorageError> {
    for token in tokens {
        store.delete(token).await?;
    }
    Ok(())
}

/// Deletes the files and rows of photos stored before `before_ms` that nothing names (see
/// `public_copies::unattached`); `dry_run` only counts them.
async fn delete_unattached(db: &Db, store: &PhotoStore, before_ms: i64, dry_run: bool) -> Result<u64, RetentionError> {
    let mut deleted = 0;
    loop {
        let tokens = {
            let mut conn = db.pool().acquire().await?;
            public_copies::unattached(&mut conn, before_ms, if dry_run { i64::MAX } else { PHOTO_BATCH }).await?
        };
        if dry_run || tokens.is_empty() {
            return Ok(deleted + tokens.len() as u64);
        }
        for token in &tokens {
            store.delete(token).await?;
        }
        let mut tx = db.begin().await?;
        for token in &tokens {
            public_copies::forget(tx.conn(), token).await?;
        }
        tx.commit().await?;
        delete_again(store, tokens.iter().map(String::as_str)).await?;
        deleted += tokens.len() as u64;
    }
}

async fn record_run(
    db: &Db,
    counts: &Counts,
    now_ms: i64,
    dry_run: bool,
    started_by: &str,
) -> Result<(), RetentionError> {
    let mut tx = db.begin().await?;
    let counts_json = json!(counts);
    sqlx::query(
        "INSERT INTO retention_runs (started_at, finished_at, dry_run, started_by, counts) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now_ms)
    .bind(crate::time::now_ms())
    .bind(dry_run)
    .bind(started_by)
    .bind(counts_json.to_string())
    .execute(tx.conn())
    .await?;
    if !dry_run {
        let entry = audit::Entry::service("retention.run", Some(started_by), counts_json);
        audit::record(tx.conn(), entry, now_ms).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A recorded run, newest first, for `meldeweg retention runs`.
#[derive(Debug, Clone)]
pub struct RecordedRun {
    pub started_at: i64,
    pub dry_run: bool,
    pub started_by: String,
    pub counts: String,
}

pub async fn recent_runs(conn: &mut AnyConnection, limit: i64) -> sqlx::Result<Vec<RecordedRun>> {
    use sqlx::Row;
    let rows =
        sqlx::query("SELECT started_at, CAST(CASE WHEN dry_run THEN 1 ELSE 0 END AS BIGINT) AS dry_run, started_by, counts FROM retention_runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|row| {
            Ok(RecordedRun {
                started_at: row.try_get("started_at")?,
                dry_run: row.try_get::<i64, _>("dry_run")? != 0,
                started_by: row.try_get("started_by")?,
                counts: row.try_get("counts")?,
            })
        })
        .collect()
}

/// The scheduled run (`queue::Schedule` "retention", every `retention.run_every_hours`): a
/// failure is logged and the next turn tries again.
pub async fn scheduled_run(db: &Db, store: &PhotoStore, settings: &RetentionSettings) {
    if let Err(error) = run(db, store, settings, now_ms(), false, "schedule").await {
        tracing::warn!(%error, "retention run failed; it runs again at the next turn");
    }
}
