//! `user` (staff accounts: add, list, disable, enable, reset a password) and `token` (API
//! tokens: create, list, revoke). Passwords are asked for twice on a terminal, or read from the
//! first line of stdin for scripts; tokens are shown once, when created.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg::staff::{accounts, store};

use super::with_conn;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is asked for (or read from stdin when it is not a terminal).
    Add {
        #[arg(long)]
        email: String,
        /// depot, dispatcher, manager or admin.
        #[arg(long)]
        role: String,
        /// The depot id (routing.toml) of depot staff.
        #[arg(long)]
        depot: Option<String>,
        /// Language of the staff pages: de or en.
        #[arg(long, default_value = "de")]
        lang: String,
    },
    /// List the accounts.
    List,
    /// Disable an account (ends its sessions, stops its API tokens).
    Disable { email: String },
    /// Enable a disabled account again.
    Enable { email: String },
    /// Set a new password (asked for, or read from stdin); ends the account's sessions.
    Reset { email: String },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token for an account and print it (it is shown only this once).
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. the name of the connected software.
        #[arg(long, default_value = "api")]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by its number from `token list`.
    Revoke { id: i64 },
}

pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let now = meldeweg::time::now_ms();
    // Checked before the database opens: a wrong role or depot asks for no password.
    let grant = match &command {
        UserCommand::Add { role, depot, lang, .. } => {
            let municipality = meldeweg::town::load(settings, &[])?;
            Some(accounts::grant(role, depot.as_deref(), lang, &municipality)?)
        }
        _ => None,
    };
    let answer = with_conn(settings, async |conn| {
        Ok(match command {
            UserCommand::Add { email, lang, .. } => {
                let grant = grant.expect("checked above");
                accounts::add(conn, &email, grant, &lang, &read_password()?, now).await?
            }
            UserCommand::List => {
                let lines: Vec<String> = store::list(conn)
                    .await?
                    .iter()
                    .map(|u| {
                        let state = if u.disabled { "disabled" } else { "active" };
                        let depot = u.depot.as_deref().unwrap_or("-");
                        format!("{:<40} {:<10} {:<16} {:<3} {state}", u.email, u.role.as_str(), depot, u.lang)
                    })
                    .collect();
                match lines.is_empty() {
                    true => "no accounts yet; add one with `meldeweg user add`".into(),
                    false => lines.join("\n"),
                }
            }
            UserCommand::Disable { email } => accounts::set_disabled(conn, &email, true, now).await?,
            UserCommand::Enable { email } => accounts::set_disabled(conn, &email, false, now).await?,
            UserCommand::Reset { email } => accounts::reset(conn, &email, &read_password()?).await?,
        })
    })
    .await?;
    println!("{answer}");
    Ok(())
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let now = meldeweg::time::now_ms();
    let answer = with_conn(settings, async |conn| {
        Ok(match command {
            TokenCommand::Create { user, label } => accounts::create_token(conn, &user, &label, now).await?,
            TokenCommand::List => {
                let lines: Vec<String> = store::list_tokens(conn)
                    .await?
                    .iter()
                    .map(|t| {
                        let state = if t.revoked { "revoked" } else { "active" };
                        let used = t.last_used_at.map(meldeweg::time::rfc3339).unwrap_or_else(|| "never used".into());
                        format!("{:>4}  {:<40} {:<20} {state}, {used}", t.id, t.email, t.label)
                    })
                    .collect();
                match lines.is_empty() {
                    true => "no API tokens".into(),
                    false => lines.join("\n"),
                }
            }
            TokenCommand::Revoke { id } => match store::revoke_token(conn, id, now).await? {
                true => format!("token {id} revoked"),
                false => anyhow::bail!("there is no active token {id}"),
            },
        })
    })
    .await?;
    println!("{answer}");
    Ok(())
}

/// A new password: asked twice on a terminal (not echoed), else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Again: ").context("reading the password")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
