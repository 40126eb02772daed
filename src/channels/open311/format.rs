//! The two wire formats of GeoReport v2: the same documents as JSON (a bare array of objects,
//! or one object) and as XML (`<?xml version="1.0" encoding="utf-8"?>`, a root element with one
//! element per item). Documents are built once as records and written in either format.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json};

/// The format a path asks for by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `requests.json` → ("requests", Json); `None` for another extension or none.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (name, extension) = file.rsplit_once('.')?;
        match extension {
            "json" => Some((name, Format::Json)),
            "xml" => Some((name, Format::Xml)),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// One value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// Empty: `null` in JSON, an empty element in XML.
    Null,
    /// A list of records, each an element named `item` in XML.
    Records {
        item: &'static str,
        records: Vec<Record>,
    },
    /// A list of texts, each an element named `item` in XML.
    Texts {
        item: &'static str,
        texts: Vec<String>,
    },
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Self {
        text.map_or(Value::Null, Value::Text)
    }
}

/// Named values in their order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record(pub Vec<(&'static str, Value)>);

impl Record {
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.0.push((name, value.into()));
        self
    }
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A list: a JSON array, or a root element with an element named `item` per record.
    List { root: &'static str, item: &'static str, records: Vec<Record> },
    /// One object: a JSON object, or the root element with the record's values.
    One { root: &'static str, record: Record },
}

impl Document {
    pub fn respond(&self, format: Format, status: StatusCode) -> Response {
        let body = match format {
            Format::Json => self.json().to_string(),
            Format::Xml => self.xml(),
        };
        (status, [(header::CONTENT_TYPE, format.content_type())], body).into_response()
    }

    fn json(&self) -> Json {
        match self {
            Document::List { records, .. } => Json::Array(records.iter().map(record_json).collect()),
            Document::One { record, .. } => record_json(record),
        }
    }

    fn xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        match self {
            Document::List { root, item, records } => {
                open(&mut out, root);
                for record in records {
                    record_element(&mut out, item, record);
                }
                close(&mut out, root);
            }
            Document::One { root, record } => record_element(&mut out, root, record),
        }
        out
    }
}

fn record_json(record: &Record) -> Json {
    let mut object = Map::new();
    for (name, value) in &record.0 {
        object.insert((*name).to_string(), value_json(value));
    }
    Json::Object(object)
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Text(text) => Json::String(text.clone()),
        Value::Number(number) => serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number),
        Value::Int(number) => Json::from(*number),
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Null => Json::Null,
        Value::Records { records, .. } => Json::Array(records.iter().map(record_json).collect()),
        Value::Texts { texts, .. } => Json::Array(texts.iter().cloned().map(Json::String).collect()),
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn record_xml(out: &mut String, record: &Record) {
    for (name, value) in &record.0 {
        element(out, name, value);
    }
}

/// `<name>` with the record's values inside.
fn record_element(out: &mut String, name: &str, record: &Record) {
    open(out, name);
    record_xml(out, record);
    close(out, name);
}

/// `<name>value</name>`.
fn element(out: &mut String, name: &str, value: &Value) {
    open(out, name);
    match value {
        Value::Text(text) => escape(out, text),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::Int(number) => out.push_str(&number.to_string()),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Null => {}
        Value::Records { item, records } => {
            for record in records {
                record_element(out, item, record);
            }
        }
        Value::Texts { item, texts } => {
            for text in texts {
                open(out, item);
                escape(out, text);
                close(out, item);
            }
        }
    }
    close(out, name);
}

/// Text as XML character data; characters XML 1.0 does not allow are left out.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
}

/// Why a call is refused: the status and the reason, answered in the call's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub StatusCode, pub String);

impl Refusal {
    pub fn bad(reason: impl Into<String>) -> Self {
        Refusal(StatusCode::BAD_REQUEST, reason.into())
    }

    pub fn respond(self, format: Format) -> Response {
        error(format, self.0, self.1)
    }
}

/// An error answer as the spec writes it: a list of `{code, description}`, in either format.
pub fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let record =
        Record::default().with("code", Value::Int(i64::from(status.as_u16()))).with("description", description.into());
    Document::List { root: "errors", item: "error", records: vec![record] }.respond(format, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        let attribute = Record::default().with("key", "ja").with("name", "Ja & mehr");
        let record = Record::default()
            .with("service_code", "strassenschaden")
            .with("metadata", Value::Bool(true))
            .with("lat", Value::Number(51.5))
            .with("expected_datetime", Value::Null)
            .with("values", Value::Records { item: "value", records: vec![attribute] })
            .with("keywords", Value::Texts { item: "keyword", texts: vec!["loch".into()] });
        Document::List { root: "services", item: "service", records: vec![record] }
    }

    #[test]
    fn the_same_document_in_json_and_xml() {
        assert_eq!(
            document().json(),
            serde_json::json!([{"service_code": "strassenschaden", "metadata": true, "lat": 51.5,
                "expected_datetime": null, "values": [{"key": "ja", "name": "Ja & mehr"}], "keywords": ["loch"]}])
        );
        assert_eq!(
            document().xml(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>strassenschaden</service_code>\
             <metadata>true</metadata><lat>51.5</lat><expected_datetime></expected_datetime><values><value><key>ja</key>\
             <name>Ja &amp; mehr</name></value></values><keywords><keyword>loch</keyword></keywords></service></services>"
        );
    }

    #[test]
    fn text_is_escaped_and_control_characters_left_out() {
        let mut out = String::new();
        escape(&mut out, "<a href='x'>\"M&M\"</a>\u{1}\u{7}ok\n");
        assert_eq!(out, "&lt;a href=&apos;x&apos;&gt;&quot;M&amp;M&quot;&lt;/a&gt;ok\n");
    }

    #[test]
    fn extensions_choose_the_format() {
        assert_eq!(Format::split("requests.json"), Some(("requests", Format::Json)));
        assert_eq!(Format::split("requests.xml"), Some(("requests", Format::Xml)));
        assert_eq!(Format::split("requests.html"), None);
        assert_eq!(Format::split("requests"), None);
    }
}
