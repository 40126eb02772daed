//! Reports: what a citizen reported, where, and how far it has got, under a public reference
//! `M-<year>-<number>` counted per year. Nothing here holds the reporter's identity beyond the
//! internal reporter id.

mod corrections;
mod linked;
mod listing;
mod own;
pub mod photos;
pub mod public;
pub mod search;
pub mod search_walk;

pub use corrections::{corrections_upto, include_all_corrections, recategorise, training_corrections, Recategorised};
pub use linked::{follow_order, followers, in_order, move_to_order, Follower};
pub use listing::{for_staff, list, Listing, StaffReport};
pub use own::{find_for_reporter, forget_texts_of_reporter, of_reporter, recent_for_reporter, OwnReport, Summary};

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
