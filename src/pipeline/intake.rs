//! The intake job: one inbound message through the conversation with its reporter.
//!
//! Loads the sealed message, runs a photo through the photo stage first (outside the
//! transaction), finds or creates the reporter, runs `workers::conversation::step`, and writes
//! everything it decided — reporter changes, photos, the report, replies and their notify job —
//! together with the job's completion in one transaction. One citizen's intake jobs form a
//! queue series, so they run one at a time, in order. Running a job twice changes nothing the
//! second time.

use meldeweg_workers::conversation::{
    self, Action, Context, Inbound, Lang, PhotoProblem, PlaceSource, Reply, Unsupported,
};
use meldeweg_workers::{LatLon, Reference};
use serde::{Deserialize, Serialize};

use super::erase::EraseJob;
use super::outgoing::{Form, Outgoing};
use super::photo::{PhotoOutcome, StoredPhoto};
use super::triage::TriageJob;
use super::{complete, retry, Pipeline};
use crate::channels::whatsapp::message::Choice;
use crate::channels::whatsapp::webhook::{Interactive, Media, Message};
use crate::db::Tx;
use crate::inbox as inbound_events;
use crate::queue::{ClaimedJob, JobFailure};
use crate::reporters::draft as conversations;
use crate::reporters::{self, Identity};
use crate::reports::photos;
use crate::reports::{self, Channel, LocationSource, NewReport};
use crate::rights::access;
use crate::texts::TextKey;
use crate::time::{berlin_date, berlin_year, now_ms};

#[derive(Debug, Serialize, Deserialize)]
pub struct IntakeJob {
    pub event_id: i64,
}

/// How many reports `STATUS` lists.
const STATUS_LIST_LENGTH: i64 = 5;
/// Longest place name or address kept from a shared location.
const MAX_LABEL_CHARS: usize = 300;

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let IntakeJob { event_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad intake payload: {e}")))?;
    let now = now_ms();
    let event = {
        let mut conn = pipeline.db.pool().acquire().await?;
        inbound_events::load(&mut conn, event_id).await?
    }
    .ok_or_else(|| JobFailure::Fatal(format!("inbound event {event_id} does not exist")))?;
    if event.processed_at.is_some() {
        return complete(pipeline, job).await;
    }
    let message: Message =
        pipeline.vault.open(&event.payload_enc).map_err(|e| JobFailure::Fatal(e.to_string())).and_then(|json| {
            serde_json::from_slice(&json).map_err(|e| JobFailure::Fatal(format!("stored message unreadable: {e}")))
        })?;
    // A photo is fetched and cleaned before the transaction, so no connection waits on it.
    let input = match read_input(&message) {
        Input::Ready(input) => Prepared::Ready(input),
        Input::Photo(media) => prepare_photo(pipeline, &message, media, now).await?,
    };

    let mut tx = pipeline.db.begin().await?;
    // WhatsApp's timestamp starts the 24-hour window; a clock ahead of ours is not trusted.
    let sent_at = message.timestamp.saturating_mul(1000).min(now);
    let reporter =
        reporters::upsert(tx.conn(), &pipeline.vault, identity(&message), sent_at, now).await.map_err(retry)?;
    if !inbound_events::mark_processed(tx.conn(), event.id, reporter.id, now).await? {
        drop(tx);
        return complete(pipeline, job).await; // another run got there first
    }

    let input = match input {
        Prepared::Ready(input) => input,
        Prepared::Stored(media, stored) => {
            let photo = photos::NewPhoto {
                reporter_id: Some(reporter.id),
                report_id: None,
                media_id: &media.id,
                mime_type: media.mime_type.as_deref().unwrap_or("application/octet-stream"),
                sha256: media.sha256.as_deref(),
                token: &stored.token,
                width: stored.width,
                height: stored.height,
                clean_sha256: &stored.sha256,
                gps: stored.gps,
                taken_at: stored.taken_at.as_deref(),
            };
            let photo_id = photos::insert(tx.conn(), photo, now).await?;
            Inbound::Photo { photo_id, caption: media.caption.clone(), gps: stored.gps }
        }
    };
    let draft = conversations::load(tx.conn(), reporter.id).await.map_err(retry)?;
    let context = Context {
        town: &pipeline.municipality.town,
        notice_due: reporter.notice_version.as_deref() != Some(pipeline.texts.notice_version()),
        opted_out: reporter.opted_out_at.is_some(),
        now_ms: now,
        draft_ttl_ms: pipeline.draft_ttl_ms,
    };
    let outcome = conversation::step(draft, &context, input);

    let mut out = Outgoing::new(pipeline, reporter.id, reporter.lang, now);
    let erase = outcome.actions.contains(&Action::Erase);
    for action in outcome.actions {
        apply(pipeline, &mut tx, &mut out, reporter.id, action, now).await?;
    }
    conversations::save(tx.conn(), reporter.id, &outcome.draft, now).await.map_err(retry)?;
    out.finish(&mut tx).await?;
    if erase {
        // After the last message in the reporter's series, so it can still be addressed.
        EraseJob { reporter_id: reporter.id }.enqueue(&pipeline.queue, &mut tx, now).await?;
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    pipeline.chat_changed();
    Ok(())
}

fn identity(message: &Message) -> Identity<'_> {
    Identity { phone: message.from.as_deref(), user_id: message.from_user_id.as_deref() }
}

