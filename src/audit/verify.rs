//! Checking the chain: every event numbered one after the other, pointing at the hash of the
//! one before, with a hash that fits its fields and a detail (unless redacted) that fits its
//! detail hash; and the head row pointing at the last event. The first event that does not
//! fit is named: everything before it is as it was recorded.

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::chain::{digest, Sealed};

/// Events read per query.
const PAGE: i64 = 5_000;
/// The hash before the first event.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    /// Every event fits; `head` is the last event's hash (write it down to anchor the chain).
    Intact { events: i64, redacted: i64, head: String },
    /// Event `event` is the first that does not fit, for `reason`.
    Broken { event: i64, reason: String },
}

/// Chains what is pending, then walks the chain up to the head as it stands when the walk
/// starts, so steps recorded meanwhile on a running service are left for the next check.
pub async fn verify(conn: &mut AnyConnection) -> sqlx::Result<Verdict> {
    super::seal(&mut *conn).await?;
    let head = sqlx::query("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    let (last_id, last_hash): (i64, String) = (head.try_get("last_id")?, head.try_get("last_hash")?);
    let (mut expected_id, mut previous, mut redacted) = (1i64, GENESIS.to_string(), 0i64);
    while expected_id <= last_id {
        let rows = sqlx::query(
            "SELECT id, at, kind, report_id, order_id, reporter_id, actor, detail, detail_hash, prev_hash, hash
             FROM audit_log WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT $3",
        )
        .bind(expected_id)
        .bind(last_id)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let broken = |reason: &str| Ok(Verdict::Broken { event: expected_id, reason: reason.to_string() });
            if id != expected_id {
                return broken(&format!("event {expected_id} is missing (the next one is {id})"));
            }
            let (kind, actor): (String, Option<String>) = (row.try_get("kind")?, row.try_get("actor")?);
            let (detail_hash, prev_hash, hash): (String, String, String) =
                (row.try_get("detail_hash")?, row.try_get("prev_hash")?, row.try_get("hash")?);
            if prev_hash != previous {
                return broken("it does not point at the event before it");
            }
            match row.try_get::<Option<String>, _>("detail")? {
                Some(detail) if digest(&detail) != detail_hash => return broken("its detail was changed"),
                Some(_) => {}
                None => redacted += 1,
            }
            let sealed = Sealed {
                id,
                at: row.try_get("at")?,
                kind: &kind,
                report_id: row.try_get("report_id")?,
                order_id: row.try_get("order_id")?,
                reporter_id: row.try_get("reporter_id")?,
                actor: actor.as_deref(),
                detail_hash: &detail_hash,
                prev_hash: &prev_hash,
            };
            if sealed.hash() != hash {
                return broken("its fields were changed");
            }
            previous = hash;
            expected_id += 1;
        }
    }
    let events = expected_id - 1;
    if events != last_id {
        let reason = format!("the chain ends at event {events} but its head says {last_id}: events were removed");
        return Ok(Verdict::Broken { event: expected_id, reason });
    }
    if last_hash != previous {
        return Ok(Verdict::Broken { event: last_id, reason: "the head's hash does not match the last event".into() });
    }
    Ok(Verdict::Intact { events, redacted, head: previous })
}
