//! The job handlers: thin steps that load what they need, call a pure stage in
//! `meldeweg-workers`, and write the result in one transaction.
//!
//! intake — one inbound message through the conversation (workers::conversation); a photo
//!          message first goes through the photo stage (`photo`: fetched, cleaned, stored)
//! notify — queued outbox messages to WhatsApp (or the sandbox)

pub mod intake;
pub mod notify;
mod outgoing;
pub mod photo;

use std::collections::BTreeMap;

use tokio::sync::watch;

use crate::channels::whatsapp::client::CloudClient;
use crate::config::TemplateSettings;
use crate::crypto::Vault;
use crate::db::{Db, DbError};
use crate::queue::{ClaimedJob, JobFailure, JobHandler, JobKind, Queue, QueueError};
use crate::texts::Texts;

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
    pub templates: BTreeMap<String, TemplateSettings>,
    pub draft_ttl_ms: i64,
    /// Bumped whenever a conversation changes, so the sandbox chat can refresh at once.
    pub chat_updates: watch::Sender<u64>,
}

impl Pipeline {
    fn chat_changed(&self) {
        self.chat_updates.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl JobHandler for Pipeline {
    async fn run(&self, job: &ClaimedJob) -> Result<(), JobFailure> {
        match job.kind {
            JobKind::Intake => intake::run(self, job).await,
            JobKind::Notify => notify::run(self, job).await,
        }
    }
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
