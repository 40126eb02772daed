//! The report a citizen is putting together, message by message, before it is complete.
//!
//! A report needs something to look at (a description or a photo), a place and a category.
//! Citizens send these in any order and in bursts, so the draft simply collects; `step` decides
//! what is still missing. The draft is stored as JSON with the conversation.
//!
//! Places come from three sources, in this order of precedence: a location shared in the chat,
//! a photo's GPS position once the citizen confirmed it, and an address written in the text.

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::classify::Classification;
use crate::LatLon;

/// Longest description kept for one report, in characters (below the messengers' own limits).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Most photos one report collects.
pub const MAX_PHOTOS: usize = 10;

/// Where the problem is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftLocation {
    pub point: LatLon,
    /// Name and address the citizen's app attaches to a shared place, if any.
    pub label: Option<String>,
    #[serde(default)]
    pub source: PlaceSource,
}

/// How the place became known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceSource {
    /// Shared in the chat (a location message).
    #[default]
    Shared,
    /// The GPS position in a photo's metadata, confirmed by the citizen.
    PhotoGps,
    /// An address written in the text, found in the street gazetteer.
    Address,
}

/// A photo's GPS position and what the citizen said when asked whether it is the place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhotoPlace {
    pub point: crate::LatLon,
    /// `None` until the citizen answers the question.
    pub confirmed: Option<bool>,
    /// The question was sent.
    pub asked: bool,
}

/// Where the draft stands on its place.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    Known(DraftLocation),
    /// A photo's position waits for the citizen's "Ja, hier" / "Anderer Ort".
    Unconfirmed(PhotoPlace),
    Missing,
}

/// Who chose the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategorySource {
    Classifier,
    /// Picked from the list by the citizen (confidence 1).
    Reporter,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The citizen's words, in the order they arrived.
    pub texts: Vec<String>,
    /// Ids of photo rows the shell recorded for this draft.
    pub photo_ids: Vec<i64>,
    /// A place shared or written by the citizen (a shared one replaces a written one).
    pub location: Option<DraftLocation>,
    /// The GPS position of the first photo that had one.
    #[serde(default)]
    pub photo_place: Option<PhotoPlace>,
    /// The category the citizen picked from the list.
    #[serde(default)]
    pub category: Option<Category>,
    /// The list of categories was sent.
    #[serde(default)]
    pub category_requested: bool,
    /// The location request was sent for this draft (ask once, not after every message).
    pub location_requested: bool,
    /// A description or photo was asked for (the citizen sent only a place).
    pub description_requested: bool,
    /// When the draft last changed, Unix milliseconds; stale drafts are discarded.
    pub updated_at_ms: Option<i64>,
    /// When the citizen sent LÖSCHEN and was asked to confirm (P9); the confirmation counts
    /// only for a while and only as the next message.
    #[serde(default)]
    pub erase_asked_at_ms: Option<i64>,
}

/// A complete draft, ready to become a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    pub description: Option<String>,
    pub photo_ids: Vec<i64>,
    pub location: DraftLocation,
    /// The classifier's reading of the description; its category is replaced by the citizen's
    /// choice when there was one.
    pub classification: Classification,
    pub category_source: CategorySource,
}

impl Draft {
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.photo_ids.is_empty() && self.location.is_none() && self.photo_place.is_none()
    }

    /// The place by precedence: shared, confirmed photo position, written address.
    pub fn place(&self) -> Place {
        let shared = self.location.as_ref().filter(|l| l.source == PlaceSource::Shared);
        match (shared, self.photo_place) {
            (Some(location), _) => Place::Known(location.clone()),
            (None, Some(PhotoPlace { point, confirmed: Some(true), .. })) => {
                Place::Known(DraftLocation { point, label: None, source: PlaceSource::PhotoGps })
            }
            (None, Some(photo @ PhotoPlace { confirmed: None, .. })) => Place::Unconfirmed(photo),
            _ => self.location.clone().map_or(Place::Missing, Place::Known),
        }
    }

    /// The citizen's words as one description.
    pub fn description(&self) -> Option<String> {
        Some(self.texts.join("\n")).filter(|d| !d.is_empty())
    }

    /// Untouched for longer than `ttl_ms`: the next message starts afresh.
    pub fn is_stale(&self, now_ms: i64, ttl_ms: i64) -> bool {
        self.updated_at_ms.is_some_and(|updated| now_ms.saturating_sub(updated) > ttl_ms)
    }

    /// Whether a photo arriving now would be taken (a stale draft starts empty). The shell asks
    /// before fetching and cleaning one.
    pub fn has_room_for_photo(&self, now_ms: i64, ttl_ms: i64) -> bool {
        self.is_stale(now_ms, ttl_ms) || self.photo_ids.len() < MAX_PHOTOS
    }

    pub fn has_content(&self) -> bool {
        !self.texts.is_empty() || !self.photo_ids.is_empty()
    }

    /// Adds text, keeping the whole description within `MAX_DESCRIPTION_CHARS`.
    pub fn add_text(&mut self, text: &str) {
        let text = text.trim();
        let used: usize = self.texts.iter().map(|t| t.chars().count() + 1).sum();
        let room = MAX_DESCRIPTION_CHARS.saturating_sub(used);
        if text.is_empty() || room == 0 {
            return;
        }
        self.texts.push(text.chars().take(room).collect());
    }

    /// Takes the finished report out of the draft, leaving the draft empty.
    pub fn take_report(
        &mut self,
        location: DraftLocation,
        classification: Classification,
        category_source: CategorySource,
    ) -> ReportDraft {
        let taken = std::mem::take(self);
        ReportDraft {
            description: taken.description(),
            photo_ids: taken.photo_ids,
            location,
            classification,
            category_source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> DraftLocation {
        DraftLocation { point: LatLon::new(lat, lon).unwrap(), label: None, source: PlaceSource::Shared }
    }

    #[test]
    fn places_follow_their_precedence() {
        let mut draft = Draft::default();
        assert_eq!(draft.place(), Place::Missing);
        let written = DraftLocation { source: PlaceSource::Address, ..at(51.96, 7.62) };
        draft.location = Some(written.clone());
        assert_eq!(draft.place(), Place::Known(written.clone()));
        let photo = PhotoPlace { point: LatLon::new(51.95, 7.63).unwrap(), confirmed: None, asked: false };
        draft.photo_place = Some(photo);
        assert_eq!(draft.place(), Place::Unconfirmed(photo), "a photo position outranks a written address");
        draft.photo_place = Some(PhotoPlace { confirmed: Some(false), ..photo });
        assert_eq!(draft.place(), Place::Known(written), "rejected: back to the written address");
        draft.photo_place = Some(PhotoPlace { confirmed: Some(true), ..photo });
        assert!(matches!(draft.place(), Place::Known(DraftLocation { source: PlaceSource::PhotoGps, .. })));
        draft.location = Some(at(51.97, 7.61));
        assert_eq!(draft.place(), Place::Known(at(51.97, 7.61)), "a shared place outranks everything");
    }

    #[test]
    fn descriptions_are_joined_and_bounded() {
        let mut draft = Draft::default();
        assert_eq!(draft.description(), None);
        draft.add_text("  erste Zeile ");
        draft.add_text("   ");
        draft.add_text("zweite Zeile");
        assert_eq!(draft.texts, vec!["erste Zeile", "zweite Zeile"]);
        assert_eq!(draft.description().as_deref(), Some("erste Zeile\nzweite Zeile"));
        draft.add_text(&"ä".repeat(MAX_DESCRIPTION_CHARS * 2));
        assert_eq!(draft.description().unwrap().chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
