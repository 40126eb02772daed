//! The email job: one update to a web-form reporter who gave an address (PRIVACY P12) — the
//! acknowledgement or a change of status, the same words a chat reporter gets, in the language
//! they used on the form, with the status page's link and why they get the mail. The address is
//! opened from the report only to send, and deleted with the update that finds the report
//! closed; an address already gone means there is no one to tell any more. Each outcome is an
//! audit event (without the address).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::{complete, retry, Pipeline};
use crate::audit;
use crate::channels::email::EmailError;
use crate::db::Tx;
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reports;
use crate::texts::TextKey;
use crate::time::now_ms;
use meldeweg_workers::conversation::Lang;

#[derive(Debug, Serialize, Deserialize)]
pub struct EmailJob {
    pub report_id: i64,
    /// Which text this is (a key of messages.*.toml).
    pub key: String,
    /// The update, as a chat reporter would read it.
    pub text: String,
}

impl EmailJob {
    /// Enqueues the update in the report's series, so its mails go out in order.
    pub async fn enqueue(&self, queue: &Queue, tx: &mut Tx, now_ms: i64) -> Result<i64, QueueError> {
        queue.enqueue(tx, JobKind::Email, Some(&series(self.report_id)), self, now_ms).await
    }
}

/// The queue series of one report's e-mail updates.
fn series(report_id: i64) -> String {
    format!("mail:{report_id}")
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let EmailJob { report_id, key, text } =
        job.payload().map_err(|e| JobFailure::Fatal(format!("bad email payload: {e}")))?;
    let row = {
        let mut conn = pipeline.db.pool().acquire().await?;
        sqlx::query("SELECT reference, public_token, contact_email_enc, contact_lang FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(&mut *conn)
            .await?
    };
    let (Some(row), Some(mailer)) = (row, pipeline.mailer.as_ref()) else {
        return complete(pipeline, job).await; // no report, or e-mail switched off since
    };
    let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("contact_email_enc")? else {
        return complete(pipeline, job).await; // erased: no one to tell
    };
    let address = pipeline.vault.open_string(&sealed).map_err(|e| JobFailure::Fatal(e.to_string()))?;
    let reference: String = row.try_get("reference")?;
    let token: String = row.try_get("public_token")?;
    let lang: Option<String> = row.try_get("contact_lang")?;
    let lang = lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De);
    let link = pipeline.status_link(&token, lang);
    let subject = pipeline.texts.render(lang, TextKey::EmailSubject, &[("reference", &reference)]);
    let footer = pipeline.texts.render(lang, TextKey::EmailFooter, &[]);
    // Most updates name the status page already; the others get it here.
    let body =
        if text.contains(&link) { format!("{text}\n\n{footer}") } else { format!("{text}\n\n{link}\n\n{footer}") };
    let (kind, detail) = match mailer.send(&address, &subject, body).await {
        Ok(()) => ("email.sent", json!({ "message": key })),
        Err(EmailError::Transient(reason)) => return Err(retry(reason)),
        Err(error) => {
            tracing::warn!(report = %reference, %error, "an e-mail update could not be sent");
            ("email.refused", json!({ "message": key, "reason": error.to_string() }))
        }
    };
    let mut tx = pipeline.db.begin().await?;
    let entry =
        audit::Entry { kind, report_id: Some(report_id), order_id: None, reporter_id: None, actor: None, detail };
    audit::record(tx.conn(), entry, now_ms()).await?;
    // The last queued update of a closed report: there is nothing more to tell (P7).
    if !pipeline.queue.series_continues(&mut tx, &series(report_id), job).await? {
        reports::forget_contact_if_closed(tx.conn(), report_id).await?;
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}
