//! What the conversation knows about the municipality: its area (is a place ours?), its
//! streets (an address written in a message), and the classifier with the confidence below
//! which the citizen is asked what the report is about. Loaded once at start-up.

use crate::classify::Classifier;
use crate::geotag::{Area, Gazetteer};

#[derive(Debug)]
pub struct Town {
    pub area: Area,
    pub streets: Gazetteer,
    pub classifier: Classifier,
    /// Below this confidence the citizen chooses the category from a list.
    pub min_confidence: f64,
}

#[cfg(test)]
pub(crate) mod demo {
    //! The demo town shipped in `config/`, for tests.
    use super::Town;
    use crate::category::Category;
    use crate::classify::{corpus_lines, Categories, Classifier};
    use crate::geotag::{Area, Gazetteer};

    pub const DISTRICTS: &str = include_str!("../../config/districts.geojson");
    pub const STREETS: &str = include_str!("../../config/streets.csv");
    pub const CATEGORIES: &str = include_str!("../../config/categories.toml");

    /// A few training lines per category, enough for unit tests of the dialogue.
    const TRAINING: &[(Category, &str)] = &[
        (Category::Strassenschaden, "Schlagloch in der Straße\nGehweg kaputt, Platten lose\nRiesiges Loch im Asphalt"),
        (Category::Beleuchtung, "Laterne aus\nStraßenlaterne flackert\nLampe brennt nicht"),
        (Category::Muell, "Müll abgeladen\nSperrmüll am Weg\nMülleimer quillt über"),
        (Category::Graffiti, "Graffiti an der Wand\nBushaltestelle beschmiert"),
        (Category::Verkehrszeichen, "Schild umgefahren\nAmpel defekt\nVerkehrsschild verdreht"),
        (Category::Gruen, "Hecke wuchert\nAst hängt runter\nRasen nicht gemäht"),
        (Category::Spielplatz, "Schaukel kaputt\nRutsche auf dem Spielplatz defekt"),
        (Category::Kanal, "Gully verstopft\nKanaldeckel klappert\nStraße überflutet"),
        (Category::Winterdienst, "Nicht gestreut, alles glatt\nSchnee nicht geräumt"),
        (Category::Sonstiges, "Fahrrad seit Wochen abgestellt\nToter Fuchs am Straßenrand\nBank kaputt"),
    ];

    pub fn town() -> Town {
        let categories = Categories::from_toml(CATEGORIES).unwrap();
        let examples = TRAINING.iter().flat_map(|(c, lines)| corpus_lines(lines).map(move |l| (*c, l)));
        Town {
            area: Area::from_geojson(DISTRICTS).unwrap(),
            streets: Gazetteer::from_csv(STREETS).unwrap(),
            classifier: Classifier::train(categories, examples),
            min_confidence: 0.5,
        }
    }
}
