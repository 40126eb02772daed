//! How the dialogue's replies are put: a question with its options (the place a photo gave,
//! the category, an erasure), a request for the place, the answer to STATUS, or a plain text,
//! in the reporter's language.

use meldeweg_workers::conversation::{self, Lang, PhotoProblem, Reply, Unsupported};
use meldeweg_workers::message::{Choice, ReplyForm, ReplyIntent};
use meldeweg_workers::Reference;

use super::super::replies::Outgoing;
use super::super::{retry, Pipeline};
use crate::db::Tx;
use crate::queue::JobFailure;
use crate::reports;
use crate::texts::TextKey;
use crate::time::berlin_date;

/// How many reports `STATUS` lists.
const STATUS_LIST_LENGTH: i64 = 5;

/// Answers in the conversation: a question with its options (the place, the category, the
/// erasure), a request for the place, or a plain text.
pub(super) async fn answer(pipeline: &Pipeline, tx: &mut Tx, out: &mut Outgoing<'_>, reply: Reply) -> sqlx::Result<()> {
    match reply {
        Reply::LocationRequest => out.answer(tx, TextKey::LocationRequest, ReplyForm::LocationRequest).await,
        Reply::ConfirmPlace(point) => {
            let address = pipeline.municipality.place_with_district(point, out.lang);
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
        Reply::PhotoAdded(count) => {
            let (count, max) = (count.to_string(), conversation::MAX_PHOTOS.to_string());
            let text = pipeline.texts.render(out.lang, TextKey::PhotoAdded, &[("count", &count), ("max", &max)]);
            out.answer_with(tx, TextKey::PhotoAdded, text).await
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
        Reply::PhotoAdded(_) => TextKey::PhotoAdded,
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
pub(super) async fn status_reply(
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
