//! What a report is about and how urgent it is: a multinomial naive Bayes model over word stems
//! (Snowball German) and character 4-grams (for typos and compounds: "Spielplatzrutsche" shares
//! most of its 4-grams with "Spielplatz"), combined with the keyword lists and danger rules of
//! `config/categories.toml`.
//!
//! The model is trained when it is loaded, from the team's corpus (`config/training/`) plus the
//! staff corrections exported at the last retrain: a few thousand short texts train in a few
//! milliseconds, so there is no model file to get out of step with its data.

pub mod categories;
pub mod evaluate;
pub mod text;

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

use crate::category::Category;
pub use categories::{Categories, CategoriesError, CategoryEntry, Priority};

const CATEGORIES: usize = Category::ALL.len();
/// Laplace smoothing of feature counts.
const ALPHA: f64 = 0.3;
/// Weight of one character 4-gram relative to one word stem.
const NGRAM_WEIGHT: f64 = 0.2;
/// Added to a category's normalised score for each of its keywords in the text (up to two).
const KEYWORD_BONUS: f64 = 1.0;
/// Scales normalised scores into the softmax that gives the confidence.
const SHARPNESS: f64 = 1.5;

/// The answer for one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub category: Category,
    /// How sure the model is, in [0, 1]; 0 when the text holds nothing it knows.
    pub confidence: f64,
    pub runner_up: Category,
    pub priority: Priority,
    /// Labels of the danger rules the text triggered.
    pub danger: Vec<String>,
}

enum Keyword {
    /// Occurs anywhere in a word (compounds match).
    Part(String),
    /// Only as a whole word (" eis ").
    Word(String),
}

pub struct Classifier {
    categories: Categories,
    stemmer: Stemmer,
    /// Feature hash → log P(feature | category).
    likelihood: HashMap<u64, [f32; CATEGORIES]>,
    log_prior: [f64; CATEGORIES],
    keywords: Vec<(usize, Keyword)>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").field("features", &self.likelihood.len()).finish()
    }
}

/// FNV-1a over the feature kind and its text: features are hashed, not stored.
fn feature_hash(kind: u8, text: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(kind);
    for &byte in text {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The texts of a training file: one per line; empty lines and `#` comments are skipped.
pub fn corpus_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
}

impl Classifier {
    /// Trains on `examples`. Categories without examples keep only their prior and keywords.
    pub fn train<'a>(categories: Categories, examples: impl IntoIterator<Item = (Category, &'a str)>) -> Self {
        let stemmer = Stemmer::create(Algorithm::German);
        let mut counts: HashMap<u64, [f64; CATEGORIES]> = HashMap::new();
        let mut totals = [0.0; CATEGORIES];
        let mut documents = [0.0; CATEGORIES];
        for (category, text) in examples {
            let c = category as usize;
            documents[c] += 1.0;
            for_each_feature(&stemmer, &text::fold(text), |hash, weight| {
                counts.entry(hash).or_insert([0.0; CATEGORIES])[c] += weight;
                totals[c] += weight;
            });
        }
        let vocabulary = counts.len().max(1) as f64;
        let all_documents: f64 = documents.iter().sum();
        let log_prior = std::array::from_fn(|c| ((documents[c] + 1.0) / (all_documents + CATEGORIES as f64)).ln());
        let likelihood = counts
            .into_iter()
            .map(|(hash, count)| {
                let logs = std::array::from_fn(|c| ((count[c] + ALPHA) / (totals[c] + ALPHA * vocabulary)).ln() as f32);
                (hash, logs)
            })
            .collect();
        let keywords = categories
            .iter()
            .flat_map(|(category, entry)| {
                entry.keywords.iter().map(move |k| match k.strip_prefix('=') {
                    Some(word) => (category as usize, Keyword::Word(format!(" {word} "))),
                    None => (category as usize, Keyword::Part(k.clone())),
                })
            })
            .collect();
        Self { categories, stemmer, likelihood, log_prior, keywords }
    }

    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    pub fn classify(&self, text: &str) -> Classification {
        let folded = text::fold(text);
        let mut scores = [0.0f64; CATEGORIES];
        let mut weight = 0.0;
        for_each_feature(&self.stemmer, &folded, |hash, w| {
            if let Some(logs) = self.likelihood.get(&hash) {
                for (score, log) in scores.iter_mut().zip(logs) {
                    *score += w * f64::from(*log);
                }
                weight += w;
            }
        });
        let mut hits = [0u8; CATEGORIES];
        for (c, keyword) in &self.keywords {
            let found = match keyword {
                Keyword::Part(part) => folded.contains(part.as_str()),
                Keyword::Word(word) => folded.contains(word.as_str()),
            };
            hits[*c] += u8::from(found);
        }
        let (priority, danger) = self.danger(&folded);
        if weight == 0.0 && hits.iter().all(|&h| h == 0) {
            return Classification {
                category: Category::Sonstiges,
                confidence: 0.0,
                runner_up: Category::Sonstiges,
                priority,
                danger,
            };
        }
        // Log-likelihoods grow with the length of the text; dividing by the square root of the
        // evidence keeps long texts from looking more certain than they are.
        let norm = (weight + 1.0).sqrt();
        let z: [f64; CATEGORIES] = std::array::from_fn(|c| {
            SHARPNESS * ((scores[c] + self.log_prior[c]) / norm + KEYWORD_BONUS * f64::from(hits[c].min(2)))
        });
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let mut order: Vec<usize> = (0..CATEGORIES).collect();
        order.sort_by(|&a, &b| exp[b].total_cmp(&exp[a]));
        Classification {
            category: Category::ALL[order[0]],
            confidence: exp[order[0]] / sum,
            runner_up: Category::ALL[order[1]],
            priority,
            danger,
        }
    }

    /// The highest priority of the danger rules the folded text triggers, and their labels.
    fn danger(&self, folded: &str) -> (Priority, Vec<String>) {
        let mut priority = Priority::Normal;
        let mut labels = Vec::new();
        for rule in &self.categories.danger {
            if rule.all.iter().all(|entry| entry.split('|').any(|word| folded.contains(word))) {
                priority = priority.max(rule.priority);
                labels.push(rule.label.clone());
            }
        }
        (priority, labels)
    }
}

/// Calls `f` with every feature of a folded text: each word's stem, and the character 4-grams
/// of each word marked at its ends ("_laterne_" → "_lat", "late", ...).
fn for_each_feature(stemmer: &Stemmer, folded: &str, mut f: impl FnMut(u64, f64)) {
    let mut padded = Vec::with_capacity(64);
    for word in text::words(folded) {
        if word.bytes().all(|b| b.is_ascii_digit()) {
            continue; // house numbers and dates say nothing about the category
        }
        f(feature_hash(b'w', stemmer.stem(word).as_bytes()), 1.0);
        padded.clear();
        padded.push(b'_');
        padded.extend_from_slice(word.as_bytes());
        padded.push(b'_');
        for gram in padded.windows(4) {
            f(feature_hash(b'g', gram), NGRAM_WEIGHT);
        }
    }
}
