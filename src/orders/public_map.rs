//! What the public map (`/karte`) shows of the work orders: open ones and those done in the last
//! weeks, each with its category, status, place, the day it was reported and, where one may
//! be shown, the public copy of a photo (faces and plates obscured, approved where approval is
//! required). Nothing else: no report text, no reporter, no status page link (that is the
//! citizen's key), no staff names (P13).

use meldeweg_workers::category::Category;
use sqlx::{AnyConnection, Row};

use super::store::active_sql;

/// How long a finished order stays on the map.
pub const DONE_SHOWN_DAYS: i64 = 30;
/// Most orders one map answer carries, most recent first.
pub const MAX_SHOWN: i64 = 2_000;

#[derive(Debug, Clone)]
pub struct MapOrder {
    pub category: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    pub created_at: i64,
    pub done_at: Option<i64>,
    /// A photo token whose public copy may be shown.
    pub photo: Option<String>,
}

pub async fn shown(conn: &mut AnyConnection, category: Option<Category>, now_ms: i64) -> sqlx::Result<Vec<MapOrder>> {
    let since = now_ms - DONE_SHOWN_DAYS * 86_400_000;
    let active = active_sql();
    let category_clause = if category.is_some() { "AND o.category = $2" } else { "" };
    let sql = format!(
        "SELECT o.category, o.status, o.lat, o.lon, o.created_at, o.done_at,
                (SELECT p.token FROM photos p JOIN reports r ON r.id = p.report_id
                 JOIN public_copies c ON c.token = p.token
                 WHERE r.work_order_id = o.id AND c.state = 'public' ORDER BY p.id LIMIT 1) AS photo
         FROM work_orders o
         WHERE (o.status IN ({active}) OR (o.status = 'done' AND o.done_at >= $1)) {category_clause}
         ORDER BY o.created_at DESC, o.id DESC LIMIT {MAX_SHOWN}"
    );
    let mut query = sqlx::query(&sql).bind(since);
    if let Some(category) = category {
        query = query.bind(category.id());
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok(MapOrder {
                category: row.try_get("category")?,
                status: row.try_get("status")?,
                lat: row.try_get("lat")?,
                lon: row.try_get("lon")?,
                created_at: row.try_get("created_at")?,
                done_at: row.try_get("done_at")?,
                photo: row.try_get("photo")?,
            })
        })
        .collect()
}
