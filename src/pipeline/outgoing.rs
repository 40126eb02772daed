//! Composing replies: a text in the reporter's language becomes an outbox row (with its
//! template stand-in, if one is configured), and all rows of one step go to one notify job so
//! they are sent in order. An update about a report goes to whoever follows it: the chat
//! reporter, or a web-form citizen by e-mail (`ReportUpdate`).

use meldeweg_workers::conversation::Lang;

use super::email::EmailJob;
use super::notify::NotifyJob;
use super::Pipeline;
use crate::channels::whatsapp::message::{Body, Choice};
use crate::db::Tx;
use crate::outbox;
use crate::queue::QueueError;
use crate::texts::TextKey;

/// The form a text takes on the wire.
pub enum Form {
    Text,
    /// The text with WhatsApp's "Send location" button.
    LocationRequest,
    /// The text with reply buttons.
    Buttons(Vec<Choice>),
    /// A photo with the text as its caption.
    Image {
        link: String,
    },
    /// The text with a button that opens a list.
    List {
        button: String,
        rows: Vec<Choice>,
    },
}

/// The replies of one conversation step to one reporter.
pub struct Outgoing<'a> {
    pipeline: &'a Pipeline,
    reporter_id: i64,
    pub lang: Lang,
    now_ms: i64,
    outbox_ids: Vec<i64>,
}

impl<'a> Outgoing<'a> {
    pub fn new(pipeline: &'a Pipeline, reporter_id: i64, lang: Lang, now_ms: i64) -> Self {
        Self { pipeline, reporter_id, lang, now_ms, outbox_ids: Vec::new() }
    }

    /// Queues the text `key` rendered with `params`.
    pub async fn text(
        &mut self,
        tx: &mut Tx,
        key: TextKey,
        params: &[(&str, &str)],
        report_id: Option<i64>,
    ) -> sqlx::Result<()> {
        let text = self.pipeline.texts.render(self.lang, key, params);
        self.compose(tx, key, Form::Text, text, params, report_id).await
    }

    /// Queues `text` (already composed) under the name `key`, in the given form.
    pub async fn compose(
        &mut self,
        tx: &mut Tx,
        key: TextKey,
        form: Form,
        text: String,
        params: &[(&str, &str)],
        report_id: Option<i64>,
    ) -> sqlx::Result<()> {
        let body = match form {
            Form::Text => Body::Text { text },
            Form::LocationRequest => Body::LocationRequest { text },
            Form::Buttons(buttons) => Body::Buttons { text, buttons },
            Form::List { button, rows } => Body::List { text, button, rows },
            Form::Image { link } => Body::Image { link, caption: text },
        };
        let template = self.pipeline.templates.get(key.as_str()).map(|t| Body::Template {
            name: t.name.clone(),
            language: t.language.clone(),
            params: t
                .params
                .iter()
                .map(|name| {
                    let value = params.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
                    value.unwrap_or_default().to_string()
                })
                .collect(),
        });
        let message = outbox::NewMessage {
            reporter_id: self.reporter_id,
            report_id,
            name: key.as_str(),
            body: to_json(&body),
            template: template.as_ref().map(to_json),
        };
        self.outbox_ids.push(outbox::insert(tx.conn(), message, self.now_ms).await?);
        Ok(())
    }

    /// Enqueues one notify job for everything queued, in order.
    pub async fn finish(self, tx: &mut Tx) -> Result<(), QueueError> {
        if !self.outbox_ids.is_empty() {
            let job = NotifyJob { outbox_ids: self.outbox_ids };
            job.enqueue(&self.pipeline.queue, tx, self.reporter_id, self.now_ms).await?;
        }
        Ok(())
    }
}

/// Who hears about a report: the citizen who reported it in the chat, or one who gave an e-mail
/// address on the web form (P12).
#[derive(Debug, Clone, Copy)]
pub enum Addressee {
    Chat { reporter_id: i64 },
    Email,
}

/// One update about a report, in its citizen's language.
pub struct ReportUpdate<'a> {
    pub report_id: i64,
    pub key: TextKey,
    pub text: String,
    pub params: &'a [(&'a str, &'a str)],
    /// The crew's after-photo: an image message in the chat, a link in an e-mail.
    pub photo: Option<&'a str>,
}

impl ReportUpdate<'_> {
    /// Queues the update for `to`: a chat message (and its notify job) or an e-mail job.
    pub async fn send(
        self,
        pipeline: &Pipeline,
        tx: &mut Tx,
        to: Addressee,
        lang: Lang,
        now_ms: i64,
    ) -> Result<(), QueueError> {
        match to {
            Addressee::Chat { reporter_id } => {
                let form = match self.photo {
                    Some(token) => Form::Image { link: pipeline.photo_link(token) },
                    None => Form::Text,
                };
                let mut out = Outgoing::new(pipeline, reporter_id, lang, now_ms);
                out.compose(tx, self.key, form, self.text, self.params, Some(self.report_id)).await?;
                out.finish(tx).await
            }
            Addressee::Email => {
                let text = match self.photo {
                    Some(token) => format!("{}\n\n{}", self.text, pipeline.photo_link(token)),
                    None => self.text,
                };
                let job = EmailJob { report_id: self.report_id, key: self.key.as_str().to_string(), text };
                job.enqueue(&pipeline.queue, tx, now_ms).await.map(drop)
            }
        }
    }
}

fn to_json(body: &Body) -> String {
    serde_json::to_string(body).expect("serialising a message body cannot fail")
}
