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

use bytes::Bytes;
use meldeweg_workers::classify::Classification;
use meldeweg_workers::conversation::{
    self, Action, CategorySource, Context, Inbound, Lang, PhotoProblem, PlaceSource, Reply,
};
use meldeweg_workers::message::{
    Choice, Content, FormPlaceSource, FormReport, InboundMessage, MediaRef, ReplyForm, ReplyIntent, Unsupported,
};
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
use crate::time::{berlin_date, berlin_year, now_ms};
use crate::{inbox, reporters};

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
    let message = source.read(&raw).map_err(|e| JobFailure::Fatal(format!("stored message unreadable: {e}")))?;
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
    Stored { media: MediaRef, photo: StoredPhoto, caption: Option<String> },
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
                    Prepared::Stored { media: media.clone(), photo, caption: caption.clone() }
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
        Action::Reply(reply) => answer(pipeline, tx, out, reply).await?,
        Action::StatusQuery(reference) => status_reply(pipeline, tx, out, reporter_id, reference).await?,
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

/// Answers in the conversation: a question with its options (the place, the category, the
/// erasure), a request for the place, or a plain text.
async fn answer(pipeline: &Pipeline, tx: &mut Tx, out: &mut Outgoing<'_>, reply: Reply) -> sqlx::Result<()> {
    match reply {
        Reply::LocationRequest => out.answer(tx, TextKey::LocationRequest, ReplyForm::LocationRequest).await,
        Reply::ConfirmPlace(point) => {
            let address = pipeline
                .municipality
                .address_near(point)
                .unwrap_or_else(|| format!("{:.5}, {:.5}", point.lat(), point.lon()));
            let text = pipeline.texts.render(out.lang, TextKey::ConfirmPlace, &[("address", &address)]);
            let options = vec![
                out.choice(conversation::CHOICE_PLACE_YES, TextKey::ButtonHere),
                out.choice(conversation::CHOICE_PLACE_OTHER, TextKey::ButtonElsewhere),
            ];
            choices(pipeline, tx, out, TextKey::ConfirmPlace, text, options).await
        }
        Reply::AskCategory => {
            let options = pipeline
                .municipality
                .town
                .classifier
                .categories()
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
            choices(pipeline, tx, out, TextKey::AskCategory, text, options).await
        }
        Reply::ConfirmErase => {
            let text = pipeline.texts.render(out.lang, TextKey::ConfirmErase, &[]);
            let options = vec![
                out.choice(conversation::CHOICE_ERASE_YES, TextKey::ButtonErase),
                out.choice(conversation::CHOICE_ERASE_NO, TextKey::ButtonKeep),
            ];
            choices(pipeline, tx, out, TextKey::ConfirmErase, text, options).await
        }
        reply => out.answer(tx, reply_key(reply), ReplyForm::Text).await,
    }
}

/// Queues a text with options to choose from.
async fn choices(
    pipeline: &Pipeline,
    tx: &mut Tx,
    out: &mut Outgoing<'_>,
    key: TextKey,
    text: String,
    options: Vec<Choice>,
) -> sqlx::Result<()> {
    let menu = pipeline.texts.render(out.lang, TextKey::CategoryButton, &[]);
    let reply = ReplyIntent {
        name: key.as_str().to_string(),
        text,
        params: Vec::new(),
        form: ReplyForm::Choices { options, menu },
        answers_conversation: true,
    };
    out.queue(tx, reply, None).await
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
fn new_photo<'a>(
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
        return Ok(out.answer(tx, key, ReplyForm::Text).await?);
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
    out.answer_with(tx, TextKey::StatusLine, text).await?;
    Ok(())
}

/// A form's report, taken: its reference and the token of its status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub reference: String,
    pub public_token: String,
}

/// Why a form's report was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the message is not a whole report")]
    NotAReport,
    #[error("a photo cannot be used: {0:?}")]
    Photo(PhotoProblem),
    /// Neither the form nor a photo's position says where.
    #[error("the report has no place")]
    NoPlace,
    /// Storage trouble: the citizen may try again.
    #[error("the report could not be stored: {0}")]
    Unavailable(String),
}

impl From<JobFailure> for SubmitError {
    fn from(failure: JobFailure) -> Self {
        match failure {
            JobFailure::Retry { reason, .. } | JobFailure::Fatal(reason) => SubmitError::Unavailable(reason),
        }
    }
}

/// Takes a whole report from a form, with its photos, in the caller's request: the photos are
/// cleaned and stored, then the message is kept (once: a form sent twice gives the first
/// report back), and the report created with `create_report`. The sender's account, if given,
/// is where its updates go; it is kept sealed with the report only, not in the kept message.
pub async fn submit(
    pipeline: &Pipeline,
    message: InboundMessage,
    uploads: Vec<Bytes>,
) -> Result<Submitted, SubmitError> {
    let Content::Report { report } = &message.content else { return Err(SubmitError::NotAReport) };
    let mut stored = Vec::with_capacity(uploads.len());
    for bytes in uploads {
        match pipeline.photos.clean_upload(bytes).await {
            Ok(PhotoOutcome::Stored(photo)) => stored.push(photo),
            Ok(PhotoOutcome::Refused(problem)) => {
                forget_photos(pipeline, &stored).await;
                return Err(SubmitError::Photo(problem));
            }
            Err(failure) => {
                forget_photos(pipeline, &stored).await;
                return Err(failure.into());
            }
        }
    }
    let result = store_submission(pipeline, &message, report, &stored).await;
    if !matches!(result, Ok(Taken::New(_))) {
        forget_photos(pipeline, &stored).await;
    }
    result.map(Taken::submitted)
}

