//! `keys generate` (a fresh key for `encryption_key`) and `keys rotate` (re-seal every
//! personal value with the current key and recompute the lookup hashes; P6).

use clap::Subcommand;
use meldeweg::config::Settings;

use super::with_db;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Print a fresh random key (base64) for encryption_key; prefix it with a new id, e.g. "2:".
    Generate,
    /// Re-seal every number, user id, raw payload and e-mail address with encryption_key and
    /// recompute the lookup hashes; the old key must be in encryption_old_keys. Stop the service
    /// first: until the rotation is done, it would not find known reporters.
    Rotate,
}

pub async fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => println!("{}", meldeweg::crypto::generate_key()),
        KeysCommand::Rotate => {
            let vault = settings.vault()?;
            let now = meldeweg::time::now_ms();
            let rotated =
                with_db(settings, async |db| Ok(meldeweg::key_rotation::rotate(db, &vault, now).await?)).await?;
            println!(
                "sealed with key {}: {} reporters (lookup hashes recomputed), {} inbound payloads, {} e-mail addresses",
                vault.key_id(),
                rotated.reporters,
                rotated.inbound_payloads,
                rotated.email_addresses
            );
        }
    }
    Ok(())
}
