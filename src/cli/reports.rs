//! `reports list|recategorise` and `orders list`: what operators look at and correct from the
//! shell. No personal data is printed.

use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg::orders::board;
use meldeweg::reports::{self, Recategorised};
use meldeweg_workers::category::Category;
use meldeweg_workers::Reference;

use super::with_conn;

#[derive(Subcommand)]
pub enum ReportsCommand {
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

#[derive(Subcommand)]
pub enum OrdersCommand {
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

pub async fn reports(settings: &Settings, command: ReportsCommand) -> anyhow::Result<()> {
    match command {
        ReportsCommand::Recategorise { reference, category } => recategorise(settings, &reference, &category).await,
        ReportsCommand::List { json, limit } => {
            let listing =
                with_conn(settings, async |conn| Ok(reports::list(conn, limit.clamp(1, 100_000)).await?)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
                return Ok(());
            }
            for report in &listing {
                let first_line = report.description.as_deref().unwrap_or("").lines().next().unwrap_or("");
                println!(
                    "{}  {:<10} {:>9.5} {:>10.5}  {first_line}",
                    report.reference, report.status, report.lat, report.lon
                );
            }
            Ok(())
        }
    }
}

async fn recategorise(settings: &Settings, reference: &str, category: &str) -> anyhow::Result<()> {
    let parsed: Reference =
        reference.parse().map_err(|_| anyhow::anyhow!("{reference:?} is not a reference like M-2026-000123"))?;
    let category = Category::from_id(category).ok_or_else(|| {
        let ids: Vec<&str> = Category::ALL.iter().map(|c| c.id()).collect();
        anyhow::anyhow!("{category:?} is not a category; one of {}", ids.join(", "))
    })?;
    let now = meldeweg::time::now_ms();
    let before =
        with_conn(settings, async |conn| Ok(reports::recategorise(conn, parsed, category, "cli", now).await?)).await?;
    match before {
        Recategorised::Changed { from } => println!("{reference}: {from} -> {}", category.id()),
        Recategorised::Unchanged => println!("{reference} is already {}", category.id()),
        Recategorised::NotFound => anyhow::bail!("there is no report {reference}"),
    }
    Ok(())
}

pub async fn orders(settings: &Settings, command: OrdersCommand) -> anyhow::Result<()> {
    let OrdersCommand::List { json, limit } = command;
    let now = meldeweg::time::now_ms();
    let orders = with_conn(settings, async |conn| Ok(board::recent(conn, limit.clamp(1, 100_000), now).await?)).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&orders)?);
        return Ok(());
    }
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
    Ok(())
}
