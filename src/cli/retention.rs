//! `retention run [--dry-run]` (apply the deletion concept now, or count what it would do) and
//! `retention runs` (the recorded runs) (P7).

use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg::storage::PhotoStore;

use super::{with_conn, with_db};

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Delete and anonymise what is past its period in [retention]; prints the count per class.
    Run {
        /// Only count what would be deleted; nothing changes (the run is still recorded).
        #[arg(long)]
        dry_run: bool,
    },
    /// The latest recorded runs, newest first.
    Runs {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

pub async fn run(settings: &Settings, command: RetentionCommand) -> anyhow::Result<()> {
    match command {
        RetentionCommand::Run { dry_run } => {
            let store = PhotoStore::open(&settings.storage, &settings.data_dir)?;
            let now = meldeweg::time::now_ms();
            let counts = with_db(settings, async |db| {
                Ok(meldeweg::retention::run(db, &store, &settings.retention, now, dry_run, "cli").await?)
            })
            .await?;
            let verb = if dry_run { "would delete or anonymise" } else { "deleted or anonymised" };
            println!("retention {verb}:");
            for (class, count) in counts {
                println!("  {class:<20} {count}");
            }
        }
        RetentionCommand::Runs { limit } => {
            let runs = with_conn(settings, async |conn| {
                Ok(meldeweg::retention::recent_runs(conn, limit.clamp(1, 1000)).await?)
            })
            .await?;
            for run in runs {
                let kind = if run.dry_run { "dry run" } else { "run" };
                let at = meldeweg::time::berlin_date_time(run.started_at);
                println!("{at}  {kind:<7} {:<8} {}", run.started_by, run.counts);
            }
        }
    }
    Ok(())
}
