//! The dialogue with one citizen as a pure state machine.
//!
//! `step` takes the conversation's draft, what the shell knows about the reporter and the town,
//! and one incoming message, and returns the new draft plus the actions to carry out (replies
//! to send, a report to create, an opt-out to record). It never does I/O: the intake job in the
//! service loads the state, calls `step`, and writes the outcome in one transaction.
//!
//! A report is complete with content (text or photo), a place and a category. What is missing
//! is asked for once each: the place (location request), whether a photo's GPS position is the
//! place (two buttons), and, when the classifier is unsure and the place is ours, the category
//! (a list).

pub mod command;
pub mod draft;

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::geotag::Placement;
pub use crate::message::Unsupported;
use crate::town::Town;
use crate::{LatLon, Reference};
use command::Command;
pub use draft::{CategorySource, Draft, DraftLocation, PhotoPlace, Place, PlaceSource, ReportDraft, MAX_PHOTOS};

/// Reply-button and list-row ids the dialogue sends and understands.
pub const CHOICE_PLACE_YES: &str = "place:yes";
pub const CHOICE_PLACE_OTHER: &str = "place:other";
pub const CHOICE_ERASE_YES: &str = "erase:yes";
pub const CHOICE_ERASE_NO: &str = "erase:no";
/// How long a LÖSCHEN waits for its confirmation.
pub const ERASE_CONFIRMATION_MS: i64 = 60 * 60 * 1000;
const CHOICE_CATEGORY_PREFIX: &str = "category:";

/// The list-row id for a category.
pub fn category_choice_id(category: Category) -> String {
    format!("{CHOICE_CATEGORY_PREFIX}{}", category.id())
}

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
    /// A tap on one of the options a reply offered.
    Choice {
        id: String,
        title: String,
    },
    /// Something the dialogue cannot use; the citizen is told what to send instead.
    Unsupported(Unsupported),
    /// Needs no answer (reactions, stickers).
    Ignored,
}

/// Why a photo could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoProblem {
    /// Not a JPEG, PNG or WebP picture, or a broken one.
    Unreadable,
    /// Larger than the configured limits.
    TooLarge,
    /// The channel no longer had it, or it arrived damaged.
    Unavailable,
    /// The report already has the most photos it can hold.
    TooMany,
}

/// What the shell knows about the reporter and the town when the message arrives.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub town: &'a Town,
    /// The first-contact notice (PRIVACY P3) has not been sent in its current version.
    pub notice_due: bool,
    /// The reporter sent STOP and has not written since.
    pub opted_out: bool,
    /// Current time, Unix milliseconds.
    pub now_ms: i64,
    /// A draft untouched for longer than this is discarded when the next message arrives.
    pub draft_ttl_ms: i64,
}

