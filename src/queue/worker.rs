//! The worker loop: claim due jobs, run them with bounded concurrency, renew their leases, and
//! record the outcome. It wakes on a commit in this process, a PostgreSQL NOTIFY from another
//! one, the next due time, or at the latest every `poll_seconds`.
//!
//! Shutdown is the `CancellationToken`: the loop stops claiming, lets running jobs finish
//! within the grace period, and returns. A job cut off after that keeps its lease until it
//! expires and then runs again elsewhere, which is why every handler is idempotent.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{ClaimedJob, Queue};
use crate::time::now_ms;

/// Why a job did not finish.
#[derive(Debug)]
pub enum JobFailure {
    /// Try again later: after `after` if given, else after the queue's backoff.
    Retry { reason: String, after: Option<Duration> },
    /// Retrying cannot help: dead-letter it now.
    Fatal(String),
}

/// Runs jobs of every kind. Implemented by the pipeline.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, job: &ClaimedJob) -> impl Future<Output = Result<(), JobFailure>> + Send;
}

pub struct Worker<H> {
    queue: Queue,
    handler: Arc<H>,
    shutdown: CancellationToken,
    completed: Arc<AtomicU64>,
}

impl<H: JobHandler> Worker<H> {
    pub fn new(queue: Queue, handler: Arc<H>, shutdown: CancellationToken) -> Self {
        Self { queue, handler, shutdown, completed: Arc::new(AtomicU64::new(0)) }
    }

    /// Runs until the shutdown token is cancelled and in-flight jobs have finished.
    pub async fn run(self, wake: Arc<tokio::sync::Notify>) {
        let settings = self.queue.settings().clone();
        let poll = Duration::from_secs(settings.poll_seconds);
        let mut running = JoinSet::new();
        tracing::info!(concurrency = settings.concurrency, "worker started");
        while !self.shutdown.is_cancelled() {
            let free = settings.concurrency.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                match self.queue.claim(free, now_ms()).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            running.spawn(run_job(
                                self.queue.clone(),
                                self.handler.clone(),
                                job,
                                self.completed.clone(),
                            ));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "claiming jobs failed"),
                }
            }
            if free > 0 && claimed == free {
                continue; // every free slot got a job: there may be more waiting
            }
            let wait = if running.len() >= settings.concurrency { poll } else { self.idle_wait(poll).await };
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {
                    if let Err(error) = self.queue.bury_abandoned(now_ms()).await {
                        tracing::warn!(%error, "dead-lettering abandoned jobs failed");
                    }
                }
            }
        }
        let grace = Duration::from_secs(settings.shutdown_grace_seconds);
        tracing::info!(in_flight = running.len(), "worker stopping: finishing jobs in hand");
        let drained = tokio::time::timeout(grace, async { while running.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                cut_off = running.len(),
                "jobs still running after the grace period; they run again when their lease expires"
            );
            running.abort_all();
        }
        tracing::info!(completed = self.completed.load(Ordering::Relaxed), "worker stopped");
    }

    /// How long to sleep when the queue has nothing due: until the next due job, at most `poll`.
    async fn idle_wait(&self, poll: Duration) -> Duration {
        match self.queue.next_due(now_ms()).await {
            Ok(Some(due)) => {
                let until = u64::try_from(due - now_ms()).unwrap_or(0);
                Duration::from_millis(until).clamp(Duration::from_millis(1), poll)
            }
            Ok(None) => poll,
            Err(error) => {
                tracing::warn!(%error, "reading the queue failed");
                poll
            }
        }
    }
}

/// Runs one job under its request id (jobs it enqueues carry the same id) and in a span that
/// names it, so every log line of the job can be found by that id.
async fn run_job<H: JobHandler>(queue: Queue, handler: Arc<H>, job: ClaimedJob, completed: Arc<AtomicU64>) {
    use tracing::Instrument;
    let span = tracing::info_span!("job", request_id = %job.request_id, job = job.id, kind = job.kind.as_str());
    let id = job.request_id.clone();
    crate::request_id::scope(id, run_claimed(queue, handler, job, completed).instrument(span)).await
}

async fn run_claimed<H: JobHandler>(queue: Queue, handler: Arc<H>, job: ClaimedJob, completed: Arc<AtomicU64>) {
    let kind = job.kind.as_str();
    let started = std::time::Instant::now();
    let outcome = tokio::select! {
        outcome = handler.run(&job) => outcome,
        _ = keep_lease(&queue, &job) => {
            tracing::warn!(job = job.id, kind, "lease lost to another worker; abandoning the job");
            return;
        }
    };
    let result = match &outcome {
        Ok(()) => "done",
        Err(JobFailure::Retry { .. }) if !job.is_last_attempt() => "retry",
        Err(_) => "dead",
    };
    crate::telemetry::job_finished(kind, result, started.elapsed());
    let recorded = match outcome {
        Ok(()) => {
            completed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(job = job.id, kind, elapsed_ms = started.elapsed().as_millis() as u64, "job done");
            queue.complete(&job).await
        }
        Err(JobFailure::Retry { reason, after }) => {
            if job.is_last_attempt() {
                tracing::error!(job = job.id, kind, attempt = job.attempt, %reason, "job failed for the last time; dead-lettered");
            } else {
                tracing::warn!(job = job.id, kind, attempt = job.attempt, %reason, "job failed; will retry");
            }
            queue.fail(&job, &reason, after, now_ms()).await
        }
        Err(JobFailure::Fatal(reason)) => {
            tracing::error!(job = job.id, kind, %reason, "job cannot succeed; dead-lettered");
            queue.dead_letter(&job, &reason, now_ms()).await
        }
    };
    if let Err(error) = recorded {
        tracing::warn!(job = job.id, kind, %error, "recording the job's outcome failed; it runs again after its lease");
    }
}

/// Renews the job's lease every third of its length; returns only when the lease is lost.
async fn keep_lease(queue: &Queue, job: &ClaimedJob) {
    let period = Duration::from_millis(queue.settings().lease_seconds * 1000 / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(period).await;
        match queue.extend_lease(job, now_ms()).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(job = job.id, %error, "renewing a lease failed"),
        }
    }
}
