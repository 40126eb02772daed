//! A reporter's own reports: what STATUS and an access request show them (P9, P13: never
//! anyone else's), and forgetting what they wrote (erasure).

use meldeweg_workers::status::ReportStatus;
use meldeweg_workers::Reference;
use sqlx::{AnyConnection, Row};

use super::ReportError;

/// Removes what reporter `reporter_id` wrote or gave with their reports (descriptions, place
/// names, a contact, and their words in the search index); returns how many reports changed
/// (erasure, P9).
pub async fn forget_texts_of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<u64> {
    super::search::forget_texts_of_reporter(&mut *conn, reporter_id).await?;
    let done = sqlx::query(
        "UPDATE reports SET description = NULL, location_label = NULL, contact_enc = NULL
         WHERE reporter_id = $1 AND (description IS NOT NULL OR location_label IS NOT NULL OR contact_enc IS NOT NULL)",
    )
    .bind(reporter_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// One of a reporter's reports as an access request shows it (P9): their own words and photos.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnReport {
    pub reference: String,
    pub created_at_ms: i64,
    pub status: ReportStatus,
    /// The address, the place's name from the chat, or the coordinates.
    pub place: String,
    pub description: Option<String>,
    /// The reporter's own photos of it …
    pub photos: i64,
    /// … and how many of them anyone with the status link can see (as public copies, faces and
    /// plates obscured; issue 22).
    pub public_photos: i64,
}

/// Reporter `reporter_id`'s reports, oldest first (others' reports of the same order are not
/// theirs and are not read).
pub async fn of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<Vec<OwnReport>> {
    let rows = sqlx::query(
        "SELECT r.reference, r.created_at, r.status, r.address, r.location_label, r.lat, r.lon, r.description,
                (SELECT COUNT(*) FROM photos f WHERE f.report_id = r.id AND f.reporter_id = r.reporter_id) AS photos,
                (SELECT COUNT(*) FROM photos f JOIN public_copies c ON c.token = f.token
                 WHERE f.report_id = r.id AND f.reporter_id = r.reporter_id AND c.state = 'public') AS public_photos
         FROM reports r WHERE r.reporter_id = $1 ORDER BY r.created_at, r.id",
    )
    .bind(reporter_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            let address: Option<String> = row.try_get("address")?;
            let label: Option<String> = row.try_get("location_label")?;
            let (lat, lon): (f64, f64) = (row.try_get("lat")?, row.try_get("lon")?);
            Ok(OwnReport {
                reference: row.try_get("reference")?,
                created_at_ms: row.try_get("created_at")?,
                status: ReportStatus::parse(&status).unwrap_or(ReportStatus::Received),
                place: address.or(label).unwrap_or_else(|| format!("{lat:.5}, {lon:.5}")),
                description: row.try_get("description")?,
                photos: row.try_get("photos")?,
                public_photos: row.try_get("public_photos")?,
            })
        })
        .collect()
}

/// A report as its reporter may see it in the chat.
#[derive(Debug, Clone)]
pub struct Summary {
    pub reference: Reference,
    pub status: ReportStatus,
    pub created_at_ms: i64,
}

fn summary_from_row(row: &sqlx::any::AnyRow) -> Result<Summary, ReportError> {
    let reference: String = row.try_get("reference")?;
    let status: String = row.try_get("status")?;
    Ok(Summary {
        status: ReportStatus::parse(&status)
            .ok_or_else(|| ReportError::UnknownStatus { reference: reference.clone(), status })?,
        reference: reference.parse().map_err(|_| ReportError::BadReference(reference))?,
        created_at_ms: row.try_get("created_at")?,
    })
}

/// One of the reporter's own reports; `None` for other people's reports too (P13).
pub async fn find_for_reporter(
    conn: &mut AnyConnection,
    reporter_id: i64,
    reference: Reference,
) -> Result<Option<Summary>, ReportError> {
    sqlx::query("SELECT reference, status, created_at FROM reports WHERE reference = $1 AND reporter_id = $2")
        .bind(reference.to_string())
        .bind(reporter_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(summary_from_row)
        .transpose()
}

/// The reporter's most recent reports, newest first.
pub async fn recent_for_reporter(
    conn: &mut AnyConnection,
    reporter_id: i64,
    limit: i64,
) -> Result<Vec<Summary>, ReportError> {
    sqlx::query(
        "SELECT reference, status, created_at FROM reports WHERE reporter_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(reporter_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(summary_from_row)
    .collect()
}
