//! Photos a report names by their address instead of bringing them (another system's photo
//! link): fetched later, through the queue, under the rules of `public_fetch`, cleaned like
//! every photo and added to the report. An address that breaks a rule, or whose file is not a
//! usable photo, is not retried: the report stands without it and its order's history says
//! why, for staff. A server that cannot be reached is tried again with backoff. The job waits
//! until triage has placed the report, so that a note has its order.

use serde::{Deserialize, Serialize};

use super::intake::new_photo;
use super::photo::PhotoOutcome;
use super::{complete, Pipeline};
use crate::db::Tx;
use crate::orders::events::{self, EventKind, NewEvent};
use crate::public_fetch::{self, FetchError, Rules};
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reports::photos;
use crate::time::now_ms;
use meldeweg_workers::message::MediaRef;

/// Most addresses one report may name.
pub const MAX_URLS: usize = 5;
/// How long to wait for triage before looking again, and how often (then it goes ahead: the
/// notes then have no order to go to).
const WAIT_FOR_TRIAGE_MS: i64 = 2_000;
const MAX_WAITS: u32 = 300;

#[derive(Debug, Serialize, Deserialize)]
pub struct PhotoUrlJob {
    pub report_id: i64,
    pub urls: Vec<String>,
    /// `host:port` pairs that may be reached over http whatever their address.
    pub plain_hosts: Vec<String>,
    /// How often it found the report not yet placed.
    #[serde(default)]
    pub waited: u32,
}

impl PhotoUrlJob {
    pub async fn enqueue(&self, queue: &Queue, tx: &mut Tx, now_ms: i64) -> Result<i64, QueueError> {
        queue.enqueue(tx, JobKind::PhotoUrl, None, self, now_ms).await
    }
}

/// What became of one address.
enum Fetched {
    Added,
    /// Not added, and why (for the note).
    Left(String),
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let PhotoUrlJob { report_id, urls, plain_hosts, waited } =
        job.payload().map_err(|e| JobFailure::Fatal(format!("bad photo_url payload: {e}")))?;
    let report: Option<(Option<i64>, Option<i64>)> = {
        let mut conn = pipeline.db.pool().acquire().await?;
        sqlx::query_as("SELECT work_order_id, triaged_at FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(&mut *conn)
            .await?
    };
    let Some((order_id, triaged_at)) = report else { return complete(pipeline, job).await };
    if triaged_at.is_none() && waited < MAX_WAITS {
        // Not placed yet: looked at again in a moment, in a fresh job that has all its tries.
        let mut tx = pipeline.db.begin().await?;
        let again = PhotoUrlJob { report_id, urls, plain_hosts, waited: waited + 1 };
        pipeline
            .queue
            .enqueue_at(&mut tx, JobKind::PhotoUrl, None, &again, now_ms() + WAIT_FOR_TRIAGE_MS, now_ms())
            .await?;
        pipeline.queue.complete_in(&mut tx, job).await?;
        tx.commit().await?;
        return Ok(());
    }
    let rules = Rules { plain_hosts, max_bytes: pipeline.photos.limits.max_input_bytes };
    let mut notes = Vec::new();
    for (place, url) in urls.iter().take(MAX_URLS).enumerate() {
        match add(pipeline, report_id, place, url, &rules, job).await? {
            Fetched::Added => {}
            Fetched::Left(reason) => notes.push(format!("Foto von {url} nicht übernommen: {reason}")),
        }
    }
    let mut tx = pipeline.db.begin().await?;
    if let Some(order_id) = order_id {
        for note in &notes {
            let event = NewEvent { detail: Some(note), ..NewEvent::system(order_id, report_id, EventKind::Comment) };
            events::insert(tx.conn(), event, now_ms()).await?;
        }
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

/// Fetches `url` (the report's `place`-th), cleans it and adds it to the report, unless an
/// earlier run did; a server that cannot be reached is retried (the whole job) unless this is
/// the last attempt.
async fn add(
    pipeline: &Pipeline,
    report_id: i64,
    place: usize,
    url: &str,
    rules: &Rules,
    job: &ClaimedJob,
) -> Result<Fetched, JobFailure> {
    let media_id = format!("url:{place}");
    let added: i64 = {
        let mut conn = pipeline.db.pool().acquire().await?;
        sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE report_id = $1 AND media_id = $2")
            .bind(report_id)
            .bind(&media_id)
            .fetch_one(&mut *conn)
            .await?
    };
    if added > 0 {
        return Ok(Fetched::Added);
    }
    let bytes = match public_fetch::fetch(url, rules).await {
        Ok(bytes) => bytes,
        Err(FetchError::Unreachable(reason)) if !job.is_last_attempt() => {
            return Err(JobFailure::Retry { reason, after: None });
        }
        Err(problem) => return Ok(Fetched::Left(problem.to_string())),
    };
    let photo = match pipeline.photos.clean_upload(bytes).await? {
        PhotoOutcome::Stored(photo) => photo,
        PhotoOutcome::Refused(problem) => return Ok(Fetched::Left(format!("kein verwendbares Foto ({problem:?})"))),
    };
    let now = now_ms();
    let media = MediaRef { id: media_id, claimed_type: Some("image/jpeg".into()), claimed_size: None, sha256: None };
    let mut row = new_photo(None, &media.id, &media, &photo, None);
    row.report_id = Some(report_id);
    row.taken_at = None;
    let mut tx = pipeline.db.begin().await?;
    photos::insert(tx.conn(), row, now).await?;
    pipeline
        .photos
        .record_copy(tx.conn(), &photo, now)
        .await
        .map_err(|e| JobFailure::Retry { reason: e.to_string(), after: None })?;
    tx.commit().await?;
    Ok(Fetched::Added)
}
