//! Category corrections by staff: the correction itself, and the training data the classifier
//! learns from (each report's latest correction up to the last `meldeweg classify retrain`).

use meldeweg_workers::category::Category;
use meldeweg_workers::Reference;
use sqlx::{AnyConnection, Row};

use super::ReportError;

/// What a re-categorisation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recategorised {
    /// The category it had before.
    Changed {
        from: String,
    },
    /// It already had that category: nothing recorded.
    Unchanged,
    NotFound,
}

/// Staff put a report into another category; the correction becomes training data. The change
/// and its record are one transaction.
pub async fn recategorise(
    conn: &mut AnyConnection,
    reference: Reference,
    category: Category,
    by: &str,
    now_ms: i64,
) -> Result<Recategorised, ReportError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let Some(row) = sqlx::query("SELECT id, category FROM reports WHERE reference = $1")
        .bind(reference.to_string())
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(Recategorised::NotFound);
    };
    let id: i64 = row.try_get("id")?;
    let from: String = row.try_get::<Option<String>, _>("category")?.unwrap_or_default();
    if from == category.id() {
        return Ok(Recategorised::Unchanged);
    }
    sqlx::query("UPDATE reports SET category = $1, category_source = 'staff', confidence = 1.0 WHERE id = $2")
        .bind(category.id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO category_corrections (report_id, from_category, to_category, corrected_by, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&from)
    .bind(category.id())
    .bind(by)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Recategorised::Changed { from })
}

const CORRECTIONS_UPTO: &str = "classifier.corrections_upto";

/// The corrections the current model learns from: each report's latest correction up to the
/// last retrain, with the report's description (gone once the description is deleted).
pub async fn training_corrections(conn: &mut AnyConnection) -> Result<Vec<(Category, String)>, ReportError> {
    let rows = sqlx::query(
        "SELECT c.to_category, r.description FROM category_corrections c JOIN reports r ON r.id = c.report_id
         WHERE c.id <= (SELECT value FROM counters WHERE name = $1) AND r.description IS NOT NULL
           AND c.id = (SELECT MAX(id) FROM category_corrections
                       WHERE report_id = c.report_id AND id <= (SELECT value FROM counters WHERE name = $1))
         ORDER BY c.id",
    )
    .bind(CORRECTIONS_UPTO)
    .fetch_all(conn)
    .await?;
    let mut corrections = Vec::with_capacity(rows.len());
    for row in &rows {
        let category: String = row.try_get("to_category")?;
        // A category a later configuration dropped teaches nothing.
        if let Some(category) = Category::from_id(&category) {
            corrections.push((category, row.try_get("description")?));
        }
    }
    Ok(corrections)
}

/// Up to which correction the model learns: it moves when `include_all_corrections` runs (on
/// any instance, or from the command line), so each process can follow it.
pub async fn corrections_upto(conn: &mut AnyConnection) -> Result<i64, ReportError> {
    let value: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = $1")
        .bind(CORRECTIONS_UPTO)
        .fetch_optional(conn)
        .await?;
    Ok(value.unwrap_or(0))
}

/// Lets the next model learn from every correction made so far; returns how many there are.
pub async fn include_all_corrections(conn: &mut AnyConnection) -> Result<i64, ReportError> {
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(id) FROM category_corrections").fetch_one(&mut *conn).await?;
    sqlx::query("UPDATE counters SET value = $1 WHERE name = $2")
        .bind(newest.unwrap_or(0))
        .bind(CORRECTIONS_UPTO)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM category_corrections").fetch_one(conn).await?)
}
