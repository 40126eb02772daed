//! Cross-process wake-up on PostgreSQL: a LISTEN connection that turns every NOTIFY on the jobs
//! channel into a local wake-up of this process's worker. Without it workers still find new
//! jobs within `poll_seconds`; with it they start within milliseconds.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::NOTIFY_CHANNEL;

pub fn spawn_postgres_listener(
    url: String,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
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
    })
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
