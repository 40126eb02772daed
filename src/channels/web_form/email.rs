//! E-mail to citizens who reported on the web form and asked for updates (PRIVACY P12), over
//! SMTP with `lettre`: the form channel's way of sending a reply intent. Each update is one
//! plain-text mail in the language of the form, with the reference in the subject, the status
//! page's link, the crew's after-photo as a link, and why the citizen gets it. The address is
//! stored sealed with the report and opened only to send; it never appears in logs or errors.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use meldeweg_workers::message::ReplyForm;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::secret;
use crate::pipeline::channel::{Delivery, DeliveryError, ReplySender, Sent};
use crate::texts::{TextKey, Texts};

/// E-mail updates for reports from the web form (PRIVACY P12). With no `smtp_url` the form
/// offers no e-mail field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required`, or
    /// `smtp://localhost:25` for a local relay; may hold a password, so it is a secret.
    pub smtp_url: SecretString,
    /// The sender, e.g. "Mängelmelder Musterstadt <maengelmelder@musterstadt.de>".
    pub from: String,
}

/// Longest address accepted (RFC 5321's limit for a path).
pub const MAX_ADDRESS_CHARS: usize = 254;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email.smtp_url: {0}")]
    Url(String),
    #[error("email.from: {0}")]
    From(String),
    /// The server or the network may do better later.
    #[error("the mail server did not take the message: {0}")]
    Transient(String),
    /// The server refused the message for good (e.g. the address does not exist).
    #[error("the mail server refused the message: {0}")]
    Refused(String),
}

/// Sends e-mail through the configured server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer, or `None` when no server is configured (then the form asks for no address).
    pub fn from_settings(settings: &EmailSettings) -> Result<Option<Self>, EmailError> {
        let Some(url) = secret(&settings.smtp_url) else { return Ok(None) };
        // The URL may carry a password: the error names the problem, not the URL.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailError::Url(format!("not a usable SMTP URL ({})", kind(&e))))?
            .build();
        let from = settings.from.parse::<Mailbox>().map_err(|e| EmailError::From(e.to_string()))?;
        Ok(Some(Self { transport, from }))
    }

    /// Sends `body` with `subject` to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), EmailError> {
        let to = parse_address(to).ok_or_else(|| EmailError::Refused("not an e-mail address".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| EmailError::Refused(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(EmailError::Refused(kind(&error))),
            Err(error) => Err(EmailError::Transient(kind(&error))),
        }
    }
}

/// The form's replies: updates by e-mail, when a mail server is set up.
pub struct EmailUpdates {
    pub mailer: Option<Mailer>,
    pub texts: Arc<Texts>,
    /// `public_url` without its trailing slash, for the after-photo's link.
    pub public_base: String,
}

impl ReplySender for EmailUpdates {
    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, Result<Sent, DeliveryError>> {
        Box::pin(self.mail(delivery))
    }
}

impl EmailUpdates {
    async fn mail(&self, delivery: Delivery<'_>) -> Result<Sent, DeliveryError> {
        let undeliverable = |reason: &str| DeliveryError::Undeliverable { code: None, reason: reason.into() };
        let mailer = self.mailer.as_ref().ok_or_else(|| undeliverable("e-mail updates are switched off"))?;
        let address = delivery.to.account.as_deref().ok_or_else(|| undeliverable("no e-mail address"))?;
        let reply = delivery.reply;
        let lang = delivery.lang;
        let reference = reply.param("reference").unwrap_or_default();
        let subject = self.texts.render(lang, TextKey::EmailSubject, &[("reference", reference)]);
        let footer = self.texts.render(lang, TextKey::EmailFooter, &[]);
        let mut body = reply.text.clone();
        if let ReplyForm::Update { photo: Some(token) } = &reply.form {
            body = format!("{body}\n\n{}", crate::public_copies::url(&self.public_base, token));
        }
        // Most updates name the status page already; the others get it here.
        if let Some(link) = reply.param("link").filter(|link| !body.contains(link)) {
            body = format!("{body}\n\n{link}");
        }
        match mailer.send(address, &subject, format!("{body}\n\n{footer}")).await {
            Ok(()) => Ok(Sent { provider_id: None, outside_window: false }),
            Err(EmailError::Transient(detail)) => {
                Err(DeliveryError::Transient { code: None, detail, retry_after: None })
            }
            Err(error) => Err(DeliveryError::Refused { code: None, detail: error.to_string() }),
        }
    }
}

/// What went wrong, without the address or URL the error may quote.
fn kind(error: &lettre::transport::smtp::Error) -> String {
    match error.status() {
        Some(code) => format!("SMTP status {code}"),
        None if error.is_timeout() => "timed out".into(),
        None => "connection or protocol error".into(),
    }
}

/// A well-formed address (`local@domain`, within the length limit), else `None`.
pub fn parse_address(text: &str) -> Option<Address> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_ADDRESS_CHARS {
        return None;
    }
    text.parse::<Address>().ok().filter(|address| address.domain().contains('.'))
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses_are_checked() {
        assert!(parse_address("anna.meier@example.org").is_some());
        assert!(parse_address("  a@b.de ").is_some());
        for bad in ["", "anna", "anna@", "@example.org", "a b@example.org", "a@localhost", "<script>@x.de"] {
            assert!(parse_address(bad).is_none(), "{bad}");
        }
        assert!(parse_address(&format!("{}@example.org", "a".repeat(250))).is_none());
    }
}
