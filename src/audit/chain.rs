//! Appending to the chain. An event's hash is SHA-256 over its fields (each length-prefixed,
//! so no two events encode alike), the SHA-256 of its detail and the previous event's hash.
//! The detail (JSON) is hashed separately so that redacting personal data from it later keeps
//! every hash valid.
//!
//! On PostgreSQL `record` appends an event to `audit_pending` in the caller's transaction,
//! taking no lock, so steps on any number of instances never wait for each other's commits.
//! `seal` chains the committed ones shortly after: one sealer at a time takes the head, numbers
//! and hashes the pending events in the order they were appended and moves them into
//! `audit_log`. SQLite has a single writer: there `record` chains the event at once.

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Row};

use crate::db::Backend;

/// A step to record.
pub struct Entry<'a> {
    /// What happened, e.g. "report.received" or "order.accepted".
    pub kind: &'a str,
    pub report_id: Option<i64>,
    pub order_id: Option<i64>,
    /// The reporter concerned (consent steps; the report received).
    pub reporter_id: Option<i64>,
    /// "staff:<id>" for a staff member; `None` for Meldeweg's own steps.
    pub actor: Option<String>,
    pub detail: Value,
}

impl<'a> Entry<'a> {
    /// A step of the service as a whole (a retention run, a key rotation), by `actor` if given.
    pub fn service(kind: &'a str, actor: Option<&str>, detail: Value) -> Self {
        Self { kind, report_id: None, order_id: None, reporter_id: None, actor: actor.map(str::to_string), detail }
    }

    /// A step concerning one reporter (consent, access, erasure), by `actor` if given.
    pub fn reporter(kind: &'a str, reporter_id: i64, actor: Option<&str>, detail: Value) -> Self {
        Self { reporter_id: Some(reporter_id), ..Self::service(kind, actor, detail) }
    }
}

/// The fields an event's hash covers.
pub(super) struct Sealed<'a> {
    pub id: i64,
    pub at: i64,
    pub kind: &'a str,
    pub report_id: Option<i64>,
    pub order_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub detail_hash: &'a str,
    pub prev_hash: &'a str,
}

impl Sealed<'_> {
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        let id = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        let fields = [
            "meldeweg-audit-1".to_string(),
            self.id.to_string(),
            self.at.to_string(),
            self.kind.to_string(),
            id(self.report_id),
            id(self.order_id),
            id(self.reporter_id),
            self.actor.map(|a| format!("+{a}")).unwrap_or_default(),
            self.detail_hash.to_string(),
            self.prev_hash.to_string(),
        ];
        for field in fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