/// Fetches, cleans and stores a photo, unless the citizen's draft has no room for it (then
/// nothing is fetched and the conversation says why).
async fn prepare_photo<'a>(
    pipeline: &Pipeline,
    message: &Message,
    media: &'a Media,
    now: i64,
) -> Result<Prepared<'a>, JobFailure> {
    let refused = |problem| Prepared::Ready(Inbound::PhotoRefused { problem, caption: media.caption.clone() });
    let has_room = {
        let mut conn = pipeline.db.pool().acquire().await?;
        match reporters::find_id(&mut conn, &pipeline.vault, identity(message)).await.map_err(retry)? {
            Some(reporter_id) => conversations::load(&mut conn, reporter_id)
                .await
                .map_err(retry)?
                .has_room_for_photo(now, pipeline.draft_ttl_ms),
            None => true,
        }
    };
    if !has_room {
        return Ok(refused(PhotoProblem::TooMany));
    }
    Ok(match pipeline.photos.process(&pipeline.vault, &message.id, media).await? {
        PhotoOutcome::Stored(stored) => Prepared::Stored(media, stored),
        PhotoOutcome::Refused(problem) => refused(problem),
    })
}

async fn apply(
    pipeline: &Pipeline,
    tx: &mut Tx,
    out: &mut Outgoing<'_>,
    reporter_id: i64,
    action: Action,
    now: i64,
) -> Result<(), JobFailure> {
    match action {
        Action::SetLanguage(lang) => {
            reporters::set_language(tx.conn(), reporter_id, lang).await?;
            out.lang = lang;
        }
        Action::OptIn => reporters::set_opted_out(tx.conn(), reporter_id, false, now).await?,
        Action::OptOut => reporters::set_opted_out(tx.conn(), reporter_id, true, now).await?,
        Action::SendNotice => {
            out.text(tx, TextKey::Notice, &[], None).await?;
            reporters::record_notice(tx.conn(), reporter_id, pipeline.texts.notice_version(), now).await?;
        }
        Action::Reply(Reply::LocationRequest) => {
            let text = pipeline.texts.render(out.lang, TextKey::LocationRequest, &[]);
            out.compose(tx, TextKey::LocationRequest, Form::LocationRequest, text, &[], None).await?;
        }
        Action::Reply(Reply::ConfirmPlace(point)) => {
            let address = pipeline
                .municipality
                .address_near(point)
                .unwrap_or_else(|| format!("{:.5}, {:.5}", point.lat(), point.lon()));
            let text = pipeline.texts.render(out.lang, TextKey::ConfirmPlace, &[("address", &address)]);
            let buttons = vec![
                button(pipeline, out.lang, conversation::CHOICE_PLACE_YES, TextKey::ButtonHere),
                button(pipeline, out.lang, conversation::CHOICE_PLACE_OTHER, TextKey::ButtonElsewhere),
            ];
            out.compose(tx, TextKey::ConfirmPlace, Form::Buttons(buttons), text, &[], None).await?;
        }
        Action::Reply(Reply::AskCategory) => {
            let categories = pipeline.municipality.town.classifier.categories();
            let rows = categories
                .iter()
                .map(|(category, entry)| {
                    let (title, description) = match out.lang {
                        Lang::De => (&entry.label_de, &entry.description_de),
                        Lang::En => (&entry.label_en, &entry.description_en),
                    };
                    Choice {
                        id: conversation::category_choice_id(category),
                        title: title.clone(),
                        description: Some(description.clone()),
                    }
                })
                .collect();
            let text = pipeline.texts.render(out.lang, TextKey::AskCategory, &[]);
            let button = pipeline.texts.render(out.lang, TextKey::CategoryButton, &[]);
            out.compose(tx, TextKey::AskCategory, Form::List { button, rows }, text, &[], None).await?;
        }
        Action::Reply(Reply::ConfirmErase) => {
            let text = pipeline.texts.render(out.lang, TextKey::ConfirmErase, &[]);
            let buttons = vec![
                button(pipeline, out.lang, conversation::CHOICE_ERASE_YES, TextKey::ButtonErase),
                button(pipeline, out.lang, conversation::CHOICE_ERASE_NO, TextKey::ButtonKeep),
            ];
            out.compose(tx, TextKey::ConfirmErase, Form::Buttons(buttons), text, &[], None).await?;
        }
        Action::Reply(reply) => out.text(tx, reply_key(reply), &[], None).await?,
        Action::StatusQuery(reference) => status_reply(pipeline, tx, out, reporter_id, reference).await?,
        Action::AccessQuery => {
            let summary = access::summary(tx.conn(), reporter_id).await.map_err(retry)?;
            for text in access::chat_messages(&pipeline.texts, out.lang, &summary, now) {
                out.compose(tx, TextKey::AccessHeader, Form::Text, text, &[], None).await?;
            }
            access::record_given(tx.conn(), reporter_id, "chat", &summary, now).await?;
        }
        Action::Erase => out.text(tx, TextKey::Erased, &[], None).await?,
        Action::CreateReport(draft) => {
            let report = NewReport {
                reporter_id: Some(reporter_id),
                channel: Channel::Whatsapp,
                description: draft.description.as_deref(),
                location: draft.location.point,
                location_source: match draft.location.source {
                    PlaceSource::Shared => LocationSource::WhatsappLocation,
                    PlaceSource::PhotoGps => LocationSource::PhotoExif,
                    PlaceSource::Address => LocationSource::Address,
                },
                location_label: draft.location.label.as_deref(),
                classification: &draft.classification,
                category_source: draft.category_source,
                contact_email: None,
            };
            let (report_id, reference) =
                reports::insert(tx.conn(), report, berlin_year(now), now).await.map_err(retry)?;
            photos::attach_to_report(tx.conn(), report_id, reporter_id, &draft.photo_ids, now).await?;
            // Triage answers the citizen with the reference once it knows where the report goes.
            TriageJob { report_id }.enqueue(&pipeline.queue, tx, now).await?;
            if draft.category_source == meldeweg_workers::conversation::CategorySource::Classifier {
                crate::telemetry::classified(draft.classification.confidence);
            }
            tracing::info!(report = %reference, photos = draft.photo_ids.len(), "report created");
        }
    }
    Ok(())
}

