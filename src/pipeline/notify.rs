//! The notify job: sends one citizen's queued replies, in order, through their channel.
//!
//! For each reply it checks, at send time, that the citizen has not sent STOP (P10), opens
//! their address, and hands the reply intent to their channel, which renders it in its own
//! format and within its own rules (a reply window, a pre-approved form) and sends it. A passing
//! failure stops the job so the remaining replies keep their order on retry; a permanent one is
//! recorded on the reply and the rest go on. A contact given with one report is forgotten with
//! the last update of the closed report (P7).

use serde::{Deserialize, Serialize};

use super::channel::{Delivery, DeliveryError, Recipient, Sent};
use super::{retry, Pipeline};
use crate::db::Tx;
use crate::outbox::{self, Addressee, OutboxState};
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reporters::{self, ReporterError};
use crate::reports::{self, ReportError};
use crate::texts::TextKey;
use crate::time::now_ms;
use meldeweg_workers::conversation::Lang;

#[derive(Debug, Serialize, Deserialize)]
pub struct NotifyJob {
    pub outbox_ids: Vec<i64>,
}

impl NotifyJob {
    /// Enqueues the job in the series of replies to `to`, so they go out in the order decided.
    pub async fn enqueue(
        queue: &Queue,
        tx: &mut Tx,
        to: Addressee,
        outbox_ids: Vec<i64>,
        now_ms: i64,
    ) -> Result<i64, QueueError> {
        queue.enqueue(tx, JobKind::Notify, Some(&series(to)), &NotifyJob { outbox_ids }, now_ms).await
    }
}

/// The queue series of everything sent to one citizen, in order.
pub fn series(to: Addressee) -> String {
    match to {
        Addressee::Reporter(reporter_id) => format!("out:{reporter_id}"),
        Addressee::ReportContact(report_id) => format!("out:report:{report_id}"),
    }
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let NotifyJob { outbox_ids } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad notify payload: {e}")))?;
    let mut contact_of = None;
    for id in outbox_ids {
        if let Some(Addressee::ReportContact(report_id)) = send_one(pipeline, job, id).await? {
            contact_of = Some(report_id);
        }
    }
    pipeline.chat_changed();
    let Some(report_id) = contact_of else { return Ok(()) };
    // The last queued update of a closed report: there is nothing more to tell (P7).
    let mut tx = pipeline.db.begin().await?;
    if !pipeline.queue.series_continues(&mut tx, &series(Addressee::ReportContact(report_id)), job).await? {
        reports::forget_contact_if_closed(tx.conn(), report_id).await?;
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

/// Where a reply goes and whether it may: the citizen's channel, address and language.
struct Resolved {
    channel: String,
    to: Recipient,
    lang: Lang,
    opted_out: bool,
}

/// Sends outbox message `id` if it is still queued; returns whom it was for (`None` when the
/// message is gone, erased with its reporter).
async fn send_one(pipeline: &Pipeline, job: &ClaimedJob, id: i64) -> Result<Option<Addressee>, JobFailure> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let Some(message) = outbox::load(&mut conn, id).await? else {
        return Ok(None);
    };
    if message.state != OutboxState::Queued {
        return Ok(Some(message.to)); // already handled by an earlier run of this job
    }
    let now = now_ms();
    let Some(reply) = message.reply() else {
        let detail = "queued before replies were stored as intents; not sent";
        outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, None, detail, now).await?;
        return Ok(Some(message.to));
    };
    let resolved = match message.to {
        Addressee::Reporter(reporter_id) => match reporters::recipient(&mut conn, &pipeline.vault, reporter_id).await {
            Ok(r) => {
                let to = Recipient { phone: r.phone, account: r.account, last_message_at: Some(r.last_inbound_at) };
                Resolved { channel: r.channel, to, lang: r.lang, opted_out: r.opted_out_at.is_some() }
            }
            Err(ReporterError::Crypto(error)) => {
                tracing::warn!(outbox = id, reporter = reporter_id, %error, "the reporter's address does not open");
                let detail = "the reporter's address does not open with any configured key";
                outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, None, detail, now).await?;
                return Ok(Some(message.to));
            }
            Err(other) => return Err(retry(other)),
        },
        Addressee::ReportContact(report_id) => match reports::contact(&mut conn, &pipeline.vault, report_id).await {
            Ok(Some(contact)) => {
                let to = Recipient { phone: None, account: Some(contact.address), last_message_at: None };
                Resolved { channel: contact.channel, to, lang: contact.lang, opted_out: false }
            }
            Ok(None) => {
                let detail = "the contact given with the report is gone";
                outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, None, detail, now).await?;
                return Ok(Some(message.to));
            }
            // What no configured key opens will not open on a retry either.
            Err(ReportError::Crypto(error)) => {
                tracing::warn!(outbox = id, report = report_id, %error, "the report's contact does not open");
                let detail = "the contact given with the report does not open with any configured key";
                outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, None, detail, now).await?;
                return Ok(Some(message.to));
            }
            Err(other) => return Err(other.into()),
        },
    };
    if resolved.opted_out && message.name != TextKey::Stopped.as_str() {
        let detail = "the citizen sent STOP";
        outbox::mark_unsent(&mut conn, id, OutboxState::Suppressed, None, detail, now).await?;
        return Ok(Some(message.to));
    }
    let Some(sender) = pipeline.channels.sender(&resolved.channel) else {
        return Err(retry(format!("outbox {id}: no channel {:?} sends replies here", resolved.channel)));
    };
    // The send can take seconds; hold no database connection meanwhile.
    drop(conn);
    let delivery = Delivery {
        outbox_id: id,
        reply: &reply,
        to: &resolved.to,
        lang: resolved.lang,
        window_closed: message.window_closed,
        attempt: job.attempt,
    };
    let result = sender.deliver(delivery).await;
    let mut conn = pipeline.db.pool().acquire().await?;
    let now = now_ms();
    match result {
        Ok(Sent { provider_id, outside_window }) => {
            let provider_id = match provider_id {
                Some(provider_id) => pipeline.vault.message_id_hash(&provider_id),
                None => format!("unknown.{id}"),
            };
            outbox::mark_sent(&mut conn, id, &provider_id, outside_window, now).await?;
        }
        Err(DeliveryError::Undeliverable { code, reason }) => {
            outbox::mark_unsent(&mut conn, id, OutboxState::Undeliverable, code, &reason, now).await?;
        }
        Err(DeliveryError::Refused { code, detail }) => {
            tracing::warn!(outbox = id, channel = %resolved.channel, code, %detail, "a channel refused a reply");
            outbox::mark_unsent(&mut conn, id, OutboxState::Failed, code, &detail, now).await?;
        }
        Err(DeliveryError::Transient { code, detail, retry_after }) => {
            if job.is_last_attempt() {
                outbox::mark_unsent(&mut conn, id, OutboxState::Failed, code, &detail, now).await?;
            } else {
                outbox::record_error(&mut conn, id, code, &detail).await?;
            }
            return Err(JobFailure::Retry { reason: format!("outbox {id}: {detail}"), after: retry_after });
        }
    }
    Ok(Some(message.to))
}
