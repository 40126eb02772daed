//! Reports: what a citizen reported, where, and how far it has got, under a public reference
//! `M-<year>-<number>` counted per year. Nothing here holds the reporter's identity beyond the
//! internal reporter id.

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{Classification, Priority};
use meldeweg_workers::conversation::{CategorySource, Lang};
use meldeweg_workers::{LatLon, Reference};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// The channel a report came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Whatsapp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
        }
    }
}

/// Where a report's location came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// A location the citizen shared in WhatsApp.
    WhatsappLocation,
    /// The GPS position in the metadata of one of the report's photos, confirmed by the citizen.
    PhotoExif,
    /// An address written in the text, found in the street gazetteer.
    Address,
}

impl LocationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationSource::WhatsappLocation => "whatsapp_location",
            LocationSource::PhotoExif => "photo_exif",
            LocationSource::Address => "address",
        }
    }
}

/// How far a report has got. The staff workflow adds the states of its work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Created; triage has not placed it yet.
    Received,
    /// Linked to an open work order (its own or one it duplicates).
    Open,
    /// Outside the municipality: kept, but no work order.
    OutsideArea,
    /// Passed on to another body (routing's `forward_to`).
    Forwarded,
}

impl ReportStatus {
    const ALL: [ReportStatus; 4] =
        [ReportStatus::Received, ReportStatus::Open, ReportStatus::OutsideArea, ReportStatus::Forwarded];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::Open => "open",
            ReportStatus::OutsideArea => "outside_area",
            ReportStatus::Forwarded => "forwarded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report {reference} has an unknown status {status:?}")]
    UnknownStatus { reference: String, status: String },
    #[error("report {reference} has an unreadable {field}: {value:?}")]
    Corrupt { reference: String, field: &'static str, value: String },
    #[error("stored reference {0:?} is malformed")]
    BadReference(String),
    #[error("the reference counter for {0} is exhausted")]
    CounterExhausted(u16),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

pub struct NewReport<'a> {
    pub reporter_id: Option<i64>,
    pub channel: Channel,
    pub description: Option<&'a str>,
    pub location: LatLon,
    pub location_source: LocationSource,
    pub location_label: Option<&'a str>,
    pub classification: &'a Classification,
    pub category_source: CategorySource,
}

/// Creates the report with the next reference of `year`.
pub async fn insert(
    conn: &mut AnyConnection,
    report: NewReport<'_>,
    year: u16,
    now_ms: i64,
) -> Result<(i64, Reference), ReportError> {
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO reference_counters (year, last_number) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last_number = reference_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *conn)
    .await?;
    let reference = u32::try_from(number)
        .ok()
        .and_then(|n| Reference::new(year, n).ok())
        .ok_or(ReportError::CounterExhausted(year))?;
    let id = sqlx::query_scalar(
        "INSERT INTO reports (reference, reporter_id, channel, description, lat, lon,
                              location_source, location_label, status, created_at,
                              category, confidence, category_source, priority, danger)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(reference.to_string())
    .bind(report.reporter_id)
    .bind(report.channel.as_str())
    .bind(report.description)
    .bind(report.location.lat())
    .bind(report.location.lon())
    .bind(report.location_source.as_str())
    .bind(report.location_label)
    .bind(ReportStatus::Received.as_str())
    .bind(now_ms)
    .bind(report.classification.category.id())
    .bind(report.classification.confidence)
    .bind(match report.category_source {
        CategorySource::Classifier => "classifier",
        CategorySource::Reporter => "reporter",
    })
    .bind(report.classification.priority.as_str())
    .bind(serde_json::to_string(&report.classification.danger).expect("a list of strings serialises"))
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, reference))
}

/// What triage needs to know about a report.
#[derive(Debug, Clone)]
pub struct ForTriage {
    /// Who to answer, in which language (none for reports from channels without a reporter).
    pub reporter: Option<(i64, Lang)>,
    pub reference: String,
    pub at: LatLon,
    pub category: Category,
    pub priority: Priority,
    pub triaged: bool,
}

pub async fn load_for_triage(conn: &mut AnyConnection, id: i64) -> Result<Option<ForTriage>, ReportError> {
    let Some(row) = sqlx::query(
        "SELECT r.reporter_id, p.lang, r.reference, r.lat, r.lon, r.category, r.priority, r.triaged_at
         FROM reports r LEFT JOIN reporters p ON p.id = r.reporter_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let reference: String = row.try_get("reference")?;
    let corrupt =
        |field: &'static str, value: String| ReportError::Corrupt { reference: reference.clone(), field, value };
    let (lat, lon): (f64, f64) = (row.try_get("lat")?, row.try_get("lon")?);
    let category: Option<String> = row.try_get("category")?;
    let category = category.unwrap_or_default();
    let priority: Option<String> = row.try_get("priority")?;
    let priority = priority.unwrap_or_default();
    let lang: Option<String> = row.try_get("lang")?;
    Ok(Some(ForTriage {
        reporter: row
            .try_get::<Option<i64>, _>("reporter_id")?
            .map(|id| (id, lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De))),
        at: LatLon::new(lat, lon).map_err(|_| corrupt("position", format!("{lat},{lon}")))?,
        category: Category::from_id(&category).ok_or_else(|| corrupt("category", category.clone()))?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("priority", priority.clone()))?,
        triaged: row.try_get::<Option<i64>, _>("triaged_at")?.is_some(),
        reference,
    }))
}

/// What triage decided for a report.
pub struct Triaged<'a> {
    pub status: ReportStatus,
    pub district: Option<&'a str>,
    pub address: Option<&'a str>,
    pub forwarded_to: Option<&'a str>,
    /// The work order and whether this report opened it (`opened`) or joined it (`duplicate`).
    pub order: Option<(i64, &'static str)>,
}

pub async fn record_triage(
    conn: &mut AnyConnection,
    id: i64,
    triaged: Triaged<'_>,
    now_ms: i64,
) -> Result<(), ReportError> {
    sqlx::query(
        "UPDATE reports SET status = $1, district = $2, address = $3, forwarded_to = $4, work_order_id = $5,
                            order_link = $6, triaged_at = $7
         WHERE id = $8",
    )
    .bind(triaged.status.as_str())
    .bind(triaged.district)
    .bind(triaged.address)
    .bind(triaged.forwarded_to)
    .bind(triaged.order.map(|(id, _)| id))
    .bind(triaged.order.map(|(_, link)| link))
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

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
    let rows = sqlx::query(
        "SELECT r.id, r.reference, r.status, r.channel, r.created_at, r.description, r.lat, r.lon,
                r.location_source, r.location_label, r.category, r.confidence, r.category_source, r.priority,
                r.district, r.address, r.forwarded_to, r.order_link, o.number
         FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id ORDER BY r.created_at DESC, r.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let photo_rows = sqlx::query(
        "SELECT p.report_id, p.token FROM photos p
         JOIN (SELECT id FROM reports ORDER BY created_at DESC, id DESC LIMIT $1) r ON r.id = p.report_id
         WHERE p.token IS NOT NULL ORDER BY p.id",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut photos: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for row in &photo_rows {
        let token: String = row.try_get("token")?;
        photos.entry(row.try_get("report_id")?).or_default().push(format!("/photos/{token}"));
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let created_at_ms: i64 = row.try_get("created_at")?;
            Ok(Listing {
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
            })
        })
        .collect()
}
