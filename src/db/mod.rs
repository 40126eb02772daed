//! The database: one `Db` handle over SQLite (embedded default) or PostgreSQL (production).
//!
//! Queries are plain SQL with `$N` placeholders, which both backends accept, run through sqlx's
//! `Any` driver; the few statements that must differ are marked per backend where they live.
//! Times are stored as Unix milliseconds (UTC) in BIGINT columns. SQLite runs with WAL and a
//! single writer connection: one writer never waits on SQLite's sleeping busy handler.

mod backup;
mod migrations;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyConnection, AnyPool, Executor};
use tokio::sync::Notify;

use crate::config::{DatabaseSettings, SqliteSynchronous};

pub use backup::{Backup, BackupError};
pub use sqlx::Error as SqlError;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool plus what the queue needs to know about it. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Signalled after a transaction that enqueued jobs commits: wakes this process's workers.
    jobs_committed: Arc<Notify>,
    /// Signalled at the same time for the PostgreSQL notifier, which tells other processes.
    jobs_to_announce: Arc<Notify>,
}

impl Db {
    /// Connects (creating the SQLite file and its directory if needed). Does not migrate.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        if backend == Backend::Sqlite {
            create_sqlite_dir(url)?;
        }
        let synchronous = match settings.sqlite_synchronous {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
        };
        let options = match backend {
            Backend::Sqlite => AnyPoolOptions::new().max_connections(1).min_connections(1),
            Backend::Postgres => AnyPoolOptions::new().max_connections(settings.max_connections),
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;"
                        );
                        conn.execute(pragmas.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(DbError::Connect)?;
        Ok(Self { pool, backend, jobs_committed: Arc::new(Notify::new()), jobs_to_announce: Arc::new(Notify::new()) })
    }

    /// On PostgreSQL, waits until no other instance is starting, and keeps them waiting until
    /// `StartupLock::release` (or until this process's connection ends, should it die). SQLite
    /// has one process: nothing to wait for.
    pub async fn startup_lock(&self) -> Result<StartupLock, DbError> {
        if self.backend == Backend::Sqlite {
            return Ok(StartupLock(None));
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)").bind(STARTUP_LOCK).execute(&mut *conn).await?;
        Ok(StartupLock(Some(conn)))
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        migrations::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// How the database's migrations compare with this build's (for /readyz).
    pub async fn schema(&self) -> sqlx::Result<Schema> {
        let latest = migrations::latest_version(self.backend);
        let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_one(&self.pool)
            .await?;
        Ok(match applied {
            Some(version) if version == latest => Schema::Current,
            Some(version) if version > latest => Schema::Ahead,
            _ => Schema::Behind,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(Tx { inner: self.pool.begin().await?, db: self.clone(), enqueued: false })
    }

    /// Signalled when a transaction that enqueued jobs has committed in this process.
    pub fn jobs_committed(&self) -> &Arc<Notify> {
        &self.jobs_committed
    }

    /// Like `jobs_committed`, for the task that announces new jobs to other processes.
    pub fn jobs_to_announce(&self) -> &Arc<Notify> {
        &self.jobs_to_announce
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The key of the advisory lock instances take while they start (`Db::startup_lock`); sqlx's
/// migrator takes its own, another one, inside it.
const STARTUP_LOCK: i64 = 0x6d65_6c64_6577_6567; // "meldeweg"

/// The database's migrations against this build's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Every migration this build knows is applied, and no other.
    Current,
    /// Some are missing: `meldeweg migrate` (or a start) applies them.
    Behind,
    /// A newer version migrated it further; this build must not work on it.
    Ahead,
}

/// Held while this instance migrates and prepares the database.
pub struct StartupLock(Option<sqlx::pool::PoolConnection<sqlx::Any>>);

impl StartupLock {
    pub async fn release(self) {
        if let Some(mut conn) = self.0 {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(STARTUP_LOCK).execute(&mut *conn).await;
            if unlocked.is_err() {
                // The lock goes with the connection: close it rather than hand it back locked.
                let _ = sqlx::Connection::close(conn.detach()).await;
            }
        }
    }
}

/// A transaction that knows whether it enqueued jobs, so committing it wakes the workers.
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    db: Db,
    enqueued: bool,
}

impl Tx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }

    /// Called by the queue when a job is inserted in this transaction.
    pub(crate) fn mark_enqueued(&mut self) {
        self.enqueued = true;
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        self.inner.commit().await?;
        if self.enqueued {
            self.db.jobs_committed.notify_one();
            self.db.jobs_to_announce.notify_one();
        }
        Ok(())
    }
}

/// Fails with `RowNotFound` unless exactly one row changed (guards updates by id).
pub fn expect_one(result: AnyQueryResult) -> Result<(), sqlx::Error> {
    match result.rows_affected() {
        1 => Ok(()),
        _ => Err(sqlx::Error::RowNotFound),
    }
}

fn create_sqlite_dir(url: &str) -> Result<(), DbError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir { path: dir.display().to_string(), source })?;
    }
    Ok(())
}