pub(super) fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Appends `entry` in the caller's transaction. On PostgreSQL unchained: it waits for no other
/// transaction, and commits or rolls back with the step it records; `seal` chains it after the
/// commit. SQLite has one writer, so nothing waits there: the event is chained at once.
pub async fn record(conn: &mut AnyConnection, entry: Entry<'_>, now_ms: i64) -> sqlx::Result<()> {
    if backend_of(conn) == Backend::Sqlite {
        return chain_now(conn, entry, now_ms).await;
    }
    sqlx::query(
        "INSERT INTO audit_pending (at, kind, report_id, order_id, reporter_id, actor, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now_ms)
    .bind(entry.kind)
    .bind(entry.report_id)
    .bind(entry.order_id)
    .bind(entry.reporter_id)
    .bind(entry.actor)
    .bind(entry.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

fn backend_of(conn: &AnyConnection) -> Backend {
    if conn.backend_name() == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Chains `entry` after the head in the caller's transaction (SQLite).
async fn chain_now(conn: &mut AnyConnection, entry: Entry<'_>, now_ms: i64) -> sqlx::Result<()> {
    let head = sqlx::query("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let pending = Pending {
        seq: 0,
        at: now_ms,
        kind: entry.kind.to_string(),
        report_id: entry.report_id,
        order_id: entry.order_id,
        reporter_id: entry.reporter_id,
        actor: entry.actor,
        detail: entry.detail.to_string(),
    };
    let event = pending.chained(head.try_get("last_id")?, head.try_get("last_hash")?);
    insert(conn, std::slice::from_ref(&event)).await?;
    move_head(conn, event.id, &event.hash).await
}

async fn move_head(conn: &mut AnyConnection, last_id: i64, last_hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
        .bind(last_id)
        .bind(last_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// An event appended but not yet chained.
struct Pending {
    seq: i64,
    at: i64,
    kind: String,
    report_id: Option<i64>,
    order_id: Option<i64>,
    reporter_id: Option<i64>,
    actor: Option<String>,
    detail: String,
}

impl Pending {
    /// The event as the chain's next after `last_id` with hash `last_hash`.
    fn chained(self, last_id: i64, last_hash: String) -> Chained {
        let detail_hash = digest(&self.detail);
        let hash = Sealed {
            id: last_id + 1,
            at: self.at,
            kind: &self.kind,
            report_id: self.report_id,
            order_id: self.order_id,
            reporter_id: self.reporter_id,
            actor: self.actor.as_deref(),
            detail_hash: &detail_hash,
            prev_hash: &last_hash,
        }
        .hash();
        Chained { id: last_id + 1, detail_hash, prev_hash: last_hash, hash, event: self }
    }
}

/// Events chained per transaction of `seal`.
const SEAL_BATCH: i64 = 500;
/// Events per INSERT (11 values each, well below either database's limit on parameters).
const INSERT_ROWS: usize = 100;

/// Chains the committed pending events, in the order they were appended: numbers them after the
/// chain's head, hashes each over its fields and the one before, moves them into `audit_log`
/// and moves the head, in one transaction per batch. One sealer at a time: this one waits for
/// another to finish, so every event committed before the call is chained when it returns (what
/// a reader of the chain needs). Returns how many events it chained.
pub async fn seal(conn: &mut AnyConnection) -> sqlx::Result<u64> {
    seal_with(conn, Turn::Wait).await
}

/// Like `seal`, but returns at once when another sealer holds the head (that one chains): for
/// the background sealers of several instances, which need not queue behind each other.
pub(super) async fn seal_unless_busy(conn: &mut AnyConnection) -> sqlx::Result<u64> {
    seal_with(conn, Turn::SkipWhenTaken).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    Wait,
    SkipWhenTaken,
}

async fn seal_with(conn: &mut AnyConnection, turn: Turn) -> sqlx::Result<u64> {
    let backend = backend_of(conn);
    let mut sealed = 0;
    loop {
        let waiting: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM audit_pending LIMIT 1").fetch_optional(&mut *conn).await?;
        if waiting.is_none() {
            return Ok(sealed);
        }
        let mut tx = conn.begin().await?;
        let head_sql = match (backend, turn) {
            (Backend::Postgres, Turn::SkipWhenTaken) => {
                "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE SKIP LOCKED"
            }
            (Backend::Postgres, Turn::Wait) => "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
            (Backend::Sqlite, _) => "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
        };
        let Some(head) = sqlx::query(head_sql).fetch_optional(&mut *tx).await? else { return Ok(sealed) };
        let (mut last_id, mut last_hash): (i64, String) = (head.try_get("last_id")?, head.try_get("last_hash")?);
        let rows = sqlx::query(
            "SELECT seq, at, kind, report_id, order_id, reporter_id, actor, detail FROM audit_pending
             ORDER BY seq LIMIT $1",
        )
        .bind(SEAL_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let mut chained: Vec<Chained> = Vec::with_capacity(rows.len());
        for row in &rows {
            let pending = Pending {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                kind: row.try_get("kind")?,
                report_id: row.try_get("report_id")?,
                order_id: row.try_get("order_id")?,
                reporter_id: row.try_get("reporter_id")?,
                actor: row.try_get("actor")?,
                detail: row.try_get("detail")?,
            };
            let event = pending.chained(last_id, last_hash);
            (last_id, last_hash) = (event.id, event.hash.clone());
            chained.push(event);
        }
        for events in chained.chunks(INSERT_ROWS) {
            insert(&mut tx, events).await?;
            // Exactly the events chained: one appended meanwhile with a lower number waits for
            // the next round.
            let seqs: Vec<String> = events.iter().map(|e| e.event.seq.to_string()).collect();
            sqlx::query(&format!("DELETE FROM audit_pending WHERE seq IN ({})", seqs.join(", ")))
                .execute(&mut *tx)
                .await?;
        }
        move_head(&mut tx, last_id, &last_hash).await?;
        tx.commit().await?;
        sealed += chained.len() as u64;
    }
}

/// A pending event with its place in the chain.
struct Chained {
    id: i64,
    detail_hash: String,
    prev_hash: String,
    hash: String,
    event: Pending,
}

async fn insert(conn: &mut AnyConnection, events: &[Chained]) -> sqlx::Result<()> {
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let n = i * 11;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10,
                n + 11
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_log (id, at, kind, report_id, order_id, reporter_id, actor, detail, detail_hash,
                                prev_hash, hash) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for e in events {
        query = query
            .bind(e.id)
            .bind(e.event.at)
            .bind(&e.event.kind)
            .bind(e.event.report_id)
            .bind(e.event.order_id)
            .bind(e.event.reporter_id)
            .bind(&e.event.actor)
            .bind(&e.event.detail)
            .bind(&e.detail_hash)
            .bind(&e.prev_hash)
            .bind(&e.hash);
    }
    query.execute(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let base = Sealed {
            id: 7,
            at: 1_000,
            kind: "order.accepted",
            report_id: Some(3),
            order_id: Some(2),
            reporter_id: Some(5),
            actor: Some("staff:1"),
            detail_hash: "aa",
            prev_hash: "bb",
        };
        let hash = base.hash();
        assert_eq!(hash.len(), 64);
        let changed = [
            Sealed { id: 8, ..base },
            Sealed { at: 1_001, ..base },
            Sealed { kind: "order.done", ..base },
            Sealed { report_id: None, ..base },
            Sealed { order_id: Some(3), ..base },
            Sealed { reporter_id: None, ..base },
            Sealed { report_id: None, order_id: Some(3), ..base },
            Sealed { actor: None, ..base },
            Sealed { actor: Some(""), ..base },
            Sealed { detail_hash: "ab", ..base },
            Sealed { prev_hash: "bc", ..base },
        ];
        for other in changed {
            assert_ne!(other.hash(), hash);
        }
        assert_eq!(Sealed { ..base }.hash(), hash, "the same fields give the same hash");
    }
}
