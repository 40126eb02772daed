//! `storage migrate`: copies the photos on this machine's disk (`data_dir/photos`) into the store
//! `storage.photos_url` names, reading every copy back to compare it. Run it, then switch the
//! instances over (docs/operations.md, "Photos on S3-compatible storage").

use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg::storage::PhotoStore;

#[derive(Subcommand)]
pub enum StorageCommand {
    /// Copy the photos in data_dir/photos into storage.photos_url and verify every object.
    Migrate,
}

pub async fn run(settings: &Settings, command: StorageCommand) -> anyhow::Result<()> {
    match command {
        StorageCommand::Migrate => {
            anyhow::ensure!(
                !settings.storage.photos_url.trim().is_empty(),
                "storage migrate: storage.photos_url names no bucket to copy into (MELDEWEG_STORAGE_PHOTOS_URL=s3://…)"
            );
            let local = settings.data_dir.join("photos");
            anyhow::ensure!(local.is_dir(), "storage migrate: {} holds no photos", local.display());
            let source = PhotoStore::local(&local)?;
            let target = PhotoStore::open(&settings.storage, &settings.data_dir)?;
            let done = source.copy_to(&target).await?;
            println!(
                "storage migrate: {} files copied and verified, {} already there and identical",
                done.copied, done.present
            );
        }
    }
    Ok(())
}
