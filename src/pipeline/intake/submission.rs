//! A whole report submitted at once (a form): its photos cleaned, the submission kept once
//! (the same submission sent twice gives the first report back), and the report created with
//! `create_report`, in the request that brought it.

use bytes::Bytes;
use meldeweg_workers::classify::Classification;
use meldeweg_workers::conversation::{CategorySource, PhotoProblem};
use meldeweg_workers::message::{Content, FormPlaceSource, FormReport, InboundMessage, MediaRef, Sender};

use super::super::photo::{PhotoOutcome, StoredPhoto};
use super::super::Pipeline;
use super::{create_report, new_photo};
use crate::inbox;
use crate::queue::JobFailure;
use crate::reports::{self, photos, LocationSource, NewReport};
use crate::time::now_ms;

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
    let message = message.cleaned();
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
    let kept = InboundMessage { sender: Sender { account: None, ..message.sender.clone() }, ..message.clone() };
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
        pipeline
            .photos
            .record_copy(tx.conn(), photo, now)
            .await
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?;
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