/// A reply with a fixed text (the shell looks the text up in the reporter's language).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reply {
    Help,
    /// An interactive message asking the citizen to share a location.
    LocationRequest,
    /// Only a place was sent: ask what is wrong there.
    AskDescription,
    Photo(PhotoProblem),
    /// A photo was taken into the draft and nothing else needs saying: it is acknowledged with
    /// how many the draft now holds.
    PhotoAdded(usize),
    /// Two buttons: is the photo's position the place? ("Ja, hier" / "Anderer Ort")
    ConfirmPlace(LatLon),
    /// A list of the categories: "Worum geht es?"
    AskCategory,
    StatusFormat,
    /// Two buttons: really erase everything? ("Ja, löschen" / "Abbrechen")
    ConfirmErase,
    /// The citizen said no (or the confirmation came too late): nothing was erased.
    EraseCancelled,
    EraseExpired,
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
    /// Answer AUSKUNFT: everything stored about the reporter (P9).
    AccessQuery,
    /// Erase the reporter's personal data after a confirmed LÖSCHEN (P9); the shell sends the
    /// last message first.
    Erase,
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
    if let Some(actions) = erase_confirmation(&mut draft, context, &input) {
        return Outcome { draft, actions };
    }
    let command = match &input {
        Inbound::Text(text) => command::parse(text),
        Inbound::Choice { id, title } => command::parse(id).or_else(|| command::parse(title)),
        _ => None,
    };
    let mut actions = greeting(command.as_ref(), context);
    if let Some(command) = command {
        actions.extend(run_command(&mut draft, context, command));
        return Outcome { draft, actions };
    }
    if draft.is_stale(context.now_ms, context.draft_ttl_ms) {
        draft = Draft::default();
    }
    let photo = matches!(input, Inbound::Photo { .. });
    match take(&mut draft, context, input) {
        Taken::Added => {}
        Taken::Answered(answer) => {
            actions.extend(answer);
            return Outcome { draft, actions };
        }
        Taken::PhotoRefused(problem, caption) => return refuse_photo(draft, context, problem, caption, actions),
    }
    draft.updated_at_ms = Some(context.now_ms);
    let mut outcome = advance(draft, context, actions);
    // A further photo while Meldeweg waits for the place or a choice would otherwise go
    // unanswered: the citizen hears that it arrived.
    let answered = outcome.actions.iter().any(|a| matches!(a, Action::Reply(_) | Action::CreateReport(_)));
    if photo && !answered {
        outcome.actions.push(Action::Reply(Reply::PhotoAdded(outcome.draft.photo_ids.len())));
    }
    outcome
}

/// The answer to a pending LÖSCHEN, if this message is one: the erasure (a timely yes), or
/// why nothing is erased. A tap on an old confirmation erases nothing without a fresh LÖSCHEN.
fn erase_confirmation(draft: &mut Draft, context: &Context, input: &Inbound) -> Option<Vec<Action>> {
    match draft.erase_asked_at_ms.take() {
        Some(asked_at) => {
            let confirmed = erase_answer(input)?;
            if confirmed && context.now_ms.saturating_sub(asked_at) <= ERASE_CONFIRMATION_MS {
                *draft = Draft::default();
                return Some(vec![Action::Erase]);
            }
            Some(vec![Action::Reply(if confirmed { Reply::EraseExpired } else { Reply::EraseCancelled })])
        }
        None => match input {
            Inbound::Choice { id, .. } if id == CHOICE_ERASE_YES || id == CHOICE_ERASE_NO => {
                Some(vec![Action::Reply(Reply::EraseExpired)])
            }
            _ => None,
        },
    }
}

/// What every message that is not a STOP brings first: the language a command names, lifting
/// a STOP, and the notice on first contact. A first message of STOP gets only the confirmation;
/// the notice waits for the next contact.
fn greeting(command: Option<&Command>, context: &Context) -> Vec<Action> {
    let mut actions = Vec::new();
    let is_stop = command == Some(&Command::Stop);
    if let Some(Command::Help(lang) | Command::Language(lang)) = command {
        actions.push(Action::SetLanguage(*lang));
    }
    if context.opted_out && !is_stop {
        actions.push(Action::OptIn);
    }
    if context.notice_due && !is_stop {
        actions.push(Action::SendNotice);
    }
    actions
}

fn run_command(draft: &mut Draft, context: &Context, command: Command) -> Vec<Action> {
    match command {
        Command::Help(_) => vec![Action::Reply(Reply::Help)],
        Command::Language(_) => vec![Action::Reply(Reply::LanguageChanged)],
        Command::Status(reference) => vec![Action::StatusQuery(reference)],
        Command::StatusUnrecognised => vec![Action::Reply(Reply::StatusFormat)],
        Command::Stop => vec![Action::OptOut, Action::Reply(Reply::Stopped)],
        Command::Start => vec![Action::Reply(Reply::Started)],
        Command::Access => vec![Action::AccessQuery],
        Command::Erase => {
            draft.erase_asked_at_ms = Some(context.now_ms);
            vec![Action::Reply(Reply::ConfirmErase)]
        }
    }
}

