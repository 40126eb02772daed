//! The subcommands, one file per group: `serve` (serve, worker, migrate), `backup`, `reports`
//! (reports and orders), `classify`, `users` (accounts and API tokens), `audit`, `keys`,
//! `retention`, `demo`, `photo`, `storage` and `streets`. `run` loads the settings and
//! dispatches; `with_db` opens the configured database for a command and closes it afterwards,
//! whatever the command did (`with_conn` also hands it one connection).

mod audit;
mod backup;
mod classify;
mod demo;
mod keys;
mod open311;
mod photo;
mod reports;
mod retention;
mod serve;
mod storage;
mod streets;
mod users;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use meldeweg::config::Settings;
use meldeweg::db::Db;
use sqlx::AnyConnection;

#[derive(Parser)]
#[command(
    name = "meldeweg",
    version,
    about = "Citizens' problem reports for municipalities, over messengers and the web"
)]
pub struct Cli {
    /// A TOML file overlaid on the built-in defaults (environment variables still win); without
    /// it, /etc/meldeweg/meldeweg.toml, then ./meldeweg.toml, if there is one.
    #[arg(long, global = true, value_name = "FILE", env = "MELDEWEG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP and run the workers (the default).
    Serve,
    /// Run only the workers (add processes against one PostgreSQL to scale out).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Copy the SQLite database to a new file while the service runs (PostgreSQL: pg_dump).
    Backup {
        /// The copy, e.g. /var/backups/meldeweg/2026-12-07.db; must not exist yet.
        file: PathBuf,
    },
    /// Look at reports.
    Reports {
        #[command(subcommand)]
        command: reports::ReportsCommand,
    },
    /// Look at work orders.
    Orders {
        #[command(subcommand)]
        command: reports::OrdersCommand,
    },
    /// Build the street gazetteer (streets.csv) from an OpenStreetMap extract exported as
    /// GeoJSON, e.g. `osmium export town.osm.pbf -o town.geojson`.
    ImportStreets {
        /// The GeoJSON export.
        input: PathBuf,
        /// Where to write the gazetteer, e.g. config/streets.csv.
        output: PathBuf,
    },
    /// Classify texts read from stdin, one per line, printing one JSON object per line; with
    /// --eval, measure the classifier on a labelled file instead.
    #[command(args_conflicts_with_subcommands = true)]
    Classify {
        #[command(subcommand)]
        command: Option<classify::ClassifyCommand>,
        /// A TSV file with the header `category<TAB>text`: prints accuracy, macro-F1 and the
        /// confusion matrix.
        #[arg(long, value_name = "FILE.tsv")]
        eval: Option<PathBuf>,
    },
    /// Staff accounts: add, list, disable, enable, reset a password.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// API tokens for the JSON API (/api/v1).
    Token {
        #[command(subcommand)]
        command: users::TokenCommand,
    },
    /// The audit log (PRIVACY P4/P8): check its hash chain, export a report's history.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Keys for personal data (PRIVACY P6): make a new one, re-seal everything with the current one.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// The deletion concept (PRIVACY P7): run the retention periods now, or list past runs.
    Retention {
        #[command(subcommand)]
        command: retention::RetentionCommand,
    },
    /// Demo data for trying the statistics before go-live (and for benchmarks).
    Demo {
        #[command(subcommand)]
        command: demo::DemoCommand,
    },
    /// Open311 GeoReport v2: the API keys of the systems that report in.
    Open311 {
        #[command(subcommand)]
        command: open311::Open311Command,
    },
    /// Where photos are stored: copy them from this machine's disk into an S3-compatible store.
    Storage {
        #[command(subcommand)]
        command: storage::StorageCommand,
    },
    /// Work with photos.
    Photo {
        #[command(subcommand)]
        command: photo::PhotoCommand,
    },
}

/// Runs the command (`serve` when none is given) with the loaded settings.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = meldeweg::config::find_file(cli.config, |path| path.is_file());
    let settings = Settings::load(file.as_deref())?;
    meldeweg::channels::check(&settings)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(settings).await,
        Command::Worker => serve::worker(settings).await,
        Command::Migrate => serve::migrate(&settings).await,
        Command::Backup { file } => backup::run(&settings, &file).await,
        Command::Reports { command } => reports::reports(&settings, command).await,
        Command::Orders { command } => reports::orders(&settings, command).await,
        Command::ImportStreets { input, output } => streets::import(&input, &output),
        Command::Classify { command, eval } => classify::run(&settings, command, eval).await,
        Command::User { command } => users::user(&settings, command).await,
        Command::Token { command } => users::token(&settings, command).await,
        Command::Audit { command } => audit::run(&settings, command).await,
        Command::Keys { command } => keys::run(&settings, command).await,
        Command::Retention { command } => retention::run(&settings, command).await,
        Command::Demo { command } => demo::run(&settings, command).await,
        Command::Open311 { command } => open311::run(&settings, command).await,
        Command::Photo { command } => photo::run(&settings, command),
        Command::Storage { command } => storage::run(&settings, command).await,
    }
}

/// Opens the configured database (migrated), runs `command` with it, chains the audit events it
/// recorded, and closes the database again, also when the command failed.
async fn with_db<T>(settings: &Settings, command: impl AsyncFnOnce(&Db) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let db = Db::connect(&settings.database_url(), &settings.database).await?;
    db.migrate().await?;
    let result = command(&db).await;
    let sealed = async {
        let mut conn = db.pool().acquire().await?;
        meldeweg::audit::seal(&mut conn).await
    };
    let sealed = sealed.await;
    db.close().await;
    let value = result?;
    sealed.context("chaining the audit events")?;
    Ok(value)
}

/// Like `with_db`, for a command that needs one connection (returned before the database
/// closes; SQLite has only one).
async fn with_conn<T>(
    settings: &Settings,
    command: impl AsyncFnOnce(&mut AnyConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_db(settings, async |db: &Db| {
        let mut conn = db.pool().acquire().await.context("database")?;
        command(&mut conn).await
    })
    .await
}
