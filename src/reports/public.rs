//! What a report's public status page may show (P13): status, category, place, the public
//! copies of its photos (faces and plates obscured, once they may be seen; issue 22) and the
//! timeline of its work order, found by the page's unguessable token. No reporter, no
//! comments, no staff names, no other report's text.

use sqlx::{AnyConnection, Row};

use crate::public_copies::{self, State};

pub struct PublicReport {
    pub reference: String,
    pub status: String,
    pub category: Option<String>,
    pub district: Option<String>,
    /// Where the problem is (a public place, shown on the page's map).
    pub lat: f64,
    pub lon: f64,
    pub created_at: i64,
    pub photos: Vec<PublicPhoto>,
    pub after_photo: Option<PublicPhoto>,
    pub reason: Option<String>,
    pub forwarded_to: Option<String>,
    /// (kind, at) of the order's public steps, oldest first.
    pub timeline: Vec<(String, i64)>,
}

/// A photo as the public may see it. A hidden photo is left out altogether.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicPhoto {
    /// Its public copy may be shown (`/photos/{token}`).
    Shown(String),
    /// Being checked for faces and plates, or waiting for a staff member's approval.
    Checking,
}

impl PublicPhoto {
    /// How the photo stored under `token` may appear; `None` when it is hidden.
    async fn of_token(conn: &mut AnyConnection, token: String) -> sqlx::Result<Option<PublicPhoto>> {
        Ok(match public_copies::state_of(conn, &token).await? {
            Some(State::Public) => Some(PublicPhoto::Shown(token)),
            Some(State::Hidden) => None,
            Some(State::Checking | State::Waiting) | None => Some(PublicPhoto::Checking),
        })
    }
}

/// The order events a citizen may see.
const PUBLIC_KINDS: &str = "'opened', 'duplicate_linked', 'accept', 'start', 'done', 'reject', 'forward', 'reopen'";

pub async fn by_token(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<PublicReport>> {
    let row = sqlx::query(
        "SELECT r.id, r.reference, r.status, r.category, r.district, r.lat, r.lon, r.created_at, r.work_order_id,
                r.forwarded_to AS report_forwarded, o.after_photo, o.reason, o.forwarded_to AS order_forwarded
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id WHERE r.public_token = $1",
    )
    .bind(token)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let report_id: i64 = row.try_get("id")?;
    let order_id: Option<i64> = row.try_get("work_order_id")?;
    let tokens: Vec<String> =
        sqlx::query_scalar("SELECT token FROM photos WHERE report_id = $1 AND token IS NOT NULL ORDER BY id")
            .bind(report_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut photos = Vec::with_capacity(tokens.len());
    for token in tokens {
        photos.extend(PublicPhoto::of_token(conn, token).await?);
    }
    let mut timeline = Vec::new();
    if let Some(order_id) = order_id {
        // The report's own steps (opened, linked: wherever they happened, also on an order it
        // was merged from) and its current order's steps since the report came in. Another
        // citizen's report joining is not this citizen's business (P13).
        let created_at: i64 = row.try_get("created_at")?;
        let rows = sqlx::query(&format!(
            "SELECT kind, at FROM order_events
             WHERE (kind IN ('opened', 'duplicate_linked') AND report_id = $2)
                OR (work_order_id = $1 AND kind IN ({PUBLIC_KINDS}) AND kind NOT IN ('opened', 'duplicate_linked')
                    AND at >= $3)
             ORDER BY at, id"
        ))
        .bind(order_id)
        .bind(report_id)
        .bind(created_at)
        .fetch_all(&mut *conn)
        .await?;
        for event in rows {
            timeline.push((event.try_get("kind")?, event.try_get("at")?));
        }
    }
    let status: String = row.try_get("status")?;
    let status_done = status == "done";
    let forwarded: Option<String> = row.try_get("order_forwarded")?;
    let report_forwarded: Option<String> = row.try_get("report_forwarded")?;
    Ok(Some(PublicReport {
        reference: row.try_get("reference")?,
        reason: row.try_get::<Option<String>, _>("reason")?.filter(|_| status == "rejected"),
        forwarded_to: forwarded.or(report_forwarded).filter(|_| status == "forwarded"),
        status,
        category: row.try_get("category")?,
        district: row.try_get("district")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        created_at: row.try_get("created_at")?,
        photos,
        after_photo: match row.try_get::<Option<String>, _>("after_photo")?.filter(|_| status_done) {
            Some(token) => PublicPhoto::of_token(conn, token).await?,
            None => None,
        },
        timeline,
    }))
}
