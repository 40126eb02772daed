//! The erase job: a reporter's confirmed LÖSCHEN (PRIVACY P9). It runs in the reporter's
//! outbound series, after the notify job that carries the last message, so that message can
//! still be addressed; then `rights::erase` removes the personal data.

use serde::{Deserialize, Serialize};

use super::{retry, Pipeline};
use crate::db::Tx;
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::rights::erase::erase_reporter;
use crate::rights::RightsError;
use crate::time::now_ms;

#[derive(Debug, Serialize, Deserialize)]
pub struct EraseJob {
    pub reporter_id: i64,
}

impl EraseJob {
    /// Enqueues the erasure behind the reporter's queued replies.
    pub async fn enqueue(&self, queue: &Queue, tx: &mut Tx, now_ms: i64) -> Result<i64, QueueError> {
        let series = super::notify::series(crate::outbox::Addressee::Reporter(self.reporter_id));
        queue.enqueue(tx, JobKind::Erase, Some(&series), self, now_ms).await
    }
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let EraseJob { reporter_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad erase payload: {e}")))?;
    match erase_reporter(&pipeline.db, &pipeline.photos.store, reporter_id, "reporter", now_ms()).await {
        Ok(_) | Err(RightsError::UnknownReporter) => {}
        Err(error) => return Err(retry(error)),
    }
    super::complete(pipeline, job).await
}
