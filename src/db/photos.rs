//! Photos as a channel announced them: media id, declared type and checksum. They belong to
//! the reporter's draft until the report is created, then to the report.

use sqlx::AnyConnection;

pub struct NewPhoto<'a> {
    pub reporter_id: i64,
    pub media_id: &'a str,
    pub mime_type: &'a str,
    pub sha256: Option<&'a str>,
}

pub async fn insert(conn: &mut AnyConnection, photo: NewPhoto<'_>, now_ms: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO photos (reporter_id, media_id, mime_type, sha256, received_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(photo.reporter_id)
    .bind(photo.media_id)
    .bind(photo.mime_type)
    .bind(photo.sha256)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

/// Links the draft's photos to the report created from it.
pub async fn attach_to_report(
    conn: &mut AnyConnection,
    report_id: i64,
    reporter_id: i64,
    photo_ids: &[i64],
) -> sqlx::Result<()> {
    for photo_id in photo_ids {
        sqlx::query("UPDATE photos SET report_id = $1 WHERE id = $2 AND reporter_id = $3 AND report_id IS NULL")
            .bind(report_id)
            .bind(photo_id)
            .bind(reporter_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
