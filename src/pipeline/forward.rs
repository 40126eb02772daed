//! Reports another body handles, handed over to that body's own system when one is configured
//! (a county's reporting system): triage routes the report there and queues a `ForwardJob`;
//! it hands the report over (what anyone may see of it: place, category, description, the
//! public photo copy) and keeps the body's id in `forwarded_requests`; a `FollowJob` then looks
//! at the report there every so often and, once the body closes it, tells the citizen on their
//! own channel, as a finished order would. A body that cannot be reached delays both and loses
//! nothing: the hand-over is retried with the queue's backoff, and a look that fails is simply
//! made again later.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::channel::{ForwardError, Forwarder, Handover};
use super::replies::ReportUpdate;
use super::{complete, retry, Pipeline};
use crate::db::Tx;
use crate::outbox::Addressee;
use crate::public_copies;
use crate::queue::{ClaimedJob, JobFailure, JobKind, QueueError};
use crate::reports;
use crate::texts::TextKey;
use crate::time::now_ms;
use meldeweg_workers::category::Category;

/// When a hand-over that used up its tries is tried again.
const RETRY_LATER_MS: i64 = 3_600_000;

#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardJob {
    pub report_id: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FollowJob {
    pub report_id: i64,
}

impl ForwardJob {
    pub async fn enqueue(&self, pipeline: &Pipeline, tx: &mut Tx, now_ms: i64) -> Result<i64, QueueError> {
        pipeline.queue.enqueue(tx, JobKind::Forward, None, self, now_ms).await
    }
}

/// Queues the next look at `report_id` at its body, `forwarder.follow_every()` from now.
async fn follow_later(
    pipeline: &Pipeline,
    tx: &mut Tx,
    forwarder: &dyn Forwarder,
    report_id: i64,
    now: i64,
) -> Result<(), QueueError> {
    let at = now + i64::try_from(forwarder.follow_every().as_millis()).unwrap_or(i64::MAX / 2);
    pipeline.queue.enqueue_at(tx, JobKind::Follow, None, &FollowJob { report_id }, at, now).await.map(drop)
}

/// The body a report was forwarded to, and what it is given of the report.
async fn handover(pipeline: &Pipeline, report_id: i64) -> Result<Option<(String, Handover)>, JobFailure> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let row = sqlx::query(&format!(
        "SELECT r.reference, r.category, r.lat, r.lon, r.address, r.description, r.forwarded_to,
                    {} AS photo
             FROM reports r WHERE r.id = $1",
        public_copies::FIRST_PUBLIC_OF_REPORT
    ))
    .bind(report_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(body) = row.try_get::<Option<String>, _>("forwarded_to")? else { return Ok(None) };
    let category: Option<String> = row.try_get("category")?;
    let Some(category) = category.as_deref().and_then(Category::from_id) else { return Ok(None) };
    let photo: Option<String> = row.try_get("photo")?;
    let report = Handover {
        reference: row.try_get("reference")?,
        category,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        address: row.try_get("address")?,
        description: row.try_get("description")?,
        photo_url: photo.map(|token| public_copies::url(&pipeline.public_base, &token)),
    };
    Ok(Some((body, report)))
}

