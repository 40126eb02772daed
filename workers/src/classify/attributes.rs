//! The extra questions a category asks of a report that comes through a reporting API (its
//! service attributes), from `[[category.attributes]]` in categories.toml: a code, the question
//! in German and English, whether it must be answered, and the answers to choose from (none: a
//! free answer). An answer is added to the report's text as "question answer".

use serde::Deserialize;

/// Longest question and answer name, in characters; most answers to choose from.
const MAX_QUESTION_CHARS: usize = 120;
const MAX_ANSWER_CHARS: usize = 60;
const MAX_ANSWERS: usize = 20;
/// Most questions per category.
pub const MAX_ATTRIBUTES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// Lower-case letters, digits and `_`, at most 40.
    pub code: String,
    pub question_de: String,
    pub question_en: String,
    #[serde(default)]
    pub required: bool,
    /// The answers to choose from; empty: any answer of at most 200 characters.
    #[serde(default)]
    pub values: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// What a client sends, e.g. `ja`.
    pub key: String,
    pub name_de: String,
    pub name_en: String,
}

impl Attribute {
    /// What is wrong with it, if anything.
    pub fn check(&self) -> Result<(), String> {
        let code_fine = (1..=40).contains(&self.code.len())
            && self.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_fine {
            return Err(format!("attribute code {:?} must be 1 to 40 of a-z, 0-9 and _", self.code));
        }
        for question in [&self.question_de, &self.question_en] {
            if question.trim().is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
                return Err(format!("attribute {}: a question has 1 to {MAX_QUESTION_CHARS} characters", self.code));
            }
        }
        if self.values.len() > MAX_ANSWERS {
            return Err(format!("attribute {}: at most {MAX_ANSWERS} answers", self.code));
        }
        for (place, answer) in self.values.iter().enumerate() {
            let names = [&answer.key, &answer.name_de, &answer.name_en];
            if names.iter().any(|name| name.trim().is_empty() || name.chars().count() > MAX_ANSWER_CHARS) {
                return Err(format!("attribute {}: an answer has 1 to {MAX_ANSWER_CHARS} characters", self.code));
            }
            if self.values[..place].iter().any(|earlier| earlier.key == answer.key) {
                return Err(format!("attribute {}: the answer {:?} is listed twice", self.code, answer.key));
            }
        }
        Ok(())
    }

    /// The answer with key `key`, for a question with answers to choose from.
    pub fn answer(&self, key: &str) -> Option<&Answer> {
        self.values.iter().find(|answer| answer.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn danger() -> Attribute {
        Attribute {
            code: "gefahr".into(),
            question_de: "Gefahr für Personen?".into(),
            question_en: "Are people in danger?".into(),
            required: false,
            values: vec![
                Answer { key: "ja".into(), name_de: "Ja".into(), name_en: "Yes".into() },
                Answer { key: "nein".into(), name_de: "Nein".into(), name_en: "No".into() },
            ],
        }
    }

    #[test]
    fn questions_are_checked() {
        assert_eq!(danger().check(), Ok(()));
        assert_eq!(danger().answer("ja").map(|a| a.name_de.as_str()), Some("Ja"));
        assert!(danger().answer("vielleicht").is_none());
        let bad_code = Attribute { code: "Gefahr!".into(), ..danger() };
        assert!(bad_code.check().unwrap_err().contains("must be 1 to 40"));
        let mut twice = danger();
        twice.values.push(twice.values[0].clone());
        assert!(twice.check().unwrap_err().contains("listed twice"));
        let empty = Attribute { question_en: " ".into(), ..danger() };
        assert!(empty.check().is_err());
    }
}
