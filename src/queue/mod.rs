//! The durable job queue: one `jobs` table in the application's own database.
//!
//! Jobs are enqueued inside the caller's transaction, so a job exists exactly when the data it
//! refers to was committed. Workers claim due jobs with a lease (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`, so concurrent workers never claim the same row; SQLite: its single writer), renew the
//! lease while they work, and delete the job when done. A failed job is retried with exponential
//! backoff and jitter; after `max_attempts` it is dead-lettered and kept for admins. A job whose
//! worker died is claimed again once its lease has expired.
//!
//! Jobs may carry a serial key (one citizen's messages, one reporter's replies): such a job is
//! claimable only when no earlier job with the same key is still in the table, so they run one
//! at a time and in order. Because the earlier job's row exists until it completes, this holds
//! across processes without any lock beyond the claim itself.
//!
//! Scheduled work runs once across all processes through `Schedule` (one row per schedule).

mod schedule;
mod wake;
mod worker;

use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use sqlx::Row;

use crate::config::QueueSettings;
use crate::db::{Backend, Db, Tx};

pub use schedule::Schedule;
pub use wake::{spawn_postgres_listener, spawn_postgres_notifier};
pub use worker::{JobFailure, JobHandler, Worker};

/// SQL condition on a job `j`: no earlier job of its series is still waiting or running.
const FIRST_IN_SERIES: &str = "(j.serial_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM jobs e WHERE e.serial_key = j.serial_key AND e.id < j.id AND e.dead_at IS NULL))";

/// The PostgreSQL NOTIFY channel that wakes workers in other processes.
const NOTIFY_CHANNEL: &str = "meldeweg_jobs";

/// What a job does; stored as text in `jobs.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Run one inbound message through the conversation.
    Intake,
    /// Place, route and dispatch a new report.
    Triage,
    /// Send queued replies to a citizen, through their channel.
    Notify,
    /// Erase a reporter's personal data (a confirmed LÖSCHEN).
    Erase,
    /// Fetch the photos a report names by their address, and add them.
    PhotoUrl,
    /// Hand a report over to the body it was forwarded to, where it takes reports in.
    Forward,
    /// Look at a forwarded report's state at that body, and tell the citizen when it is closed.
    Follow,
}

impl JobKind {
    pub const ALL: [JobKind; 7] = [
        JobKind::Intake,
        JobKind::Triage,
        JobKind::Notify,
        JobKind::Erase,
        JobKind::PhotoUrl,
        JobKind::Forward,
        JobKind::Follow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Intake => "intake",
            JobKind::Triage => "triage",
            JobKind::Notify => "notify",
            JobKind::Erase => "erase",
            JobKind::PhotoUrl => "photo_url",
            JobKind::Forward => "forward",
            JobKind::Follow => "follow",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job payload cannot be serialised: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("the job's lease was lost to another worker")]
    LeaseLost,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// A job this worker holds the lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: JobKind,
    pub payload: String,
    /// 1 on the first run.
    pub attempt: u32,
    pub max_attempts: u32,
    lease_token: String,
    /// The request it was enqueued under (a fresh one for jobs from before migration 0023).
    pub request_id: String,
}

impl ClaimedJob {
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// Queue operations for one process. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    db: Db,
    settings: QueueSettings,
    worker_name: String,
}

/// Counts for health checks and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    pub waiting: i64,
    pub dead: i64,
}

/// The jobs of one kind, for the metrics: waiting or running, dead-lettered, and the oldest
/// that is due (waiting past its run time; jobs in backoff do not count).
#[derive(Debug, Clone, Copy)]
pub struct Depth {
    pub kind: JobKind,
    pub waiting: i64,
    pub dead: i64,
    pub oldest_due_at: Option<i64>,
}

/// The depth of every kind of job (zero for kinds with none).
pub async fn depths(db: &Db, now_ms: i64) -> Result<Vec<Depth>, QueueError> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) - COUNT(dead_at) AS waiting, COUNT(dead_at) AS dead,
                MIN(CASE WHEN dead_at IS NULL AND run_at <= $1 THEN run_at END) AS oldest
         FROM jobs GROUP BY kind",
    )
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    let mut depths = Vec::with_capacity(JobKind::ALL.len());
    for kind in JobKind::ALL {
        let row = rows.iter().find(|row| row.try_get::<String, _>("kind").is_ok_and(|k| k == kind.as_str()));
        depths.push(match row {
            Some(row) => Depth {
                kind,
                waiting: row.try_get("waiting")?,
                dead: row.try_get("dead")?,
                oldest_due_at: row.try_get("oldest")?,
            },
            None => Depth { kind, waiting: 0, dead: 0, oldest_due_at: None },
        });
    }
    Ok(depths)
}