pub async fn run_forward(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let ForwardJob { report_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad forward payload: {e}")))?;
    let Some((body, report)) = handover(pipeline, report_id).await? else { return complete(pipeline, job).await };
    let Some(forwarder) = pipeline.channels.forwarder(&body) else { return complete(pipeline, job).await };
    let known: Option<String> = {
        let mut conn = pipeline.db.pool().acquire().await?;
        sqlx::query_scalar("SELECT remote_id FROM forwarded_requests WHERE report_id = $1 AND remote_id IS NOT NULL")
            .bind(report_id)
            .fetch_optional(&mut *conn)
            .await?
    };
    if known.is_some() {
        return complete(pipeline, job).await; // an earlier run handed it over
    }
    let remote_id = match forwarder.forward(&report).await {
        Ok(remote_id) => remote_id,
        // A body that stays down is tried again an hour later, for as long as it takes.
        Err(ForwardError::Transient(reason)) if job.is_last_attempt() => {
            tracing::warn!(%body, %reason, "a report could not be handed over; trying again in an hour");
            let mut tx = pipeline.db.begin().await?;
            let at = now_ms() + RETRY_LATER_MS;
            pipeline.queue.enqueue_at(&mut tx, JobKind::Forward, None, &ForwardJob { report_id }, at, now_ms()).await?;
            pipeline.queue.complete_in(&mut tx, job).await?;
            tx.commit().await?;
            return Ok(());
        }
        Err(ForwardError::Transient(reason)) => return Err(retry(reason)),
        Err(ForwardError::Refused(reason)) => return Err(JobFailure::Fatal(format!("{body} refused it: {reason}"))),
    };
    let now = now_ms();
    let mut tx = pipeline.db.begin().await?;
    sqlx::query(
        "INSERT INTO forwarded_requests (report_id, body, remote_id, forwarded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (report_id) DO UPDATE SET remote_id = excluded.remote_id",
    )
    .bind(report_id)
    .bind(&body)
    .bind(&remote_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    follow_later(pipeline, &mut tx, forwarder, report_id, now).await?;
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    tracing::info!(report = %report.reference, %body, "report handed over");
    Ok(())
}

pub async fn run_follow(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let FollowJob { report_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad follow payload: {e}")))?;
    let row = {
        let mut conn = pipeline.db.pool().acquire().await?;
        sqlx::query("SELECT body, remote_id, closed FROM forwarded_requests WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(&mut *conn)
            .await?
    };
    let Some(row) = row else { return complete(pipeline, job).await };
    let (body, remote_id, closed): (String, Option<String>, i64) =
        (row.try_get("body")?, row.try_get("remote_id")?, row.try_get("closed")?);
    let (Some(remote_id), Some(forwarder)) = (remote_id, pipeline.channels.forwarder(&body)) else {
        return complete(pipeline, job).await;
    };
    if closed != 0 {
        return complete(pipeline, job).await;
    }
    // Asked before the transaction opens: no connection waits on another body's server.
    let state = forwarder.state(&remote_id).await;
    let now = now_ms();
    let mut tx = pipeline.db.begin().await?;
    match state {
        Ok(state) => {
            sqlx::query(
                "UPDATE forwarded_requests SET closed = $1, notes = $2, checked_at = $3,
                        closed_at = CASE WHEN $1 = 1 THEN $3 ELSE closed_at END
                 WHERE report_id = $4",
            )
            .bind(i64::from(state.closed))
            .bind(state.notes.as_deref())
            .bind(now)
            .bind(report_id)
            .execute(tx.conn())
            .await?;
            if state.closed {
                tell_closed(pipeline, &mut tx, report_id, now).await?;
            } else {
                follow_later(pipeline, &mut tx, forwarder, report_id, now).await?;
            }
        }
        // A body that is down is looked at again later; the follow-up never runs out.
        Err(ForwardError::Transient(reason)) => {
            tracing::warn!(%body, %reason, "a forwarded report could not be looked at");
            follow_later(pipeline, &mut tx, forwarder, report_id, now).await?;
        }
        Err(ForwardError::Refused(reason)) => {
            tracing::warn!(%body, %reason, "the body no longer answers for a forwarded report");
        }
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

/// Tells whoever follows the report that the body closed it (the finished order's text).
async fn tell_closed(pipeline: &Pipeline, tx: &mut Tx, report_id: i64, now: i64) -> Result<(), JobFailure> {
    let report = reports::load_for_triage(tx.conn(), report_id).await.map_err(retry)?;
    let Some(report) = report else { return Ok(()) };
    let (to, lang) = match (report.reporter, report.contact) {
        (Some((reporter_id, lang)), _) => (Addressee::Reporter(reporter_id), lang),
        (None, Some(lang)) => (Addressee::ReportContact(report_id), lang),
        (None, None) => return Ok(()),
    };
    let link = pipeline.status_link(&report.public_token, lang);
    let params = [("reference", report.reference.as_str()), ("link", link.as_str())];
    let text = pipeline.texts.render(lang, TextKey::OrderDone, &params);
    let update = ReportUpdate { report_id, key: TextKey::OrderDone, text, params: &params, photo: None };
    Ok(update.send(pipeline, tx, to, lang, now).await?)
}
