//! The statistics' roll-ups (migrations 0009 and 0010): per week-long bucket of UTC time, that
//! bucket's reports and work-order events, grouped by every combination of the figures' groups
//! and filters and packed by `entries`. Triggers mark a bucket dirty in the same transaction as
//! any change to its raw rows; `refresh` rebuilds the dirty buckets from the raw rows with the
//! same definitions as the plain recomputation, so what the statistics read from the roll-ups
//! is always what a recomputation from the raw rows would give.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::buckets::{cell, BUCKET_MS, ORDER_FIELDS, REPORT_FIELDS};
use super::entries::{Body, Writer};
use super::figures::Sla;
use super::load::{Event, OrderRow, EVENTS, ORDER_COLUMNS};
use crate::db::{Db, DbError};
use crate::time::now_ms;

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
            rebuild(tx.conn(), *bucket).await?;
        }
        tx.commit().await?;
        rebuilt += buckets.len();
    }
    Ok(rebuilt)
}

const HOUR_MS: i64 = 3_600_000;

/// Rewrites bucket `bucket` from the raw rows.
async fn rebuild(conn: &mut AnyConnection, bucket: i64) -> sqlx::Result<()> {
    let (start, end) = (bucket * BUCKET_MS, (bucket + 1) * BUCKET_MS);
    let reports = reports_of(conn, start, end).await?;
    let orders = orders_of(conn, start, end).await?;
    sqlx::query("DELETE FROM stat_buckets WHERE bucket = $1").bind(bucket).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO stat_buckets (bucket, reports, orders) VALUES ($1, $2, $3)")
        .bind(bucket)
        .bind(reports)
        .bind(orders)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The hour of `at` counted from `start` (both in the same bucket).
fn hour_from(start: i64, at: i64) -> u8 {
    ((at - start) / HOUR_MS) as u8
}

/// The packed report groups of the reports received in [start, end).
async fn reports_of(conn: &mut AnyConnection, start: i64, end: i64) -> sqlx::Result<Vec<u8>> {
    let rows = sqlx::query(
        "SELECT COALESCE(r.category, '') AS category, COALESCE(r.district, '') AS district,
                COALESCE(o.depot, '') AS depot, r.channel, COALESCE(r.priority, '') AS priority,
                COALESCE(r.order_link, '') AS link, r.created_at, r.lat, r.lon
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
         WHERE r.created_at >= $1 AND r.created_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let mut groups: BTreeMap<[String; REPORT_FIELDS], Body> = BTreeMap::new();
    for row in rows {
        let body =
            groups.entry(fields(&row, ["category", "district", "depot", "channel", "priority", "link"])?).or_default();
        let (lat, lon) = cell(row.try_get("lat")?, row.try_get("lon")?);
        body.hour(hour_from(start, row.try_get("created_at")?));
        body.signed(lat);
        body.signed(lon);
    }
    let mut writer = Writer::default();
    for (fields, body) in &groups {
        writer.group(fields, body);
    }
    Ok(writer.into_bytes())
}

/// The packed work-order groups of the orders opened, accepted, done or closed in [start, end).
async fn orders_of(conn: &mut AnyConnection, start: i64, end: i64) -> sqlx::Result<Vec<u8>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS}, o.depot, o.channel
         FROM work_orders o
         WHERE o.status <> 'merged' AND o.id IN (
             SELECT id FROM work_orders WHERE created_at >= $1 AND created_at < $2
             UNION ALL SELECT id FROM work_orders WHERE accepted_at >= $1 AND accepted_at < $2
             UNION ALL SELECT id FROM work_orders WHERE done_at >= $1 AND done_at < $2
             UNION ALL SELECT id FROM work_orders WHERE closed_at >= $1 AND closed_at < $2)"
    );
    let rows = sqlx::query(&sql).bind(start).bind(end).fetch_all(&mut *conn).await?;
    let mut groups: BTreeMap<[String; ORDER_FIELDS], [(u64, Body); 5]> = BTreeMap::new();
    for row in rows {
        let order = OrderRow::from_row(&row)?;
        let sections =
            groups.entry(fields(&row, ["category", "district", "depot", "channel", "priority"])?).or_default();
        for (event, at) in order.events().filter(|(_, at)| (start..end).contains(at)) {
            let (count, body) = &mut sections[event as usize];
            *count += 1;
            body.hour(hour_from(start, at));
            match event {
                Event::Accepted => body.signed(at - order.created_at),
                Event::Done => {
                    body.signed(at - order.created_at);
                    body.unsigned(u64::from(Sla::on_time(at, order.due_at)));
                }
                Event::Opened | Event::Rejected | Event::Forwarded => {}
            }
        }
    }
    let mut writer = Writer::default();
    for (fields, sections) in &groups {
        // Sections in the order of `EVENTS`, the order the reader walks.
        let mut body = Body::default();
        for event in EVENTS {
            let (count, section) = &sections[event as usize];
            body.section(*count, section);
        }
        writer.group(fields, &body);
    }
    Ok(writer.into_bytes())
}

/// The text columns `columns` of `row`.
fn fields<const N: usize>(row: &sqlx::any::AnyRow, columns: [&str; N]) -> sqlx::Result<[String; N]> {
    let mut fields = std::array::from_fn(|_| String::new());
    for (field, column) in fields.iter_mut().zip(columns) {
        *field = row.try_get(column)?;
    }
    Ok(fields)
}
