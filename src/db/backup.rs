//! `meldeweg backup`: a consistent copy of the embedded SQLite database taken while the service
//! runs. SQLite's `VACUUM INTO` reads one snapshot (WAL mode lets writers go on meanwhile) and
//! writes it as a compact database of its own; the copy appears under its name only once it is
//! whole and on disk, readable by its owner only (it holds personal data, sealed or not).
//! PostgreSQL is copied with its own tool, `pg_dump` (docs/operations.md).

use std::path::{Path, PathBuf};

use super::{Backend, Db};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup: {0} exists already; choose a new file name")]
    Exists(String),
    #[error("backup: PostgreSQL is backed up with pg_dump (docs/operations.md, \"Backup\")")]
    Postgres,
    #[error("backup: {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("backup: {0}")]
    Sql(#[from] sqlx::Error),
}

/// What a backup wrote.
pub struct Backup {
    pub bytes: u64,
}

impl Db {
    /// Copies the SQLite database into `target`, which must not exist yet.
    pub async fn backup(&self, target: &Path) -> Result<Backup, BackupError> {
        if self.backend == Backend::Postgres {
            return Err(BackupError::Postgres);
        }
        if target.exists() {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        let file = |path: &Path| {
            let path = path.display().to_string();
            move |source| BackupError::File { path, source }
        };
        let partial = partial_name(target);
        // A partial copy left by an interrupted run is ours to replace.
        match std::fs::remove_file(&partial) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(file(&partial)(error)),
            _ => {}
        }
        let written = sqlx::query("VACUUM INTO $1").bind(partial.display().to_string()).execute(&self.pool).await;
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(error.into());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600)).map_err(file(&partial))?;
        }
        std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(file(&partial))?;
        std::fs::rename(&partial, target).map_err(file(target))?;
        let bytes = std::fs::metadata(target).map_err(file(target))?.len();
        Ok(Backup { bytes })
    }
}

/// `FILE.partial` beside `FILE`, so the rename that finishes a backup stays on one file system.
fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}
