//! The channels citizens reach the municipality on, each in its own folder: it translates its
//! wire format into the core's messages and renders the core's reply intents in its own format,
//! within its own limits. A channel registers itself here, once: what it reads and sends goes
//! into the pipeline's `Channels`; its HTTP routes are made once the pipeline exists, and its
//! entrance introduces it on the start page.
//!
//! Adding a channel is a new folder with its `register` and `check` functions and one line in
//! `ALL` below; nothing in the pipeline or the workers changes (docs/architecture.md walks
//! through it).

pub mod open311;
pub mod web_form;
pub mod whatsapp;

use std::sync::Arc;

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, Settings};
use crate::pipeline::{Channels, Pipeline};
use crate::texts::Texts;

/// What a channel may use to set itself up.
pub struct Parts<'a> {
    pub settings: &'a Settings,
    pub texts: Arc<Texts>,
    /// Cancelled when the service stops: long polls answer at once.
    pub shutdown: CancellationToken,
    /// The process's budget for uploads held in memory, shared with the staff pages.
    pub uploads: crate::http::uploads::UploadBudget,
}

/// Makes a channel's routes once the pipeline exists.
pub type MakeRoutes = Box<dyn FnOnce(&Arc<Pipeline>) -> Router + Send>;

/// What a channel brings to the HTTP side.
pub struct Routes {
    pub make: MakeRoutes,
    /// How the start page introduces it.
    pub entrance: Entrance,
}

/// A channel on the start page: a heading, a sentence, and a link when it has a page.
#[derive(Debug, Clone)]
pub struct Entrance {
    pub title: String,
    pub text: String,
    pub link: Option<Link>,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

/// Why a channel could not be set up (its settings name the problem).
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(transparent)]
    WhatsApp(#[from] whatsapp::client::ClientError),
    #[error(transparent)]
    Email(#[from] web_form::EmailError),
    #[error("messages: {0}")]
    Texts(#[from] crate::texts::TextsError),
    #[error(transparent)]
    Settings(Box<ConfigError>),
}

impl From<ConfigError> for ChannelError {
    fn from(error: ConfigError) -> Self {
        ChannelError::Settings(Box::new(error))
    }
}

/// A channel as the core knows it.
struct Channel {
    /// Its section of the configuration.
    section: &'static str,
    /// Checks that section; every command runs it, so a wrong value stops any of them.
    check: fn(&Settings) -> Result<(), ConfigError>,
    /// Builds the channel, adds its source and sender, and returns its routes.
    register: fn(&Parts, &mut Channels) -> Result<Routes, ChannelError>,
}

/// Every channel, in the order the start page shows them.
const ALL: [Channel; 3] = [
    Channel { section: whatsapp::settings::SECTION, check: whatsapp::settings::check, register: whatsapp::register },
    Channel { section: web_form::SECTION, check: web_form::check, register: web_form::register },
    Channel { section: open311::SECTION, check: open311::check, register: open311::register },
];

/// Checks the channels' part of the configuration: each channel's section, and that there is
/// no section that neither the core nor a channel reads (a misspelt `[retenton]` would
/// otherwise be ignored, and its command run with the defaults).
pub fn check(settings: &Settings) -> Result<(), ConfigError> {
    if let Some(stray) = settings.channels.names().find(|name| !ALL.iter().any(|c| c.section == *name)) {
        return Err(ConfigError::UnknownSection(stray.to_string()));
    }
    ALL.iter().try_for_each(|channel| (channel.check)(settings))
}

/// Registers every channel with `channels` and returns their routes.
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Vec<Routes>, ChannelError> {
    check(parts.settings)?;
    ALL.iter().map(|channel| (channel.register)(parts, channels)).collect()
}
