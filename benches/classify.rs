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

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{corpus_lines, evaluate, Categories, Classifier};

#[path = "support/stats.rs"]
mod stats;

const LOADS: usize = 30;
const PASSES: usize = 50;

fn load() -> Classifier {
    let categories = Categories::from_toml(&std::fs::read_to_string("config/categories.toml").unwrap()).unwrap();
    let corpus: Vec<(Category, String)> = Category::ALL
        .into_iter()
        .map(|c| (c, std::fs::read_to_string(format!("config/training/{}.txt", c.id())).unwrap()))
        .collect();
    let examples = corpus.iter().flat_map(|(c, text)| corpus_lines(text).map(move |line| (*c, line)));
    Classifier::train(categories, examples)
}

fn main() {
    let mut loads: Vec<Duration> = (0..LOADS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(load());
            started.elapsed()
        })
        .collect();
    loads.sort();
    println!(
        "model load (read files + train), {LOADS} runs: median {:.1} ms, max {:.1} ms",
        stats::percentile_ms(&loads, 50.0),
        stats::percentile_ms(&loads, 100.0)
    );

    let classifier = load();
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
