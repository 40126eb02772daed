//! `serve` (HTTP and workers), `worker` (workers only, to scale out on PostgreSQL) and
//! `migrate`. Both long-running commands stop on SIGTERM or SIGINT: running work finishes
//! before the process exits.

use meldeweg::config::Settings;
use meldeweg::db::Db;
use meldeweg::startup::{run_worker, Application};
use tokio_util::sync::CancellationToken;

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    stop_on_signal(app.shutdown_token())?;
    Ok(app.run_until_stopped().await?)
}

pub async fn worker(settings: Settings) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    stop_on_signal(shutdown.clone())?;
    Ok(run_worker(settings, shutdown).await?)
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database_url(), &settings.database).await?;
    let migrated = db.migrate().await;
    db.close().await;
    migrated?;
    println!("migrations applied");
    Ok(())
}

/// Cancels `token` on SIGTERM or SIGINT, so running work finishes before the process exits.
fn stop_on_signal(token: CancellationToken) -> anyhow::Result<()> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("shutdown requested");
        token.cancel();
    });
    Ok(())
}
