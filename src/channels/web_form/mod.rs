//! The public web form (PRIVACY P12): an equal way in for citizens without a messenger. In: the
//! HTML form at `/melden` (`form`), whose submission is a whole report the core takes at once.
//! Out: updates about the report by e-mail to the address the citizen gave, if any (`email`).

mod email;
pub mod form;

use std::sync::Arc;

use super::{ChannelError, Entrance, Link, Parts, Routes};
use crate::pipeline::{Channels, Pipeline};
pub use email::EmailError;
use email::EmailSettings;

use crate::config::{invalid, ConfigError, Settings};

/// The name the form's reports are stored under.
pub const NAME: &str = "web";

/// The configuration section of the form's e-mail updates.
pub const SECTION: &str = "email";

/// Checks the `[email]` section: its keys, the SMTP URL and the sender.
pub fn check(settings: &Settings) -> Result<(), ConfigError> {
    let section: EmailSettings = settings.channels.section(SECTION)?;
    email::Mailer::from_settings(&section).map(drop).map_err(|error| match error {
        EmailError::Url(reason) => invalid("email.smtp_url", reason),
        EmailError::From(reason) => invalid("email.from", reason),
        other => invalid("email", other.to_string()),
    })
}

/// Registers the form's e-mail updates with the core and returns its routes.
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Routes, ChannelError> {
    let settings = parts.settings;
    let mailer = email::Mailer::from_settings(&settings.channels.section(SECTION)?)?;
    let email_enabled = mailer.is_some();
    let updates =
        email::EmailUpdates { mailer, texts: parts.texts.clone(), public_base: settings.public_base().to_string() };
    channels.add_sender(NAME, Arc::new(updates));
    let municipality = settings.municipality.name.clone();
    let map = settings.map.clone();
    let trusted_proxies = settings.http.trusted_proxies.clone();
    let uploads = parts.uploads.clone();
    let make = Box::new(move |pipeline: &Arc<Pipeline>| {
        form::router(Arc::new(form::FormState {
            pipeline: pipeline.clone(),
            municipality,
            map,
            email_enabled,
            trusted_proxies,
            uploads,
        }))
    });
    let entrance = Entrance {
        title: "Webformular".into(),
        text: "Ein Problem melden ohne WhatsApp und ohne Anmeldung: Ort auf der Karte oder als Adresse, \
               Foto und Beschreibung."
            .into(),
        link: Some(Link { href: "/melden".into(), label: "Problem melden".into() }),
    };
    Ok(Routes { make, entrance })
}
