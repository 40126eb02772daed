//! Storing webhook deliveries: every message once (sealed) with its intake job, and every
//! status applied to the outbox, committed before the provider gets its 200.
//!
//! `prepare` does the per-delivery work that needs no database (parsing, validating, sealing)
//! in the request's own task. `Store` then writes with group commit: writer tasks take whatever
//! deliveries are waiting and write them in one transaction, and each request is answered after
//! that commit. Under load this turns a commit (and, on PostgreSQL, an fsync and a NOTIFY) per
//! webhook into one per batch; with no load a batch is a single delivery and nothing waits.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::client::WINDOW_CLOSED;
use super::webhook::{Contact, Delivery, Message, MessagesValue, Status};
use crate::crypto::Vault;
use crate::db::{Backend, Db, DbError, Tx};
use crate::inbox as inbound_events;
use crate::outbox::{self, DeliveryStatus};
use crate::pipeline::intake::IntakeJob;
use crate::pipeline::notify::NotifyJob;
use crate::queue::{JobKind, Queue, QueueError};
use crate::reporters::Identity;
use crate::time::now_ms;

pub const CHANNEL: &str = "whatsapp";
/// Most deliveries written in one transaction.
const MAX_BATCH: usize = 128;
/// Deliveries waiting for a writer before requests wait to hand theirs over.
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
    #[error("{0}")]
    BadPayload(String),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<sqlx::Error> for IngressError {
    fn from(error: sqlx::Error) -> Self {
        IngressError::Db(DbError::Sql(error))
    }
}

/// One message, ready to insert.
struct PreparedEvent {
    provider_id: String,
    kind: String,
    payload_enc: Vec<u8>,
    /// The sender's series: one citizen's messages go through the conversation in order.
    series: Option<String>,
    /// Why the message could not be read; such events are kept but get no job.
    error: Option<String>,
}

/// A delivery parsed, validated and sealed: only database writes are left.
pub struct Prepared {
    events: Vec<PreparedEvent>,
    statuses: Vec<Status>,
}

/// Parses a delivery. Fails only when a `messages` change is not the documented shape; single
/// unreadable messages are kept as invalid events instead, so nothing is lost.
pub fn prepare(delivery: Delivery, vault: &Vault) -> Result<Prepared, IngressError> {
    let mut prepared = Prepared { events: Vec::new(), statuses: Vec::new() };
    for change in delivery.entry.iter().flat_map(|entry| &entry.changes) {
        if change.field != "messages" {
            tracing::debug!(field = %change.field, "ignoring webhook change");
            continue;
        }
        let value: MessagesValue = serde_json::from_str(change.value.get())
            .map_err(|e| IngressError::BadPayload(format!("a `messages` change is malformed: {e}")))?;
        for error in &value.errors {
            tracing::warn!(code = error.code, title = %error.title, "WhatsApp reported an error in a delivery");
        }
        for raw in &value.messages {
            prepared.events.push(match read_message(raw.get(), &value.contacts) {
                Ok(message) => {
                    let json = serde_json::to_vec(&message).expect("serialising a Message cannot fail");
                    let identity =
                        Identity { phone: message.from.as_deref(), user_id: message.from_user_id.as_deref() };
                    PreparedEvent {
                        series: identity.key_hash(vault).map(|hash| format!("in:{hash}")),
                        provider_id: vault.message_id_hash(&message.id),
                        kind: message.kind,
                        payload_enc: vault.seal(&json),
                        error: None,
                    }
                }
                Err(reason) => PreparedEvent {
                    provider_id: format!("invalid:{}", hex::encode(Sha256::digest(raw.get().as_bytes()))),
                    kind: "invalid".into(),
                    payload_enc: vault.seal(raw.get().as_bytes()),
                    series: None,
                    error: Some(reason),
                },
            });
        }
        for raw in &value.statuses {
            match serde_json::from_str::<Status>(raw.get()) {
                // Outbound messages are stored under the hash of their id, like inbound ones.
                Ok(status) => prepared.statuses.push(Status { id: vault.message_id_hash(&status.id), ..status }),
                Err(error) => tracing::warn!(%error, "ignoring an unreadable status"),
            }
        }
    }
    Ok(prepared)
}

fn read_message(raw: &str, contacts: &[Contact]) -> Result<Message, String> {
    let mut message: Message = serde_json::from_str(raw).map_err(|e| format!("unreadable message: {e}"))?;
    fill_sender(&mut message, contacts);
    message.validate()?;
    Ok(message)
}

/// Completes the sender from `contacts`, which carry the number and the business-scoped user id.
fn fill_sender(message: &mut Message, contacts: &[Contact]) {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let contact = contacts
        .iter()
        .find(|c| same(&c.wa_id, &message.from) || same(&c.user_id, &message.from_user_id))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        });
    if let Some(contact) = contact {
        if message.from.is_none() {
            message.from = contact.wa_id.clone();
        }
        if message.from_user_id.is_none() {
            message.from_user_id = contact.user_id.clone();
        }
    }
}

