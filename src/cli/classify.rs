//! `classify`: classify texts from stdin, measure the classifier on a labelled file
//! (`--eval`), or let it learn from the staff's corrections (`classify retrain`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use meldeweg::config::Settings;
use meldeweg::reports;
use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{evaluate, Classifier};
use sqlx::AnyConnection;

use super::with_conn;

#[derive(Subcommand)]
pub enum ClassifyCommand {
    /// Let the model learn from every staff correction made so far (running instances take it
    /// over within `classify.follow_seconds`), and show the held-out figures before and after.
    Retrain {
        /// The held-out evaluation set.
        #[arg(long, value_name = "FILE.tsv", default_value = "config/evaluation/eval.tsv")]
        eval: PathBuf,
    },
}

pub async fn run(settings: &Settings, command: Option<ClassifyCommand>, eval: Option<PathBuf>) -> anyhow::Result<()> {
    if let Some(ClassifyCommand::Retrain { eval }) = command {
        return retrain(settings, &eval).await;
    }
    let classifier = with_conn(settings, async |conn| classifier(settings, conn).await).await?;
    match eval {
        Some(path) => {
            let text = read(&path)?;
            print!("{}", evaluate::evaluate(&classifier, &examples(&path, &text)?));
        }
        None => {
            let mut out = std::io::stdout().lock();
            for line in std::io::stdin().lock().lines() {
                let line = line.context("reading stdin")?;
                writeln!(out, "{}", serde_json::to_string(&classifier.classify(&line))?)?;
            }
        }
    }
    Ok(())
}

async fn retrain(settings: &Settings, eval: &Path) -> anyhow::Result<()> {
    let text = read(eval)?;
    let examples = examples(eval, &text)?;
    let (before, corrections, after) = with_conn(settings, async |conn| {
        let before = evaluate::evaluate(&classifier(settings, conn).await?, &examples);
        let corrections = reports::include_all_corrections(conn).await?;
        let after = evaluate::evaluate(&classifier(settings, conn).await?, &examples);
        Ok((before, corrections, after))
    })
    .await?;
    println!("{corrections} staff corrections included; running instances use the new model within a minute");
    println!(
        "held-out ({}): accuracy {:.3} -> {:.3}, macro-F1 {:.3} -> {:.3}",
        eval.display(),
        before.accuracy,
        after.accuracy,
        before.macro_f1,
        after.macro_f1
    );
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The labelled evaluation set in `text`, read from `path`.
fn examples<'a>(path: &Path, text: &'a str) -> anyhow::Result<Vec<(Category, &'a str)>> {
    evaluate::parse_tsv(text).with_context(|| format!("{}", path.display()))
}

/// The classifier as the service builds it: training texts plus retrained staff corrections.
async fn classifier(settings: &Settings, conn: &mut AnyConnection) -> anyhow::Result<Classifier> {
    let corrections = reports::training_corrections(conn).await?;
    Ok(meldeweg::town::load_classifier(settings, &corrections)?)
}
