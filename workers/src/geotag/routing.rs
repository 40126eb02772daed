//! Who handles a report: depots (Bauhof crews, the utility) by category and district, or a
//! body outside the municipality that the report is forwarded to, with a reply for the citizen.
//!
//! `config/routing.toml` lists depots and rules. A rule names a category (or `"*"` for all)
//! and optionally districts (all when absent), and either a `depot` or a `forward_to` with a
//! `reply`. The most specific rule wins: exact category before `"*"`, listed districts before
//! all districts. Loading checks every name against the categories, depots and districts, that
//! no two rules are equally specific for the same case, and that every category is covered in
//! every district, so routing can never come up empty.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::category::Category;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RoutingError {
    #[error("routing: {0}")]
    Parse(String),
    #[error("routing: depot {index} ({id}): {reason}")]
    Depot { index: usize, id: String, reason: String },
    #[error("routing: rule {index}: {reason}")]
    Rule { index: usize, reason: String },
    #[error("routing: category {category} in district {district} is covered by no rule")]
    Uncovered { category: &'static str, district: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "depot")]
    depots: Vec<DepotEntry>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepotEntry {
    id: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    category: String,
    #[serde(default)]
    districts: Option<Vec<String>>,
    #[serde(default)]
    depot: Option<String>,
    #[serde(default)]
    forward_to: Option<String>,
    #[serde(default)]
    reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depot {
    pub id: String,
    pub name: String,
}

/// What happens to a placed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// A work order for this depot.
    Depot(&'a Depot),
    /// Not ours: the citizen is told who is responsible.
    Forward { to: &'a str, reply: &'a str },
}

#[derive(Debug)]
enum Target {
    Depot(usize),
    Forward { to: String, reply: String },
}

#[derive(Debug)]
pub struct Routing {
    depots: Vec<Depot>,
    /// What each rule does, by rule index.
    targets: Vec<Target>,
    /// (category, district) → the winning rule, for every category in every district.
    table: BTreeMap<(Category, String), usize>,
}

impl Routing {
    /// Parses and checks `routing.toml` against the district ids of the area.
    pub fn from_toml(text: &str, districts: &[&str]) -> Result<Self, RoutingError> {
        let file: File = toml::from_str(text).map_err(|e| RoutingError::Parse(e.to_string()))?;
        let mut depots: Vec<Depot> = Vec::new();
        for (index, entry) in file.depots.into_iter().enumerate() {
            let fail = |reason: &str| RoutingError::Depot { index, id: entry.id.clone(), reason: reason.into() };
            if entry.id.trim().is_empty() || entry.name.trim().is_empty() {
                return Err(fail("needs an id and a name"));
            }
            if depots.iter().any(|d| d.id == entry.id) {
                return Err(fail("the id is used twice"));
            }
            depots.push(Depot { id: entry.id, name: entry.name });
        }

        // (category, district) → (specificity, rule index)
        let mut chosen: BTreeMap<(Category, String), (u8, usize)> = BTreeMap::new();
        let mut targets = Vec::new();
        for (index, rule) in file.rules.into_iter().enumerate() {
            let fail = |reason: String| RoutingError::Rule { index, reason };
            let categories: Vec<Category> = match rule.category.as_str() {
                "*" => Category::ALL.to_vec(),
                id => vec![Category::from_id(id).ok_or_else(|| fail(format!("unknown category {id:?}")))?],
            };
            let listed = rule.districts.is_some();
            let rule_districts: Vec<String> = match rule.districts {
                Some(list) if list.is_empty() => {
                    return Err(fail("an empty districts list; leave it out for all".into()))
                }
                Some(list) => {
                    for district in &list {
                        if !districts.contains(&district.as_str()) {
                            return Err(fail(format!("unknown district {district:?}")));
                        }
                    }
                    list
                }
                None => districts.iter().map(|d| d.to_string()).collect(),
            };
            let target = match (rule.depot, rule.forward_to, rule.reply) {
                (Some(depot), None, None) => Target::Depot(
                    depots
                        .iter()
                        .position(|d| d.id == depot)
                        .ok_or_else(|| fail(format!("unknown depot {depot:?}")))?,
                ),
                (None, Some(to), Some(reply)) if !to.trim().is_empty() && !reply.trim().is_empty() => {
                    Target::Forward { to, reply }
                }
                _ => return Err(fail("needs either depot, or forward_to with a reply".into())),
            };
            let specificity = u8::from(rule.category != "*") * 2 + u8::from(listed);
            targets.push(target);
            for category in &categories {
                for district in &rule_districts {
                    let key = (*category, district.clone());
                    match chosen.get(&key) {
                        Some(&(existing, other)) if existing == specificity => {
                            return Err(fail(format!(
                                "rule {other} already routes {} in {district} with the same precedence",
                                category.id()
                            )));
                        }
                        Some(&(existing, _)) if existing > specificity => {}
                        _ => {
                            chosen.insert(key, (specificity, index));
                        }
                    }
                }
            }
        }
        for category in Category::ALL {
            for district in districts {
                if !chosen.contains_key(&(category, district.to_string())) {
                    return Err(RoutingError::Uncovered { category: category.id(), district: district.to_string() });
                }
            }
        }
        let table = chosen.into_iter().map(|(key, (_, index))| (key, index)).collect();
        Ok(Self { depots, targets, table })
    }

    /// Where a report of `category` in `district` goes; `None` only for a district the
    /// routing was not loaded with.
    /// The depots, in the file's order.
    pub fn depots(&self) -> &[Depot] {
        &self.depots
    }

    pub fn route(&self, category: Category, district: &str) -> Option<Route<'_>> {
        self.table.get(&(category, district.to_string())).map(|&rule| match &self.targets[rule] {
            Target::Depot(index) => Route::Depot(&self.depots[*index]),
            Target::Forward { to, reply } => Route::Forward { to, reply },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../config/routing.toml");
    const DISTRICTS: [&str; 6] = ["nord", "hafen", "ost", "sued", "west", "lindenviertel"];

    fn depot_of(routing: &Routing, category: Category, district: &str) -> String {
        match routing.route(category, district).unwrap() {
            Route::Depot(depot) => depot.id.clone(),
            Route::Forward { to, .. } => format!("forward:{to}"),
        }
    }

    #[test]
    fn the_demo_routing_sends_each_case_to_the_most_specific_rule() {
        let routing = Routing::from_toml(DEMO, &DISTRICTS).unwrap();
        assert_eq!(depot_of(&routing, Category::Strassenschaden, "nord"), "bauhof-nord");
        assert_eq!(depot_of(&routing, Category::Strassenschaden, "sued"), "bauhof-sued");
        assert_eq!(depot_of(&routing, Category::Beleuchtung, "nord"), "stadtwerke-licht");
        assert_eq!(depot_of(&routing, Category::Kanal, "west"), "stadtwerke-kanal");
        assert!(depot_of(&routing, Category::Verkehrszeichen, "hafen").starts_with("forward:"));
        assert_eq!(depot_of(&routing, Category::Verkehrszeichen, "nord"), "bauhof-nord");
        assert_eq!(routing.route(Category::Muell, "atlantis"), None);
    }

    #[test]
    fn bad_routing_is_refused_with_the_rule_and_the_reason() {
        let depots = "[[depot]]\nid = \"a\"\nname = \"A\"\n";
        let all = "[[rule]]\ncategory = \"*\"\ndepot = \"a\"\n";
        let cases = [
            (
                format!("{depots}{all}[[rule]]\ncategory = \"potholes\"\ndepot = \"a\"\n"),
                "rule 1: unknown category \"potholes\"",
            ),
            (format!("{depots}[[rule]]\ncategory = \"*\"\ndepot = \"b\"\n"), "rule 0: unknown depot \"b\""),
            (
                format!("{depots}{all}[[rule]]\ncategory = \"muell\"\ndistricts = [\"atlantis\"]\ndepot = \"a\"\n"),
                "rule 1: unknown district \"atlantis\"",
            ),
            (format!("{depots}{all}{all}"), "rule 1: rule 0 already routes"),
            (
                format!("{depots}[[rule]]\ncategory = \"muell\"\ndepot = \"a\"\n"),
                "category strassenschaden in district nord is covered by no rule",
            ),
            (
                format!("{depots}{all}[[rule]]\ncategory = \"muell\"\nforward_to = \"Kreis\"\n"),
                "rule 1: needs either depot, or forward_to with a reply",
            ),
            (format!("{depots}{depots}{all}"), "depot 1 (a): the id is used twice"),
            (format!("{depots}{all}colour = \"red\"\n"), "unknown field"),
        ];
        for (text, expected) in cases {
            let error = Routing::from_toml(&text, &["nord", "sued"]).unwrap_err().to_string();
            assert!(error.contains(expected), "expected {expected:?}, got {error:?}");
        }
    }
}
