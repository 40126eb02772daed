//! Intake: a citizen's message becomes part of a report, whatever channel it came on.
//!
//! Chat messages wait in the inbox; the intake job reads one back through its channel (as the
//! core's `InboundMessage`), runs a photo through the photo stage first (outside the
//! transaction), finds or creates the reporter, runs `workers::conversation::step`, and writes
//! everything it decided — reporter changes, photos, the report, replies and their notify job —
//! together with the job's completion in one transaction. One citizen's intake jobs form a
//! queue series, so they run one at a time, in order; running a job twice changes nothing.
//!
//! A form sends a whole report at once: `submit` takes it (with its photos) in the request that
//! brought it. Both end in `create_report`, the one place a report is created with its photos,
//! its audit entries and its triage job.

mod answers;
mod submission;

use meldeweg_workers::conversation::{self, Action, CategorySource, Context, Inbound, PhotoProblem, PlaceSource};
use meldeweg_workers::message::{Content, InboundMessage, MediaRef, ReplyForm, Unsupported};
use meldeweg_workers::{LatLon, Reference};
use serde::{Deserialize, Serialize};

use super::channel::MessageSource;
use super::erase::EraseJob;
use super::photo::{PhotoOutcome, StoredPhoto};
use super::replies::Outgoing;
use super::triage::TriageJob;
use super::{complete, retry, Pipeline};
use crate::db::Tx;
use crate::outbox::Addressee;
use crate::queue::{ClaimedJob, JobFailure};
use crate::reporters::draft as drafts;
use crate::reports::{self, photos, LocationSource, NewReport};
use crate::rights::access;
use crate::texts::TextKey;
use crate::time::{berlin_year, now_ms};
use crate::{inbox, reporters};
pub use submission::{submit, SubmitError, Submitted};

#[derive(Debug, Serialize, Deserialize)]
pub struct IntakeJob {
    pub event_id: i64,
}

