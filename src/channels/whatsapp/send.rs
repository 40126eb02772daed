//! The channel's two faces to the core: reading stored messages and fetching their photos
//! (`MessageSource`), and sending replies (`ReplySender`).
//!
//! A reply goes out free-form while the citizen's 24-hour window is open; outside it (by our
//! clock, or because WhatsApp said so: error 131047, at once or later as a failed status) it
//! goes out as its approved template, if the municipality registered one, else it is
//! undeliverable; an update about a report that misses its citizen for want of a template is
//! logged as a warning naming the text, since the municipality can register one. Errors are
//! sorted into retry-later and give-up by `client`; the per-user pair limit backs off 4^n
//! seconds. In sandbox mode nothing leaves the machine.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use meldeweg_workers::message::{InboundMessage, MediaRef, ReplyIntent};

use super::client::{SendError, PAIR_RATE_LIMIT, WINDOW_CLOSED};
use super::render::{render, template, window_open, Address, Body};
use super::{translate, Mode, WhatsApp};
use crate::pipeline::channel::{Delivery, DeliveryError, MediaError, MessageSource, ReplySender, Sent};
use crate::time::now_ms;

impl MessageSource for WhatsApp {
    fn read(&self, stored: &[u8]) -> Result<InboundMessage, String> {
        translate::read(stored)
    }

    fn fetch_photo<'a>(&'a self, media: &'a MediaRef, max_bytes: usize) -> BoxFuture<'a, Result<Bytes, MediaError>> {
        Box::pin(async move {
            let bytes = match &self.mode {
                Mode::Cloud(client) => client.download_media(&media.id, max_bytes).await?,
                Mode::Sandbox(uploads) => uploads.take(&media.id, max_bytes)?,
            };
            super::media::check_announced(bytes, media.sha256.as_deref()).await
        })
    }
}

impl ReplySender for WhatsApp {
    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, Result<Sent, DeliveryError>> {
        Box::pin(self.send(delivery))
    }
}

/// A reply that found the window closed and has no template.
fn outside_window(reply: &ReplyIntent) -> DeliveryError {
    if !reply.answers_conversation {
        tracing::warn!(message = %reply.name, "an update missed its citizen outside the 24-hour window: register a template for it");
    }
    DeliveryError::Undeliverable {
        code: Some(WINDOW_CLOSED),
        reason: "outside the 24-hour window and no template is configured for this message".into(),
    }
}

impl WhatsApp {
    /// The template that stands in for `reply` outside the window, if one is configured.
    fn stand_in(&self, reply: &ReplyIntent) -> Option<Body> {
        template(reply, &self.templates)
    }

    async fn send(&self, delivery: Delivery<'_>) -> Result<Sent, DeliveryError> {
        let reply = delivery.reply;
        let open =
            !delivery.window_closed && delivery.to.last_message_at.is_some_and(|last| window_open(last, now_ms()));
        let body = match open {
            true => render(reply, &self.public_base),
            false => self.stand_in(reply).ok_or_else(|| outside_window(reply))?,
        };
        let client = match &self.mode {
            Mode::Sandbox(_) => {
                let provider_id = Some(format!("sandbox.{}", delivery.outbox_id));
                return Ok(Sent { provider_id, outside_window: body.is_template() });
            }
            Mode::Cloud(client) => client,
        };
        let address = match (&delivery.to.phone, &delivery.to.account) {
            (Some(phone), _) => Address::Phone(phone.clone()),
            (None, Some(user_id)) => Address::UserId(user_id.clone()),
            (None, None) => {
                return Err(DeliveryError::Undeliverable { code: None, reason: "the reporter has no address".into() })
            }
        };
        let mut templated = body.is_template();
        let mut result = client.send(&body.to_cloud_json(&address)).await;
        if let (Err(SendError::WindowClosed { .. }), false) = (&result, templated) {
            if let Some(stand_in) = self.stand_in(reply) {
                templated = true;
                result = client.send(&stand_in.to_cloud_json(&address)).await;
            }
        }
        match result {
            Ok(provider_id) => Ok(Sent { provider_id, outside_window: templated }),
            Err(SendError::WindowClosed { .. }) => Err(outside_window(reply)),
            Err(SendError::Permanent { code, detail }) => Err(DeliveryError::Refused { code, detail }),
            Err(SendError::Transient { code, detail, retry_after }) => {
                let retry_after = match code {
                    // Per-user pair limit: Meta asks for 4^n seconds.
                    Some(PAIR_RATE_LIMIT) => Some(Duration::from_secs(4u64.saturating_pow(delivery.attempt.min(8)))),
                    _ => retry_after,
                };
                Err(DeliveryError::Transient { code, detail, retry_after })
            }
        }
    }
}
