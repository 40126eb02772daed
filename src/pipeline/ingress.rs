//! Taking what a channel received: every message stored once (sealed, in the channel's own raw
//! form) with its intake job, and every delivery receipt applied to the outbox, committed before
//! the channel answers its provider.
//!
//! The channel does the per-delivery work that needs no database (parsing, validating, sealing)
//! in its request's own task and hands over a `Batch`. The writer tasks here take whatever
//! batches are waiting and write them in one transaction (group commit), and each request is
//! answered after that commit. Under load this turns a commit (and, on PostgreSQL, an fsync and
//! a NOTIFY) per delivery into one per batch; with no load a batch is a single delivery.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::intake::IntakeJob;
use super::notify::NotifyJob;
use crate::db::{Backend, Db, Tx};
use crate::outbox::{self, DeliveryStatus};
use crate::queue::{JobKind, Queue, QueueError};
use crate::time::now_ms;
use crate::{crypto::Vault, inbox, reporters};
use meldeweg_workers::message::Sender;

/// Most batches written in one transaction.
const MAX_BATCH: usize = 128;
/// Batches waiting for a writer before requests wait to hand theirs over.
const INBOX_CAPACITY: usize = 1024;

/// What a delivery contained, as answered to the provider.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// New messages stored, each with an intake job.
    pub messages: usize,
    /// Messages seen before (the provider redelivered).
    pub duplicates: usize,
    /// Messages kept as `invalid` events because they could not be read.
    pub invalid: usize,
    pub statuses: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// One message, ready to insert.
pub struct Arrival {
    /// The channel's message id as a keyed hash (ids can encode the sender's number).
    pub provider_id: String,
    /// The kind of message, in the channel's words (for operators; never its content).
    pub kind: String,
    /// The message as the channel received it, sealed.
    pub payload_enc: Vec<u8>,
    /// The sender's series, so one citizen's messages go through the dialogue in order
    /// (`series_of`); `None` for a message that could not be read.
    pub series: Option<String>,
    /// Why the message could not be read; it is kept, but gets no job.
    pub error: Option<String>,
}

/// A channel's word on a reply it sent.
pub struct Receipt {
    /// The id the channel gave the reply, as a keyed hash.
    pub provider_id: String,
    pub status: DeliveryStatus,
    /// When it happened, Unix milliseconds (receipts arrive out of order).
    pub at_ms: i64,
    /// The channel's error code and title, for a failure.
    pub error: Option<(i64, String)>,
    /// The failure means the citizen's reply window had closed: the message is sent again in
    /// the channel's form for that.
    pub window_closed: bool,
}

/// What one delivery from a channel holds.
pub struct Batch {
    pub channel: &'static str,
    pub arrivals: Vec<Arrival>,
    pub receipts: Vec<Receipt>,
}

/// The queue series of one sender's messages on `channel`; `None` for a sender the channel
/// could not name.
pub fn series_of(vault: &Vault, channel: &str, sender: &Sender) -> Option<String> {
    reporters::key_hash(vault, channel, sender).map(|hash| format!("in:{hash}"))
}

struct Pending {
    batch: Batch,
    /// The request that handed the batch over: its jobs carry the id.
    request_id: Option<String>,
    reply: oneshot::Sender<Result<Received, IngressError>>,
}

/// The group-commit writer. Cheap to clone; the writer tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct Ingress {
    inbox: mpsc::Sender<Pending>,
}

impl Ingress {
    /// Starts the writer tasks: one on SQLite (it has one writer anyway), several on PostgreSQL.
    pub fn start(db: Db, queue: Queue, postgres_writers: usize) -> Self {
        let (inbox, receiver) = mpsc::channel(INBOX_CAPACITY);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => postgres_writers.max(1),
        };
        for _ in 0..writers {
            tokio::spawn(write_batches(db.clone(), queue.clone(), receiver.clone()));
        }
        Self { inbox }
    }

    /// Stores a batch; returns once it is committed.
    pub async fn accept(&self, batch: Batch) -> Result<Received, IngressError> {
        let (reply, answer) = oneshot::channel();
        let request_id = crate::request_id::current();
        self.inbox.send(Pending { batch, request_id, reply }).await.map_err(|_| IngressError::WriterGone)?;
        answer.await.map_err(|_| IngressError::WriterGone)?
    }
}