/// Longest place name or address kept from a shared location.
const MAX_LABEL_CHARS: usize = 300;

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let IntakeJob { event_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad intake payload: {e}")))?;
    let now = now_ms();
    let event = {
        let mut conn = pipeline.db.pool().acquire().await?;
        inbox::load(&mut conn, event_id).await?
    }
    .ok_or_else(|| JobFailure::Fatal(format!("inbound event {event_id} does not exist")))?;
    if event.processed_at.is_some() {
        return complete(pipeline, job).await;
    }
    let source = pipeline
        .channels
        .source(&event.channel)
        .ok_or_else(|| retry(format!("no channel {:?} reads its messages here", event.channel)))?;
    let raw = pipeline.vault.open(&event.payload_enc).map_err(|e| JobFailure::Fatal(e.to_string()))?;
    let message =
        source.read(&raw).map_err(|e| JobFailure::Fatal(format!("stored message unreadable: {e}")))?.cleaned();
    // A photo is fetched and cleaned before the transaction, so no connection waits on it.
    let prepared = prepare(pipeline, source, &message, now).await?;

    let mut tx = pipeline.db.begin().await?;
    // The channel's time starts a reply window; a clock ahead of ours is not trusted.
    let sent_at = message.sent_at_ms.min(now);
    let reporter = reporters::upsert(tx.conn(), &pipeline.vault, &message.channel, &message.sender, sent_at, now)
        .await
        .map_err(retry)?;
    if !inbox::mark_processed(tx.conn(), event.id, Some(reporter.id), now).await? {
        drop(tx);
        return complete(pipeline, job).await; // another run got there first
    }
    let input = match prepared {
        Prepared::Ready(input) => input,
        Prepared::Stored { media, photo, caption } => {
            let row = new_photo(Some(reporter.id), &media.id, &media, &photo, photo.gps);
            let photo_id = photos::insert(tx.conn(), row, now).await?;
            pipeline.photos.record_copy(tx.conn(), &photo, now).await.map_err(retry)?;
            Inbound::Photo { photo_id, caption, gps: photo.gps }
        }
    };
    let draft = drafts::load(tx.conn(), reporter.id).await.map_err(retry)?;
    let context = Context {
        town: &pipeline.municipality.town,
        notice_due: reporter.notice_version.as_deref() != Some(pipeline.texts.notice_version()),
        opted_out: reporter.opted_out_at.is_some(),
        now_ms: now,
        draft_ttl_ms: pipeline.draft_ttl_ms,
    };
    let outcome = conversation::step(draft, &context, input);

    let mut out = Outgoing::new(pipeline, Addressee::Reporter(reporter.id), reporter.lang, now);
    let erase = outcome.actions.contains(&Action::Erase);
    let chat = Chat { channel: &message.channel, reporter_id: reporter.id };
    for action in outcome.actions {
        apply(pipeline, &mut tx, &mut out, chat, action, now).await?;
    }
    drafts::save(tx.conn(), reporter.id, &outcome.draft, now).await.map_err(retry)?;
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

/// A message ready for the dialogue; a photo is stored already but still needs its row.
enum Prepared {
    Ready(Inbound),
    Stored { media: MediaRef, photo: Box<StoredPhoto>, caption: Option<String> },
}

/// What the dialogue makes of a message. A photo is fetched, cleaned and stored first, unless
/// the citizen's draft has no room for it (then nothing is fetched and the dialogue says why).
async fn prepare(
    pipeline: &Pipeline,
    source: &dyn MessageSource,
    message: &InboundMessage,
    now: i64,
) -> Result<Prepared, JobFailure> {
    let ready = |input| Ok(Prepared::Ready(input));
    match &message.content {
        Content::Text { text } => ready(Inbound::Text(text.clone())),
        Content::Location { point, name, address } => {
            let parts = [name.as_deref(), address.as_deref()];
            let label: Vec<&str> = parts.into_iter().flatten().filter(|s| !s.trim().is_empty()).collect();
            let label = (!label.is_empty()).then(|| label.join(", ").chars().take(MAX_LABEL_CHARS).collect());
            ready(Inbound::Location { point: *point, label })
        }
        Content::Choice { id, title } => ready(Inbound::Choice { id: id.clone(), title: title.clone() }),
        Content::Unsupported { kind } => ready(Inbound::Unsupported(*kind)),
        Content::Ignored => ready(Inbound::Ignored),
        Content::Report { .. } => {
            // Forms hand their reports over with `submit`; a stored one has no photos to go with it.
            tracing::warn!(channel = %message.channel, "a whole report arrived as a stored message");
            ready(Inbound::Unsupported(Unsupported::Other))
        }
        Content::Photo { media, caption } => {
            let refused = |problem| Prepared::Ready(Inbound::PhotoRefused { problem, caption: caption.clone() });
            let has_room = {
                let mut conn = pipeline.db.pool().acquire().await?;
                let known = reporters::find_id(&mut conn, &pipeline.vault, &message.channel, &message.sender);
                match known.await.map_err(retry)? {
                    Some(reporter_id) => drafts::load(&mut conn, reporter_id)
                        .await
                        .map_err(retry)?
                        .has_room_for_photo(now, pipeline.draft_ttl_ms),
                    None => true,
                }
            };
            if !has_room {
                return Ok(refused(PhotoProblem::TooMany));
            }
            let key = format!("{}\n{}", message.channel, message.id);
            Ok(match pipeline.photos.fetch_and_clean(source, &pipeline.vault, &key, media).await? {
                PhotoOutcome::Stored(photo) => {
                    Prepared::Stored { media: media.clone(), photo: Box::new(photo), caption: caption.clone() }
                }
                PhotoOutcome::Refused(problem) => refused(problem),
            })
        }
    }
}

/// The reporter and channel of the conversation a step belongs to.
#[derive(Clone, Copy)]
struct Chat<'a> {
    channel: &'a str,
    reporter_id: i64,
}