/// A reply button with the text `key` in `lang`.
fn button(pipeline: &Pipeline, lang: Lang, id: &str, key: TextKey) -> Choice {
    Choice { id: id.to_string(), title: pipeline.texts.render(lang, key, &[]), description: None }
}

fn reply_key(reply: Reply) -> TextKey {
    match reply {
        Reply::Help => TextKey::Help,
        Reply::LocationRequest => TextKey::LocationRequest,
        Reply::ConfirmPlace(_) => TextKey::ConfirmPlace,
        Reply::AskCategory => TextKey::AskCategory,
        Reply::AskDescription => TextKey::AskDescription,
        Reply::Photo(PhotoProblem::Unreadable) => TextKey::PhotoUnreadable,
        Reply::Photo(PhotoProblem::TooLarge) => TextKey::PhotoTooLarge,
        Reply::Photo(PhotoProblem::Unavailable) => TextKey::PhotoUnavailable,
        Reply::Photo(PhotoProblem::TooMany) => TextKey::PhotoLimit,
        Reply::StatusFormat => TextKey::StatusFormat,
        Reply::ConfirmErase => TextKey::ConfirmErase,
        Reply::EraseCancelled => TextKey::EraseCancelled,
        Reply::EraseExpired => TextKey::EraseExpired,
        Reply::Stopped => TextKey::Stopped,
        Reply::Started => TextKey::Started,
        Reply::LanguageChanged => TextKey::LanguageChanged,
        Reply::Unsupported(Unsupported::Audio) => TextKey::UnsupportedAudio,
        Reply::Unsupported(Unsupported::Video) => TextKey::UnsupportedVideo,
        Reply::Unsupported(Unsupported::Document) => TextKey::UnsupportedDocument,
        Reply::Unsupported(Unsupported::Contacts) => TextKey::UnsupportedContacts,
        Reply::Unsupported(Unsupported::Other) => TextKey::UnsupportedOther,
    }
}

