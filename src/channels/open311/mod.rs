//! Open311 GeoReport v2 (issue 24): the API town apps, FixMyStreet and county back-offices
//! report into, at `/open311/v2/…`, in XML and JSON. In: `POST requests` (form-encoded, or
//! multipart with a photo: `body`), a whole report taken through the same intake as the web form, by a system holding an API key
//! (`keys`). Out: the services (the categories), the reports as service requests and their
//! status changes (`requests`), never anything of the citizen. Answers and errors are written
//! as the spec says (`format`). And out to other bodies: reports routed to a body with an
//! Open311 endpoint are handed over and followed there (`client`, `[open311.partners.NAME]`).

pub mod body;
mod client;
pub mod format;
pub mod keys;
pub mod requests;
mod server;
mod services;
pub mod submit;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::{ChannelError, Entrance, Link, Parts, Routes};
use crate::config::{invalid, ConfigError, Settings};
use crate::pipeline::Channels;
use meldeweg_workers::category::Category;

/// The name Open311's reports are stored under.
pub const NAME: &str = "open311";

/// The configuration section.
pub const SECTION: &str = "open311";

/// `[open311]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Open311Settings {
    /// When set, every call must carry this `jurisdiction_id` (clients such as FixMyStreet send
    /// one on every call); empty: any or none is accepted.
    pub jurisdiction_id: String,
    /// Reports one key may post per minute.
    pub requests_per_minute: u32,
    /// Who answers questions about the endpoint (discovery's `contact`).
    pub contact: String,
    /// `host:port` of partners inside the town's network whose `media_url` is fetched over
    /// http and whatever its address; every other `media_url` only over https from a public
    /// address.
    pub media_plain_hosts: Vec<String>,
    /// Bodies reports are forwarded to that take them over Open311, by a name of our own.
    pub partners: BTreeMap<String, client::Partner>,
}

impl Default for Open311Settings {
    fn default() -> Self {
        Self {
            jurisdiction_id: String::new(),
            requests_per_minute: 60,
            contact: String::new(),
            media_plain_hosts: Vec::new(),
            partners: BTreeMap::new(),
        }
    }
}

/// Longest jurisdiction id.
const MAX_JURISDICTION: usize = 100;

pub fn check(settings: &Settings) -> Result<(), ConfigError> {
    let section: Open311Settings = settings.channels.section(SECTION)?;
    if section.jurisdiction_id.chars().count() > MAX_JURISDICTION {
        return Err(invalid("open311.jurisdiction_id", format!("at most {MAX_JURISDICTION} characters")));
    }
    if !(1..=10_000).contains(&section.requests_per_minute) {
        return Err(invalid("open311.requests_per_minute", "from 1 to 10000"));
    }
    if let Some(host) = section.media_plain_hosts.iter().find(|host| !is_host_and_port(host)) {
        return Err(invalid("open311.media_plain_hosts", format!("{host:?} is not host:port")));
    }
    for (name, partner) in &section.partners {
        let endpoint = partner.endpoint.as_str();
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(invalid("open311.partners", format!("{name}: the endpoint must be an http(s) address")));
        }
        if partner.api_key.is_empty() || partner.body.is_empty() {
            return Err(invalid("open311.partners", format!("{name}: body and api_key are needed")));
        }
        if let Some(category) = partner.services.keys().find(|id| Category::from_id(id).is_none()) {
            return Err(invalid("open311.partners", format!("{name}: there is no category {category:?}")));
        }
    }
    Ok(())
}

fn is_host_and_port(text: &str) -> bool {
    text.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// Open311 has no replies of its own (clients read the state of their requests); each partner
/// becomes the forwarder of its body.
pub fn register(parts: &Parts, channels: &mut Channels) -> Result<Routes, ChannelError> {
    let section: Open311Settings = parts.settings.channels.section(SECTION)?;
    for partner in section.partners.values() {
        let body = partner.body.clone();
        let client = client::Client::new(partner.clone()).map_err(|reason| invalid("open311.partners", reason))?;
        channels.add_forwarder(body, Arc::new(client));
    }
    let base = parts.settings.public_base().to_string();
    let uploads = parts.uploads.clone();
    let make = Box::new(move |pipeline: &std::sync::Arc<crate::pipeline::Pipeline>| {
        server::router(server::State {
            pipeline: pipeline.clone(),
            settings: section.clone(),
            base: base.clone(),
            uploads: uploads.clone(),
        })
    });
    let entrance = Entrance {
        title: "Open311".into(),
        text: "Für Apps und andere Verwaltungen: Meldungen über die Open311-Schnittstelle (GeoReport v2).".into(),
        link: Some(Link { href: "/open311/v2/discovery.xml".into(), label: "Schnittstelle".into() }),
    };
    Ok(Routes { make, entrance })
}
