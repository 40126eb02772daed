//! Cross-process wake-up on PostgreSQL. The notifier sends a NOTIFY after this process commits
//! new jobs; the listener turns every NOTIFY into a wake-up of this process's worker. Without
//! them workers still find new jobs within `poll_seconds`; with them within milliseconds.
//!
//! The NOTIFY is sent on its own, after the commit, never inside the transaction: PostgreSQL
//! takes a database-wide lock to commit a transaction that notified, which would make every
//! enqueueing commit wait for the others. One NOTIFY also stands for all commits made while the
//! previous one was being sent.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::NOTIFY_CHANNEL;

pub fn spawn_postgres_listener(url: String, wake: Arc<Notify>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        while !shutdown.is_cancelled() {
            match listen(&url, &wake, &shutdown).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "job notifications unavailable; polling until reconnected");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }
        }
    });
}

async fn listen(url: &str, wake: &Notify, shutdown: &CancellationToken) -> sqlx::Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    // Anything committed while we were not listening is found by this first look.
    wake.notify_one();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            notification = listener.recv() => {
                notification?;
                wake.notify_one();
            }
        }
    }
}

/// Sends one NOTIFY whenever this process has committed new jobs since the last one.
pub fn spawn_postgres_notifier(pool: AnyPool, announce: Arc<Notify>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = announce.notified() => {}
            }
            let sent = sqlx::query("SELECT pg_notify($1, '')").bind(NOTIFY_CHANNEL).execute(&pool).await;
            if let Err(error) = sent {
                tracing::warn!(%error, "announcing new jobs failed; other workers find them by polling");
            }
        }
    });
}
