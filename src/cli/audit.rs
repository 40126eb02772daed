//! `audit verify` (walk the hash chain; names the first event that does not fit and exits 1)
//! and `audit export --report` (a report's history with every hash, as JSON) (P4, P8).

use clap::Subcommand;
use meldeweg::audit::{self, Verdict};
use meldeweg::config::Settings;

use super::with_conn;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain; names the first event that does not fit and exits with 1.
    Verify {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every event of a report and its work order, with their hashes, as JSON.
    Export {
        /// The report's reference, e.g. M-2026-000042.
        #[arg(long)]
        report: String,
    },
}

pub async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { json } => {
            let verdict = with_conn(settings, async |conn| Ok(audit::verify(conn).await?)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            }
            match verdict {
                Verdict::Intact { events, redacted, head } if !json => {
                    println!("audit chain intact: {events} events ({redacted} redacted), head {head}")
                }
                Verdict::Intact { .. } => {}
                Verdict::Broken { event, reason } => anyhow::bail!("audit chain broken at event {event}: {reason}"),
            }
        }
        AuditCommand::Export { report } => {
            let history =
                with_conn(settings, async |conn| Ok(audit::export_report(conn, report.trim()).await?)).await?;
            println!("{}", serde_json::to_string_pretty(&history)?);
        }
    }
    Ok(())
}
