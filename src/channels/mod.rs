//! The channels citizens reach the municipality on, each in its own folder: it translates its
//! wire format into the core's messages and renders the core's reply intents in its own format,
//! within its own limits. A channel registers itself here, once: what it reads and sends goes
//! into the pipeline's `Channels`, and its HTTP routes are made once the pipeline exists.
//!
//! Adding a channel is a new folder with a `register` function and one line in `register`
//! below; nothing in the pipeline or the workers changes (docs/architecture.md walks through it).

pub mod web_form;
pub mod whatsapp;

use std::sync::Arc;

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::pipeline::{Channels, Pipeline};
use crate::texts::Texts;

/// What a channel may use to set itself up.
pub struct Parts<'a> {
    pub settings: &'a Settings,
    pub texts: Arc<Texts>,
    /// Cancelled when the service stops: long polls answer at once.
    pub shutdown: CancellationToken,
}

/// A channel's HTTP routes, made once the pipeline exists.
pub type Routes = Box<dyn FnOnce(&Arc<Pipeline>) -> Router + Send>;

/// Why a channel could not be set up (its settings name the problem).
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(transparent)]
    WhatsApp(#[from] whatsapp::client::ClientError),
    #[error(transparent)]
    Email(#[from] web_form::EmailError),
    #[error("messages: {0}")]
    Texts(#[from] crate::texts::TextsError),
}

/// Registers every channel with `channels` and returns their routes.
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Vec<Routes>, ChannelError> {
    Ok(vec![whatsapp::register(parts, channels)?, web_form::register(parts, channels)?])
}