async fn apply(
    pipeline: &Pipeline,
    tx: &mut Tx,
    out: &mut Outgoing<'_>,
    chat: Chat<'_>,
    action: Action,
    now: i64,
) -> Result<(), JobFailure> {
    let reporter_id = chat.reporter_id;
    match action {
        Action::SetLanguage(lang) => {
            reporters::set_language(tx.conn(), reporter_id, lang).await?;
            out.lang = lang;
        }
        Action::OptIn => reporters::set_opted_out(tx.conn(), reporter_id, false, now).await?,
        Action::OptOut => reporters::set_opted_out(tx.conn(), reporter_id, true, now).await?,
        Action::SendNotice => {
            out.answer(tx, TextKey::Notice, ReplyForm::Text).await?;
            reporters::record_notice(tx.conn(), reporter_id, pipeline.texts.notice_version(), now).await?;
        }
        Action::Reply(reply) => answers::answer(pipeline, tx, out, reply).await?,
        Action::StatusQuery(reference) => answers::status_reply(pipeline, tx, out, reporter_id, reference).await?,
        Action::AccessQuery => {
            let summary = access::summary(tx.conn(), reporter_id).await.map_err(retry)?;
            for text in access::chat_messages(&pipeline.texts, out.lang, &summary, now) {
                out.answer_with(tx, TextKey::AccessHeader, text).await?;
            }
            access::record_given(tx.conn(), reporter_id, "chat", &summary, now).await?;
        }
        Action::Erase => out.answer(tx, TextKey::Erased, ReplyForm::Text).await?,
        Action::CreateReport(draft) => {
            let report = NewReport {
                reporter_id: Some(reporter_id),
                channel: chat.channel,
                description: draft.description.as_deref(),
                location: draft.location.point,
                location_source: match draft.location.source {
                    PlaceSource::Shared => LocationSource::SharedLocation,
                    PlaceSource::PhotoGps => LocationSource::PhotoExif,
                    PlaceSource::Address => LocationSource::Address,
                },
                location_label: draft.location.label.as_deref(),
                classification: &draft.classification,
                category_source: draft.category_source,
                contact: None,
                public_token: None,
            };
            create_report(pipeline, tx, report, &draft.photo_ids, now).await?;
        }
    }
    Ok(())
}

/// Creates a report with its photos (already recorded: a reporter's draft photos, or a form's
/// photos without a reporter), its audit entries and its triage job, which answers the citizen
/// with the reference once it knows where the report goes. Returns its id and reference.
pub async fn create_report(
    pipeline: &Pipeline,
    tx: &mut Tx,
    report: NewReport<'_>,
    photo_ids: &[i64],
    now: i64,
) -> Result<(i64, Reference), JobFailure> {
    let reporter_id = report.reporter_id;
    let from_classifier = report.category_source == CategorySource::Classifier;
    let confidence = report.classification.confidence;
    let (report_id, reference) = reports::insert(tx.conn(), report, berlin_year(now), now).await.map_err(retry)?;
    photos::attach_to_report(tx.conn(), report_id, reporter_id, photo_ids, now).await?;
    TriageJob { report_id }.enqueue(&pipeline.queue, tx, now).await?;
    if from_classifier {
        crate::telemetry::classified(confidence);
    }
    tracing::info!(report = %reference, photos = photo_ids.len(), "report created");
    Ok((report_id, reference))
}

/// A photo row for a cleaned photo.
pub(super) fn new_photo<'a>(
    reporter_id: Option<i64>,
    media_id: &'a str,
    media: &'a MediaRef,
    photo: &'a StoredPhoto,
    gps: Option<LatLon>,
) -> photos::NewPhoto<'a> {
    photos::NewPhoto {
        reporter_id,
        report_id: None,
        media_id,
        mime_type: media.claimed_type.as_deref().unwrap_or("application/octet-stream"),
        sha256: media.sha256.as_deref(),
        token: &photo.token,
        width: photo.width,
        height: photo.height,
        clean_sha256: &photo.sha256,
        gps,
        taken_at: photo.taken_at.as_deref(),
    }
}
