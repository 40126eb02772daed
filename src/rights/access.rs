//! Access (Art. 15 DSGVO, PRIVACY P9): everything Meldeweg stores about one reporter, read in
//! one place so the chat answer to AUSKUNFT and the staff page for a letter show the same.
//!
//! It covers the reporter row (first contact, notice version, STOP), each of their reports with
//! their own words, place and photo count, an unfinished draft, and how many messages went each
//! way. Reports of others that joined the same work order are not theirs and are not read.

use meldeweg_workers::conversation::Lang;
use sqlx::{AnyConnection, Row};

use super::RightsError;
use crate::audit;
use crate::reporters::draft as conversations;
use crate::texts::{TextKey, Texts};
use crate::time::berlin_date;
use meldeweg_workers::status::ReportStatus;

/// WhatsApp's text limit is 4096 characters; a summary is split into messages below it.
const MAX_MESSAGE_CHARS: usize = 3900;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub first_contact_ms: i64,
    pub lang: Lang,
    /// The notice version received, and when.
    pub notice: Option<(String, i64)>,
    pub opted_out_at: Option<i64>,
    pub erased_at: Option<i64>,
    pub reports: Vec<ReportItem>,
    /// A report being put together: its words and photo count.
    pub draft: Option<(Option<String>, usize)>,
    pub messages_received: i64,
    pub messages_sent: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportItem {
    pub reference: String,
    pub created_at_ms: i64,
    pub status: ReportStatus,
    /// The address, the place's name from the chat, or the coordinates.
    pub place: String,
    pub description: Option<String>,
    pub photos: i64,
}

