//! What a report is about and how urgent it is: a multinomial naive Bayes model over word stems
//! (Snowball German) and character 4-grams (for typos and compounds: "Spielplatzrutsche" shares
//! most of its 4-grams with "Spielplatz"), combined with the keyword lists and danger rules of
//! `config/categories.toml`.
//!
//! The model is trained when it is loaded, from the team's corpus (`config/training/`) plus the
//! staff corrections exported at the last retrain: a few thousand short texts train in a few
//! milliseconds, so there is no model file to get out of step with its data.

pub mod attributes;
pub mod categories;
pub mod evaluate;
pub mod text;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
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

impl Classification {
    /// The citizen's choice replaces the classifier's category; priority and danger stay.
    pub fn chosen(self, category: Category) -> Self {
        let runner_up = if self.category == category { self.runner_up } else { self.category };
        Self { category, confidence: 1.0, runner_up, ..self }
    }
}

/// What a fixed string found in the folded text stands for.
#[derive(Debug, Clone, Copy)]
enum Meaning {
    /// A keyword of this category (by index).
    Keyword(usize),
    /// An alternative of entry `entry` of danger rule `rule`.
    Danger { rule: usize, entry: usize },
}

pub struct Classifier {
    categories: Categories,
    stemmer: Stemmer,
    /// What training learnt; `learn_from` replaces it while the classifier is in use.
    learnt: RwLock<Arc<Learnt>>,
    /// Every keyword and danger word, found in one pass over the text.
    patterns: AhoCorasick,
    /// By pattern id: what finding it means (one string can mean several things).
    meanings: Vec<Vec<Meaning>>,
    /// Where each danger rule's entries start in a flat list of all entries, and its length.
    entry_offsets: Vec<usize>,
}

/// The part of a classifier its training examples make.
struct Learnt {
    /// Feature hash → log P(feature | category).
    likelihood: HashMap<u64, [f32; CATEGORIES]>,
    log_prior: [f64; CATEGORIES],
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").field("features", &self.learnt().likelihood.len()).finish()
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
        let mut strings: Vec<String> = Vec::new();
        let mut meanings: Vec<Vec<Meaning>> = Vec::new();
        let mut add = |string: String, meaning: Meaning| match strings.iter().position(|s| *s == string) {
            Some(id) => meanings[id].push(meaning),
            None => {
                strings.push(string);
                meanings.push(vec![meaning]);
            }
        };
        for (category, entry) in categories.iter() {
            for keyword in &entry.keywords {
                let string = match keyword.strip_prefix('=') {
                    Some(word) => format!(" {word} "), // folded text has a space around every word
                    None => keyword.clone(),
                };
                add(string, Meaning::Keyword(category as usize));
            }
        }
        let mut entry_offsets = Vec::with_capacity(categories.danger.len() + 1);
        let mut entries = 0;
        for (rule, danger) in categories.danger.iter().enumerate() {
            entry_offsets.push(entries);
            entries += danger.all.len();
            for (entry, alternatives) in danger.all.iter().enumerate() {
                for alternative in alternatives.split('|').filter(|a| !a.is_empty()) {
                    add(alternative.to_string(), Meaning::Danger { rule, entry });
                }
            }
        }
        entry_offsets.push(entries);
        let patterns = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&strings)
            .expect("keywords are a few hundred short strings");
        let learnt = RwLock::new(Arc::new(Learnt { likelihood, log_prior }));
        Self { categories, stemmer, learnt, patterns, meanings, entry_offsets }
    }

    /// Takes over what `other` learnt (another instance retrained with more corrections), while
    /// classifications go on; the categories and their keywords stay this classifier's.
    pub fn learn_from(&self, other: Classifier) {
        let learnt = other.learnt();
        *self.learnt.write().unwrap_or_else(std::sync::PoisonError::into_inner) = learnt;
    }

    fn learnt(&self) -> Arc<Learnt> {
        self.learnt.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    pub fn classify(&self, text: &str) -> Classification {
        let folded = text::fold(text);
        let learnt = self.learnt();
        let mut scores = [0.0f64; CATEGORIES];
        let mut weight = 0.0;
        for_each_feature(&self.stemmer, &folded, |hash, w| {
            if let Some(logs) = learnt.likelihood.get(&hash) {
                for (score, log) in scores.iter_mut().zip(logs) {
                    *score += w * f64::from(*log);
                }
                weight += w;
            }
        });
        let (hits, priority, danger) = self.fixed_words(&folded);
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
            SHARPNESS * ((scores[c] + learnt.log_prior[c]) / norm + KEYWORD_BONUS * f64::from(hits[c].min(2)))
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

    /// One pass over the folded text for keywords and danger words: the number of distinct
    /// keywords per category, and the highest priority of the danger rules whose every entry
    /// occurs, with their labels.
    fn fixed_words(&self, folded: &str) -> ([u8; CATEGORIES], Priority, Vec<String>) {
        let mut seen = vec![false; self.meanings.len()];
        let mut entry_found = vec![false; self.entry_offsets[self.entry_offsets.len() - 1]];
        let mut hits = [0u8; CATEGORIES];
        for found in self.patterns.find_overlapping_iter(folded) {
            let id = found.pattern().as_usize();
            if std::mem::replace(&mut seen[id], true) {
                continue;
            }
            for meaning in &self.meanings[id] {
                match *meaning {
                    Meaning::Keyword(c) => hits[c] = hits[c].saturating_add(1),
                    Meaning::Danger { rule, entry } => entry_found[self.entry_offsets[rule] + entry] = true,
                }
            }
        }
        let mut priority = Priority::Normal;
        let mut labels = Vec::new();
        for (rule, danger) in self.categories.danger.iter().enumerate() {
            if entry_found[self.entry_offsets[rule]..self.entry_offsets[rule + 1]].iter().all(|&f| f) {
                priority = priority.max(danger.priority);
                labels.push(danger.label.clone());
            }
        }
        (hits, priority, labels)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Categories {
        Categories::from_toml(include_str!("../../../config/categories.toml")).unwrap()
    }

    #[test]
    fn a_classifier_in_use_takes_over_what_another_learnt() {
        let running = Classifier::train(categories(), [(Category::Strassenschaden, "Schlagloch im Asphalt")]);
        let unknown = running.classify("quaxel wumpert");
        assert_eq!((unknown.category, unknown.confidence), (Category::Sonstiges, 0.0), "no word it knows");
        let corrections = std::iter::repeat_n((Category::Spielplatz, "quaxel wumpert"), 5);
        let retrained = Classifier::train(categories(), corrections.chain([(Category::Strassenschaden, "Schlagloch")]));
        running.learn_from(retrained);
        assert_eq!(running.classify("quaxel wumpert").category, Category::Spielplatz);
        assert_eq!(running.classify("Schlagloch").category, Category::Strassenschaden);
    }
}