/// A job that ran out of attempts.
#[derive(Debug, Clone)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub attempts: i64,
    pub last_error: String,
    pub dead_at: i64,
}

impl Queue {
    pub fn new(db: Db, settings: QueueSettings, worker_name: String) -> Self {
        Self { db, settings, worker_name }
    }

    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.settings.lease_seconds)
    }

    /// Adds a job inside `tx`; it becomes visible, and wakes workers, when `tx` commits.
    /// Jobs with the same `serial_key` run one after another in the order they were enqueued.
    pub async fn enqueue(
        &self,
        tx: &mut Tx,
        kind: JobKind,
        serial_key: Option<&str>,
        payload: &impl Serialize,
        now_ms: i64,
    ) -> Result<i64, QueueError> {
        self.enqueue_at(tx, kind, serial_key, payload, now_ms, now_ms).await
    }

    /// Like `enqueue`, for a job that is not to run before `run_at`.
    pub async fn enqueue_at(
        &self,
        tx: &mut Tx,
        kind: JobKind,
        serial_key: Option<&str>,
        payload: &impl Serialize,
        run_at: i64,
        now_ms: i64,
    ) -> Result<i64, QueueError> {
        let id = sqlx::query_scalar(
            "INSERT INTO jobs (kind, serial_key, payload, run_at, max_attempts, created_at, request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(serial_key)
        .bind(serde_json::to_string(payload)?)
        .bind(run_at)
        .bind(i64::from(self.settings.max_attempts))
        .bind(now_ms)
        .bind(crate::request_id::current())
        .fetch_one(tx.conn())
        .await?;
        tx.mark_enqueued();
        Ok(id)
    }

    /// Claims up to `limit` due jobs, oldest first, leasing them to this worker.
    pub async fn claim(&self, limit: usize, now_ms: i64) -> Result<Vec<ClaimedJob>, QueueError> {
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let token = lease_token();
        let rows = sqlx::query(&format!(
            "UPDATE jobs SET attempts = attempts + 1, locked_until = $1, locked_by = $2,
                             lease_token = $3
             WHERE id IN (
                 SELECT j.id FROM jobs j
                 WHERE j.dead_at IS NULL AND j.run_at <= $4 AND j.attempts < j.max_attempts
                   AND (j.locked_until IS NULL OR j.locked_until <= $4)
                   AND {FIRST_IN_SERIES}
                 ORDER BY j.run_at, j.id LIMIT $5 {lock})
             RETURNING id, kind, payload, attempts, max_attempts, request_id"
        ))
        .bind(now_ms + self.lease().as_millis() as i64)
        .bind(&self.worker_name)
        .bind(&token)
        .bind(now_ms)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let attempts: i64 = row.try_get("attempts")?;
            let max_attempts: i64 = row.try_get("max_attempts")?;
            let Some(kind) = JobKind::parse(&kind) else {
                self.bury(id, &token, &format!("unknown job kind {kind:?}"), now_ms).await?;
                continue;
            };
            jobs.push(ClaimedJob {
                id,
                kind,
                payload: row.try_get("payload")?,
                attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
                max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
                lease_token: token.clone(),
                request_id: row.try_get::<Option<String>, _>("request_id")?.unwrap_or_else(crate::request_id::fresh),
            });
        }
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    /// Deletes a finished job inside the handler's transaction, so its effects and its
    /// completion commit together. Fails with `LeaseLost` if another worker took it over.
    pub async fn complete_in(&self, tx: &mut Tx, job: &ClaimedJob) -> Result<(), QueueError> {
        let result = sqlx::query("DELETE FROM jobs WHERE id = $1 AND lease_token = $2")
            .bind(job.id)
            .bind(&job.lease_token)
            .execute(tx.conn())
            .await?;
        match result.rows_affected() {
            1 => Ok(()),
            _ => Err(QueueError::LeaseLost),
        }
    }

    /// Whether `job`'s series holds another job still to run (a later one, enqueued meanwhile).
    pub async fn series_continues(&self, tx: &mut Tx, series: &str, job: &ClaimedJob) -> Result<bool, QueueError> {
        let others: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE serial_key = $1 AND id <> $2 AND dead_at IS NULL")
                .bind(series)
                .bind(job.id)
                .fetch_one(tx.conn())
                .await?;
        Ok(others > 0)
    }

    /// Deletes a finished job (a no-op if the handler already completed it in its transaction).
    pub async fn complete(&self, job: &ClaimedJob) -> Result<(), QueueError> {
        sqlx::query("DELETE FROM jobs WHERE id = $1 AND lease_token = $2")
            .bind(job.id)
            .bind(&job.lease_token)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Schedules a retry after `after` (or the backoff for this attempt), or dead-letters the
    /// job when it has used all its attempts.
    pub async fn fail(
        &self,
        job: &ClaimedJob,
        error: &str,
        after: Option<Duration>,
        now_ms: i64,
    ) -> Result<(), QueueError> {
        if job.is_last_attempt() {
            return self.bury(job.id, &job.lease_token, error, now_ms).await;
        }
        let delay = after.unwrap_or_else(|| self.backoff(job.attempt));
        sqlx::query(
            "UPDATE jobs SET run_at = $1, last_error = $2, locked_until = NULL, lease_token = NULL
             WHERE id = $3 AND lease_token = $4",
        )
        .bind(now_ms + delay.as_millis() as i64)
        .bind(truncate(error))
        .bind(job.id)
        .bind(&job.lease_token)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Dead-letters a job at once: it will not run again, and stays visible to admins.
    pub async fn dead_letter(&self, job: &ClaimedJob, error: &str, now_ms: i64) -> Result<(), QueueError> {
        self.bury(job.id, &job.lease_token, error, now_ms).await
    }

    async fn bury(&self, id: i64, token: &str, error: &str, now_ms: i64) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE jobs SET dead_at = $1, last_error = $2, locked_until = NULL, lease_token = NULL
             WHERE id = $3 AND lease_token = $4",
        )
        .bind(now_ms)
        .bind(truncate(error))
        .bind(id)
        .bind(token)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Renews the lease of a running job; `false` if the job is no longer this worker's.
    pub async fn extend_lease(&self, job: &ClaimedJob, now_ms: i64) -> Result<bool, QueueError> {
        let result = sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2 AND lease_token = $3")
            .bind(now_ms + self.lease().as_millis() as i64)
            .bind(job.id)
            .bind(&job.lease_token)
            .execute(self.db.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Dead-letters jobs whose worker died during their last allowed attempt.
    pub async fn bury_abandoned(&self, now_ms: i64) -> Result<u64, QueueError> {
        let result = sqlx::query(
            "UPDATE jobs SET dead_at = $1, locked_until = NULL, lease_token = NULL,
                             last_error = COALESCE(last_error, 'the worker stopped during the last attempt')
             WHERE dead_at IS NULL AND attempts >= max_attempts AND locked_until <= $1",
        )
        .bind(now_ms)
        .execute(self.db.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// When something in the queue next changes by itself: the earliest future `run_at` (a
    /// retry or delayed job becomes due) or lease end (a job whose worker died becomes
    /// claimable again). Both come from an index, so a long queue costs nothing here; a job
    /// waiting behind an earlier one of its series may wake a worker early, which is harmless.
    pub async fn next_due(&self, now_ms: i64) -> Result<Option<i64>, QueueError> {
        let row = sqlx::query(
            "SELECT (SELECT MIN(run_at) FROM jobs WHERE dead_at IS NULL AND run_at > $1) AS next_run,
                    (SELECT MIN(locked_until) FROM jobs
                      WHERE dead_at IS NULL AND locked_until IS NOT NULL AND locked_until > $1) AS lease_end",
        )
        .bind(now_ms)
        .fetch_one(self.db.pool())
        .await?;
        let next_run: Option<i64> = row.try_get("next_run")?;
        let lease_end: Option<i64> = row.try_get("lease_end")?;
        Ok(next_run.into_iter().chain(lease_end).min())
    }

    pub async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let row = sqlx::query("SELECT COUNT(*) - COUNT(dead_at) AS waiting, COUNT(dead_at) AS dead FROM jobs")
            .fetch_one(self.db.pool())
            .await?;
        Ok(QueueCounts { waiting: row.try_get("waiting")?, dead: row.try_get("dead")? })
    }

    /// The most recently dead-lettered jobs, for admins (kind, attempts, last error, when).
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadJob>, QueueError> {
        let rows = sqlx::query(
            "SELECT id, kind, attempts, last_error, dead_at FROM jobs WHERE dead_at IS NOT NULL
             ORDER BY dead_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadJob {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get::<Option<String>, _>("last_error")?.unwrap_or_default(),
                    dead_at: row.try_get("dead_at")?,
                })
            })
            .collect()
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.retry_base_ms;
        let cap = self.settings.retry_max_seconds.saturating_mul(1000);
        let exponential = base.saturating_mul(1u64 << attempt.saturating_sub(1).min(40)).min(cap);
        let half = exponential / 2;
        Duration::from_millis(half + rand::rng().random_range(0..=half))
    }
}

fn lease_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// Errors are stored for admins; a bounded length keeps a runaway message out of the table.
fn truncate(error: &str) -> String {
    error.chars().take(2000).collect()
}