/// Reads what is stored about reporter `reporter_id`.
pub async fn summary(conn: &mut AnyConnection, reporter_id: i64) -> Result<Summary, RightsError> {
    let row = sqlx::query(
        "SELECT created_at, lang, notice_version, notice_sent_at, opted_out_at, erased_at,
                (SELECT COUNT(*) FROM inbound_events e WHERE e.reporter_id = p.id) AS received,
                (SELECT COUNT(*) FROM outbox m WHERE m.reporter_id = p.id AND m.state <> 'queued') AS sent
         FROM reporters p WHERE p.id = $1",
    )
    .bind(reporter_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(RightsError::UnknownReporter)?;
    let notice = match (row.try_get::<Option<String>, _>("notice_version")?, row.try_get("notice_sent_at")?) {
        (Some(version), Some(at)) => Some((version, at)),
        _ => None,
    };
    let reports = sqlx::query(
        "SELECT r.reference, r.created_at, r.status, r.address, r.location_label, r.lat, r.lon, r.description,
                (SELECT COUNT(*) FROM photos f WHERE f.report_id = r.id AND f.reporter_id = r.reporter_id) AS photos
         FROM reports r WHERE r.reporter_id = $1 ORDER BY r.created_at, r.id",
    )
    .bind(reporter_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(report_item)
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let draft = conversations::load(conn, reporter_id).await?;
    let draft = (!draft.is_empty()).then(|| (draft.description(), draft.photo_ids.len()));
    Ok(Summary {
        first_contact_ms: row.try_get("created_at")?,
        lang: Lang::from_code(row.try_get("lang")?).unwrap_or(Lang::De),
        notice,
        opted_out_at: row.try_get("opted_out_at")?,
        erased_at: row.try_get("erased_at")?,
        reports,
        draft,
        messages_received: row.try_get("received")?,
        messages_sent: row.try_get("sent")?,
    })
}

fn report_item(row: &sqlx::any::AnyRow) -> Result<ReportItem, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let address: Option<String> = row.try_get("address")?;
    let label: Option<String> = row.try_get("location_label")?;
    let (lat, lon): (f64, f64) = (row.try_get("lat")?, row.try_get("lon")?);
    Ok(ReportItem {
        reference: row.try_get("reference")?,
        created_at_ms: row.try_get("created_at")?,
        status: ReportStatus::parse(&status).unwrap_or(ReportStatus::Received),
        place: address.or(label).unwrap_or_else(|| format!("{lat:.5}, {lon:.5}")),
        description: row.try_get("description")?,
        photos: row.try_get("photos")?,
    })
}

/// Records in the audit log that reporter `reporter_id` was given access, how (`by`: "chat" or
/// "staff:<id>") and over how many reports (P4: the request was answered).
pub async fn record_given(
    conn: &mut AnyConnection,
    reporter_id: i64,
    by: &str,
    summary: &Summary,
    now_ms: i64,
) -> sqlx::Result<()> {
    let detail = serde_json::json!({ "reports": summary.reports.len() });
    audit::record(conn, audit::Entry::reporter("reporter.access_given", reporter_id, Some(by), detail), now_ms)
        .await
        .map(drop)
}

/// The summary as chat messages in `lang`, each within WhatsApp's limit; nothing is left out
/// (a very long text continues in the next message).
pub fn chat_messages(texts: &Texts, lang: Lang, summary: &Summary, now_ms: i64) -> Vec<String> {
    let date = |ms: i64| berlin_date(ms);
    let mut lines = vec![texts.render(lang, TextKey::AccessHeader, &[("date", &date(now_ms))])];
    lines.push(texts.render(lang, TextKey::AccessIdentity, &[("date", &date(summary.first_contact_ms))]));
    if let Some((version, at)) = &summary.notice {
        lines.push(texts.render(lang, TextKey::AccessNotice, &[("version", version), ("date", &date(*at))]));
    }
    if let Some(at) = summary.opted_out_at {
        lines.push(texts.render(lang, TextKey::AccessOptedOut, &[("date", &date(at))]));
    }
    let labels = texts.status_labels(lang);
    let quoted = |text: &Option<String>| text.as_deref().map_or_else(|| "–".to_string(), |t| format!("„{t}“"));
    for report in &summary.reports {
        let params = [
            ("reference", report.reference.as_str()),
            ("date", &date(report.created_at_ms)),
            ("status", labels.label(report.status)),
            ("address", &report.place),
            ("body", &quoted(&report.description)),
            ("count", &report.photos.to_string()),
        ];
        lines.push(texts.render(lang, TextKey::AccessReport, &params));
    }
    if let Some((text, photos)) = &summary.draft {
        let params = [("body", quoted(text)), ("count", photos.to_string())];
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lines.push(texts.render(lang, TextKey::AccessDraft, &params));
    }
    let received = summary.messages_received.to_string();
    let sent = summary.messages_sent.to_string();
    lines.push(texts.render(lang, TextKey::AccessMessages, &[("count", &received), ("sent", &sent)]));
    lines.push(texts.render(lang, TextKey::AccessFooter, &[]));
    split_messages(&lines, MAX_MESSAGE_CHARS)
}

/// Packs lines into messages of at most `max` characters, breaking a longer line itself.
fn split_messages(lines: &[String], max: usize) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current = String::new();
    let mut length = 0;
    for line in lines {
        for piece in pieces(line, max) {
            let piece_length = piece.chars().count();
            if length > 0 && length + 1 + piece_length > max {
                messages.push(std::mem::take(&mut current));
                length = 0;
            }
            if length > 0 {
                current.push('\n');
                length += 1;
            }
            current.push_str(&piece);
            length += piece_length;
        }
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

/// `line` in pieces of at most `max` characters.
fn pieces(line: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    chars.chunks(max.max(1)).map(|chunk| chunk.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_within_the_limit_and_lose_nothing() {
        let lines: Vec<String> = vec!["a".repeat(5), "b".repeat(25), "c".repeat(3), String::new()];
        let messages = split_messages(&lines, 10);
        assert!(messages.iter().all(|m| m.chars().count() <= 10), "{messages:?}");
        let joined: String = messages.concat().chars().filter(|c| *c != '\n').collect();
        assert_eq!(joined, format!("{}{}{}", "a".repeat(5), "b".repeat(25), "c".repeat(3)));
        assert_eq!(split_messages(&["äöü".to_string()], 2), vec!["äö".to_string(), "ü".to_string()]);
    }
}
