//! Measuring the classifier on labelled texts: accuracy, macro-F1 and the confusion matrix,
//! from a TSV file with the header `category<TAB>text`.

use serde::Serialize;

use super::Classifier;
use crate::category::Category;

const CATEGORIES: usize = Category::ALL.len();

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    #[error("line 1 must be the header category<TAB>text")]
    Header,
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the file has no examples")]
    Empty,
}

/// Reads `category<TAB>text` lines after the header.
pub fn parse_tsv(text: &str) -> Result<Vec<(Category, &str)>, EvalError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == "category\ttext" => {}
        _ => return Err(EvalError::Header),
    }
    let mut examples = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fail = |reason: String| EvalError::Line { line: index + 1, reason };
        let (id, text) = line.split_once('\t').ok_or_else(|| fail("expected category<TAB>text".into()))?;
        let category = Category::from_id(id.trim()).ok_or_else(|| fail(format!("unknown category {id:?}")))?;
        examples.push((category, text.trim()));
    }
    if examples.is_empty() {
        return Err(EvalError::Empty);
    }
    Ok(examples)
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// `confusion[expected][predicted]`, in `Category::ALL` order.
    pub confusion: [[usize; CATEGORIES]; CATEGORIES],
}

pub fn evaluate(classifier: &Classifier, examples: &[(Category, &str)]) -> Evaluation {
    let mut confusion = [[0usize; CATEGORIES]; CATEGORIES];
    for (expected, text) in examples {
        let predicted = classifier.classify(text).category;
        confusion[*expected as usize][predicted as usize] += 1;
    }
    let correct: usize = (0..CATEGORIES).map(|c| confusion[c][c]).sum();
    let f1: Vec<f64> = (0..CATEGORIES)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let predicted: usize = (0..CATEGORIES).map(|e| confusion[e][c]).sum();
            let actual: usize = confusion[c].iter().sum();
            if predicted == 0 || actual == 0 {
                return 0.0;
            }
            let (precision, recall) = (tp / predicted as f64, tp / actual as f64);
            if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            }
        })
        .collect();
    Evaluation {
        examples: examples.len(),
        accuracy: correct as f64 / examples.len().max(1) as f64,
        macro_f1: f1.iter().sum::<f64>() / CATEGORIES as f64,
        confusion,
    }
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "examples: {}", self.examples)?;
        writeln!(f, "accuracy: {:.3}", self.accuracy)?;
        writeln!(f, "macro-F1: {:.3}", self.macro_f1)?;
        writeln!(f, "confusion (rows: expected, columns: predicted, in the order of the rows):")?;
        for (category, row) in Category::ALL.iter().zip(&self.confusion) {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:>4}")).collect();
            writeln!(f, "{:<16}{}", category.id(), cells.join(""))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_format_is_checked_line_by_line() {
        assert_eq!(parse_tsv("cat\ttext\n"), Err(EvalError::Header));
        assert_eq!(parse_tsv("category\ttext\n\n"), Err(EvalError::Empty));
        let error = parse_tsv("category\ttext\nmuell\tSperrmüll\nabfall\tx\n").unwrap_err();
        assert_eq!(error.to_string(), "line 3: unknown category \"abfall\"");
        let parsed = parse_tsv("category\ttext\nmuell\tSperrmüll am Weg\n").unwrap();
        assert_eq!(parsed, vec![(Category::Muell, "Sperrmüll am Weg")]);
    }
}
