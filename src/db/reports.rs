//! Reports: what a citizen reported, where, and how far it has got, under a public reference
//! `M-<year>-<number>` counted per year. Nothing here holds the reporter's identity beyond the
//! internal reporter id.

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
    /// The GPS position in the metadata of one of the report's photos.
    PhotoExif,
}

impl LocationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationSource::WhatsappLocation => "whatsapp_location",
            LocationSource::PhotoExif => "photo_exif",
        }
    }
}

/// How far a report has got. Later stages (triage, work orders) add their states here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Received and acknowledged with its reference.
    Received,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "received" => Some(ReportStatus::Received),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report {reference} has an unknown status {status:?}")]
    UnknownStatus { reference: String, status: String },
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
                              location_source, location_label, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
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
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, reference))
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
    /// Paths of the report's cleaned photos (`/photos/{token}`), in the order they arrived.
    pub photos: Vec<String>,
}

/// The most recent reports, newest first.
pub async fn list(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Listing>, ReportError> {
    let rows = sqlx::query(
        "SELECT r.id, r.reference, r.status, r.channel, r.created_at, r.description, r.lat, r.lon,
                r.location_source, r.location_label
         FROM reports r ORDER BY r.created_at DESC, r.id DESC LIMIT $1",
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
                photos: photos.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}