struct Pending {
    prepared: Prepared,
    reply: oneshot::Sender<Result<Received, IngressError>>,
}

/// The group-commit writer. Cheap to clone; the writer tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    inbox: mpsc::Sender<Pending>,
}

impl Store {
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

    /// Stores a prepared delivery; returns once it is committed.
    pub async fn store(&self, prepared: Prepared) -> Result<Received, IngressError> {
        let (reply, answer) = oneshot::channel();
        self.inbox.send(Pending { prepared, reply }).await.map_err(|_| IngressError::WriterGone)?;
        answer.await.map_err(|_| IngressError::WriterGone)?
    }
}

async fn write_batches(db: Db, queue: Queue, inbox: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let batch = {
            let mut inbox = inbox.lock().await;
            let Some(first) = inbox.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let prepared: Vec<&Prepared> = batch.iter().map(|p| &p.prepared).collect();
        match write(&db, &queue, &prepared).await {
            Ok(results) => {
                for (pending, received) in batch.into_iter().zip(results) {
                    let _ = pending.reply.send(Ok(received));
                }
            }
            // One failing delivery must not fail the others: write each on its own.
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, deliveries = batch.len(), "batch write failed; writing one by one");
                for pending in batch {
                    let result = write(&db, &queue, &[&pending.prepared]).await.map(|mut r| r.remove(0));
                    let _ = pending.reply.send(result);
                }
            }
            Err(error) => {
                if let Some(pending) = batch.into_iter().next() {
                    let _ = pending.reply.send(Err(error));
                }
            }
        }
    }
}

/// Writes deliveries in one transaction.
async fn write(db: &Db, queue: &Queue, deliveries: &[&Prepared]) -> Result<Vec<Received>, IngressError> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(deliveries.len());
    for prepared in deliveries {
        results.push(write_one(&mut tx, queue, prepared, now).await?);
    }
    tx.commit().await?;
    Ok(results)
}

async fn write_one(tx: &mut Tx, queue: &Queue, prepared: &Prepared, now: i64) -> Result<Received, IngressError> {
    let mut received = Received::default();
    for event in &prepared.events {
        let new = inbound_events::NewEvent {
            channel: CHANNEL,
            provider_id: &event.provider_id,
            kind: &event.kind,
            payload_enc: &event.payload_enc,
            error: event.error.as_deref(),
        };
        match inbound_events::insert(tx.conn(), new, now).await? {
            None => received.duplicates += 1,
            Some(_) if event.error.is_some() => {
                tracing::warn!(
                    reason = event.error.as_deref().unwrap_or_default(),
                    "kept an unreadable message as an invalid event"
                );
                received.invalid += 1;
            }
            Some(event_id) => {
                let job = IntakeJob { event_id };
                queue.enqueue(tx, JobKind::Intake, event.series.as_deref(), &job, now).await?;
                received.messages += 1;
            }
        }
    }
    for status in &prepared.statuses {
        apply_status(tx, queue, status, now).await?;
        received.statuses += 1;
    }
    Ok(received)
}

async fn apply_status(tx: &mut Tx, queue: &Queue, status: &Status, now: i64) -> Result<(), IngressError> {
    let delivery_status = match status.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        other => {
            tracing::debug!(status = other, "ignoring a status Meldeweg does not track");
            return Ok(());
        }
    };
    let error = status.errors.first().map(|e| (e.code, e.title.as_str()));
    let at = status.timestamp.saturating_mul(1000).min(now);
    let Some((outbox_id, reporter_id)) =
        outbox::apply_status(tx.conn(), &status.id, delivery_status, at, error).await?
    else {
        return Ok(());
    };
    if delivery_status == DeliveryStatus::Failed {
        let code = error.map(|e| e.0);
        tracing::warn!(outbox = outbox_id, code, "WhatsApp reports a message failed");
        // The window closed before the message arrived: send the template instead, if any.
        if code == Some(WINDOW_CLOSED) && outbox::switch_to_template(tx.conn(), outbox_id).await? {
            let job = NotifyJob { outbox_ids: vec![outbox_id] };
            job.enqueue(queue, tx, reporter_id, now).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: &str) -> Message {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_sender_is_completed_from_the_matching_contact() {
        let contacts = vec![
            Contact { wa_id: Some("111".into()), user_id: Some("US.1".into()) },
            Contact { wa_id: Some("222".into()), user_id: Some("US.2".into()) },
        ];
        let mut m = message(r#"{"from":"222","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from_user_id.as_deref(), Some("US.2"));

        let mut m = message(r#"{"from_user_id":"US.1","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from.as_deref(), Some("111"));
    }

    #[test]
    fn a_citizen_without_a_number_keeps_none() {
        let contacts = vec![Contact { wa_id: None, user_id: Some("US.9".into()) }];
        let mut m = message(r#"{"id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!((m.from, m.from_user_id.as_deref()), (None, Some("US.9")));
    }
}
