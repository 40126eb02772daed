//! The dialogue with one citizen as a pure state machine.
//!
//! `step` takes the conversation's draft, what the shell knows about the reporter, and one
//! incoming message, and returns the new draft plus the actions to carry out (replies to send,
//! a report to create, an opt-out to record). It never does I/O: the intake job in the service
//! loads the state, calls `step`, and writes the outcome in one transaction.

pub mod command;
pub mod draft;

use serde::{Deserialize, Serialize};

use crate::{LatLon, Reference};
use command::Command;
pub use draft::{Draft, DraftLocation, PlaceSource, ReportDraft};

/// The language replies are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// One incoming message, reduced to what the dialogue needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Text(String),
    /// A photo the shell has already cleaned and recorded (sent as an image or an image
    /// document), with the position read from it, if any.
    Photo {
        photo_id: i64,
        caption: Option<String>,
        gps: Option<LatLon>,
    },
    /// A photo that could not be used; the citizen is asked to send it again.
    PhotoRefused {
        problem: PhotoProblem,
        caption: Option<String>,
    },
    Location {
        point: LatLon,
        label: Option<String>,
    },
    /// A tap on a reply button or list row.
    Choice {
        id: String,
        title: String,
    },
    /// Something the dialogue cannot use; the citizen is told what to send instead.
    Unsupported(Unsupported),
    /// Needs no answer (reactions, stickers).
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    Audio,
    Video,
    /// A document that is not an image (PDF, office files, ...).
    Document,
    /// A shared contact card: never stored, it is someone else's personal data.
    Contacts,
    /// Any other message type, including ones WhatsApp adds in future.
    Other,
}

/// Why a photo could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoProblem {
    /// Not a JPEG, PNG or WebP picture, or a broken one.
    Unreadable,
    /// Larger than the configured limits.
    TooLarge,
    /// WhatsApp no longer had it, or it arrived damaged.
    Unavailable,
    /// The report already has the most photos it can hold.
    TooMany,
}

/// What the shell knows about the reporter when the message arrives.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The first-contact notice (PRIVACY.md P3) has not been sent in its current version.
    pub notice_due: bool,
    /// The reporter sent STOP and has not written since.
    pub opted_out: bool,
    /// Current time, Unix milliseconds.
    pub now_ms: i64,
    /// A draft untouched for longer than this is discarded when the next message arrives.
    pub draft_ttl_ms: i64,
}

/// A reply with a fixed text (the shell looks the text up in the reporter's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Help,
    /// An interactive message asking the citizen to share a location.
    LocationRequest,
    /// Only a place was sent: ask what is wrong there.
    AskDescription,
    Photo(PhotoProblem),
    StatusFormat,
    Stopped,
    Started,
    LanguageChanged,
    Unsupported(Unsupported),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetLanguage(Lang),
    /// Lift a STOP: the citizen wrote again.
    OptIn,
    /// Record a STOP: nothing more is sent until the citizen writes again.
    OptOut,
    SendNotice,
    Reply(Reply),
    /// Answer a STATUS command: one report of the reporter's, or all recent ones.
    StatusQuery(Option<Reference>),
    /// Create the report and tell the citizen its reference.
    CreateReport(ReportDraft),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub draft: Draft,
    pub actions: Vec<Action>,
}

/// A photo that is not taken: its caption still counts, and the citizen hears why.
fn refuse_photo(
    mut draft: Draft,
    context: &Context,
    problem: PhotoProblem,
    caption: Option<String>,
    mut actions: Vec<Action>,
) -> Outcome {
    if let Some(caption) = caption {
        draft.add_text(&caption);
        draft.updated_at_ms = Some(context.now_ms);
    }
    actions.push(Action::Reply(Reply::Photo(problem)));
    Outcome { draft, actions }
}

