//! The `meldeweg` command line: parses the arguments, sets up logging, and hands the command to
//! `cli`. `serve` (the default) runs HTTP and workers in one process.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    meldeweg::telemetry::init_logging();
    match cli::run(cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("meldeweg: {}", without_repeats(&error));
            ExitCode::FAILURE
        }
    }
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
