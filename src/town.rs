//! Loading the municipality's data at start-up: the districts, routing, street and street-line
//! files named in `[geo]` (and the map background drawn from them), and the categories and training texts named in `[classify]` (plus the staff
//! corrections up to the last `meldeweg classify retrain`, read from the database). Every
//! problem is reported with the file it is in, and nothing starts with bad data.

use std::collections::BTreeMap;
use std::path::Path;

use meldeweg_workers::basemap::Basemap;
use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{corpus_lines, Categories, Classifier};
use meldeweg_workers::conversation::Lang;
use meldeweg_workers::geotag::{Area, Depot, District, Gazetteer, Placement, Routing};
use meldeweg_workers::town::Town;
use meldeweg_workers::LatLon;

use crate::config::{ConfigError, Settings};

#[derive(Debug, thiserror::Error)]
pub enum TownError {
    #[error("cannot read {file} ({setting}): {source}{}", hint(.source))]
    Read { file: String, setting: &'static str, source: std::io::Error },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The municipality as triage sees it.
#[derive(Debug)]
pub struct Municipality {
    pub town: Town,
    pub routing: Routing,
    /// Duplicate radius per category, metres.
    pub radii: BTreeMap<Category, f64>,
    pub max_address_distance_m: f64,
    /// The map background drawn from the files above.
    pub basemap: Basemap,
}

/// The category, district and depot a list or statistics request is narrowed to.
pub type Selection = (Option<Category>, Option<String>, Option<String>);

impl Municipality {
    /// The lock grid of the duplicate search: squares as wide as the largest duplicate radius,
    /// around the town's centre (every instance computes the same from the same files).
    pub fn duplicate_cells(&self) -> meldeweg_workers::geotag::Cells {
        let largest = self.radii.values().copied().fold(0.0, f64::max);
        meldeweg_workers::geotag::Cells::new(self.town.area.centre(), largest)
    }

    pub fn district(&self, id: &str) -> Option<&District> {
        self.town.area.districts().iter().find(|d| d.id == id)
    }

    pub fn depot(&self, id: &str) -> Option<&Depot> {
        self.routing.depots().iter().find(|d| d.id == id)
    }

    /// Checks the category, district and depot ids a request names (empty means any).
    pub fn selection(
        &self,
        category: &Option<String>,
        district: &Option<String>,
        depot: &Option<String>,
    ) -> Result<Selection, String> {
        let given =
            |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let category = given(category)
            .map(|id| Category::from_id(&id).ok_or_else(|| format!("unknown category {id:?}")))
            .transpose()?;
        let district = given(district)
            .map(|id| self.district(&id).map(|d| d.id.clone()).ok_or_else(|| format!("unknown district {id:?}")))
            .transpose()?;
        let depot = given(depot)
            .map(|id| self.depot(&id).map(|d| d.id.clone()).ok_or_else(|| format!("unknown depot {id:?}")))
            .transpose()?;
        Ok((category, district, depot))
    }

    /// Where `at` is, in words for people in `lang`: "Lindenweg 4", "Lindenweg, Höhe Nr. 10",
    /// "Kreuzung Bahnhofstraße / Schulstraße"; with no address point close enough, the district,
    /// or how far outside the municipality the point is.
    pub fn place_words(&self, at: LatLon, lang: Lang) -> String {
        if let Some(spot) = self.town.streets.spot(at, self.max_address_distance_m) {
            return spot.words(lang);
        }
        let town = &self.town.area.name;
        match (self.town.area.locate(at), lang) {
            (Placement::Outside, _) => {
                let km = (at.distance_m(self.town.area.centre()) / 1000.0).round();
                match lang {
                    Lang::De => format!("außerhalb von {town}, etwa {km} km vom Zentrum"),
                    Lang::En => format!("outside {town}, about {km} km from its centre"),
                }
            }
            (Placement::Inside(_), Lang::De) => "ohne Adresse in der Nähe".to_string(),
            (Placement::Inside(_), Lang::En) => "no address nearby".to_string(),
        }
    }

    /// `place_words` with the district: "Lindenweg 4, Lindenviertel".
    pub fn place_with_district(&self, at: LatLon, lang: Lang) -> String {
        let words = self.place_words(at, lang);
        match self.town.area.locate(at) {
            Placement::Inside(Some(district)) => format!("{words}, {}", district.name),
            _ => words,
        }
    }

    /// "Street Number" of the address point nearest to `at`, if one is close enough.
    pub fn address_near(&self, at: LatLon) -> Option<String> {
        let (point, distance) = self.town.streets.nearest(at)?;
        (distance <= self.max_address_distance_m)
            .then(|| format!("{} {}", point.street, point.number).trim().to_string())
    }
}

/// Reads one of the municipality's files, named by the setting `setting`.
fn read(path: &Path, setting: &'static str) -> Result<String, TownError> {
    std::fs::read_to_string(path).map_err(|source| TownError::Read {
        file: path.display().to_string(),
        setting,
        source,
    })
}

/// What to do about a file that is not there: relative paths start in the working directory.
fn hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            ". Start Meldeweg in the folder that holds config/ (the repository), or name the files in [geo] and [classify]"
        }
        _ => "",
    }
}

