//! Access (Art. 15 DSGVO, PRIVACY P9): everything Meldeweg stores about one reporter, read in
//! one place so the chat answer to AUSKUNFT and the staff page for a letter show the same.
//!
//! It covers the reporter row (first contact, notice version, STOP), each of their reports with
//! their own words, place and photo count, an unfinished draft, and how many messages went each
//! way. Reports of others that joined the same work order are not theirs and are not read.

use meldeweg_workers::conversation::Lang;
use sqlx::AnyConnection;

use super::RightsError;
use crate::audit;
use crate::reporters::{self, draft, Profile};
use crate::reports::{self, OwnReport};
use crate::texts::{TextKey, Texts};
use crate::time::berlin_date;

/// The longest chat message a summary is split into (below the messengers' own limits).
const MAX_MESSAGE_CHARS: usize = 3900;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub profile: Profile,
    pub reports: Vec<OwnReport>,
    /// A report being put together: its words and photo count.
    pub draft: Option<(Option<String>, usize)>,
}

/// Reads what is stored about reporter `reporter_id`.
pub async fn summary(conn: &mut AnyConnection, reporter_id: i64) -> Result<Summary, RightsError> {
    let profile = reporters::profile(conn, reporter_id).await?.ok_or(RightsError::UnknownReporter)?;
    let reports = reports::of_reporter(conn, reporter_id).await?;
    let draft = draft::load(conn, reporter_id).await?;
    let draft = (!draft.is_empty()).then(|| (draft.description(), draft.photo_ids.len()));
    Ok(Summary { profile, reports, draft })
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
    audit::record(conn, audit::Entry::reporter("reporter.access_given", reporter_id, Some(by), detail), now_ms).await
}

/// The summary as chat messages in `lang`, each within WhatsApp's limit; nothing is left out
/// (a very long text continues in the next message).
pub fn chat_messages(texts: &Texts, lang: Lang, summary: &Summary, now_ms: i64) -> Vec<String> {
    let date = |ms: i64| berlin_date(ms);
    let mut lines = vec![texts.render(lang, TextKey::AccessHeader, &[("date", &date(now_ms))])];
    let profile = &summary.profile;
    lines.push(texts.render(lang, TextKey::AccessIdentity, &[("date", &date(profile.first_contact_ms))]));
    if let Some((version, at)) = &profile.notice {
        lines.push(texts.render(lang, TextKey::AccessNotice, &[("version", version), ("date", &date(*at))]));
    }
    if let Some(at) = profile.opted_out_at {
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
            ("public", &report.public_photos.to_string()),
        ];
        lines.push(texts.render(lang, TextKey::AccessReport, &params));
    }
    if let Some((text, photos)) = &summary.draft {
        let params = [("body", quoted(text)), ("count", photos.to_string())];
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lines.push(texts.render(lang, TextKey::AccessDraft, &params));
    }
    let received = profile.messages_received.to_string();
    let sent = profile.messages_sent.to_string();
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
