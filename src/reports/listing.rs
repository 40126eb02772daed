//! Reports as staff and operators see them: the most recent ones (`meldeweg reports list`) and
//! one by reference, with their photos and work order; no personal data of the reporter.

use meldeweg_workers::Reference;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::ReportError;

/// A report as staff and operators see it: no personal data of the reporter.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub reference: String,
    pub status: String,
    pub channel: String,
    pub created_at: String,
    pub description: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub location_source: String,
    pub location_label: Option<String>,
    pub category: Option<String>,
    pub confidence: Option<f64>,
    pub category_source: Option<String>,
    pub priority: Option<String>,
    pub district: Option<String>,
    /// The nearest address point, for the work order header.
    pub address: Option<String>,
    pub forwarded_to: Option<String>,
    /// The work order's number, and whether this report opened it or joined it as a duplicate.
    pub work_order: Option<String>,
    pub order_link: Option<String>,
    /// Paths of the report's cleaned photos (`/photos/{token}`), in the order they arrived.
    pub photos: Vec<String>,
}

/// The most recent reports, newest first.
pub async fn list(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Listing>, ReportError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM reports ORDER BY created_at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    listings(conn, &ids).await
}

/// A report as staff see it, with the depot of its work order (for the permission check).
pub struct StaffReport {
    pub listing: Listing,
    pub depot: Option<String>,
}

pub async fn for_staff(conn: &mut AnyConnection, reference: Reference) -> Result<Option<StaffReport>, ReportError> {
    let row = sqlx::query(
        "SELECT r.id, o.depot FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id WHERE r.reference = $1",
    )
    .bind(reference.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let depot = row.try_get("depot")?;
    let listing = listings(conn, &[row.try_get("id")?]).await?.pop();
    Ok(listing.map(|listing| StaffReport { listing, depot }))
}

/// The reports with these ids, in this order.
async fn listings(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<Listing>, ReportError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let rows = sqlx::query(&format!(
        "SELECT r.id, r.reference, r.status, r.channel, r.created_at, r.description, r.lat, r.lon,
                r.location_source, r.location_label, r.category, r.confidence, r.category_source, r.priority,
                r.district, r.address, r.forwarded_to, r.order_link, o.number
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id WHERE r.id IN ({id_list})"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let photo_rows = sqlx::query(&format!(
        "SELECT report_id, token FROM photos WHERE report_id IN ({id_list}) AND token IS NOT NULL ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut photos: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for row in &photo_rows {
        let token: String = row.try_get("token")?;
        photos.entry(row.try_get("report_id")?).or_default().push(format!("/staff/photos/{token}"));
    }
    let mut by_id = std::collections::HashMap::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let created_at_ms: i64 = row.try_get("created_at")?;
        by_id.insert(
            id,
            Listing {
                reference: row.try_get("reference")?,
                status: row.try_get("status")?,
                channel: row.try_get("channel")?,
                created_at: crate::time::rfc3339(created_at_ms),
                description: row.try_get("description")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                location_source: row.try_get("location_source")?,
                location_label: row.try_get("location_label")?,
                category: row.try_get("category")?,
                confidence: row.try_get("confidence")?,
                category_source: row.try_get("category_source")?,
                priority: row.try_get("priority")?,
                district: row.try_get("district")?,
                address: row.try_get("address")?,
                forwarded_to: row.try_get("forwarded_to")?,
                work_order: row.try_get("number")?,
                order_link: row.try_get("order_link")?,
                photos: photos.remove(&id).unwrap_or_default(),
            },
        );
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
