//! `config/categories.toml`: the label and description of every category (shown to citizens in
//! the "Worum geht es?" list and to staff), the keywords that back the statistical model, and
//! the danger rules that raise a report's priority.
//!
//! Loading checks that every category appears exactly once, that labels fit every channel's
//! option lists (title ≤ 24, description ≤ 72 characters: the tightest limits of the messengers
//! Meldeweg speaks) and that keywords and danger words are written folded (lower-case ASCII, as
//! `text::fold` produces).

use serde::{Deserialize, Serialize};

use super::attributes::{Attribute, MAX_ATTRIBUTES};
use crate::category::Category;

/// The longest option title every channel shows whole.
pub const MAX_LABEL_CHARS: usize = 24;
/// The longest option description every channel shows whole.
pub const MAX_DESCRIPTION_CHARS: usize = 72;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CategoriesError {
    #[error("categories: {0}")]
    Parse(String),
    #[error("categories: category {index} ({id}): {reason}")]
    Category { index: usize, id: String, reason: String },
    #[error("categories: category {0} is missing")]
    Missing(&'static str),
    #[error("categories: danger rule {index} ({label}): {reason}")]
    Danger { index: usize, label: String, reason: String },
}

/// How soon a report needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Priority::Normal, Priority::High, Priority::Urgent].into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub id: String,
    pub label_de: String,
    pub label_en: String,
    pub description_de: String,
    pub description_en: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// What a report through an API is asked besides (a reporting API's service attributes).
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DangerRule {
    pub priority: Priority,
    pub label: String,
    /// Every entry must occur in the folded text; an entry lists alternatives split by `|`.
    pub all: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "category")]
    categories: Vec<CategoryEntry>,
    #[serde(default, rename = "danger")]
    danger: Vec<DangerRule>,
}

/// The checked contents of `categories.toml`, with the categories in `Category::ALL` order.
#[derive(Debug, Clone)]
pub struct Categories {
    entries: Vec<(Category, CategoryEntry)>,
    pub danger: Vec<DangerRule>,
}

fn is_folded(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' ')
}

impl Categories {
    pub fn from_toml(text: &str) -> Result<Self, CategoriesError> {
        let file: File = toml::from_str(text).map_err(|e| CategoriesError::Parse(e.to_string()))?;
        let mut entries: Vec<(Category, CategoryEntry)> = Vec::new();
        for (index, entry) in file.categories.into_iter().enumerate() {
            let fail = |reason: String| CategoriesError::Category { index, id: entry.id.clone(), reason };
            let category = Category::from_id(&entry.id).ok_or_else(|| fail("unknown category id".into()))?;
            if entries.iter().any(|(c, _)| *c == category) {
                return Err(fail("listed twice".into()));
            }
            for (name, value, max) in [
                ("label_de", &entry.label_de, MAX_LABEL_CHARS),
                ("label_en", &entry.label_en, MAX_LABEL_CHARS),
                ("description_de", &entry.description_de, MAX_DESCRIPTION_CHARS),
                ("description_en", &entry.description_en, MAX_DESCRIPTION_CHARS),
            ] {
                let chars = value.chars().count();
                if value.trim().is_empty() || chars > max {
                    return Err(fail(format!("{name} must have 1 to {max} characters, not {chars}")));
                }
            }
            if let Some(bad) = entry.keywords.iter().find(|k| !is_folded(k.strip_prefix('=').unwrap_or(k))) {
                return Err(fail(format!("keyword {bad:?} must be lower-case ASCII (ä → ae, ß → ss)")));
            }
            if entry.attributes.len() > MAX_ATTRIBUTES {
                return Err(fail(format!("at most {MAX_ATTRIBUTES} attributes")));
            }
            for (place, attribute) in entry.attributes.iter().enumerate() {
                attribute.check().map_err(fail)?;
                if entry.attributes[..place].iter().any(|earlier| earlier.code == attribute.code) {
                    return Err(fail(format!("attribute {} is listed twice", attribute.code)));
                }
            }
            entries.push((category, entry));
        }
        if let Some(missing) = Category::ALL.into_iter().find(|c| !entries.iter().any(|(e, _)| e == c)) {
            return Err(CategoriesError::Missing(missing.id()));
        }
        entries.sort_by_key(|(category, _)| *category);
        let mut danger = file.danger;
        for (index, rule) in danger.iter_mut().enumerate() {
            // Folded text has spaces where punctuation was: "schacht!" matches as "schacht ".
            for entry in &mut rule.all {
                *entry = entry.chars().map(|c| if c.is_ascii_punctuation() && c != '|' { ' ' } else { c }).collect();
            }
            let fail =
                |reason: &str| CategoriesError::Danger { index, label: rule.label.clone(), reason: reason.into() };
            if rule.label.trim().is_empty() {
                return Err(fail("needs a label"));
            }
            if rule.priority == Priority::Normal {
                return Err(fail("priority must be \"high\" or \"urgent\""));
            }
            if rule.all.is_empty() || rule.all.iter().flat_map(|e| e.split('|')).any(|w| !is_folded(w)) {
                return Err(fail(
                    "`all` needs entries of lower-case ASCII words (ä → ae, ß → ss), alternatives split by |",
                ));
            }
        }
        Ok(Self { entries, danger })
    }

    /// The entry of `category` (every category has one once loaded).
    pub fn entry(&self, category: Category) -> Option<&CategoryEntry> {
        self.entries.iter().find(|(c, _)| *c == category).map(|(_, entry)| entry)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Category, &CategoryEntry)> {
        self.entries.iter().map(|(c, e)| (*c, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../config/categories.toml");

    #[test]
    fn the_shipped_file_loads() {
        let categories = Categories::from_toml(SHIPPED).unwrap();
        assert_eq!(categories.iter().count(), Category::ALL.len());
        assert!(categories.danger.iter().any(|r| r.priority == Priority::Urgent));
        assert!(categories.danger.iter().any(|r| r.priority == Priority::High));
    }

    #[test]
    fn bad_files_are_refused_with_the_place_and_reason() {
        let error = Categories::from_toml(&SHIPPED.replacen("id = \"muell\"", "id = \"abfall\"", 1)).unwrap_err();
        assert!(error.to_string().contains("(abfall): unknown category id"), "{error}");
        let long = SHIPPED.replacen("label_de = \"", "label_de = \"Eine viel zu lange Bezeichnung ", 1);
        let error = Categories::from_toml(&long).unwrap_err();
        assert!(error.to_string().contains("label_de must have 1 to 24 characters"), "{error}");
        let error = Categories::from_toml(&SHIPPED.replacen("keywords = [\"", "keywords = [\"Straße\", \"", 1));
        assert!(error.unwrap_err().to_string().contains("\"Straße\" must be lower-case ASCII"));
        let error = Categories::from_toml(&SHIPPED.replacen("priority = \"urgent\"", "priority = \"normal\"", 1));
        assert!(error.unwrap_err().to_string().contains("priority must be"));
    }
}
