//! The `meldeweg` command line: parses arguments, sets up logging and signals, and calls into
//! the library. `serve` (the default) runs HTTP and workers in one process.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use meldeweg::config::Settings;
use meldeweg::db::Db;
use meldeweg::orders::board as order_board;
use meldeweg::reports;
use meldeweg::startup::{run_worker, Application};
use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{evaluate, Classifier};
use meldeweg_workers::Reference;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "meldeweg", version, about = "Citizens' problem reports over WhatsApp")]
struct Cli {
    /// A TOML file overlaid on the built-in defaults (environment variables still win).
    #[arg(long, global = true, value_name = "FILE")]
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
    /// Look at reports.
    Reports {
        #[command(subcommand)]
        command: ReportsCommand,
    },
    /// Build the street gazetteer (streets.csv) from an OpenStreetMap extract exported as
    /// GeoJSON, e.g. `osmium export town.osm.pbf -o town.geojson`.
    ImportStreets {
        /// The GeoJSON export.
        input: PathBuf,
        /// Where to write the gazetteer, e.g. config/streets.csv.
        output: PathBuf,
    },
    /// Look at work orders.
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
    },
    /// Classify texts read from stdin, one per line, printing one JSON object per line; with
    /// --eval, measure the classifier on a labelled file instead.
    #[command(args_conflicts_with_subcommands = true)]
    Classify {
        #[command(subcommand)]
        command: Option<ClassifyCommand>,
        /// A TSV file with the header `category<TAB>text`: prints accuracy, macro-F1 and the
        /// confusion matrix.
        #[arg(long, value_name = "FILE.tsv")]
        eval: Option<PathBuf>,
    },
    /// Staff accounts: add, list, disable, enable, reset a password.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens for the JSON API (/api/v1).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log (PRIVACY P4/P8): check its hash chain, export a report's history.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Keys for personal data (PRIVACY P6): make a new one, re-seal everything with the current one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The deletion concept (PRIVACY P7): run the retention periods now, or list past runs.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Demo data for trying the statistics before go-live (and for benchmarks).
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Work with photos.
    Photo {
        #[command(subcommand)]
        command: PhotoCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
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
enum TokenCommand {
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

#[derive(Subcommand)]
enum AuditCommand {
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

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a fresh random key (base64) for encryption_key; prefix it with a new id, e.g. "2:".
    Generate,
    /// Re-seal every number, user id, raw payload and e-mail address with encryption_key and
    /// recompute the lookup hashes; the old key must be in encryption_old_keys. Stop the service
    /// first: until the rotation is done, it would not find known reporters.
    Rotate,
}

#[derive(Subcommand)]
enum RetentionCommand {
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

#[derive(Subcommand)]
enum DemoCommand {
    /// Fill an empty database with a realistic history of reports and work orders (no
    /// personal data).
    Seed {
        /// How many reports.
        #[arg(long)]
        reports: usize,
        /// Spread over this many days up to today.
        #[arg(long, default_value_t = 730)]
        days: i64,
        /// The same seed gives the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum PhotoCommand {
    /// Write a copy of a photo without any metadata (as Meldeweg stores it) and print what was
    /// read from it as JSON: width, height, gps, taken_at, sha256.
    Clean {
        /// A JPEG, PNG or WebP file.
        input: PathBuf,
        /// Where to write the cleaned JPEG.
        output: PathBuf,
        /// Also write the thumbnail here.
        #[arg(long, value_name = "THUMB.jpg")]
        thumb: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ClassifyCommand {
    /// Let the model learn from every staff correction made so far (used from the next start
    /// of the service), and show the held-out figures before and after.
    Retrain {
        /// The held-out evaluation set.
        #[arg(long, value_name = "FILE.tsv", default_value = "config/evaluation/eval.tsv")]
        eval: PathBuf,
    },
}

#[derive(Subcommand)]
enum OrdersCommand {
    /// List the most recent work orders with their reports.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many orders to list.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// Put a report into another category, as staff do; the correction trains the classifier
    /// from the next `meldeweg classify retrain`.
    Recategorise {
        /// The report's reference, e.g. M-2026-000123.
        reference: String,
        /// The category id, e.g. beleuchtung.
        category: String,
    },
    /// List the most recent reports.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many reports to list.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("meldeweg: {}", without_repeats(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            stop_on_signal(app.shutdown_token());
            app.run_until_stopped().await?;
        }
        Command::Worker => {
            let shutdown = CancellationToken::new();
            stop_on_signal(shutdown.clone());
            run_worker(settings, shutdown).await?;
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database_url(), &settings.database).await?;
            db.migrate().await?;
            db.close().await;
            println!("migrations applied");
        }
        Command::ImportStreets { input, output } => {
            use meldeweg_workers::geotag::streets;
            let text = std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
            let (points, skipped) = streets::address_points_from_osm_geojson(&text)
                .with_context(|| format!("{} was not imported", input.display()))?;
            let csv = streets::to_csv(&points);
            let gazetteer =
                meldeweg_workers::geotag::Gazetteer::from_csv(&csv).context("the gazetteer did not load")?;
            std::fs::write(&output, csv).with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{} address points on {} streets written to {} ({skipped} features without a usable address skipped)",
                points.len(),
                gazetteer.street_count(),
                output.display()
            );
        }
        Command::Photo { command: PhotoCommand::Clean { input, output, thumb } } => {
            let bytes = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let cleaned = meldeweg_workers::photo::clean(&bytes, &settings.photos.limits())
                .with_context(|| format!("{} was not cleaned", input.display()))?;
            std::fs::write(&output, &cleaned.jpeg).with_context(|| format!("writing {}", output.display()))?;
            if let Some(thumb) = thumb {
                std::fs::write(&thumb, &cleaned.thumbnail).with_context(|| format!("writing {}", thumb.display()))?;
            }
            let gps = cleaned.gps.map(|p| serde_json::json!({ "lat": p.lat(), "lon": p.lon() }));
            let summary = serde_json::json!({
                "width": cleaned.width,
                "height": cleaned.height,
                "gps": gps,
                "taken_at": cleaned.taken_at,
                "sha256": cleaned.sha256,
            });
            println!("{summary}");
        }
        Command::Classify { command: Some(ClassifyCommand::Retrain { eval }), .. } => {
            let text = std::fs::read_to_string(&eval).with_context(|| format!("reading {}", eval.display()))?;
            let examples = evaluate::parse_tsv(&text).with_context(|| format!("{}", eval.display()))?;
            let (db, mut conn) = connect(&settings).await?;
            let before = evaluate::evaluate(&classifier(&settings, &mut conn).await?, &examples);
            let corrections = reports::include_all_corrections(&mut conn).await?;
            let after = evaluate::evaluate(&classifier(&settings, &mut conn).await?, &examples);
            drop(conn);
            db.close().await;
            println!("{corrections} staff corrections included; restart the service to use the new model");
            println!(
                "held-out ({}): accuracy {:.3} -> {:.3}, macro-F1 {:.3} -> {:.3}",
                eval.display(),
                before.accuracy,
                after.accuracy,
                before.macro_f1,
                after.macro_f1
            );
        }
        Command::Classify { command: None, eval } => {
            let (db, mut conn) = connect(&settings).await?;
            let classifier = classifier(&settings, &mut conn).await?;
            drop(conn);
            db.close().await;
            match eval {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    let examples = evaluate::parse_tsv(&text).with_context(|| format!("{}", path.display()))?;
                    print!("{}", evaluate::evaluate(&classifier, &examples));
                }
                None => {
                    use std::io::{BufRead, Write};
                    let mut out = std::io::stdout().lock();
                    for line in std::io::stdin().lock().lines() {
                        let line = line.context("reading stdin")?;
                        writeln!(out, "{}", serde_json::to_string(&classifier.classify(&line))?)?;
                    }
                }
            }
        }
        Command::Reports { command: ReportsCommand::Recategorise { reference, category } } => {
            let parsed: Reference = reference
                .parse()
                .map_err(|_| anyhow::anyhow!("{reference:?} is not a reference like M-2026-000123"))?;
            let category = Category::from_id(&category).ok_or_else(|| {
                let ids: Vec<&str> = Category::ALL.iter().map(|c| c.id()).collect();
                anyhow::anyhow!("{category:?} is not a category; one of {}", ids.join(", "))
            })?;
            let (db, mut conn) = connect(&settings).await?;
            let before = reports::recategorise(&mut conn, parsed, category, "cli", meldeweg::time::now_ms()).await?;
            drop(conn);
            db.close().await;
            match before {
                reports::Recategorised::Changed { from } => println!("{reference}: {from} -> {}", category.id()),
                reports::Recategorised::Unchanged => println!("{reference} is already {}", category.id()),
                reports::Recategorised::NotFound => anyhow::bail!("there is no report {reference}"),
            }
        }
        Command::Orders { command: OrdersCommand::List { json, limit } } => {
            let (db, mut conn) = connect(&settings).await?;
            let now = meldeweg::time::now_ms();
            let orders = order_board::recent(&mut conn, limit.clamp(1, 100_000), now).await?;
            drop(conn);
            db.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&orders)?);
            } else {
                for listing in &orders {
                    let order = &listing.row;
                    println!(
                        "{}  {:<11} {:<8} {:<16} {:<18} {:<14} {}  [{}]",
                        order.number,
                        order.status,
                        order.priority,
                        order.category,
                        order.depot,
                        order.district,
                        order.address.as_deref().unwrap_or("-"),
                        listing.reports.join(", ")
                    );
                }
            }
        }
        Command::Audit { command: AuditCommand::Verify { json } } => {
            let (db, mut conn) = connect(&settings).await?;
            let verdict = meldeweg::audit::verify(&mut conn).await?;
            drop(conn);
            db.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            }
            match verdict {
                meldeweg::audit::Verdict::Intact { events, redacted, head } => {
                    if !json {
                        println!("audit chain intact: {events} events ({redacted} redacted), head {head}");
                    }
                }
                meldeweg::audit::Verdict::Broken { event, reason } => {
                    anyhow::bail!("audit chain broken at event {event}: {reason}")
                }
            }
        }
        Command::Audit { command: AuditCommand::Export { report } } => {
            let (db, mut conn) = connect(&settings).await?;
            let history = meldeweg::audit::export_report(&mut conn, report.trim()).await;
            drop(conn);
            db.close().await;
            println!("{}", serde_json::to_string_pretty(&history?)?);
        }
        Command::Keys { command: KeysCommand::Generate } => {
            println!("{}", meldeweg::crypto::generate_key());
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            let vault = settings.vault()?;
            let (db, conn) = connect(&settings).await?;
            drop(conn);
            let rotated = meldeweg::key_rotation::rotate(&db, &vault, meldeweg::time::now_ms()).await;
            db.close().await;
            let rotated = rotated?;
            println!(
                "sealed with key {}: {} reporters (lookup hashes recomputed), {} inbound payloads, {} e-mail addresses",
                vault.key_id(),
                rotated.reporters,
                rotated.inbound_payloads,
                rotated.email_addresses
            );
        }
        Command::Retention { command: RetentionCommand::Run { dry_run } } => {
            let (db, conn) = connect(&settings).await?;
            drop(conn);
            let store = meldeweg::storage::PhotoStore::local(&settings.data_dir.join("photos"))?;
            let now = meldeweg::time::now_ms();
            let counts = meldeweg::retention::run(&db, &store, &settings.retention, now, dry_run, "cli").await;
            db.close().await;
            let verb = if dry_run { "would delete or anonymise" } else { "deleted or anonymised" };
            println!("retention {verb}:");
            for (class, count) in counts? {
                println!("  {class:<20} {count}");
            }
        }
        Command::Retention { command: RetentionCommand::Runs { limit } } => {
            let (db, mut conn) = connect(&settings).await?;
            let runs = meldeweg::retention::recent_runs(&mut conn, limit.clamp(1, 1000)).await?;
            drop(conn);
            db.close().await;
            for run in runs {
                let kind = if run.dry_run { "dry run" } else { "run" };
                let at = meldeweg::time::berlin_date_time(run.started_at);
                println!("{at}  {kind:<7} {:<8} {}", run.started_by, run.counts);
            }
        }
        Command::Demo { command: DemoCommand::Seed { reports, days, seed } } => {
            anyhow::ensure!((1..=10_000_000).contains(&reports), "--reports must be between 1 and 10,000,000");
            anyhow::ensure!((1..=3650).contains(&days), "--days must be between 1 and 3650");
            let (db, conn) = connect(&settings).await?;
            drop(conn);
            let municipality = meldeweg::town::load(&settings, &[])?;
            let started = std::time::Instant::now();
            let now = meldeweg::time::now_ms();
            let orders = meldeweg::demo::seed(&db, &municipality, &settings.sla, reports, days, seed, now).await?;
            println!(
                "{reports} reports and {orders} work orders over {days} days written in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            let started = std::time::Instant::now();
            meldeweg::stats::rollup::refresh(&db).await?;
            db.close().await;
            println!("statistics roll-ups built in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::User { command } => println!("{}", user_command(&settings, command).await?),
        Command::Token { command } => println!("{}", token_command(&settings, command).await?),
        Command::Reports { command: ReportsCommand::List { json, limit } } => {
            let (db, mut conn) = connect(&settings).await?;
            let listing = reports::list(&mut conn, limit.clamp(1, 100_000)).await?;
            drop(conn);
            db.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                for report in &listing {
                    println!(
                        "{}  {:<10} {:>9.5} {:>10.5}  {}",
                        report.reference,
                        report.status,
                        report.lat,
                        report.lon,
                        report.description.as_deref().unwrap_or("").lines().next().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

async fn user_command(settings: &Settings, command: UserCommand) -> anyhow::Result<String> {
    use meldeweg::staff::accounts;
    let now = meldeweg::time::now_ms();
    let (db, mut conn) = connect(settings).await?;
    let result = match command {
        UserCommand::Add { email, role, depot, lang } => {
            let municipality = meldeweg::town::load(settings, &[])?;
            let grant = accounts::grant(&role, depot.as_deref(), &lang, &municipality)?;
            let password = read_password()?;
            accounts::add(&mut conn, &email, grant, &lang, &password, now).await?
        }
        UserCommand::List => {
            let users = meldeweg::staff::store::list(&mut conn).await?;
            let lines: Vec<String> = users
                .iter()
                .map(|u| {
                    let state = if u.disabled { "disabled" } else { "active" };
                    format!(
                        "{:<40} {:<10} {:<16} {:<3} {state}",
                        u.email,
                        u.role.as_str(),
                        u.depot.as_deref().unwrap_or("-"),
                        u.lang
                    )
                })
                .collect();
            if lines.is_empty() {
                "no accounts yet; add one with `meldeweg user add`".into()
            } else {
                lines.join("\n")
            }
        }
        UserCommand::Disable { email } => accounts::set_disabled(&mut conn, &email, true, now).await?,
        UserCommand::Enable { email } => accounts::set_disabled(&mut conn, &email, false, now).await?,
        UserCommand::Reset { email } => {
            let password = read_password()?;
            accounts::reset(&mut conn, &email, &password).await?
        }
    };
    drop(conn);
    db.close().await;
    Ok(result)
}

async fn token_command(settings: &Settings, command: TokenCommand) -> anyhow::Result<String> {
    let now = meldeweg::time::now_ms();
    let (db, mut conn) = connect(settings).await?;
    let result = match command {
        TokenCommand::Create { user, label } => {
            meldeweg::staff::accounts::create_token(&mut conn, &user, &label, now).await?
        }
        TokenCommand::List => {
            let tokens = meldeweg::staff::store::list_tokens(&mut conn).await?;
            let lines: Vec<String> = tokens
                .iter()
                .map(|t| {
                    let state = if t.revoked { "revoked" } else { "active" };
                    let used = t.last_used_at.map(meldeweg::time::rfc3339).unwrap_or_else(|| "never used".into());
                    format!("{:>4}  {:<40} {:<20} {state}, {used}", t.id, t.email, t.label)
                })
                .collect();
            if lines.is_empty() {
                "no API tokens".into()
            } else {
                lines.join("\n")
            }
        }
        TokenCommand::Revoke { id } => match meldeweg::staff::store::revoke_token(&mut conn, id, now).await? {
            true => format!("token {id} revoked"),
            false => anyhow::bail!("there is no active token {id}"),
        },
    };
    drop(conn);
    db.close().await;
    Ok(result)
}

/// The error and its causes, each cause only where the message before it does not already say it
/// (most of Meldeweg's errors name their cause themselves).
fn without_repeats(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1).map(ToString::to_string) {
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
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

/// The configured database, migrated, with one connection (drop it before `db.close()`).
async fn connect(settings: &Settings) -> anyhow::Result<(Db, sqlx::pool::PoolConnection<sqlx::Any>)> {
    let db = Db::connect(&settings.database_url(), &settings.database).await?;
    db.migrate().await?;
    let conn = db.pool().acquire().await.context("database")?;
    Ok((db, conn))
}

/// The classifier as the service builds it: training texts plus retrained staff corrections.
async fn classifier(settings: &Settings, conn: &mut sqlx::AnyConnection) -> anyhow::Result<Classifier> {
    let corrections = reports::training_corrections(conn).await?;
    Ok(meldeweg::town::load_classifier(settings, &corrections)?)
}

/// Cancels `token` on SIGTERM or SIGINT, so running work finishes before the process exits.
fn stop_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("shutdown requested");
        token.cancel();
    });
}
