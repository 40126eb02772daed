//! E-mail to citizens who reported on the web form and asked for updates (PRIVACY P12), over
//! SMTP with `lettre`. The address is stored sealed with the report and opened only to send;
//! it never appears in logs or errors. Plain text, one message per status change.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{secret, EmailSettings};

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
