//! The job handlers: thin steps that load what they need, call a pure stage in
//! `meldeweg-workers`, and write the result in one transaction.
//!
//! intake — one inbound message through the conversation (workers::conversation); a photo
//!          message first goes through the photo stage (`photo`: fetched, cleaned, stored)
//! triage — a new report placed, routed, and opened as a work order or joined to one
//!          (workers::geotag; `open_orders` keeps the duplicate index current)
//! notify — queued outbox messages to WhatsApp (or the sandbox)
//! erase  — a reporter's confirmed LÖSCHEN, after their last message went out (P9)
//! email  — an update by e-mail to a web-form reporter who gave an address (P12)

pub mod email;
pub mod erase;
pub mod intake;
pub mod notify;
mod open_orders;
pub(crate) mod outgoing;
pub mod photo;
pub mod triage;

use std::collections::BTreeMap;

use meldeweg_workers::conversation::Lang;
use tokio::sync::{watch, Mutex};

use crate::channels::whatsapp::client::CloudClient;
use crate::config::{SlaSettings, TemplateSettings};
use crate::crypto::Vault;
use crate::db::{Db, DbError};
use crate::queue::{ClaimedJob, JobFailure, JobHandler, JobKind, Queue, QueueError};
use crate::service_hours::ServiceHours;
use crate::texts::Texts;
use crate::town::Municipality;
pub use open_orders::OpenOrders;

/// Where outbound messages go.
pub enum Sender {
    /// Nowhere: they stay in the outbox and show on /sandbox.
    Sandbox,
    Cloud(CloudClient),
}

/// Everything the handlers share. Built once at start-up.
pub struct Pipeline {
    pub db: Db,
    pub queue: Queue,
    pub vault: Vault,
    pub texts: Texts,
    pub sender: Sender,
    pub photos: photo::PhotoStage,
    pub municipality: Municipality,
    pub open_orders: Mutex<OpenOrders>,
    pub templates: BTreeMap<String, TemplateSettings>,
    pub draft_ttl_ms: i64,
    pub sla: SlaSettings,
    /// E-mail for web-form reporters, when a server is configured (P12).
    pub mailer: Option<crate::channels::email::Mailer>,
    /// The Bauhof's working hours, when configured (P14).
    pub service_hours: Option<ServiceHours>,
    /// `public_url` without its trailing slash.
    pub public_base: String,
    /// Bumped whenever a conversation changes, so the sandbox chat can refresh at once.
    pub chat_updates: watch::Sender<u64>,
}

impl Pipeline {
    /// The public status page of the report with this token, in the reporter's language.
    pub fn status_link(&self, public_token: &str, lang: Lang) -> String {
        match lang {
            Lang::De => format!("{}/m/{public_token}", self.public_base),
            Lang::En => format!("{}/m/{public_token}?lang=en", self.public_base),
        }
    }

    /// A cleaned photo, as WhatsApp fetches it for an image message.
    pub fn photo_link(&self, token: &str) -> String {
        format!("{}/photos/{token}", self.public_base)
    }

    pub(crate) fn chat_changed(&self) {
        self.chat_updates.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl JobHandler for Pipeline {
    async fn run(&self, job: &ClaimedJob) -> Result<(), JobFailure> {
        match job.kind {
            JobKind::Intake => intake::run(self, job).await,
            JobKind::Triage => triage::run(self, job).await,
            JobKind::Notify => notify::run(self, job).await,
            JobKind::Erase => erase::run(self, job).await,
            JobKind::Email => email::run(self, job).await,
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

impl From<DbError> for JobFailure {
    fn from(error: DbError) -> Self {
        retry(error)
    }
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