/// Answers STATUS: one of the reporter's own reports, or a list of the latest. Someone else's
/// reference gets the same answer as one that does not exist (P13).
async fn status_reply(
    pipeline: &Pipeline,
    tx: &mut Tx,
    out: &mut Outgoing<'_>,
    reporter_id: i64,
    reference: Option<Reference>,
) -> Result<(), JobFailure> {
    let summaries = match reference {
        Some(reference) => {
            reports::find_for_reporter(tx.conn(), reporter_id, reference).await.map(|found| found.into_iter().collect())
        }
        None => reports::recent_for_reporter(tx.conn(), reporter_id, STATUS_LIST_LENGTH).await,
    }
    .map_err(retry)?;
    if summaries.is_empty() {
        let key = if reference.is_some() { TextKey::StatusNotFound } else { TextKey::StatusNone };
        return Ok(out.text(tx, key, &[], None).await?);
    }
    let labels = pipeline.texts.status_labels(out.lang);
    let lines: Vec<String> = summaries
        .iter()
        .map(|summary| {
            let status = labels.label(summary.status);
            let reference = summary.reference.to_string();
            let date = berlin_date(summary.created_at_ms);
            let params = [("reference", reference.as_str()), ("date", date.as_str()), ("status", status)];
            pipeline.texts.render(out.lang, TextKey::StatusLine, &params)
        })
        .collect();
    let text = match reference {
        Some(_) => lines.join("\n"),
        None => {
            let header = pipeline.texts.render(out.lang, TextKey::StatusListHeader, &[]);
            format!("{header}\n{}", lines.join("\n"))
        }
    };
    out.compose(tx, TextKey::StatusLine, Form::Text, text, &[], None).await?;
    Ok(())
}

/// A message ready for the conversation; a photo is stored already but still needs its row.
enum Prepared<'a> {
    Ready(Inbound),
    Stored(&'a Media, StoredPhoto),
}

/// What a stored message means to the conversation. Photos are cleaned and recorded first.
enum Input<'a> {
    Ready(Inbound),
    Photo(&'a Media),
}

fn read_input(message: &Message) -> Input<'_> {
    let unsupported = |kind| Input::Ready(Inbound::Unsupported(kind));
    match message.kind.as_str() {
        "text" => match &message.text {
            Some(text) => Input::Ready(Inbound::Text(text.body.clone())),
            None => unsupported(Unsupported::Other),
        },
        "image" => match &message.image {
            Some(media) if media_is_sane(media) => Input::Photo(media),
            _ => unsupported(Unsupported::Other),
        },
        "document" => match &message.document {
            Some(media)
                if media_is_sane(media) && media.mime_type.as_deref().is_some_and(|m| m.starts_with("image/")) =>
            {
                Input::Photo(media)
            }
            _ => unsupported(Unsupported::Document),
        },
        "location" => match &message.location {
            Some(location) => match LatLon::new(location.latitude, location.longitude) {
                Ok(point) => {
                    let parts = [location.name.as_deref(), location.address.as_deref()];
                    let label: Vec<&str> = parts.into_iter().flatten().filter(|s| !s.trim().is_empty()).collect();
                    let label = (!label.is_empty()).then(|| label.join(", ").chars().take(MAX_LABEL_CHARS).collect());
                    Input::Ready(Inbound::Location { point, label })
                }
                Err(_) => unsupported(Unsupported::Other),
            },
            None => unsupported(Unsupported::Other),
        },
        "interactive" => {
            let choice = message.interactive.as_ref().and_then(Interactive::choice);
            match choice {
                Some(choice) => Input::Ready(Inbound::Choice { id: choice.id.clone(), title: choice.title.clone() }),
                None => unsupported(Unsupported::Other),
            }
        }
        "button" => match &message.button {
            Some(button) => Input::Ready(Inbound::Choice { id: button.payload.clone(), title: button.text.clone() }),
            None => unsupported(Unsupported::Other),
        },
        "audio" => unsupported(Unsupported::Audio),
        "video" => unsupported(Unsupported::Video),
        "contacts" => unsupported(Unsupported::Contacts),
        "reaction" | "sticker" | "system" => Input::Ready(Inbound::Ignored),
        _ => unsupported(Unsupported::Other),
    }
}

/// Media ids and metadata are bounded before they are stored.
fn media_is_sane(media: &Media) -> bool {
    let short = |s: &Option<String>, max: usize| s.as_ref().is_none_or(|s| s.len() <= max);
    !media.id.is_empty() && media.id.len() <= 256 && short(&media.mime_type, 100) && short(&media.sha256, 100)
}