/// What a message did to the draft.
enum Taken {
    /// It added to the report: see what is still missing.
    Added,
    /// It needs only this answer (or none); the draft is where it was.
    Answered(Vec<Action>),
    /// A photo that is not taken: its caption still counts, and the citizen hears why.
    PhotoRefused(PhotoProblem, Option<String>),
}

/// Adds the message to the draft.
fn take(draft: &mut Draft, context: &Context, input: Inbound) -> Taken {
    match input {
        Inbound::Text(text) if command::is_greeting(&text) => {
            return Taken::Answered(if context.notice_due { Vec::new() } else { vec![Action::Reply(Reply::Help)] })
        }
        Inbound::Text(text) => match awaiting_place_answer(draft).then(|| command::yes_or_no(&text)).flatten() {
            Some(true) => answer_place(draft, true),
            // "Nein, das ist Lindenweg 4": the other place may come with the answer.
            Some(false) => {
                answer_place(draft, false);
                place_from_text(draft, context.town, &text);
            }
            None => {
                draft.add_text(&text);
                place_from_text(draft, context.town, &text);
            }
        },
        // A tap on a button or list of an earlier question changes nothing now.
        Inbound::Choice { id, .. } if id == CHOICE_PLACE_YES || id == CHOICE_PLACE_OTHER => {
            if !awaiting_place_answer(draft) {
                return Taken::Answered(Vec::new());
            }
            answer_place(draft, id == CHOICE_PLACE_YES);
        }
        Inbound::Choice { id, title } => match id.strip_prefix(CHOICE_CATEGORY_PREFIX) {
            Some(_) if !draft.category_requested => return Taken::Answered(Vec::new()),
            Some(category) => draft.category = Category::from_id(category),
            None => draft.add_text(&title),
        },
        Inbound::Photo { photo_id, caption, gps } if draft.photo_ids.len() < draft::MAX_PHOTOS => {
            draft.photo_ids.push(photo_id);
            if let Some(caption) = caption {
                draft.add_text(&caption);
                place_from_text(draft, context.town, &caption);
            }
            if let (None, Some(point)) = (draft.photo_place, gps) {
                draft.photo_place = Some(PhotoPlace { point, confirmed: None, asked: false });
            }
        }
        Inbound::Photo { caption, .. } => return Taken::PhotoRefused(PhotoProblem::TooMany, caption),
        Inbound::PhotoRefused { problem, caption } => return Taken::PhotoRefused(problem, caption),
        Inbound::Location { point, label } => {
            draft.location = Some(DraftLocation { point, label, source: PlaceSource::Shared })
        }
        Inbound::Unsupported(kind) => return Taken::Answered(vec![Action::Reply(Reply::Unsupported(kind))]),
        Inbound::Ignored => return Taken::Answered(Vec::new()),
    }
    Taken::Added
}

/// The answer to "really erase?": the buttons, or a typed yes / no.
fn erase_answer(input: &Inbound) -> Option<bool> {
    match input {
        Inbound::Choice { id, .. } if id == CHOICE_ERASE_YES => Some(true),
        Inbound::Choice { id, .. } if id == CHOICE_ERASE_NO => Some(false),
        Inbound::Text(text) => command::erase_confirmation(text),
        _ => None,
    }
}

/// The photo's position was put to the citizen and is not answered yet.
fn awaiting_place_answer(draft: &Draft) -> bool {
    matches!(draft.place(), Place::Unconfirmed(PhotoPlace { asked: true, .. }))
}

/// "Ja, hier" takes the photo's position; "Anderer Ort" drops it and asks for the place again.
fn answer_place(draft: &mut Draft, yes: bool) {
    if let Some(photo) = draft.photo_place.as_mut().filter(|p| p.confirmed.is_none()) {
        photo.confirmed = Some(yes);
        if !yes {
            draft.location_requested = false;
        }
    }
}

