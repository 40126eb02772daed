//! WhatsApp Business Platform (Cloud API, or an EU provider with the same message bodies; P1).
//!
//! In: the webhook (`ingress`, wire types in `webhook`, signatures in `signature`) and the
//! sandbox simulator (`sandbox`) hand deliveries to the core's ingress; `translate` turns a
//! stored message into the core's `InboundMessage`; photos come from the Cloud API's media
//! endpoint or the sandbox's uploads (`media`). Out: `render` turns a reply intent into a
//! WhatsApp message within WhatsApp's limits (buttons, lists, the 24-hour window and its
//! templates) and `client` sends it; in sandbox mode nothing leaves the machine.

pub mod client;
mod ingress;
mod media;
mod render;
mod sandbox;
mod send;
pub mod settings;
pub mod signature;
pub mod translate;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ChannelError, Entrance, Link, Parts, Routes};
use crate::config::secret;
use crate::pipeline::{Channels, Pipeline};
use client::CloudClient;
use ingress::WebhookAuth;
use media::SandboxMedia;
use settings::{TemplateSettings, WebhookAuth as WebhookAuthSetting, WhatsAppMode, WhatsAppSettings};

/// The name the channel's messages, reporters and reports are stored under.
pub const NAME: &str = "whatsapp";

/// Where messages go: nowhere outside (sandbox: they show on /sandbox), or the Cloud API.
enum Mode {
    Sandbox(SandboxMedia),
    Cloud(CloudClient),
}

/// The channel as the core uses it: reading stored messages, fetching photos, sending replies.
pub struct WhatsApp {
    mode: Mode,
    /// Approved template messages by text name, for replies outside the 24-hour window.
    templates: BTreeMap<String, TemplateSettings>,
    /// `public_url` without its trailing slash: WhatsApp fetches after-photos from it.
    public_base: String,
}

/// Registers the channel with the core and returns its routes: the webhook, and in sandbox
/// mode the simulator.
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Routes, ChannelError> {
    let settings = &settings::load(parts.settings)?;
    let templates = settings.templates.iter().map(|(key, template)| (key.as_str(), template.params.as_slice()));
    crate::texts::Texts::check_templates(templates)?;
    let mode = match settings.mode {
        WhatsAppMode::Sandbox => Mode::Sandbox(SandboxMedia::default()),
        WhatsAppMode::Cloud => Mode::Cloud(CloudClient::new(settings)?),
    };
    let sandbox_media = match &mode {
        Mode::Sandbox(media) => Some(media.clone()),
        Mode::Cloud(_) => None,
    };
    let channel = Arc::new(WhatsApp {
        mode,
        templates: settings.templates.clone(),
        public_base: parts.settings.public_base().to_string(),
    });
    channels.add_source(NAME, channel.clone());
    channels.add_sender(NAME, channel);
    let auth = webhook_auth(settings);
    if matches!(auth, WebhookAuth::Open) {
        tracing::warn!("sandbox mode without an app secret: webhook POSTs are not authenticated");
    }
    let verify_token = secret(&settings.verify_token).map(str::to_string);
    let max_body_bytes = parts.settings.http.max_body_bytes;
    let simulator = sandbox_media.map(|media| sandbox::Simulator {
        media,
        municipality: parts.settings.municipality.name.clone(),
        max_photo_bytes: parts.settings.photos.limits().max_input_bytes,
        map: parts.settings.map.clone(),
        shutdown: parts.shutdown.clone(),
    });
    let entrance = entrance(simulator.is_some());
    let make = Box::new(move |pipeline: &Arc<Pipeline>| {
        let router = ingress::router(pipeline.clone(), auth, verify_token, max_body_bytes);
        match simulator {
            Some(simulator) => router.merge(sandbox::router(pipeline.clone(), simulator)),
            None => router,
        }
    });
    Ok(Routes { make, entrance })
}

/// The start page's words for the channel: in sandbox mode, the way to the simulator.
fn entrance(sandbox: bool) -> Entrance {
    match sandbox {
        true => Entrance {
            title: "WhatsApp im Sandbox-Modus".into(),
            text: "Es wird nichts an WhatsApp gesendet. Im Simulator spielen Sie eine Bürgerin oder einen Bürger \
                   und melden z. B. ein Schlagloch."
                .into(),
            link: Some(Link { href: "/sandbox".into(), label: "Zum Simulator".into() }),
        },
        false => Entrance {
            title: "WhatsApp".into(),
            text: "WhatsApp liefert Nachrichten an /webhooks/whatsapp; die Antworten gehen über die Cloud API.".into(),
            link: None,
        },
    }
}

fn webhook_auth(whatsapp: &WhatsAppSettings) -> WebhookAuth {
    match (secret(&whatsapp.app_secret), whatsapp.webhook_auth) {
        (None, _) => WebhookAuth::Open,
        (Some(secret), WebhookAuthSetting::Signature) => WebhookAuth::Signature { app_secret: secret.to_string() },
        (Some(secret), WebhookAuthSetting::Header) => {
            WebhookAuth::Header { name: whatsapp.webhook_auth_header.clone(), secret: secret.to_string() }
        }
    }
}
