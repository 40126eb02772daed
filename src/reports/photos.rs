//! Cleaned photos: the token their files are stored under, their size and checksum, and what
//! was read from the original before it was discarded (position, capture time). They belong to
//! the reporter's draft until the report is created, then to the report.

use meldeweg_workers::LatLon;
use serde_json::json;
use sqlx::AnyConnection;

use super::closed_sql;
use crate::audit;

pub struct NewPhoto<'a> {
    /// `None` for a photo from the web form.
    pub reporter_id: Option<i64>,
    /// Set when the photo arrives with its report (the web form).
    pub report_id: Option<i64>,
    pub media_id: &'a str,
    /// What the channel declared; the stored file is always JPEG.
    pub mime_type: &'a str,
    /// The checksum the channel announced for the original, if any.
    pub sha256: Option<&'a str>,
    pub token: &'a str,
    pub width: u32,
    pub height: u32,
    pub clean_sha256: &'a str,
    pub gps: Option<LatLon>,
    pub taken_at: Option<&'a str>,
}

/// Whose a stored photo is, for staff access: `Some(depot)` when it belongs to a report (the
/// depot of the report's work order, `None` while it has none) or is the after-photo of a work
/// order; `None` when no report or order has it (a draft's photo, or a token nobody knows).
pub async fn owner_depot(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<Option<String>>> {
    let depot: Option<Option<String>> = sqlx::query_scalar(
        "SELECT o.depot FROM photos p JOIN reports r ON r.id = p.report_id
                LEFT JOIN work_orders o ON o.id = r.work_order_id
         WHERE p.token = $1
         UNION ALL
         SELECT depot FROM work_orders WHERE after_photo = $1",
    )
    .bind(token)
    .fetch_optional(conn)
    .await?;
    Ok(depot)
}

/// Records a cleaned photo, and in the audit log that it was cleaned (which file, and whether
/// a position or capture time was read from the original; not the values).
pub async fn insert(conn: &mut AnyConnection, photo: NewPhoto<'_>, now_ms: i64) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO photos (reporter_id, media_id, mime_type, sha256, token, width, height, clean_sha256,
                             gps_lat, gps_lon, taken_at, received_at, report_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(photo.reporter_id)
    .bind(photo.media_id)
    .bind(photo.mime_type)
    .bind(photo.sha256)
    .bind(photo.token)
    .bind(i64::from(photo.width))
    .bind(i64::from(photo.height))
    .bind(photo.clean_sha256)
    .bind(photo.gps.map(|p| p.lat()))
    .bind(photo.gps.map(|p| p.lon()))
    .bind(photo.taken_at)
    .bind(now_ms)
    .bind(photo.report_id)
    .fetch_one(&mut *conn)
    .await?;
    let cleaned = audit::Entry {
        kind: "photo.cleaned",
        report_id: photo.report_id,
        order_id: None,
        reporter_id: photo.reporter_id,
        actor: None,
        detail: json!({
            "photo": id,
            "clean_sha256": photo.clean_sha256,
            "width": photo.width,
            "height": photo.height,
            "gps_read": photo.gps.is_some(),
            "taken_at_read": photo.taken_at.is_some(),
        }),
    };
    audit::record(conn, cleaned, now_ms).await?;
    Ok(id)
}

/// Links photos recorded for `reporter_id`'s draft (or, with no reporter, for a form) to the
/// report created from them.
pub async fn attach_to_report(
    conn: &mut AnyConnection,
    report_id: i64,
    reporter_id: Option<i64>,
    photo_ids: &[i64],
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut attached = Vec::with_capacity(photo_ids.len());
    for photo_id in photo_ids {
        let result = sqlx::query(
            "UPDATE photos SET report_id = $1
             WHERE id = $2 AND report_id IS NULL AND (reporter_id = $3 OR (reporter_id IS NULL AND $3 IS NULL))",
        )
        .bind(report_id)
        .bind(photo_id)
        .bind(reporter_id)
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() == 1 {
            attached.push(*photo_id);
        }
    }
    if attached.is_empty() {
        return Ok(());
    }
    let entry = audit::Entry {
        kind: "report.photos_attached",
        report_id: Some(report_id),
        order_id: None,
        reporter_id,
        actor: None,
        detail: json!({ "photos": attached }),
    };
    audit::record(conn, entry, now_ms).await
}

/// Reporter `reporter_id`'s photos that may go now (erasure, P9): in no report (an unfinished
/// draft) or in a closed one; their ids and file tokens.
pub async fn erasable_of_reporter(
    conn: &mut AnyConnection,
    reporter_id: i64,
) -> sqlx::Result<Vec<(i64, Option<String>)>> {
    sqlx::query_as(&format!(
        "SELECT f.id, f.token FROM photos f LEFT JOIN reports r ON r.id = f.report_id
         WHERE f.reporter_id = $1 AND (f.report_id IS NULL OR {}) ORDER BY f.id",
        closed_sql()
    ))
    .bind(reporter_id)
    .fetch_all(conn)
    .await
}

/// Deletes photo row `id` (its files are gone already); returns whether there was one.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> sqlx::Result<bool> {
    Ok(sqlx::query("DELETE FROM photos WHERE id = $1").bind(id).execute(conn).await?.rows_affected() == 1)
}

/// How many photos of reporter `reporter_id` are kept (those of open work orders).
pub async fn count_of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE reporter_id = $1")
        .bind(reporter_id)
        .fetch_one(conn)
        .await?;
    Ok(count as u64)
}

/// Which of `tokens` name a stored photo (the rest are files without a row).
pub async fn known_tokens(
    conn: &mut AnyConnection,
    tokens: &[String],
) -> sqlx::Result<std::collections::HashSet<String>> {
    if tokens.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=tokens.len()).map(|n| format!("${n}")).collect();
    let sql = format!("SELECT token FROM photos WHERE token IN ({})", placeholders.join(", "));
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for token in tokens {
        query = query.bind(token);
    }
    Ok(query.fetch_all(conn).await?.into_iter().collect())
}
