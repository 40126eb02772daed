//! Open311 GeoReport v2 (issue 24): the API town apps, FixMyStreet and county back-offices
//! report into, at `/open311/v2/…`, in XML and JSON. In: `POST requests` (form-encoded, or
//! multipart with a photo: `body`), a whole report taken through the same intake as the web form, by a system holding an API key
//! (`keys`). Out: the services (the categories), the reports as service requests and their
//! status changes (`requests`), never anything of the citizen. Answers and errors are written
//! as the spec says (`format`).

pub mod body;
pub mod format;
pub mod keys;
pub mod requests;
mod server;
mod services;
pub mod submit;

use serde::Deserialize;

use super::{ChannelError, Entrance, Link, Parts, Routes};
use crate::config::{invalid, ConfigError, Settings};
use crate::pipeline::Channels;

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
}

impl Default for Open311Settings {
    fn default() -> Self {
        Self {
            jurisdiction_id: String::new(),
            requests_per_minute: 60,
            contact: String::new(),
            media_plain_hosts: Vec::new(),
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
    Ok(())
}

fn is_host_and_port(text: &str) -> bool {
    text.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// Open311 has no replies of its own: clients read the state of their requests.
pub fn register(parts: &Parts, _channels: &mut Channels) -> Result<Routes, ChannelError> {
    let section: Open311Settings = parts.settings.channels.section(SECTION)?;
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
