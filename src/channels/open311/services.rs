//! `discovery`, `services` and `services/{code}`: what this endpoint offers, from the
//! configured categories. Names and descriptions are German, English when the client asks
//! (`locale=en…` or `Accept-Language: en…`). A service's attributes are its category's
//! `[[category.attributes]]` (e.g. "Gefahr für Personen?").

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::categories::{Categories, CategoryEntry};

use super::format::{Document, Record, Value};

/// The language a client asked for: English if its locale or first accepted language is
/// English, German otherwise.
pub fn english(locale: Option<&str>, accept_language: Option<&str>) -> bool {
    let first = locale.or_else(|| accept_language.and_then(|list| list.split(',').next()));
    first.is_some_and(|tag| tag.trim().to_ascii_lowercase().starts_with("en"))
}

pub fn discovery(base: &str, contact: &str) -> Document {
    let formats = Value::Texts { item: "format", texts: vec!["text/xml".into(), "application/json".into()] };
    let endpoint = Record::default()
        .with("specification", "http://wiki.open311.org/GeoReport_v2")
        .with("url", format!("{base}/open311/v2"))
        .with("changeset", "2026-12-07T00:00:00+01:00")
        .with("type", "production")
        .with("formats", formats);
    let record = Record::default()
        .with("changeset", "2026-12-07T00:00:00+01:00")
        .with("contact", contact)
        .with("key_service", "Ein API-Schlüssel kommt von der Verwaltung: meldeweg open311 key add NAME")
        .with("endpoints", Value::Records { item: "endpoint", records: vec![endpoint] });
    Document::One { root: "discovery", record }
}

fn texts(entry: &CategoryEntry, english: bool) -> (&str, &str) {
    if english {
        (&entry.label_en, &entry.description_en)
    } else {
        (&entry.label_de, &entry.description_de)
    }
}

pub fn list(categories: &Categories, english: bool) -> Document {
    let records = categories
        .iter()
        .map(|(category, entry)| {
            let (name, description) = texts(entry, english);
            Record::default()
                .with("service_code", category.id())
                .with("service_name", name)
                .with("description", description)
                .with("metadata", Value::Bool(!entry.attributes.is_empty()))
                .with("type", "realtime")
                .with(
                    "keywords",
                    entry.keywords.iter().map(|k| k.trim_start_matches('=')).collect::<Vec<_>>().join(","),
                )
                .with("group", if english { "Reports" } else { "Meldungen" })
        })
        .collect();
    Document::List { root: "services", item: "service", records }
}

/// The definition of `category`'s service: its attributes.
pub fn definition(category: Category, entry: &CategoryEntry, english: bool) -> Document {
    let attributes = entry
        .attributes
        .iter()
        .enumerate()
        .map(|(place, attribute)| {
            let pick = |de: &str, en: &str| if english { en.to_string() } else { de.to_string() };
            let values = attribute
                .values
                .iter()
                .map(|answer| {
                    Record::default()
                        .with("key", answer.key.as_str())
                        .with("name", pick(&answer.name_de, &answer.name_en))
                })
                .collect();
            let (datatype, about) = if attribute.values.is_empty() {
                ("string", pick("freier Text", "free text"))
            } else {
                ("singlevaluelist", pick("eine der Antworten", "one of the answers"))
            };
            Record::default()
                .with("variable", Value::Bool(true))
                .with("code", attribute.code.as_str())
                .with("datatype", datatype)
                .with("required", Value::Bool(attribute.required))
                .with("datatype_description", about)
                .with("order", Value::Int(place as i64 + 1))
                .with("description", pick(&attribute.question_de, &attribute.question_en))
                .with("values", Value::Records { item: "value", records: values })
        })
        .collect();
    let record = Record::default()
        .with("service_code", category.id())
        .with("attributes", Value::Records { item: "attribute", records: attributes });
    Document::One { root: "service_definition", record }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_english_only_when_asked_for() {
        assert!(english(Some("en_GB"), None));
        assert!(english(None, Some("en-US,en;q=0.8")));
        assert!(!english(None, Some("de-DE,en;q=0.5")));
        assert!(!english(Some("de"), Some("en")), "locale wins");
        assert!(!english(None, None));
    }
}
