//! `open311 key add NAME` (a key for a system that reports in over Open311, printed once),
//! `open311 key list` and `open311 key revoke NAME`.

use clap::Subcommand;
use meldeweg::channels::open311::keys;
use meldeweg::config::Settings;

use super::with_conn;

#[derive(Subcommand)]
pub enum Open311Command {
    /// API keys of the systems that report in.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Make a key for the system NAME (e.g. fixmystreet) and print it: it is shown only once.
    Add { name: String },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke the key of NAME: its calls are refused from now on.
    Revoke { name: String },
}

pub async fn run(settings: &Settings, command: Open311Command) -> anyhow::Result<()> {
    let Open311Command::Key { command } = command;
    let now = meldeweg::time::now_ms();
    let answer = with_conn(settings, async |conn| {
        Ok(match command {
            KeyCommand::Add { name } => keys::add(conn, &name, now).await?,
            KeyCommand::List => keys::list(conn)
                .await?
                .iter()
                .map(|key| {
                    let state = match key.revoked_at {
                        Some(at) => format!("revoked {}", meldeweg::time::berlin_date_time(at)),
                        None => match key.last_used_at {
                            Some(at) => format!("last used {}", meldeweg::time::berlin_date_time(at)),
                            None => "never used".into(),
                        },
                    };
                    format!("{}\tcreated {}\t{state}", key.name, meldeweg::time::berlin_date_time(key.created_at))
                })
                .collect::<Vec<_>>()
                .join("\n"),
            KeyCommand::Revoke { name } => {
                keys::revoke(conn, &name, now).await?;
                format!("revoked the key of {name}")
            }
        })
    })
    .await?;
    println!("{answer}");
    Ok(())
}
