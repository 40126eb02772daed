//! The outbox: every reply to a citizen, from the moment it is decided until its channel
//! reports it delivered, read or failed.
//!
//! A row holds the reply intent (what to say, in which form) for a reporter, or, with no
//! reporter, for the contact given with a report (a web-form e-mail address). Neither the
//! recipient's address nor the channel's wire format is stored: the channel renders the intent
//! and the address is opened when it is sent. Delivery receipts arrive out of order and more
//! than once: each sets its own timestamp once, and the state only moves forward. Each
//! message's fate is recorded here, once: in the audit log (P4) and for the metrics.

use meldeweg_workers::message::ReplyIntent;
use serde_json::json;
use sqlx::{AnyConnection, Connection, Row};

use crate::audit;

/// Who a reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressee {
    /// A citizen who wrote on a channel.
    Reporter(i64),
    /// The contact given with one report (no conversation, only its updates).
    ReportContact(i64),
}

impl Addressee {
    fn from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Self> {
        match (row.try_get::<Option<i64>, _>("reporter_id")?, row.try_get::<Option<i64>, _>("report_id")?) {
            (Some(reporter), _) => Ok(Addressee::Reporter(reporter)),
            (None, Some(report)) => Ok(Addressee::ReportContact(report)),
            (None, None) => Err(sqlx::Error::Decode("an outbox row for no one".into())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for the notify job.
    Queued,
    Sent,
    Delivered,
    Read,
    /// The channel refused it or reported it failed.
    Failed,
    /// Could not be sent: outside the reply window with no form for that, or no address.
    Undeliverable,
    /// Not sent because the reporter sent STOP (P10).
    Suppressed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Delivered => "delivered",
            OutboxState::Read => "read",
            OutboxState::Failed => "failed",
            OutboxState::Undeliverable => "undeliverable",
            OutboxState::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            OutboxState::Queued,
            OutboxState::Sent,
            OutboxState::Delivered,
            OutboxState::Read,
            OutboxState::Failed,
            OutboxState::Undeliverable,
            OutboxState::Suppressed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// Queues `reply` for `to` (about report `report_id`, if any).
pub async fn insert(
    conn: &mut AnyConnection,
    to: Addressee,
    report_id: Option<i64>,
    reply: &ReplyIntent,
    now_ms: i64,
) -> sqlx::Result<i64> {
    let (reporter_id, report_id) = match to {
        Addressee::Reporter(reporter) => (Some(reporter), report_id),
        Addressee::ReportContact(report) => (None, Some(report)),
    };
    let body = serde_json::to_string(reply).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query_scalar(
        "INSERT INTO outbox (reporter_id, report_id, name, body, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(reporter_id)
    .bind(report_id)
    .bind(&reply.name)
    .bind(body)
    .bind(OutboxState::Queued.as_str())
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub to: Addressee,
    /// Which text this is.
    pub name: String,
    /// The reply intent, as JSON (`reply()` reads it).
    pub body: String,
    pub state: OutboxState,
    /// `window_closed_at` is set: the channel reported the citizen's reply window closed for it
    /// (`reopen_outside_window`), or sent it in its form for a closed window (`mark_sent`).
    pub window_closed: bool,
    pub created_at: i64,
}

impl Message {
    /// The reply intent; `None` for a row from before intents (queued before the upgrade).
    pub fn reply(&self) -> Option<ReplyIntent> {
        serde_json::from_str(&self.body).ok()
    }
}

fn message_from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Message> {
    let state: String = row.try_get("state")?;
    Ok(Message {
        id: row.try_get("id")?,
        to: Addressee::from_row(row)?,
        name: row.try_get("name")?,
        body: row.try_get("body")?,
        state: OutboxState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown outbox state {state:?}").into()))?,
        window_closed: row.try_get::<Option<i64>, _>("window_closed_at")?.is_some(),
        created_at: row.try_get("created_at")?,
    })
}

const COLUMNS: &str = "id, reporter_id, report_id, name, body, state, window_closed_at, created_at";

pub async fn load(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Message>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(message_from_row)
        .transpose()
}

/// The reporter's most recent messages, oldest first (the sandbox chat).
pub async fn recent_for_reporter(conn: &mut AnyConnection, reporter_id: i64, limit: i64) -> sqlx::Result<Vec<Message>> {
    let mut messages =
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE reporter_id = $1 ORDER BY id DESC LIMIT $2"))
            .bind(reporter_id)
            .bind(limit)
            .fetch_all(conn)
            .await?
            .iter()
            .map(message_from_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
}

/// Records that message `id` went out. `outside_window`: it went in the channel's form for a
/// closed reply window, which marks it as such so a late report of a closed window does not
/// queue it a second time.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    provider_message_id: &str,
    outside_window: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = conn.begin().await?;
    let changed = sqlx::query(
        "UPDATE outbox SET state = $1, provider_message_id = $2, sent_at = $3,
                           error_code = NULL, error_detail = NULL,
                           window_closed_at = COALESCE(window_closed_at, $4)
         WHERE id = $5 AND state = $6
         RETURNING reporter_id, report_id, name",
    )
    .bind(OutboxState::Sent.as_str())
    .bind(provider_message_id)
    .bind(now_ms)
    .bind(outside_window.then_some(now_ms))
    .bind(id)
    .bind(OutboxState::Queued.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    recorded(&mut tx, changed, OutboxState::Sent, None, now_ms).await?;
    tx.commit().await
}

/// Records a message's fate once, when the update really changed it (a job that runs again
/// finds the message no longer queued): in the audit log (which message, not its text) and
/// for the metrics.
async fn recorded(
    conn: &mut AnyConnection,
    changed: Option<sqlx::any::AnyRow>,
    state: OutboxState,
    code: Option<i64>,
    now_ms: i64,
) -> sqlx::Result<()> {
    let Some(row) = changed else { return Ok(()) };
    let name: String = row.try_get("name")?;
    let entry = audit::Entry {
        kind: &format!("message.{}", state.as_str()),
        report_id: row.try_get("report_id")?,
        order_id: None,
        reporter_id: row.try_get("reporter_id")?,
        actor: None,
        detail: json!({ "message": name, "error_code": code }),
    };
    audit::record(conn, entry, now_ms).await?;
    crate::telemetry::outbound(state.as_str(), code);
    Ok(())
}

/// Ends a queued message without sending it, or records that sending failed for good.
pub async fn mark_unsent(
    conn: &mut AnyConnection,
    id: i64,
    state: OutboxState,
    error_code: Option<i64>,
    detail: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = conn.begin().await?;
    let changed = sqlx::query(
        "UPDATE outbox SET state = $1, error_code = $2, error_detail = $3, failed_at = $4
         WHERE id = $5 AND state = $6
         RETURNING reporter_id, report_id, name",
    )
    .bind(state.as_str())
    .bind(error_code)
    .bind(detail)
    .bind(now_ms)
    .bind(id)
    .bind(OutboxState::Queued.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    recorded(&mut tx, changed, state, error_code, now_ms).await?;
    tx.commit().await
}

/// Notes a passing error (the job retries); the message stays queued.
pub async fn record_error(
    conn: &mut AnyConnection,
    id: i64,
    error_code: Option<i64>,
    detail: &str,
) -> sqlx::Result<()> {
    let result = sqlx::query("UPDATE outbox SET error_code = $1, error_detail = $2 WHERE id = $3")
        .bind(error_code)
        .bind(detail)
        .bind(id)
        .execute(conn)
        .await?;
    if result.rows_affected() == 1 {
        crate::telemetry::outbound("retry", error_code);
    }
    Ok(())
}

/// Deletes every message to reporter `reporter_id`, queued ones too (a notify job finds its
/// message gone and sends nothing); returns how many (erasure, P9).
pub async fn delete_for_reporter(conn: &mut AnyConnection, reporter_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM outbox WHERE reporter_id = $1").bind(reporter_id).execute(conn).await?;
    Ok(done.rows_affected())
}

/// Queues a message again that its channel reported failed because the citizen's reply window
/// had closed, marked so the channel sends its form for that. Only once: returns `false` if it
/// was queued again for this before.
pub async fn reopen_outside_window(conn: &mut AnyConnection, id: i64, now_ms: i64) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE outbox SET window_closed_at = $1, state = $2, provider_message_id = NULL, failed_at = NULL
         WHERE id = $3 AND window_closed_at IS NULL",
    )
    .bind(now_ms)
    .bind(OutboxState::Queued.as_str())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A delivery status a channel reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// A message a delivery status was new for.
pub struct Updated {
    pub id: i64,
    pub to: Addressee,
}

/// Applies a delivery status to the message its channel knows by `provider_message_id`.
/// Returns the message when this status was new for a known message.
pub async fn apply_status(
    conn: &mut AnyConnection,
    provider_message_id: &str,
    status: DeliveryStatus,
    at_ms: i64,
    error: Option<(i64, &str)>,
) -> sqlx::Result<Option<Updated>> {
    let (column, from_states, to_state) = match status {
        DeliveryStatus::Sent => ("sent_at", "''", OutboxState::Sent),
        DeliveryStatus::Delivered => ("delivered_at", "'sent'", OutboxState::Delivered),
        DeliveryStatus::Read => ("read_at", "'sent', 'delivered'", OutboxState::Read),
        DeliveryStatus::Failed => ("failed_at", "'sent', 'delivered', 'read'", OutboxState::Failed),
    };
    let (code, detail) = match error {
        Some((code, detail)) => (Some(code), Some(detail)),
        None => (None, None),
    };
    let row = sqlx::query(&format!(
        "UPDATE outbox SET {column} = $1,
             state = CASE WHEN state IN ({from_states}) THEN $2 ELSE state END,
             error_code = COALESCE($3, error_code),
             error_detail = COALESCE($4, error_detail)
         WHERE provider_message_id = $5 AND {column} IS NULL
         RETURNING id, reporter_id, report_id"
    ))
    .bind(at_ms)
    .bind(to_state.as_str())
    .bind(code)
    .bind(detail)
    .bind(provider_message_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok(Updated { id: row.try_get("id")?, to: Addressee::from_row(&row)? })).transpose()
}
