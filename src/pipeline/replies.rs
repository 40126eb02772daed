//! Composing replies: a text in the citizen's language becomes a reply intent in the outbox, and
//! all replies of one step to one citizen go to one notify job, so they are sent in order. How
//! an intent looks on the wire is the citizen's channel's business, decided when it is sent.

use meldeweg_workers::conversation::Lang;
use meldeweg_workers::message::{Choice, ReplyForm, ReplyIntent};

use super::notify::NotifyJob;
use super::Pipeline;
use crate::db::Tx;
use crate::outbox::{self, Addressee};
use crate::public_copies;
use crate::queue::QueueError;
use crate::texts::TextKey;

/// The replies of one step to one citizen.
pub struct Outgoing<'a> {
    pipeline: &'a Pipeline,
    to: Addressee,
    pub lang: Lang,
    now_ms: i64,
    outbox_ids: Vec<i64>,
}

impl<'a> Outgoing<'a> {
    pub fn new(pipeline: &'a Pipeline, to: Addressee, lang: Lang, now_ms: i64) -> Self {
        Self { pipeline, to, lang, now_ms, outbox_ids: Vec::new() }
    }

    /// An answer in the conversation: the text `key` rendered with `params`, in `form`.
    pub async fn answer(&mut self, tx: &mut Tx, key: TextKey, form: ReplyForm) -> sqlx::Result<()> {
        let text = self.pipeline.texts.render(self.lang, key, &[]);
        self.queue(tx, reply(key, text, &[], form, true), None).await
    }

    /// An answer in the conversation whose text was composed already.
    pub async fn answer_with(&mut self, tx: &mut Tx, key: TextKey, text: String) -> sqlx::Result<()> {
        self.queue(tx, reply(key, text, &[], ReplyForm::Text, true), None).await
    }

    /// A choice between options, each with its id and the text `title`.
    pub fn choice(&self, id: &str, title: TextKey) -> Choice {
        Choice { id: id.to_string(), title: self.pipeline.texts.render(self.lang, title, &[]), description: None }
    }

    /// Queues `reply` (about report `report_id`, if any).
    pub async fn queue(&mut self, tx: &mut Tx, reply: ReplyIntent, report_id: Option<i64>) -> sqlx::Result<()> {
        self.outbox_ids.push(outbox::insert(tx.conn(), self.to, report_id, &reply, self.now_ms).await?);
        Ok(())
    }

    /// Enqueues one notify job for everything queued, in order.
    pub async fn finish(self, tx: &mut Tx) -> Result<(), QueueError> {
        if !self.outbox_ids.is_empty() {
            NotifyJob::enqueue(&self.pipeline.queue, tx, self.to, self.outbox_ids, self.now_ms).await?;
        }
        Ok(())
    }
}

/// A reply intent for the text `key`.
fn reply(key: TextKey, text: String, params: &[(&str, &str)], form: ReplyForm, answers: bool) -> ReplyIntent {
    ReplyIntent {
        name: key.as_str().to_string(),
        text,
        params: params.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect(),
        form,
        answers_conversation: answers,
    }
}

/// One update about a report, in its citizen's language.
pub struct ReportUpdate<'a> {
    pub report_id: i64,
    pub key: TextKey,
    pub text: String,
    pub params: &'a [(&'a str, &'a str)],
    /// The crew's after-photo, by its token. It goes with the update only when its public copy
    /// may be seen by then (a channel's servers fetch it: they are outside the depot);
    /// otherwise the update goes without it and the status page shows it once approved.
    pub photo: Option<&'a str>,
}

impl ReportUpdate<'_> {
    /// Queues the update for `to`, who follows the report: the citizen who reported it on a
    /// channel, or the contact given with it.
    pub async fn send(
        self,
        pipeline: &Pipeline,
        tx: &mut Tx,
        to: Addressee,
        lang: Lang,
        now_ms: i64,
    ) -> Result<(), QueueError> {
        let photo = match self.photo {
            Some(token) if public_copies::is_public(tx.conn(), token).await? => Some(token.to_string()),
            _ => None,
        };
        let form = ReplyForm::Update { photo };
        let mut out = Outgoing::new(pipeline, to, lang, now_ms);
        out.queue(tx, reply(self.key, self.text, self.params, form, false), Some(self.report_id)).await?;
        out.finish(tx).await
    }
}
