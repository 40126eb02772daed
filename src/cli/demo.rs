//! `demo seed`: a realistic history of reports and work orders (no personal data) in an empty
//! database, for trying the statistics before go-live and for the benchmarks.

use clap::Subcommand;
use meldeweg::config::Settings;

use super::with_db;

#[derive(Subcommand)]
pub enum DemoCommand {
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

pub async fn run(settings: &Settings, command: DemoCommand) -> anyhow::Result<()> {
    let DemoCommand::Seed { reports, days, seed } = command;
    anyhow::ensure!((1..=10_000_000).contains(&reports), "--reports must be between 1 and 10,000,000");
    // Fifty years reach back no further than 1976: the statistics' weeks count from 1970.
    anyhow::ensure!((1..=18_250).contains(&days), "--days must be between 1 and 18,250");
    // A year's reference numbers have six digits: keep the average year well below 999,999.
    let fewest_days = (reports as u64 * 365).div_ceil(800_000);
    anyhow::ensure!(
        days as u64 >= fewest_days,
        "{reports} reports over {days} days would overrun a year's six-digit reference numbers: \
         spread them over at least {fewest_days} days (--days)"
    );
    let municipality = meldeweg::town::load(settings, &[])?;
    with_db(settings, async |db| {
        let started = std::time::Instant::now();
        let now = meldeweg::time::now_ms();
        let orders = meldeweg::demo::seed(db, &municipality, &settings.sla, reports, days, seed, now).await?;
        println!(
            "{reports} reports and {orders} work orders over {days} days written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let started = std::time::Instant::now();
        meldeweg::stats::rollup::refresh(db).await?;
        println!("statistics roll-ups built in {:.1} s", started.elapsed().as_secs_f64());
        Ok(())
    })
    .await
}
