//! The pipeline: what happens to a citizen's report, whatever channel it came on. Every step
//! loads what it needs, calls a pure stage in `meldeweg-workers`, and writes the result in one
//! transaction; the queue carries the work from one step to the next.
//!
//! ingress — what a channel received, stored once with its intake job (group commit)
//! intake  — a message through the dialogue (a photo first through `photo`), or a form's whole
//!           report, into a report with its photos and triage job (`create_report`)
//! triage  — a new report placed, routed, and opened as a work order or joined to one
//! updates — the changes staff make to work orders, and what the citizens of each report hear
//! replies — reply intents in the outbox, one notify job per citizen and step
//! notify  — queued replies handed to the citizen's channel, which renders and sends them
//! erase   — a reporter's confirmed erasure request, after their last reply went out (P9)
//! photo   — every photo fetched or taken with its request, cleaned and stored; uploads on the
//!           lower-priority threads of `niced`
//!
//! The pipeline knows channels only as `channel::MessageSource` and `channel::ReplySender`,
//! found by name in `channel::Channels`.

pub mod channel;
pub mod erase;
pub mod forward;
pub mod ingress;
pub mod intake;
pub mod niced;
pub mod notify;
pub mod photo;
pub mod photo_url;
pub mod recheck;
pub mod replies;
pub mod triage;
pub mod updates;

use std::sync::Arc;

use meldeweg_workers::conversation::Lang;
use tokio::sync::watch;

use crate::config::SlaSettings;
use crate::crypto::Vault;
use crate::db::Db;
use crate::queue::{ClaimedJob, JobFailure, JobHandler, JobKind, Queue, QueueError};
use crate::service_hours::ServiceHours;
use crate::texts::Texts;
use crate::town::Municipality;
pub use channel::Channels;

/// Everything the steps share. Built once at start-up.
pub struct Pipeline {
    pub db: Db,
    pub queue: Queue,
    pub vault: Vault,
    pub texts: Arc<Texts>,
    /// The channels, by name.
    pub channels: Channels,
    /// Where channels hand over what they received.
    pub ingress: ingress::Ingress,
    pub photos: photo::PhotoStage,
    pub municipality: Municipality,
    pub draft_ttl_ms: i64,
    pub sla: SlaSettings,
    /// The Bauhof's working hours, when configured (P14).
    pub service_hours: Option<ServiceHours>,
    /// `public_url` without its trailing slash.
    pub public_base: String,
    /// Bumped whenever what a citizen sees may have changed (a reply queued or sent), so a
    /// channel that shows conversations live can look again at once.
    pub conversation_changes: watch::Sender<u64>,
}

impl Pipeline {
    /// The public status page of the report with this token, in the citizen's language.
    pub fn status_link(&self, public_token: &str, lang: Lang) -> String {
        match lang {
            Lang::De => format!("{}/m/{public_token}", self.public_base),
            Lang::En => format!("{}/m/{public_token}?lang=en", self.public_base),
        }
    }

    pub(crate) fn chat_changed(&self) {
        self.conversation_changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl JobHandler for Pipeline {
    async fn run(&self, job: &ClaimedJob) -> Result<(), JobFailure> {
        match job.kind {
            JobKind::Intake => intake::run(self, job).await,
            JobKind::Triage => triage::run(self, job).await,
            JobKind::Notify => notify::run(self, job).await,
            JobKind::Erase => erase::run(self, job).await,
            JobKind::PhotoUrl => photo_url::run(self, job).await,
            JobKind::Forward => forward::run_forward(self, job).await,
            JobKind::Follow => forward::run_follow(self, job).await,
        }
    }
}

/// Finishes a job whose work was already done.
async fn complete(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let mut tx = pipeline.db.begin().await?;
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

/// Database and queue trouble is passing: the job runs again after backoff.
fn retry(error: impl std::fmt::Display) -> JobFailure {
    JobFailure::Retry { reason: error.to_string(), after: None }
}

impl From<sqlx::Error> for JobFailure {
    fn from(error: sqlx::Error) -> Self {
        retry(error)
    }
}

impl From<QueueError> for JobFailure {
    fn from(error: QueueError) -> Self {
        retry(error)
    }
}

impl From<crate::reports::ReportError> for JobFailure {
    fn from(error: crate::reports::ReportError) -> Self {
        retry(error)
    }
}