/// Advances the dialogue by one incoming message.
pub fn step(mut draft: Draft, context: &Context, input: Inbound) -> Outcome {
    // A reaction or sticker is not writing to us: no notice, and a STOP stays in force.
    if input == Inbound::Ignored {
        return Outcome { draft, actions: Vec::new() };
    }
    let command = match &input {
        Inbound::Text(text) => command::parse(text),
        Inbound::Choice { id, title } => command::parse(id).or_else(|| command::parse(title)),
        _ => None,
    };
    let is_stop = command == Some(Command::Stop);
    let mut actions = Vec::new();

    match command {
        Some(Command::Help(lang)) | Some(Command::Language(lang)) => actions.push(Action::SetLanguage(lang)),
        _ => {}
    }
    if context.opted_out && !is_stop {
        actions.push(Action::OptIn);
    }
    // A first message of STOP gets only the confirmation; the notice waits for the next contact.
    if context.notice_due && !is_stop {
        actions.push(Action::SendNotice);
    }

    if let Some(command) = command {
        actions.extend(match command {
            Command::Help(_) => vec![Action::Reply(Reply::Help)],
            Command::Language(_) => vec![Action::Reply(Reply::LanguageChanged)],
            Command::Status(reference) => vec![Action::StatusQuery(reference)],
            Command::StatusUnrecognised => vec![Action::Reply(Reply::StatusFormat)],
            Command::Stop => vec![Action::OptOut, Action::Reply(Reply::Stopped)],
            Command::Start => vec![Action::Reply(Reply::Started)],
        });
        return Outcome { draft, actions };
    }

    if draft.is_stale(context.now_ms, context.draft_ttl_ms) {
        draft = Draft::default();
    }

    match input {
        Inbound::Text(text) if command::is_greeting(&text) => {
            if !context.notice_due {
                actions.push(Action::Reply(Reply::Help));
            }
            return Outcome { draft, actions };
        }
        Inbound::Text(text) | Inbound::Choice { title: text, .. } => draft.add_text(&text),
        Inbound::Photo { photo_id, caption, gps } if draft.photo_ids.len() < draft::MAX_PHOTOS => {
            draft.photo_ids.push(photo_id);
            if let Some(caption) = caption {
                draft.add_text(&caption);
            }
            if let (None, Some(point)) = (&draft.location, gps) {
                draft.location = Some(DraftLocation { point, label: None, source: PlaceSource::PhotoGps });
            }
        }
        Inbound::Photo { caption, .. } => return refuse_photo(draft, context, PhotoProblem::TooMany, caption, actions),
        Inbound::PhotoRefused { problem, caption } => return refuse_photo(draft, context, problem, caption, actions),
        Inbound::Location { point, label } => {
            draft.location = Some(DraftLocation { point, label, source: PlaceSource::Shared })
        }
        Inbound::Unsupported(kind) => {
            actions.push(Action::Reply(Reply::Unsupported(kind)));
            return Outcome { draft, actions };
        }
        Inbound::Ignored => return Outcome { draft, actions },
    }
    draft.updated_at_ms = Some(context.now_ms);

    if let Some(report) = draft.take_report() {
        actions.push(Action::CreateReport(report));
    } else if draft.location.is_none() && !draft.location_requested {
        draft.location_requested = true;
        actions.push(Action::Reply(Reply::LocationRequest));
    } else if !draft.has_content() && !draft.description_requested {
        draft.description_requested = true;
        actions.push(Action::Reply(Reply::AskDescription));
    }
    Outcome { draft, actions }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn context() -> Context {
        Context { notice_due: false, opted_out: false, now_ms: 10 * HOUR_MS, draft_ttl_ms: 24 * HOUR_MS }
    }

    fn text(t: &str) -> Inbound {
        Inbound::Text(t.to_string())
    }

    fn location() -> Inbound {
        Inbound::Location { point: LatLon::new(51.5, 7.4).unwrap(), label: Some("Markt".into()) }
    }

    fn run(messages: Vec<Inbound>, context: &Context) -> (Draft, Vec<Vec<Action>>) {
        let mut draft = Draft::default();
        let mut all = Vec::new();
        for message in messages {
            let outcome = step(draft, context, message);
            draft = outcome.draft;
            all.push(outcome.actions);
        }
        (draft, all)
    }

    fn created(actions: &[Action]) -> Option<&ReportDraft> {
        actions.iter().find_map(|a| match a {
            Action::CreateReport(report) => Some(report),
            _ => None,
        })
    }

    #[test]
    fn text_then_location_asks_once_and_then_creates_the_report() {
        let (draft, actions) = run(vec![text("Schlagloch"), text("ziemlich tief"), location()], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::LocationRequest)]);
        assert_eq!(actions[1], vec![], "the location is asked for only once");
        let report = created(&actions[2]).expect("report created");
        assert_eq!(report.description.as_deref(), Some("Schlagloch\nziemlich tief"));
        assert_eq!(report.location.label.as_deref(), Some("Markt"));
        assert!(draft.is_empty());
    }

    #[test]
    fn location_first_then_text_asks_for_a_description_then_creates() {
        let (_, actions) = run(vec![location(), text("Laterne aus")], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::AskDescription)]);
        assert!(created(&actions[1]).is_some());
    }

    #[test]
    fn photo_with_caption_then_location() {
        let photo = Inbound::Photo { photo_id: 3, caption: Some("Müll am Spielplatz".into()), gps: None };
        let (_, actions) = run(vec![photo, location()], &context());
        let report = created(&actions[1]).unwrap();
        assert_eq!(report.photo_ids, vec![3]);
        assert_eq!(report.description.as_deref(), Some("Müll am Spielplatz"));
    }

    #[test]
    fn the_first_contact_gets_the_notice_before_anything_else() {
        let first = Context { notice_due: true, ..context() };
        let outcome = step(Draft::default(), &first, text("Schlagloch"));
        assert_eq!(outcome.actions, vec![Action::SendNotice, Action::Reply(Reply::LocationRequest)]);
    }

    #[test]
    fn a_greeting_is_not_a_description() {
        let outcome = step(Draft::default(), &context(), text("Hallo!"));
        assert_eq!(outcome.actions, vec![Action::Reply(Reply::Help)]);
        assert!(outcome.draft.is_empty());
        let first = Context { notice_due: true, ..context() };
        let outcome = step(Draft::default(), &first, text("Moin"));
        assert_eq!(outcome.actions, vec![Action::SendNotice], "the notice already explains");
    }

    #[test]
    fn stop_records_the_opt_out_and_confirms_without_the_notice() {
        let first = Context { notice_due: true, ..context() };
        let outcome = step(Draft::default(), &first, text("STOP"));
        assert_eq!(outcome.actions, vec![Action::OptOut, Action::Reply(Reply::Stopped)]);
    }

    #[test]
    fn writing_again_after_stop_lifts_the_opt_out() {
        let stopped = Context { opted_out: true, ..context() };
        let outcome = step(Draft::default(), &stopped, text("Baum umgestürzt"));
        assert_eq!(outcome.actions[0], Action::OptIn);
        let outcome = step(Draft::default(), &stopped, text("start"));
        assert_eq!(outcome.actions, vec![Action::OptIn, Action::Reply(Reply::Started)]);
    }

    #[test]
    fn commands_do_not_touch_the_draft() {
        let (draft, actions) = run(vec![text("Schlagloch"), text("STATUS")], &context());
        assert_eq!(actions[1], vec![Action::StatusQuery(None)]);
        assert_eq!(draft.texts, vec!["Schlagloch"]);
    }

    #[test]
    fn help_in_english_switches_the_language_first() {
        let first = Context { notice_due: true, ..context() };
        let outcome = step(Draft::default(), &first, text("help"));
        assert_eq!(
            outcome.actions,
            vec![Action::SetLanguage(Lang::En), Action::SendNotice, Action::Reply(Reply::Help)]
        );
    }

    #[test]
    fn unsupported_messages_get_an_explanation_and_change_nothing() {
        let outcome = step(Draft::default(), &context(), Inbound::Unsupported(Unsupported::Audio));
        assert_eq!(outcome.actions, vec![Action::Reply(Reply::Unsupported(Unsupported::Audio))]);
        assert!(outcome.draft.is_empty());
    }

    #[test]
    fn reactions_neither_trigger_the_notice_nor_lift_a_stop() {
        let context = Context { notice_due: true, opted_out: true, ..context() };
        let outcome = step(Draft::default(), &context, Inbound::Ignored);
        assert!(outcome.actions.is_empty());
    }

    #[test]
    fn a_photo_with_a_position_completes_the_report_without_asking_for_the_place() {
        let gps = LatLon::new(51.9063, 10.4292).unwrap();
        let photo = Inbound::Photo { photo_id: 5, caption: Some("Schlagloch".into()), gps: Some(gps) };
        let (_, actions) = run(vec![photo], &context());
        let report = created(&actions[0]).expect("report created");
        assert_eq!((report.location.point, report.location.source), (gps, PlaceSource::PhotoGps));
        assert!(!actions[0].contains(&Action::Reply(Reply::LocationRequest)));
    }

    #[test]
    fn a_shared_place_wins_over_a_photo_position() {
        let shared = Inbound::Location { point: LatLon::new(51.5, 7.4).unwrap(), label: None };
        let gps = LatLon::new(51.9, 10.4).unwrap();
        let photo = Inbound::Photo { photo_id: 5, caption: None, gps: Some(gps) };
        let (_, actions) = run(vec![shared, photo], &context());
        let report = created(&actions[1]).expect("report created");
        assert_eq!(report.location.source, PlaceSource::Shared);
        assert_eq!(report.location.point, LatLon::new(51.5, 7.4).unwrap());
    }

    #[test]
    fn a_refused_photo_is_asked_for_again_and_its_caption_is_kept() {
        let refused = Inbound::PhotoRefused { problem: PhotoProblem::Unreadable, caption: Some("Ampel".into()) };
        let (draft, actions) = run(vec![refused], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::Photo(PhotoProblem::Unreadable))]);
        assert_eq!(draft.texts, vec!["Ampel".to_string()]);
    }

    #[test]
    fn photos_beyond_the_limit_are_refused() {
        let mut draft = Draft::default();
        for id in 0..draft::MAX_PHOTOS as i64 {
            draft = step(draft, &context(), Inbound::Photo { photo_id: id, caption: None, gps: None }).draft;
        }
        let outcome = step(draft, &context(), Inbound::Photo { photo_id: 99, caption: None, gps: None });
        assert_eq!(outcome.actions, vec![Action::Reply(Reply::Photo(PhotoProblem::TooMany))]);
        assert_eq!(outcome.draft.photo_ids.len(), draft::MAX_PHOTOS);
    }

    #[test]
    fn a_stale_draft_is_discarded() {
        let (draft, _) = run(vec![text("alte Sache")], &context());
        let next_day = Context { now_ms: context().now_ms + 25 * HOUR_MS, ..context() };
        let outcome = step(draft, &next_day, location());
        assert_eq!(outcome.actions, vec![Action::Reply(Reply::AskDescription)]);
        assert!(outcome.draft.texts.is_empty());
    }

    #[test]
    fn a_button_reply_is_read_as_a_command_or_as_text() {
        let choice = Inbound::Choice { id: "STOP".into(), title: "Abmelden".into() };
        let outcome = step(Draft::default(), &context(), choice);
        assert_eq!(outcome.actions, vec![Action::OptOut, Action::Reply(Reply::Stopped)]);
        let choice = Inbound::Choice { id: "x1".into(), title: "Gehweg".into() };
        let outcome = step(Draft::default(), &context(), choice);
        assert_eq!(outcome.draft.texts, vec!["Gehweg"]);
    }
}