/// A form's report as stored: new, or the one an earlier copy of the same form created.
enum Taken {
    New(Submitted),
    Earlier(Submitted),
}

impl Taken {
    fn submitted(self) -> Submitted {
        match self {
            Taken::New(submitted) | Taken::Earlier(submitted) => submitted,
        }
    }
}

async fn store_submission(
    pipeline: &Pipeline,
    message: &InboundMessage,
    report: &FormReport,
    stored: &[StoredPhoto],
) -> Result<Taken, SubmitError> {
    let photo_gps = stored.iter().find_map(|photo| photo.gps);
    let (point, source, label) = match (&report.place, photo_gps) {
        (Some(place), _) => {
            let source = match place.source {
                FormPlaceSource::Pin => LocationSource::MapPin,
                FormPlaceSource::Address => LocationSource::Address,
            };
            (place.point, source, place.label.as_deref())
        }
        (None, Some(gps)) => (gps, LocationSource::PhotoExif, None),
        (None, None) => return Err(SubmitError::NoPlace),
    };
    let now = now_ms();
    // The status page's token follows from the message, so a form sent twice finds its report.
    let public_token =
        crate::storage::token_for(&pipeline.vault, &format!("status\n{}\n{}", message.channel, message.id));
    let kept = InboundMessage {
        sender: meldeweg_workers::message::Sender { account: None, ..message.sender.clone() },
        ..message.clone()
    };
    let payload = serde_json::to_vec(&kept).map_err(|e| SubmitError::Unavailable(e.to_string()))?;
    let mut tx = pipeline.db.begin().await.map_err(|e| SubmitError::Unavailable(e.to_string()))?;
    let event = inbox::NewEvent {
        channel: &message.channel,
        provider_id: &pipeline.vault.message_id_hash(&message.id),
        kind: "report",
        payload_enc: &pipeline.vault.seal(&payload),
        error: None,
    };
    let unavailable = |e: sqlx::Error| SubmitError::Unavailable(e.to_string());
    let Some(event_id) = inbox::insert(tx.conn(), event, now).await.map_err(unavailable)? else {
        drop(tx);
        return earlier_submission(pipeline, public_token).await;
    };
    inbox::mark_processed(tx.conn(), event_id, None, now).await.map_err(unavailable)?;
    let description = report.description.as_deref().filter(|d| !d.is_empty());
    let classification = pipeline.municipality.town.classifier.classify(description.unwrap_or_default());
    let (classification, category_source): (Classification, _) = match report.category {
        Some(category) => (classification.chosen(category), CategorySource::Reporter),
        None => (classification, CategorySource::Classifier),
    };
    let mut photo_ids = Vec::with_capacity(stored.len());
    for photo in stored {
        let media =
            MediaRef { id: "upload".into(), claimed_type: Some("image/jpeg".into()), claimed_size: None, sha256: None };
        // What a photo's metadata said is kept only when it gave the place.
        let gps = photo.gps.filter(|_| source == LocationSource::PhotoExif);
        let mut row = new_photo(None, &media.id, &media, photo, gps);
        row.taken_at = None;
        photo_ids.push(photos::insert(tx.conn(), row, now).await.map_err(unavailable)?);
    }
    let new = NewReport {
        reporter_id: None,
        channel: &message.channel,
        description,
        location: point,
        location_source: source,
        location_label: label,
        classification: &classification,
        category_source,
        contact: message.sender.account.as_ref().map(|address| (pipeline.vault.seal(address.as_bytes()), report.lang)),
        public_token: Some(&public_token),
    };
    let (_, reference) = create_report(pipeline, &mut tx, new, &photo_ids, now).await?;
    tx.commit().await.map_err(|e| SubmitError::Unavailable(e.to_string()))?;
    Ok(Taken::New(Submitted { reference: reference.to_string(), public_token }))
}

/// The report an earlier copy of the same form created.
async fn earlier_submission(pipeline: &Pipeline, public_token: String) -> Result<Taken, SubmitError> {
    let mut conn = pipeline.db.pool().acquire().await.map_err(|e| SubmitError::Unavailable(e.to_string()))?;
    let reference = reports::reference_by_token(&mut conn, &public_token)
        .await
        .map_err(|e| SubmitError::Unavailable(e.to_string()))?
        .ok_or_else(|| SubmitError::Unavailable("the earlier copy of this form left no report".into()))?;
    Ok(Taken::Earlier(Submitted { reference, public_token }))
}

/// Deletes photos stored for a submission that was then refused or failed.
async fn forget_photos(pipeline: &Pipeline, stored: &[StoredPhoto]) {
    for photo in stored {
        if let Err(error) = pipeline.photos.store.delete(&photo.token).await {
            tracing::warn!(%error, "a refused photo could not be deleted");
        }
    }
}
