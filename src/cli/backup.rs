//! `backup FILE`: a consistent copy of the SQLite database, taken while the service runs.

use std::path::Path;

use meldeweg::config::Settings;

use super::with_db;

pub async fn run(settings: &Settings, target: &Path) -> anyhow::Result<()> {
    let backup = with_db(settings, async |db| Ok(db.backup(target).await?)).await?;
    println!("backup written to {} ({} bytes)", target.display(), backup.bytes);
    Ok(())
}
