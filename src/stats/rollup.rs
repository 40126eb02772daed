//! The statistics' roll-ups (migration 0009): per week-long bucket of UTC time and per
//! combination of groups and filters, that bucket's reports and work-order events packed as
//! text. Triggers mark a bucket dirty in the same transaction as any change to its raw rows;
//! `refresh` rebuilds the dirty buckets from the raw rows, so what the statistics read from the
//! roll-ups is always what a recomputation from the raw rows would give.

use sqlx::AnyConnection;

use crate::db::{Backend, Db, DbError};
use crate::time::now_ms;

/// One bucket: a week of UTC time (Berlin days and hours lie inside whole UTC hours).
pub const BUCKET_MS: i64 = 604_800_000;
/// Hours per bucket; an entry's hour is counted from the bucket's start.
pub const BUCKET_HOURS: i64 = 168;
/// Buckets rebuilt per transaction, so writers never wait long for a rebuild.
const PER_TRANSACTION: i64 = 4;

/// Rebuilds every bucket marked dirty; returns how many. Each transaction first locks the one
/// `stat_state` row (two rebuilds never write the same bucket at once) and takes its buckets
/// off `stat_dirty` by deleting them, so a change committed while it runs marks its bucket
/// again for the next refresh.
pub async fn refresh(db: &Db) -> Result<usize, DbError> {
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stat_dirty").fetch_one(db.pool()).await?;
    let mut rebuilt = 0;
    if pending == 0 {
        return Ok(rebuilt);
    }
    // Changes arriving meanwhile wait for the next refresh: the loop ends.
    for _ in 0..=(pending / PER_TRANSACTION) {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE stat_state SET rebuilt_at = $1 WHERE id = 1").bind(now_ms()).execute(tx.conn()).await?;
        let buckets: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM stat_dirty WHERE bucket IN (SELECT bucket FROM stat_dirty ORDER BY bucket LIMIT $1)
             RETURNING bucket",
        )
        .bind(PER_TRANSACTION)
        .fetch_all(tx.conn())
        .await?;
        if buckets.is_empty() {
            break;
        }
        for bucket in &buckets {
            rebuild(tx.conn(), db.backend(), *bucket).await?;
        }
        tx.commit().await?;
        rebuilt += buckets.len();
    }
    Ok(rebuilt)
}

/// `GROUP_CONCAT` or `STRING_AGG` of `expression` with `separator`.
pub fn packed(backend: Backend, expression: &str, separator: char) -> String {
    match backend {
        Backend::Postgres => format!("STRING_AGG({expression}, '{separator}')"),
        Backend::Sqlite => format!("GROUP_CONCAT({expression}, '{separator}')"),
    }
}

/// The hotspot cell of a coordinate column: `FLOOR(column / 0.002)` as an integer.
fn cell(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Postgres => format!("CAST(FLOOR({column} / 0.002) AS BIGINT)"),
        // CAST truncates towards zero; one less for negative values that are not whole.
        Backend::Sqlite => {
            format!("(CAST({column} / 0.002 AS INTEGER) - ({column} / 0.002 < CAST({column} / 0.002 AS INTEGER)))")
        }
    }
}

/// The hour of `column` counted from the start of bucket `$1`.
fn hour_in_bucket(column: &str) -> String {
    format!("CAST({column} / 3600000 - $1 * {BUCKET_HOURS} AS TEXT)")
}

/// The work-order events: name, timestamp column, condition, entry after the hour.
const EVENTS: [(&str, &str, &str, &str); 5] = [
    ("opened", "created_at", "o.status <> 'merged'", ""),
    ("accepted", "accepted_at", "o.status <> 'merged'", " || '.' || (o.accepted_at - o.created_at)"),
    (
        "done",
        "done_at",
        "o.status = 'done'",
        " || '.' || (o.done_at - o.created_at) || '.' || \
         (CASE WHEN o.due_at IS NOT NULL AND o.done_at <= o.due_at THEN 1 ELSE 0 END)",
    ),
    ("rejected", "closed_at", "o.status = 'rejected'", ""),
    ("forwarded", "closed_at", "o.status = 'forwarded'", ""),
];

async fn rebuild(conn: &mut AnyConnection, backend: Backend, bucket: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM stat_reports WHERE bucket = $1").bind(bucket).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM stat_orders WHERE bucket = $1").bind(bucket).execute(&mut *conn).await?;
    let (start, end) = (bucket * BUCKET_MS, (bucket + 1) * BUCKET_MS);
    let report_entry = format!(
        "{} || '.' || {} || '.' || {}",
        hour_in_bucket("r.created_at"),
        cell(backend, "r.lat"),
        cell(backend, "r.lon")
    );
    let reports = format!(
        "INSERT INTO stat_reports (bucket, category, district, channel, priority, depot, link, entries)
         SELECT $1, category, district, channel, priority, depot, link, {}
         FROM (SELECT COALESCE(r.category, '') AS category, COALESCE(r.district, '') AS district, r.channel,
                      COALESCE(r.priority, '') AS priority, COALESCE(o.depot, '') AS depot,
                      COALESCE(r.order_link, '') AS link, {report_entry} AS entry
               FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
               WHERE r.created_at >= $2 AND r.created_at < $3) AS received
         GROUP BY category, district, channel, priority, depot, link",
        packed(backend, "entry", ',')
    );
    sqlx::query(&reports).bind(bucket).bind(start).bind(end).execute(&mut *conn).await?;
    for (event, column, condition, rest) in EVENTS {
        let orders = format!(
            "INSERT INTO stat_orders (bucket, event, category, district, depot, priority, channel, entries)
             SELECT $1, '{event}', category, district, depot, priority, channel, {}
             FROM (SELECT o.category, o.district, o.depot, o.priority,
                          COALESCE((SELECT f.channel FROM reports f
                                    WHERE f.work_order_id = o.id AND f.order_link = 'opened' LIMIT 1), '') AS channel,
                          {}{rest} AS entry
                   FROM work_orders o
                   WHERE {condition} AND o.{column} >= $2 AND o.{column} < $3) AS happened
             GROUP BY category, district, depot, priority, channel",
            packed(backend, "entry", ','),
            hour_in_bucket(&format!("o.{column}")),
        );
        sqlx::query(&orders).bind(bucket).bind(start).bind(end).execute(&mut *conn).await?;
    }
    Ok(())
}
