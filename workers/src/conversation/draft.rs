//! The report a citizen is putting together, message by message, before it is complete.
//!
//! A report needs something to look at (a description or a photo) and a place. Citizens send
//! these in any order and in bursts, so the draft simply collects; `step` decides when it is
//! complete. The draft is stored as JSON with the conversation.

use serde::{Deserialize, Serialize};

use crate::LatLon;

/// Longest description kept for one report, in characters (WhatsApp's own text limit is 4096).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Most photos one report collects.
pub const MAX_PHOTOS: usize = 10;

/// Where the problem is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftLocation {
    pub point: LatLon,
    /// Name and address WhatsApp attaches to a shared place, if any.
    pub label: Option<String>,
    #[serde(default)]
    pub source: PlaceSource,
}

/// How the place became known. A place the citizen shares always replaces one read from a
/// photo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceSource {
    /// Shared in the chat (a WhatsApp location).
    #[default]
    Shared,
    /// The GPS position in a photo's metadata.
    PhotoGps,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The citizen's words, in the order they arrived.
    pub texts: Vec<String>,
    /// Ids of photo rows the shell recorded for this draft.
    pub photo_ids: Vec<i64>,
    pub location: Option<DraftLocation>,
    /// The location request was sent for this draft (ask once, not after every message).
    pub location_requested: bool,
    /// A description or photo was asked for (the citizen sent only a place).
    pub description_requested: bool,
    /// When the draft last changed, Unix milliseconds; stale drafts are discarded.
    pub updated_at_ms: Option<i64>,
}

/// A complete draft, ready to become a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    pub description: Option<String>,
    pub photo_ids: Vec<i64>,
    pub location: DraftLocation,
}

impl Draft {
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.photo_ids.is_empty() && self.location.is_none()
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
    pub fn take_report(&mut self) -> Option<ReportDraft> {
        if !self.has_content() {
            return None;
        }
        let location = self.location.take()?;
        let taken = std::mem::take(self);
        let description = Some(taken.texts.join("\n")).filter(|d| !d.is_empty());
        Some(ReportDraft { description, photo_ids: taken.photo_ids, location })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> DraftLocation {
        DraftLocation { point: LatLon::new(51.0, 7.0).unwrap(), label: None, source: PlaceSource::Shared }
    }

    #[test]
    fn a_draft_is_complete_with_content_and_a_place() {
        let mut draft = Draft::default();
        assert_eq!(draft.take_report(), None);
        draft.add_text("Schlagloch");
        assert_eq!(draft.take_report(), None, "no place yet");
        draft.location = Some(here());
        let report = draft.take_report().expect("complete");
        assert_eq!(report.description.as_deref(), Some("Schlagloch"));
        assert!(draft.is_empty(), "taking the report empties the draft");
    }

    #[test]
    fn a_photo_alone_is_enough_content() {
        let mut draft = Draft { photo_ids: vec![7], location: Some(here()), ..Draft::default() };
        let report = draft.take_report().expect("complete");
        assert_eq!(report.description, None);
        assert_eq!(report.photo_ids, vec![7]);
    }

    #[test]
    fn descriptions_are_joined_and_bounded() {
        let mut draft = Draft::default();
        draft.add_text("  erste Zeile ");
        draft.add_text("   ");
        draft.add_text("zweite Zeile");
        assert_eq!(draft.texts, vec!["erste Zeile", "zweite Zeile"]);
        draft.add_text(&"ä".repeat(MAX_DESCRIPTION_CHARS * 2));
        draft.location = Some(here());
        let description = draft.take_report().unwrap().description.unwrap();
        assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
