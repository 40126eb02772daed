//! Reports as their work order moves: they follow its status, move with it when it is merged,
//! and each report whose citizen can be told is a follower of the order.

use meldeweg_workers::conversation::Lang;
use meldeweg_workers::status::ReportStatus;
use sqlx::{AnyConnection, Row};

/// Every report of work order `order_id` takes the status `status` (the order moved).
pub async fn follow_order(conn: &mut AnyConnection, order_id: i64, status: ReportStatus) -> sqlx::Result<()> {
    sqlx::query("UPDATE reports SET status = $1 WHERE work_order_id = $2")
        .bind(status.as_str())
        .bind(order_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Moves every report of order `from` to order `to` as further reports of its problem, in
/// `status` (a merge).
pub async fn move_to_order(conn: &mut AnyConnection, from: i64, to: i64, status: ReportStatus) -> sqlx::Result<()> {
    sqlx::query("UPDATE reports SET work_order_id = $1, status = $2, order_link = 'duplicate' WHERE work_order_id = $3")
        .bind(to)
        .bind(status.as_str())
        .bind(from)
        .execute(conn)
        .await
        .map(drop)
}

/// Report `reference` of order `order_id`: its id and whether it opened the order.
pub async fn in_order(conn: &mut AnyConnection, reference: &str, order_id: i64) -> sqlx::Result<Option<(i64, bool)>> {
    let row = sqlx::query("SELECT id, order_link FROM reports WHERE reference = $1 AND work_order_id = $2")
        .bind(reference)
        .bind(order_id)
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        Ok((row.try_get("id")?, row.try_get::<Option<String>, _>("order_link")?.as_deref() == Some("opened")))
    })
    .transpose()
}

/// A report of a work order with someone to tell about it.
pub struct Follower {
    pub report_id: i64,
    pub reference: String,
    pub public_token: String,
    /// The reporter, or `None` for the contact given with the report.
    pub reporter_id: Option<i64>,
    pub lang: Lang,
}

/// The reports of order `order_id` whose citizen hears about it: a reporter, or a contact.
pub async fn followers(conn: &mut AnyConnection, order_id: i64) -> sqlx::Result<Vec<Follower>> {
    let rows = sqlx::query(
        "SELECT r.id, r.reference, r.public_token, r.reporter_id, COALESCE(p.lang, r.contact_lang) AS lang
         FROM reports r LEFT JOIN reporters p ON p.id = r.reporter_id
         WHERE r.work_order_id = $1 AND (r.reporter_id IS NOT NULL OR r.contact_enc IS NOT NULL)
         ORDER BY r.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let lang: Option<String> = row.try_get("lang")?;
            Ok(Follower {
                report_id: row.try_get("id")?,
                reference: row.try_get("reference")?,
                public_token: row.try_get::<Option<String>, _>("public_token")?.unwrap_or_default(),
                reporter_id: row.try_get("reporter_id")?,
                lang: lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De),
            })
        })
        .collect()
}
