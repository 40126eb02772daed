//! The report categories (README, "Classification"). Their ids are stable: they appear in
//! configuration, the database and exports; labels and keywords live in configuration.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Road and footpath damage.
    Strassenschaden,
    /// Street lighting.
    Beleuchtung,
    /// Dumped rubbish and full bins.
    Muell,
    /// Graffiti and vandalism.
    Graffiti,
    /// Signs, signals, markings.
    Verkehrszeichen,
    /// Trees, hedges, green spaces.
    Gruen,
    Spielplatz,
    /// Drains, gullies, sewers.
    Kanal,
    /// Snow and ice.
    Winterdienst,
    Sonstiges,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Strassenschaden,
        Category::Beleuchtung,
        Category::Muell,
        Category::Graffiti,
        Category::Verkehrszeichen,
        Category::Gruen,
        Category::Spielplatz,
        Category::Kanal,
        Category::Winterdienst,
        Category::Sonstiges,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Category::Strassenschaden => "strassenschaden",
            Category::Beleuchtung => "beleuchtung",
            Category::Muell => "muell",
            Category::Graffiti => "graffiti",
            Category::Verkehrszeichen => "verkehrszeichen",
            Category::Gruen => "gruen",
            Category::Spielplatz => "spielplatz",
            Category::Kanal => "kanal",
            Category::Winterdienst => "winterdienst",
            Category::Sonstiges => "sonstiges",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_match_serde() {
        for category in Category::ALL {
            assert_eq!(Category::from_id(category.id()), Some(category));
            assert_eq!(serde_json::to_string(&category).unwrap(), format!("\"{}\"", category.id()));
        }
        assert_eq!(Category::from_id("Strassenschaden"), None);
    }
}
