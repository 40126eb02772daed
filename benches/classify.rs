//! Classifier benchmark: how long the model takes to load (read the categories and training
//! files, train), how long one message takes to classify, and the accuracy on the held-out
//! evaluation set, on one core.
//!
//!     taskset -c 0 cargo bench --bench classify
//!
//! `benches/classify_sklearn.py` measures what most teams would reach for instead
//! (scikit-learn: TF-IDF over word and character n-grams with multinomial naive Bayes) on the
//! same files.

use std::time::{Duration, Instant};

use meldeweg::config::Settings;
use meldeweg_workers::classify::{evaluate, Classifier};

#[path = "support/stats.rs"]
mod stats;

const LOADS: usize = 30;
const PASSES: usize = 50;

/// The classifier exactly as the service loads it at start-up (no staff corrections).
fn load(settings: &Settings) -> Classifier {
    meldeweg::town::load_classifier(settings, &[]).expect("the shipped categories and training texts load")
}

fn main() {
    let settings = Settings::load(None).expect("the default settings load");
    let mut loads: Vec<Duration> = (0..LOADS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(load(&settings));
            started.elapsed()
        })
        .collect();
    loads.sort();
    println!(
        "model load (read files + train), {LOADS} runs: median {:.1} ms, max {:.1} ms",
        stats::percentile_ms(&loads, 50.0),
        stats::percentile_ms(&loads, 100.0)
    );

    let classifier = load(&settings);
    let eval = std::fs::read_to_string("config/evaluation/eval.tsv").unwrap();
    let examples = evaluate::parse_tsv(&eval).unwrap();
    let mut times = Vec::with_capacity(examples.len() * PASSES);
    let started = Instant::now();
    for _ in 0..PASSES {
        for (_, text) in &examples {
            let one = Instant::now();
            std::hint::black_box(classifier.classify(std::hint::black_box(text)));
            times.push(one.elapsed());
        }
    }
    let total = started.elapsed();
    times.sort();
    let micros = |p: f64| stats::percentile_ms(&times, p) * 1000.0;
    println!(
        "classify one message ({} messages × {PASSES}): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, {:.0} messages/s",
        examples.len(),
        micros(50.0),
        micros(99.0),
        micros(100.0),
        times.len() as f64 / total.as_secs_f64()
    );
    let result = evaluate::evaluate(&classifier, &examples);
    println!("held-out evaluation: accuracy {:.3}, macro-F1 {:.3}", result.accuracy, result.macro_f1);
}