async fn write_batches(db: Db, queue: Queue, inbox: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let pending = {
            let mut inbox = inbox.lock().await;
            let Some(first) = inbox.recv().await else {
                return;
            };
            let mut pending = vec![first];
            while pending.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Ok(next) => pending.push(next),
                    Err(_) => break,
                }
            }
            pending
        };
        let batches: Vec<&Pending> = pending.iter().collect();
        match write(&db, &queue, &batches).await {
            Ok(results) => {
                for (pending, received) in pending.into_iter().zip(results) {
                    let _ = pending.reply.send(Ok(received));
                }
            }
            // One failing delivery must not fail the others: write each on its own.
            Err(error) if pending.len() > 1 => {
                tracing::warn!(%error, deliveries = pending.len(), "batch write failed; writing one by one");
                for one in pending {
                    let result = write(&db, &queue, &[&one]).await.map(|mut r| r.remove(0));
                    let _ = one.reply.send(result);
                }
            }
            Err(error) => {
                if let Some(one) = pending.into_iter().next() {
                    let _ = one.reply.send(Err(error));
                }
            }
        }
    }
}

/// Writes batches in one transaction, each batch's jobs under its request's id.
async fn write(db: &Db, queue: &Queue, batches: &[&Pending]) -> Result<Vec<Received>, IngressError> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(batches.len());
    for pending in batches {
        let id = pending.request_id.clone().unwrap_or_else(crate::request_id::fresh);
        results.push(crate::request_id::scope(id, write_one(&mut tx, queue, &pending.batch, now)).await?);
    }
    tx.commit().await?;
    Ok(results)
}

async fn write_one(tx: &mut Tx, queue: &Queue, batch: &Batch, now: i64) -> Result<Received, IngressError> {
    let mut received = Received::default();
    for arrival in &batch.arrivals {
        let new = inbox::NewEvent {
            channel: batch.channel,
            provider_id: &arrival.provider_id,
            kind: &arrival.kind,
            payload_enc: &arrival.payload_enc,
            error: arrival.error.as_deref(),
        };
        match inbox::insert(tx.conn(), new, now).await? {
            None => received.duplicates += 1,
            Some(_) if arrival.error.is_some() => {
                tracing::warn!(
                    channel = batch.channel,
                    reason = arrival.error.as_deref().unwrap_or_default(),
                    "kept an unreadable message as an invalid event"
                );
                received.invalid += 1;
            }
            Some(event_id) => {
                let job = IntakeJob { event_id };
                queue.enqueue(tx, JobKind::Intake, arrival.series.as_deref(), &job, now).await?;
                received.messages += 1;
            }
        }
    }
    for receipt in &batch.receipts {
        apply_receipt(tx, queue, receipt, now).await?;
        received.statuses += 1;
    }
    Ok(received)
}

async fn apply_receipt(tx: &mut Tx, queue: &Queue, receipt: &Receipt, now: i64) -> Result<(), IngressError> {
    let error = receipt.error.as_ref().map(|(code, title)| (*code, title.as_str()));
    let at = receipt.at_ms.min(now);
    let Some(message) = outbox::apply_status(tx.conn(), &receipt.provider_id, receipt.status, at, error).await? else {
        return Ok(());
    };
    if receipt.status == DeliveryStatus::Failed {
        tracing::warn!(outbox = message.id, code = error.map(|e| e.0), "a channel reports a message failed");
        // Too late for a free reply: queue it once more, marked so the channel sends its form for
        // that (notify records it undeliverable when the channel has none).
        if receipt.window_closed && outbox::reopen_outside_window(tx.conn(), message.id, now).await? {
            NotifyJob::enqueue(queue, tx, message.to, vec![message.id], now).await?;
        }
    }
    Ok(())
}
