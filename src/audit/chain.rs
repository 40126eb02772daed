//! Appending to the chain. An event's hash is SHA-256 over its fields (each length-prefixed,
//! so no two events encode alike), the SHA-256 of its detail and the previous event's hash.
//! The detail (JSON) is hashed separately so that redacting personal data from it later keeps
//! every hash valid.

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

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

/// Appends `entry` in the caller's transaction; returns its number. Taking the next number
/// locks the chain's head row until the transaction ends, so concurrent steps are chained
/// one after the other, in the order they commit.
pub async fn record(conn: &mut AnyConnection, entry: Entry<'_>, now_ms: i64) -> sqlx::Result<i64> {
    let head = sqlx::query("UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, last_hash")
        .fetch_one(&mut *conn)
        .await?;
    let (id, prev_hash): (i64, String) = (head.try_get("last_id")?, head.try_get("last_hash")?);
    let detail = entry.detail.to_string();
    let detail_hash = digest(&detail);
    let hash = Sealed {
        id,
        at: now_ms,
        kind: entry.kind,
        report_id: entry.report_id,
        order_id: entry.order_id,
        reporter_id: entry.reporter_id,
        actor: entry.actor.as_deref(),
        detail_hash: &detail_hash,
        prev_hash: &prev_hash,
    }
    .hash();
    sqlx::query(
        "INSERT INTO audit_log (id, at, kind, report_id, order_id, reporter_id, actor, detail, detail_hash,
                                prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(now_ms)
    .bind(entry.kind)
    .bind(entry.report_id)
    .bind(entry.order_id)
    .bind(entry.reporter_id)
    .bind(entry.actor)
    .bind(detail)
    .bind(&detail_hash)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(hash).execute(conn).await?;
    Ok(id)
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
