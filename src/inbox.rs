//! The inbox: every message a channel delivered, stored once, sealed, in the channel's own raw
//! form (the channel reads it back for the intake job).
//!
//! Providers redeliver, so the provider's message id (a keyed hash of it) is unique per channel
//! and a second copy is simply not inserted. The payload is sealed because it carries the
//! sender's number (P6).

use sqlx::{AnyConnection, Row};

pub struct NewEvent<'a> {
    pub channel: &'a str,
    pub provider_id: &'a str,
    pub kind: &'a str,
    pub payload_enc: &'a [u8],
    /// Why the message could not be read (kind `invalid`); such events get no job.
    pub error: Option<&'a str>,
}

pub struct Event {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub payload_enc: Vec<u8>,
    pub received_at: i64,
    pub processed_at: Option<i64>,
}

/// Stores the event unless the channel delivered it before; returns the new id or `None`.
pub async fn insert(conn: &mut AnyConnection, event: NewEvent<'_>, now_ms: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO inbound_events (channel, provider_id, kind, payload_enc, error, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (channel, provider_id) DO NOTHING
         RETURNING id",
    )
    .bind(event.channel)
    .bind(event.provider_id)
    .bind(event.kind)
    .bind(event.payload_enc)
    .bind(event.error)
    .bind(now_ms)
    .fetch_optional(conn)
    .await
}

fn event_from_row(row: sqlx::any::AnyRow) -> sqlx::Result<Event> {
    Ok(Event {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        kind: row.try_get("kind")?,
        payload_enc: row.try_get("payload_enc")?,
        received_at: row.try_get("received_at")?,
        processed_at: row.try_get("processed_at")?,
    })
}

pub async fn load(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Event>> {
    sqlx::query("SELECT id, channel, kind, payload_enc, received_at, processed_at FROM inbound_events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(event_from_row)
        .transpose()
}

/// Marks the event handled (by the reporter it came from, if any); `false` if it already was.
pub async fn mark_processed(
    conn: &mut AnyConnection,
    id: i64,
    reporter_id: Option<i64>,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE inbound_events SET processed_at = $1, reporter_id = $2
         WHERE id = $3 AND processed_at IS NULL",
    )
    .bind(now_ms)
    .bind(reporter_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The reporter's most recent events, oldest first (the sandbox shows them as a chat).
pub async fn recent_for_reporter(conn: &mut AnyConnection, reporter_id: i64, limit: i64) -> sqlx::Result<Vec<Event>> {
    let mut events: Vec<Event> = sqlx::query(
        "SELECT id, channel, kind, payload_enc, received_at, processed_at FROM inbound_events
         WHERE reporter_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(reporter_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(event_from_row)
    .collect::<sqlx::Result<_>>()?;
    events.reverse();
    Ok(events)
}

/// Empties the raw payload of the inbound messages matching `condition` (P7, P9), keeping the
/// row so a redelivery is still recognised. Returns how many were emptied.
pub async fn empty_payloads(conn: &mut AnyConnection, condition: &str, now_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE inbound_events SET payload_enc = $1, redacted_at = $2 WHERE redacted_at IS NULL AND {condition}"
    ))
    .bind(Vec::<u8>::new())
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
