//! The channels citizens reach the municipality on, each in its own folder: it translates its
//! wire format into the core's messages and renders the core's reply intents in its own format,
//! within its own limits. A channel registers itself here, once: what it reads and sends goes
//! into the pipeline's `Channels`; its HTTP routes are made once the pipeline exists, and its
//! entrance introduces it on the start page.
//!
//! Adding a channel is a new folder with a `register` function and one line in `register`
//! below; nothing in the pipeline or the workers changes (docs/architecture.md walks through it).

pub mod web_form;
pub mod whatsapp;

use std::cell::RefCell;
use std::sync::Arc;

use axum::Router;
use serde::de::DeserializeOwned;
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
    /// The configuration sections the channels took, to refuse any that none took.
    taken: RefCell<Vec<String>>,
}

impl<'a> Parts<'a> {
    pub fn new(settings: &'a Settings, texts: Arc<Texts>, shutdown: CancellationToken) -> Self {
        Self { settings, texts, shutdown, taken: RefCell::default() }
    }

    /// The channel's own section of the configuration, as its settings type.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        self.taken.borrow_mut().push(name.to_string());
        self.settings.channels.section(name)
    }
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

/// Registers every channel with `channels` and returns their routes; a section of the
/// configuration that no channel took is refused (a misspelt `[whatsap]` would otherwise be
/// ignored).
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Vec<Routes>, ChannelError> {
    let routes = vec![whatsapp::register(parts, channels)?, web_form::register(parts, channels)?];
    let taken = parts.taken.borrow();
    match parts.settings.channels.names().find(|name| !taken.iter().any(|t| t == name)) {
        Some(stray) => Err(ConfigError::UnknownSection(stray.to_string()).into()),
        None => Ok(routes),
    }
}
