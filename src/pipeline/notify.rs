//! The notify job: sends a reporter's queued outbox messages, in order.
//!
//! For each message it checks, at send time, that the reporter has not sent STOP (P10) and that
//! the 24-hour window is open, switching to the configured template or recording the message
//! as undeliverable when it is not. Sandbox mode sends nothing outside and marks messages sent.
//! A passing failure stops the job so the remaining messages keep their order on retry; a
//! permanent one is recorded on the message and the rest go on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{retry, Pipeline, Sender};
use crate::channels::whatsapp::client::{SendError, PAIR_RATE_LIMIT, WINDOW_CLOSED};
use crate::channels::whatsapp::message::{window_open, Address, Body};
use crate::db::Tx;
use crate::outbox::{self, OutboxState};
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reporters;
use crate::texts::TextKey;
use crate::time::now_ms;

#[derive(Debug, Serialize, Deserialize)]
pub struct NotifyJob {
    pub outbox_ids: Vec<i64>,
}

impl NotifyJob {
    /// Enqueues the job in the reporter's series, so replies go out in the order decided.
    pub async fn enqueue(&self, queue: &Queue, tx: &mut Tx, reporter_id: i64, now_ms: i64) -> Result<i64, QueueError> {
        queue.enqueue(tx, JobKind::Notify, Some(&series(reporter_id)), self, now_ms).await
    }
}

/// The queue series of everything sent to one reporter, in order.
pub fn series(reporter_id: i64) -> String {
    format!("out:{reporter_id}")
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let NotifyJob { outbox_ids } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad notify payload: {e}")))?;
    for id in outbox_ids {
        send_one(pipeline, job, id).await?;
    }
    pipeline.chat_changed();
    Ok(())
}

async fn send_one(pipeline: &Pipeline, job: &ClaimedJob, id: i64) -> Result<(), JobFailure> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let Some(message) = outbox::load(&mut conn, id).await? else {
        return Ok(());
    };
    if message.state != OutboxState::Queued {
        return Ok(()); // already handled by an earlier run of this job
    }
    let recipient = reporters::recipient(&mut conn, &pipeline.vault, message.reporter_id).await.map_err(retry)?;
    let now = now_ms();
    if recipient.opted_out_at.is_some() && message.name != TextKey::Stopped.as_str() {
        let detail = "the reporter sent STOP";
        return Ok(outbox::mark_unsent(&mut conn, id, OutboxState::Suppressed, None, detail, now).await?);
    }
    let mut body: Body = serde_json::from_str(&message.body)
        .map_err(|e| JobFailure::Fatal(format!("outbox {id} has an unreadable body: {e}")))?;
    if !body.is_template() && !window_open(recipient.last_inbound_at, now) {
        match use_template(&mut conn, id).await? {
            Some(template) => body = template,
            None => return Ok(undeliverable_outside_window(&mut conn, id, now).await?),
        }
    }
    let client = match &pipeline.sender {
        Sender::Sandbox => {
            return Ok(outbox::mark_sent(&mut conn, id, &format!("sandbox.{id}"), now).await?);
        }
        Sender::Cloud(client) => client,
    };
    let address = match (recipient.phone, recipient.user_id) {
        (Some(phone), _) => Address::Phone(phone),
        (None, Some(user_id)) => Address::UserId(user_id),
        (None, None) => {
            let detail = "the reporter has no address";
            return Ok(outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, None, detail, now).await?);
        }
    };
    // The send can take seconds; hold no database connection meanwhile.
    drop(conn);
    let mut result = client.send(&body.to_cloud_json(&address)).await;
    let mut conn = pipeline.db.pool().acquire().await?;
    if let Err(SendError::WindowClosed { .. }) = &result {
        if !body.is_template() {
            if let Some(template) = use_template(&mut conn, id).await? {
                drop(conn);
                result = client.send(&template.to_cloud_json(&address)).await;
                conn = pipeline.db.pool().acquire().await?;
            }
        }
    }
    let now = now_ms();
    match result {
        Ok(provider_id) => {
            let provider_id = match provider_id {
                Some(wamid) => pipeline.vault.message_id_hash(&wamid),
                None => format!("unknown.{id}"),
            };
            outbox::mark_sent(&mut conn, id, &provider_id, now).await?;
            Ok(())
        }
        Err(SendError::WindowClosed { .. }) => Ok(undeliverable_outside_window(&mut conn, id, now).await?),
        Err(SendError::Permanent { code, detail }) => {
            tracing::warn!(outbox = id, code, %detail, "WhatsApp refused a message");
            Ok(outbox::mark_unsent(&mut conn, id, OutboxState::Failed, code, &detail, now).await?)
        }
        Err(SendError::Transient { code, detail, retry_after }) => {
            if job.is_last_attempt() {
                outbox::mark_unsent(&mut conn, id, OutboxState::Failed, code, &detail, now).await?;
            } else {
                outbox::record_error(&mut conn, id, code, &detail).await?;
            }
            let after = match code {
                // Per-user pair limit: Meta asks for 4^n seconds.
                Some(PAIR_RATE_LIMIT) => Some(Duration::from_secs(4u64.saturating_pow(job.attempt.min(8)))),
                _ => retry_after,
            };
            Err(JobFailure::Retry { reason: format!("outbox {id}: {detail}"), after })
        }
    }
}

/// Swaps the message for its template, if one is configured, and returns it.
async fn use_template(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<Body>, JobFailure> {
    if !outbox::switch_to_template(conn, id).await? {
        return Ok(None);
    }
    let message = outbox::load(conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    let body = serde_json::from_str(&message.body)
        .map_err(|e| JobFailure::Fatal(format!("outbox {id} has an unreadable template: {e}")))?;
    Ok(Some(body))
}

async fn undeliverable_outside_window(conn: &mut sqlx::AnyConnection, id: i64, now: i64) -> sqlx::Result<()> {
    let detail = "outside the 24-hour window and no template is configured for this message";
    outbox::mark_unsent(conn, id, OutboxState::Undeliverable, Some(WINDOW_CLOSED), detail, now).await
}
