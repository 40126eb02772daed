//! Reports: what a citizen reported, where, and how far it has got, under a public reference
//! `M-<year>-<number>` counted per year. Nothing here holds the reporter's identity beyond the
//! internal reporter id.

pub mod photos;
pub mod public;

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{Classification, Priority};
use meldeweg_workers::conversation::{CategorySource, Lang};
use meldeweg_workers::{LatLon, Reference};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::audit;
use crate::crypto::Vault;
use meldeweg_workers::status::ReportStatus;

/// Where a report's location came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// A location the citizen shared in a chat.
    SharedLocation,
    /// The GPS position in the metadata of one of the report's photos, confirmed by the citizen.
    PhotoExif,
    /// An address written in the text, found in the street gazetteer.
    Address,
    /// A pin set on the web form's map, or the device position the browser gave it.
    MapPin,
}

impl LocationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationSource::SharedLocation => "shared_location",
            LocationSource::PhotoExif => "photo_exif",
            LocationSource::Address => "address",
            LocationSource::MapPin => "map_pin",
        }
    }
}

/// SQL: the report `r` is closed, nothing more will be done with it (`ReportStatus::CLOSED`);
/// retention and erasure count from then.
pub fn closed_sql() -> String {
    let statuses: Vec<String> = ReportStatus::CLOSED.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("r.status IN ({})", statuses.join(", "))
}

/// SQL: when a closed report `r` closed: its work order's closing time, or (no order) when
/// triage decided. Needs `o` joined as the report's work order (LEFT JOIN).
pub const CLOSED_AT_SQL: &str = "COALESCE(o.closed_at, r.triaged_at, r.created_at)";

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
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

pub struct NewReport<'a> {
    pub reporter_id: Option<i64>,
    /// The name of the channel it came on.
    pub channel: &'a str,
    pub description: Option<&'a str>,
    pub location: LatLon,
    pub location_source: LocationSource,
    pub location_label: Option<&'a str>,
    pub classification: &'a Classification,
    pub category_source: CategorySource,
    /// Where the report's updates go when it has no reporter (a web-form e-mail address),
    /// sealed, and the language to write in.
    pub contact: Option<(Vec<u8>, Lang)>,
    /// The token of its status page, when the channel's message decides it (a form sent twice
    /// finds its report); a random one otherwise.
    pub public_token: Option<&'a str>,
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
                              category, confidence, category_source, priority, danger, public_token,
                              contact_enc, contact_lang)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
    )
    .bind(reference.to_string())
    .bind(report.reporter_id)
    .bind(report.channel)
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
    .bind(report.public_token.map_or_else(crate::secrets::random_hex128, str::to_string))
    .bind(report.contact.as_ref().map(|(sealed, _)| sealed.clone()))
    .bind(report.contact.as_ref().map(|(_, lang)| lang.code()))
    .fetch_one(&mut *conn)
    .await?;
    // What was received, not who sent it or what they wrote (those stay in the report).
    let received = audit::Entry {
        kind: "report.received",
        report_id: Some(id),
        order_id: None,
        reporter_id: report.reporter_id,
        actor: None,
        detail: serde_json::json!({
            "reference": reference.to_string(),
            "channel": report.channel,
            "category": report.classification.category.id(),
            "priority": report.classification.priority.as_str(),
            "location_source": report.location_source.as_str(),
        }),
    };
    audit::record(&mut *conn, received, now_ms).await?;
    Ok((id, reference))
}

/// The reference of the report whose status page has `token`.
pub async fn reference_by_token(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT reference FROM reports WHERE public_token = $1").bind(token).fetch_optional(conn).await
}

/// What triage needs to know about a report.
#[derive(Debug, Clone)]
pub struct ForTriage {
    /// Who to answer, in which language (none for reports from channels without a reporter).
    pub reporter: Option<(i64, Lang)>,
    pub reference: String,
    /// The token of the report's public status page.
    pub public_token: String,
    pub at: LatLon,
    pub category: Category,
    pub priority: Priority,
    pub triaged: bool,
    /// A web-form report whose citizen asked for updates by e-mail, and in which language.
    pub contact: Option<Lang>,
}

pub async fn load_for_triage(conn: &mut AnyConnection, id: i64) -> Result<Option<ForTriage>, ReportError> {
    let Some(row) = sqlx::query(
        "SELECT r.reporter_id, p.lang, r.reference, r.public_token, r.lat, r.lon, r.category, r.priority,
                r.triaged_at, CAST(CASE WHEN r.contact_enc IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_contact,
                r.contact_lang
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
        contact: (row.try_get::<i64, _>("has_contact")? == 1).then(|| {
            let lang: Option<String> = row.try_get("contact_lang").ok().flatten();
            lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De)
        }),
        public_token: row.try_get("public_token")?,
        reference,
    }))
}

/// The contact given with report `id` (no reporter: a web-form e-mail address), opened to send.
pub struct Contact {
    pub channel: String,
    pub address: String,
    pub lang: Lang,
}

/// The contact of report `id`, if it still has one.
pub async fn contact(conn: &mut AnyConnection, vault: &Vault, id: i64) -> Result<Option<Contact>, ReportError> {
    let Some(row) = sqlx::query("SELECT channel, contact_enc, contact_lang FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("contact_enc")? else { return Ok(None) };
    let lang: Option<String> = row.try_get("contact_lang")?;
    Ok(Some(Contact {
        channel: row.try_get("channel")?,
        address: vault.open_string(&sealed)?,
        lang: lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De),
    }))
}

/// Deletes report `id`'s contact if the report is closed: nothing more will be sent.
pub async fn forget_contact_if_closed(conn: &mut AnyConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE reports SET contact_enc = NULL WHERE id IN (SELECT r.id FROM reports r WHERE r.id = $1 AND {})",
        closed_sql()
    ))
    .bind(id)
    .execute(conn)
    .await
    .map(drop)
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

/// Removes what reporter `reporter_id` wrote or gave with their reports (descriptions, place
/// names, a contact); returns how many reports changed (erasure, P9).
pub async fn forget_texts_of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<u64> {
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
    /// The reporter's own photos of it.
    pub photos: i64,
}

/// Reporter `reporter_id`'s reports, oldest first (others' reports of the same order are not
/// theirs and are not read).
pub async fn of_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<Vec<OwnReport>> {
    let rows = sqlx::query(
        "SELECT r.reference, r.created_at, r.status, r.address, r.location_label, r.lat, r.lon, r.description,
                (SELECT COUNT(*) FROM photos f WHERE f.report_id = r.id AND f.reporter_id = r.reporter_id) AS photos
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
            })
        })
        .collect()
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
        photos.entry(row.try_get("report_id")?).or_default().push(format!("/photos/{token}"));
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
