//! The core's view of a channel, and the one place that finds a channel by its name.
//!
//! A channel whose messages wait in the inbox for the queue is a `MessageSource`: it reads a
//! message it stored back as the core's `InboundMessage` and hands over the photos its messages
//! announced. A channel that can tell citizens something is a `ReplySender`: it renders a reply
//! intent in its own format, within its own limits, and sends it. A channel that reaches other
//! bodies registers a `Forwarder` for each: reports routed to that body are handed over and
//! followed. Channels register these at
//! start-up (`channels::register`); the pipeline looks them up by the name stored with every
//! message, reporter and report, and never names one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use meldeweg_workers::conversation::Lang;
use meldeweg_workers::message::{InboundMessage, MediaRef, ReplyIntent};

/// A channel whose messages are stored first and taken through the dialogue by the queue.
pub trait MessageSource: Send + Sync {
    /// A message this channel stored in the inbox (its own raw form), as the core reads it; the
    /// reason when it cannot be read.
    fn read(&self, stored: &[u8]) -> Result<InboundMessage, String>;

    /// The bytes of a file one of its messages announced, at most `max_bytes` (checked against
    /// the checksum the message announced, if any).
    fn fetch_photo<'a>(&'a self, media: &'a MediaRef, max_bytes: usize) -> BoxFuture<'a, Result<Bytes, MediaError>>;
}

/// A channel that delivers replies to citizens.
pub trait ReplySender: Send + Sync {
    /// Renders and sends one reply.
    fn deliver<'a>(&'a self, delivery: Delivery<'a>) -> BoxFuture<'a, Result<Sent, DeliveryError>>;
}

/// A body that takes reports in (another authority, a utility) and answers how they stand:
/// forwarded reports are handed to it and followed until it closes them.
pub trait Forwarder: Send + Sync {
    /// Hands `report` over; the body's id for it.
    fn forward<'a>(&'a self, report: &'a Handover) -> BoxFuture<'a, Result<String, ForwardError>>;
    /// How the report with the body's id `remote_id` stands there.
    fn state<'a>(&'a self, remote_id: &'a str) -> BoxFuture<'a, Result<RemoteState, ForwardError>>;
    /// How often to look.
    fn follow_every(&self) -> Duration;
}

/// What a body is given of a report: nothing of the citizen.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    pub reference: String,
    pub category: meldeweg_workers::category::Category,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub description: Option<String>,
    /// The address of the report's public photo copy, once published.
    pub photo_url: Option<String>,
}

/// How a forwarded report stands at the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteState {
    pub closed: bool,
    pub notes: Option<String>,
}

/// Why a hand-over or a look did not work.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The body refused it for good (its reason): it is not tried again.
    #[error("refused: {0}")]
    Refused(String),
    /// The body cannot be reached or is busy: tried again later.
    #[error("temporary failure: {0}")]
    Transient(String),
}

/// Why a photo could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The channel no longer has it, or refuses it for good, or it arrived damaged.
    #[error("not available: {0}")]
    Gone(String),
    #[error("larger than {max} bytes")]
    TooLarge { max: usize },
}

/// One reply on its way to one citizen.
pub struct Delivery<'a> {
    /// The outbox row, for channels that name what they send after it.
    pub outbox_id: i64,
    pub reply: &'a ReplyIntent,
    pub to: &'a Recipient,
    pub lang: Lang,
    /// The channel said earlier that the citizen's reply window had closed for this message:
    /// send it in the channel's form for that, if it has one.
    pub window_closed: bool,
    /// 1 on the first try.
    pub attempt: u32,
}

/// Where a reply goes, opened from its sealed form only to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub phone: Option<String>,
    /// The channel's own address for the person (an account id, an e-mail address).
    pub account: Option<String>,
    /// When the citizen last wrote, Unix milliseconds (channels that allow replies only for a
    /// while after that need it).
    pub last_message_at: Option<i64>,
}

/// A reply the channel took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The channel's id for what it sent, when it gave one (its delivery receipts name it).
    pub provider_id: Option<String>,
    /// It went out in the channel's form for a closed reply window (a pre-approved template),
    /// so a later report that the window was closed needs no second try.
    pub outside_window: bool,
}

/// Why a reply was not sent.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// It cannot be sent at all (no address, outside the reply window with no form for that).
    #[error("undeliverable: {reason}")]
    Undeliverable { code: Option<i64>, reason: String },
    /// The channel refused it for good.
    #[error("refused ({}): {detail}", code.map_or("no code".to_string(), |c| c.to_string()))]
    Refused { code: Option<i64>, detail: String },
    /// Try again: after `retry_after` if the channel asked for it, else after the queue's backoff.
    #[error("temporary failure ({}): {detail}", code.map_or("no code".to_string(), |c| c.to_string()))]
    Transient { code: Option<i64>, detail: String, retry_after: Option<Duration> },
}

/// The channels, by name.
#[derive(Default, Clone)]
pub struct Channels {
    sources: BTreeMap<&'static str, Arc<dyn MessageSource>>,
    senders: BTreeMap<&'static str, Arc<dyn ReplySender>>,
    /// By the body's name, as routing's `forward_to` names it.
    forwarders: BTreeMap<String, Arc<dyn Forwarder>>,
}

impl Channels {
    /// Registers the channel `name`'s stored messages.
    pub fn add_source(&mut self, name: &'static str, source: Arc<dyn MessageSource>) {
        self.sources.insert(name, source);
    }

    /// Registers the channel `name`'s replies.
    pub fn add_sender(&mut self, name: &'static str, sender: Arc<dyn ReplySender>) {
        self.senders.insert(name, sender);
    }

    pub fn source(&self, name: &str) -> Option<&dyn MessageSource> {
        self.sources.get(name).map(Arc::as_ref)
    }

    pub fn sender(&self, name: &str) -> Option<&dyn ReplySender> {
        self.senders.get(name).map(Arc::as_ref)
    }

    /// Registers where reports forwarded to `body` are handed over.
    pub fn add_forwarder(&mut self, body: String, forwarder: Arc<dyn Forwarder>) {
        self.forwarders.insert(body, forwarder);
    }

    pub fn forwarder(&self, body: &str) -> Option<&dyn Forwarder> {
        self.forwarders.get(body).map(Arc::as_ref)
    }
}
