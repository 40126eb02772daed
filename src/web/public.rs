//! What every public page shares: the reader's language (`?lang=en`, German otherwise), the
//! municipality's name, and the links in the header (start page, report a problem, the map of
//! known problems), and the headers that keep these pages out of search engines and caches
//! where they concern one report.

use meldeweg_workers::conversation::Lang;

/// The header and language of a public page.
#[derive(Debug, Clone)]
pub struct PublicFrame {
    pub lang: &'static str,
    pub municipality: String,
    /// Where a citizen reports a problem: the web form, Meldeweg's own or the municipality's.
    pub report_url: String,
    /// This page in the other language.
    pub other_lang_href: String,
}

impl PublicFrame {
    /// `path_and_query` without its `lang` parameter; `lang` is the language asked for.
    pub fn new(lang: Lang, municipality: &str, report_url: &str, path: &str, query: &[(&str, &str)]) -> Self {
        let other = if lang == Lang::En { "de" } else { "en" };
        let mut pairs: Vec<String> = query
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", super::staff::encode_query_value(value)))
            .collect();
        pairs.push(format!("lang={other}"));
        Self {
            lang: lang.code(),
            municipality: municipality.to_string(),
            report_url: report_url.to_string(),
            other_lang_href: format!("{path}?{}", pairs.join("&")),
        }
    }

    pub fn en(&self) -> bool {
        self.lang == "en"
    }
}

/// The language a public page was asked for.
pub fn lang_of(requested: Option<&str>) -> Lang {
    if requested == Some("en") {
        Lang::En
    } else {
        Lang::De
    }
}