fn invalid(path: &Path) -> impl Fn(String) -> TownError + '_ {
    move |reason| TownError::Invalid { file: path.display().to_string(), reason }
}

/// How many corpus texts one staff correction counts as: staff have looked at the report.
const CORRECTION_WEIGHT: usize = 5;

/// The categories and the classifier trained on the texts in the training directory and on
/// staff corrections (category, text).
pub fn load_classifier(settings: &Settings, corrections: &[(Category, String)]) -> Result<Classifier, TownError> {
    let path = &settings.classify.categories_file;
    let categories =
        Categories::from_toml(&read(path, "classify.categories_file")?).map_err(|e| invalid(path)(e.to_string()))?;
    let mut corpus = Vec::new();
    for category in Category::ALL {
        let path = settings.classify.training_dir.join(format!("{}.txt", category.id()));
        corpus.push((category, read(&path, "classify.training_dir")?));
    }
    let examples = corpus.iter().flat_map(|(category, text)| corpus_lines(text).map(move |line| (*category, line)));
    let corrected = corrections
        .iter()
        .flat_map(|(category, text)| std::iter::repeat_n((*category, text.as_str()), CORRECTION_WEIGHT));
    Ok(Classifier::train(categories, examples.chain(corrected)))
}

pub fn load(settings: &Settings, corrections: &[(Category, String)]) -> Result<Municipality, TownError> {
    let geo = &settings.geo;
    let area = Area::from_geojson(&read(&geo.districts_file, "geo.districts_file")?)
        .map_err(|e| invalid(&geo.districts_file)(e.to_string()))?;
    let district_ids: Vec<&str> = area.districts().iter().map(|d| d.id.as_str()).collect();
    let routing = Routing::from_toml(&read(&geo.routing_file, "geo.routing_file")?, &district_ids)
        .map_err(|e| invalid(&geo.routing_file)(e.to_string()))?;
    let streets = Gazetteer::from_csv(&read(&geo.streets_file, "geo.streets_file")?)
        .map_err(|e| invalid(&geo.streets_file)(e.to_string()))?;
    let lines_file = &geo.street_lines_file;
    let lines = (!lines_file.as_os_str().is_empty()).then(|| read(lines_file, "geo.street_lines_file")).transpose()?;
    let basemap = Basemap::new(&area, &streets, lines.as_deref()).map_err(|e| invalid(lines_file)(e.to_string()))?;
    let classifier = load_classifier(settings, corrections)?;
    Ok(Municipality {
        basemap,
        town: Town { area, streets, classifier, min_confidence: settings.classify.min_confidence },
        routing,
        radii: settings.duplicate_radii()?,
        max_address_distance_m: geo.max_address_distance_m,
    })
}