/// An address in the text (a house number or a corner: a street alone is not a place) becomes
/// the place unless one was shared; written while the photo's position waits for an answer, it
/// is the answer "somewhere else".
fn place_from_text(draft: &mut Draft, town: &Town, text: &str) {
    if draft.location.as_ref().is_some_and(|l| l.source == PlaceSource::Shared) {
        return;
    }
    let Some(found) = town.streets.find_in_text(text).filter(|found| found.precise) else { return };
    let label = match &found.number {
        Some(number) => format!("{} {number}", found.street),
        None => found.street.clone(),
    };
    draft.location = Some(DraftLocation { point: found.at, label: Some(label), source: PlaceSource::Address });
    if awaiting_place_answer(draft) {
        answer_place(draft, false);
    }
}

/// Asks for what the draft still lacks, or creates the report.
fn advance(mut draft: Draft, context: &Context, mut actions: Vec<Action>) -> Outcome {
    let location = match draft.place() {
        Place::Missing => {
            if !draft.location_requested {
                draft.location_requested = true;
                actions.push(Action::Reply(Reply::LocationRequest));
            }
            return Outcome { draft, actions };
        }
        Place::Unconfirmed(photo) => {
            if !photo.asked {
                draft.photo_place = Some(PhotoPlace { asked: true, ..photo });
                actions.push(Action::Reply(Reply::ConfirmPlace(photo.point)));
            }
            return Outcome { draft, actions };
        }
        Place::Known(location) => location,
    };
    if !draft.has_content() {
        if !draft.description_requested {
            draft.description_requested = true;
            actions.push(Action::Reply(Reply::AskDescription));
        }
        return Outcome { draft, actions };
    }
    let classification = context.town.classifier.classify(&draft.description().unwrap_or_default());
    let ours = context.town.area.locate(location.point) != Placement::Outside;
    let (classification, source) = match draft.category {
        Some(category) => (classification.chosen(category), CategorySource::Reporter),
        // Asked once; if the citizen writes instead of choosing, the best reading stands.
        None if ours && classification.confidence < context.town.min_confidence && !draft.category_requested => {
            draft.category_requested = true;
            actions.push(Action::Reply(Reply::AskCategory));
            return Outcome { draft, actions };
        }
        None => (classification, CategorySource::Classifier),
    };
    actions.push(Action::CreateReport(draft.take_report(location, classification, source)));
    Outcome { draft, actions }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn town() -> &'static Town {
        static TOWN: OnceLock<Town> = OnceLock::new();
        TOWN.get_or_init(crate::town::demo::town)
    }

    fn context() -> Context<'static> {
        Context { town: town(), notice_due: false, opted_out: false, now_ms: 10 * HOUR_MS, draft_ttl_ms: 24 * HOUR_MS }
    }

    fn text(t: &str) -> Inbound {
        Inbound::Text(t.to_string())
    }

    /// A place in the demo town's district Nord.
    fn inside() -> LatLon {
        LatLon::new(51.9607, 7.6261).unwrap()
    }

    fn location() -> Inbound {
        Inbound::Location { point: inside(), label: Some("Markt".into()) }
    }

    fn photo(photo_id: i64, caption: Option<&str>, gps: Option<LatLon>) -> Inbound {
        Inbound::Photo { photo_id, caption: caption.map(String::from), gps }
    }

    fn choice(id: &str, title: &str) -> Inbound {
        Inbound::Choice { id: id.into(), title: title.into() }
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
    fn loeschen_erases_only_after_a_timely_confirmation() {
        let (_, actions) = run(vec![text("Schlagloch"), text("LÖSCHEN"), choice(CHOICE_ERASE_YES, "Ja")], &context());
        assert_eq!(actions[1], vec![Action::Reply(Reply::ConfirmErase)]);
        assert_eq!(actions[2], vec![Action::Erase]);

        let (_, actions) = run(vec![text("LÖSCHEN"), text("nein")], &context());
        assert_eq!(actions[1], vec![Action::Reply(Reply::EraseCancelled)]);

        // Anything else in between withdraws the request; an old button then erases nothing.
        let (_, actions) = run(vec![text("LÖSCHEN"), text("Schlagloch"), choice(CHOICE_ERASE_YES, "Ja")], &context());
        assert!(!actions[1].contains(&Action::Erase));
        assert_eq!(actions[2], vec![Action::Reply(Reply::EraseExpired)]);

        let asked = step(Draft::default(), &context(), text("löschen")).draft;
        let late = Context { now_ms: context().now_ms + ERASE_CONFIRMATION_MS + 1, ..context() };
        assert_eq!(step(asked, &late, text("ja")).actions, vec![Action::Reply(Reply::EraseExpired)]);
    }

    #[test]
    fn a_further_photo_while_the_place_is_awaited_is_acknowledged() {
        let (draft, actions) =
            run(vec![photo(1, None, None), photo(2, None, None), photo(3, Some("Ampel"), None)], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::LocationRequest)]);
        assert_eq!(actions[1], vec![Action::Reply(Reply::PhotoAdded(2))]);
        assert_eq!(actions[2], vec![Action::Reply(Reply::PhotoAdded(3))]);
        assert_eq!(draft.photo_ids.len(), 3);
        let (_, texts) = run(vec![text("Schlagloch"), text("tief")], &context());
        assert_eq!(texts[1], vec![], "further words are not acknowledged one by one");
    }

    #[test]
    fn auskunft_asks_the_shell_for_the_summary() {
        let (_, actions) = run(vec![text("Auskunft")], &context());
        assert_eq!(actions[0], vec![Action::AccessQuery]);
    }

    #[test]
    fn text_then_location_asks_once_and_then_creates_the_report() {
        let (draft, actions) = run(vec![text("Schlagloch"), text("ziemlich tief"), location()], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::LocationRequest)]);
        assert_eq!(actions[1], vec![], "the location is asked for only once");
        let report = created(&actions[2]).expect("report created");
        assert_eq!(report.description.as_deref(), Some("Schlagloch\nziemlich tief"));
        assert_eq!(report.location.label.as_deref(), Some("Markt"));
        assert_eq!(report.classification.category, Category::Strassenschaden);
        assert_eq!(report.category_source, CategorySource::Classifier);
        assert!(draft.is_empty());
    }

    #[test]
    fn location_first_then_text_asks_for_a_description_then_creates() {
        let (_, actions) = run(vec![location(), text("Laterne aus")], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::AskDescription)]);
        assert_eq!(created(&actions[1]).unwrap().classification.category, Category::Beleuchtung);
    }

    #[test]
    fn photo_with_caption_then_location() {
        let (_, actions) = run(vec![photo(3, Some("Sperrmüll abgeladen"), None), location()], &context());
        let report = created(&actions[1]).unwrap();
        assert_eq!(report.photo_ids, vec![3]);
        assert_eq!(report.description.as_deref(), Some("Sperrmüll abgeladen"));
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
    fn a_photo_position_is_confirmed_with_two_buttons_before_it_is_used() {
        let gps = LatLon::new(51.9575, 7.6310).unwrap();
        let (_, actions) =
            run(vec![photo(5, Some("Schlagloch"), Some(gps)), choice(CHOICE_PLACE_YES, "Ja, hier")], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::ConfirmPlace(gps))]);
        let report = created(&actions[1]).expect("report created after the yes");
        assert_eq!((report.location.point, report.location.source), (gps, PlaceSource::PhotoGps));
    }

    #[test]
    fn another_place_drops_the_photo_position_and_asks_for_the_place() {
        let gps = LatLon::new(51.9575, 7.6310).unwrap();
        let messages = vec![photo(5, Some("Graffiti an der Mauer"), Some(gps)), text("nein"), location()];
        let (_, actions) = run(messages, &context());
        assert_eq!(actions[1], vec![Action::Reply(Reply::LocationRequest)]);
        let report = created(&actions[2]).expect("report created at the shared place");
        assert_eq!((report.location.point, report.location.source), (inside(), PlaceSource::Shared));
    }

    #[test]
    fn a_written_address_answers_the_place_question_and_places_the_report() {
        let gps = LatLon::new(51.9575, 7.6310).unwrap();
        let messages = vec![photo(5, Some("Laterne flackert"), Some(gps)), text("Nein, das ist Lindenweg 4")];
        let (_, actions) = run(messages, &context());
        let report = created(&actions[1]).expect("placed at the address");
        assert_eq!(report.location.source, PlaceSource::Address);
        assert_eq!(report.location.label.as_deref(), Some("Lindenweg 4"));
    }

    #[test]
    fn an_address_in_the_text_is_a_place_when_nothing_better_is_known() {
        let (_, actions) = run(vec![text("Schlagloch vor der Bahnhofstr. 3")], &context());
        let report = created(&actions[0]).expect("the text alone is enough");
        assert_eq!(report.location.source, PlaceSource::Address);
        assert_eq!(report.location.label.as_deref(), Some("Bahnhofstraße 3"));
    }

    #[test]
    fn a_street_without_a_number_is_not_a_place() {
        let (_, actions) = run(vec![text("Gully verstopft in der Hauptstraße")], &context());
        assert_eq!(actions[0], vec![Action::Reply(Reply::LocationRequest)]);
    }

    #[test]
    fn taps_on_earlier_questions_change_nothing() {
        let (draft, actions) = run(vec![choice(CHOICE_PLACE_YES, "Ja, hier")], &context());
        assert_eq!((actions[0].clone(), draft.is_empty()), (vec![], true));
        let (draft, actions) = run(vec![choice(&category_choice_id(Category::Muell), "Müll")], &context());
        assert_eq!((actions[0].clone(), draft.category), (vec![], None));
    }

    #[test]
    fn a_shared_place_wins_over_a_photo_position_and_an_address() {
        let gps = LatLon::new(51.9575, 7.6310).unwrap();
        let messages = vec![location(), photo(5, Some("Müll liegt am Lindenweg 4"), Some(gps))];
        let (_, actions) = run(messages, &context());
        let report = created(&actions[1]).expect("report created without questions");
        assert_eq!((report.location.point, report.location.source), (inside(), PlaceSource::Shared));
    }

    #[test]
    fn a_photo_without_words_asks_for_the_category_and_takes_the_choice() {
        let photo_only = photo(5, None, None);
        let category = choice(&category_choice_id(Category::Spielplatz), "Spielplatz");
        let (_, actions) = run(vec![photo_only, location(), category], &context());
        assert_eq!(actions[1], vec![Action::Reply(Reply::AskCategory)]);
        let report = created(&actions[2]).expect("report created after the choice");
        assert_eq!(report.classification.category, Category::Spielplatz);
        assert_eq!(report.classification.confidence, 1.0);
        assert_eq!(report.category_source, CategorySource::Reporter);
    }

    #[test]
    fn writing_instead_of_choosing_takes_the_best_reading() {
        let (_, actions) = run(vec![photo(5, None, None), location(), text("hier")], &context());
        assert_eq!(actions[1], vec![Action::Reply(Reply::AskCategory)]);
        let report = created(&actions[2]).expect("asked once, then created");
        assert_eq!(report.category_source, CategorySource::Classifier);
    }

    #[test]
    fn outside_the_town_the_category_is_not_asked_for() {
        let far = Inbound::Location { point: LatLon::new(51.5, 7.4).unwrap(), label: None };
        let (_, actions) = run(vec![photo(5, None, None), far], &context());
        assert!(created(&actions[1]).is_some(), "triage answers who is responsible");
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
            draft = step(draft, &context(), photo(id, None, None)).draft;
        }
        let outcome = step(draft, &context(), photo(99, None, None));
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
        let outcome = step(Draft::default(), &context(), choice("STOP", "Abmelden"));
        assert_eq!(outcome.actions, vec![Action::OptOut, Action::Reply(Reply::Stopped)]);
        let outcome = step(Draft::default(), &context(), choice("x1", "Gehweg"));
        assert_eq!(outcome.draft.texts, vec!["Gehweg"]);
    }
}
