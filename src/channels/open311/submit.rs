//! `POST requests`: the fields of a new service request, checked before anything is stored.
//! Every field is bounded; a wrong one is a 400 naming it. Unknown attributes and empty
//! values are accepted (clients send what their forms have); the citizen's name, number,
//! e-mail, device and account are read past and kept nowhere (P13: updates go to the client,
//! which asks for them).

use meldeweg_workers::category::Category;
use meldeweg_workers::conversation::Lang;
use meldeweg_workers::geotag::Placement;
use meldeweg_workers::message::{FormPlace, FormPlaceSource, FormReport};
use meldeweg_workers::LatLon;

use crate::town::Municipality;
use meldeweg_workers::classify::attributes::Attribute;

/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 4000;
/// Longest address, and longest value of any other field.
const MAX_ADDRESS: usize = 300;
pub const MAX_VALUE: usize = 2000;
/// Longest free answer to an attribute kept.
const MAX_FREE_ANSWER: usize = 200;
/// Most fields one request may have.
pub const MAX_FIELDS: usize = 100;

/// A request's fields in the order they came.
pub struct Fields<'a>(pub &'a [(String, String)]);

impl Fields<'_> {
    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, value)| key == name && !value.trim().is_empty()).map(|(_, value)| value.trim())
    }

    fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().filter_map(|(key, value)| {
            let code = key.strip_prefix("attribute[")?.strip_suffix(']')?;
            Some((code, value.trim()))
        })
    }
}

/// The report a request asks for; what is wrong with it otherwise.
pub fn check(fields: &Fields, municipality: &Municipality, english: bool) -> Result<FormReport, String> {
    if fields.0.len() > MAX_FIELDS {
        return Err(format!("a request has at most {MAX_FIELDS} fields"));
    }
    if let Some((key, _)) = fields.0.iter().find(|(key, value)| {
        let limit = if key == "description" { MAX_DESCRIPTION } else { MAX_VALUE };
        value.chars().count() > limit || key.len() > 100
    }) {
        return Err(format!("{key} is too long"));
    }
    let code = fields.get("service_code").ok_or("service_code is missing")?;
    let category = Category::from_id(code).ok_or_else(|| format!("there is no service {code:?}"))?;
    let entry = municipality.town.classifier.categories().entry(category);
    let answers = answers(fields, entry.map_or(&[][..], |entry| &entry.attributes))?;
    let place = place(fields, municipality)?;
    let mut description = fields.get("description").map(str::to_string);
    if !answers.is_empty() {
        let lines = answers.join("\n");
        description = Some(match description {
            Some(text) => format!("{text}\n{lines}"),
            None => lines,
        });
    }
    // The general service says nothing about what it is: the classifier reads the words.
    let chosen = (category != Category::Sonstiges || description.is_none()).then_some(category);
    Ok(FormReport {
        description,
        place: Some(place),
        category: chosen,
        lang: if english { Lang::En } else { Lang::De },
    })
}

/// The answers to the service's attributes as lines for the report's text ("Gefahr für
/// Personen? Ja"); a missing required one, or an answer not among the choices, is refused.
/// Attributes the service does not have are ignored, and so are empty answers.
fn answers(fields: &Fields, attributes: &[Attribute]) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for attribute in attributes {
        let given = fields.attributes().find(|(code, value)| *code == attribute.code && !value.is_empty());
        let Some((_, value)) = given else {
            if attribute.required {
                return Err(format!("attribute[{}] is required", attribute.code));
            }
            continue;
        };
        let answer = if attribute.values.is_empty() {
            value.chars().take(MAX_FREE_ANSWER).collect()
        } else {
            let keys: Vec<&str> = attribute.values.iter().map(|answer| answer.key.as_str()).collect();
            let answer = attribute.answer(value).ok_or_else(|| {
                format!("attribute[{}] must be one of {}, not {value:?}", attribute.code, keys.join(", "))
            })?;
            answer.name_de.clone()
        };
        lines.push(format!("{} {answer}", attribute.question_de));
    }
    Ok(lines)
}

/// Where: `lat` and `long` (then `address_string` is only a label), or `address_string`
/// found in the street gazetteer; inside the municipality.
fn place(fields: &Fields, municipality: &Municipality) -> Result<FormPlace, String> {
    let address = fields.get("address_string");
    if address.is_some_and(|text| text.chars().count() > MAX_ADDRESS) {
        return Err(format!("address_string has at most {MAX_ADDRESS} characters"));
    }
    let place = match (fields.get("lat"), fields.get("long")) {
        (Some(lat), Some(long)) => {
            let number = |text: &str, name: &str| {
                text.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| format!("{name} is not a number: {text:?}"))
            };
            let point = LatLon::new(number(lat, "lat")?, number(long, "long")?)
                .map_err(|_| "lat must lie within ±90 and long within ±180".to_string())?;
            FormPlace { point, source: FormPlaceSource::Pin, label: address.map(str::to_string) }
        }
        (None, None) => {
            let address = address.ok_or("a request needs lat and long or address_string")?;
            let found = municipality
                .town
                .streets
                .find_in_text(address)
                .filter(|found| found.precise)
                .ok_or_else(|| format!("the address {address:?} is not known here"))?;
            let label = match &found.number {
                Some(number) => format!("{} {number}", found.street),
                None => found.street.clone(),
            };
            FormPlace { point: found.at, source: FormPlaceSource::Address, label: Some(label) }
        }
        _ => return Err("lat and long come together".into()),
    };
    match municipality.town.area.locate(place.point) {
        Placement::Outside => Err("the place lies outside the municipality".into()),
        Placement::Inside(_) => Ok(place),
    }
}
