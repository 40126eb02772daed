//! The other way round: reports routed to a body that runs an Open311 endpoint (a county, a
//! utility) are handed over to it (`POST requests.json`, with our category mapped to its
//! service code) and followed there (`GET requests/{id}.json`), configured per body in
//! `[open311.partners.NAME]`. What is sent: the report's place, category, the citizen's
//! description (for the body's staff, as for ours) and the public photo copy; nothing about
//! who reported it.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::channel::{ForwardError, Forwarder, Handover, RemoteState};

/// `[open311.partners.NAME]`: a body and its endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// The body's name exactly as routing.toml's `forward_to` gives it.
    pub body: String,
    /// The endpoint's base address, e.g. `https://open311.kreis.example/v2`.
    pub endpoint: String,
    pub api_key: String,
    #[serde(default)]
    pub jurisdiction_id: String,
    /// Our category id → their service code; a category without one is not handed over.
    pub services: BTreeMap<String, String>,
    /// How often a handed-over report is looked at, in seconds.
    #[serde(default = "default_follow_seconds")]
    pub follow_seconds: u64,
}

fn default_follow_seconds() -> u64 {
    900
}

/// How long one call to a partner may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Most bytes of a partner's answer read.
const MAX_ANSWER: usize = 256 * 1024;

pub struct Client {
    partner: Partner,
    http: reqwest::Client,
}

impl Client {
    pub fn new(partner: Partner) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self { partner, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.partner.endpoint.trim_end_matches('/'))
    }

    /// The answer's JSON; a refusal with the partner's own description for a 4xx, a passing
    /// failure for everything else that is not a success.
    async fn answer(response: Result<reqwest::Response, reqwest::Error>) -> Result<Value, ForwardError> {
        let mut response = response.map_err(|error| ForwardError::Transient(error.without_url().to_string()))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| ForwardError::Transient(error.to_string()))? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(ForwardError::Transient(format!("an answer of more than {MAX_ANSWER} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json);
        }
        let description: String =
            json[0]["description"].as_str().unwrap_or("no description").chars().take(300).collect();
        if status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 408 {
            Err(ForwardError::Refused(format!("{status}: {description}")))
        } else {
            Err(ForwardError::Transient(format!("{status}: {description}")))
        }
    }

    async fn forward_report(&self, report: &Handover) -> Result<String, ForwardError> {
        let code = self.partner.services.get(report.category.id()).ok_or_else(|| {
            ForwardError::Refused(format!("no service code of {} for {}", self.partner.body, report.category.id()))
        })?;
        let (lat, long) = (report.lat.to_string(), report.lon.to_string());
        let mut fields: Vec<(&str, &str)> =
            vec![("api_key", &self.partner.api_key), ("service_code", code), ("lat", &lat), ("long", &long)];
        if !self.partner.jurisdiction_id.is_empty() {
            fields.push(("jurisdiction_id", &self.partner.jurisdiction_id));
        }
        let description = match &report.description {
            Some(text) => format!("{text}\n\n(Meldung {} aus Meldeweg)", report.reference),
            None => format!("Meldung {} aus Meldeweg", report.reference),
        };
        fields.push(("description", &description));
        if let Some(address) = &report.address {
            fields.push(("address_string", address));
        }
        if let Some(url) = &report.photo_url {
            fields.push(("media_url", url));
        }
        let answer = Self::answer(self.http.post(self.url("requests.json")).form(&fields).send().await).await?;
        match answer[0]["service_request_id"].as_str().filter(|id| !id.is_empty() && id.len() <= 100) {
            Some(id) => Ok(id.to_string()),
            None => Err(ForwardError::Refused(format!("no service_request_id in the answer: {answer}"))),
        }
    }

    async fn request_state(&self, remote_id: &str) -> Result<RemoteState, ForwardError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if !self.partner.jurisdiction_id.is_empty() {
            query.push(("jurisdiction_id", &self.partner.jurisdiction_id));
        }
        let id: String =
            remote_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
        let answer =
            Self::answer(self.http.get(self.url(&format!("requests/{id}.json"))).query(&query).send().await).await?;
        let request = &answer[0];
        let closed = match request["status"].as_str() {
            Some("closed") => true,
            Some("open") => false,
            _ => return Err(ForwardError::Transient(format!("no status in the answer: {answer}"))),
        };
        let notes = request["status_notes"].as_str().map(|notes| notes.chars().take(500).collect());
        Ok(RemoteState { closed, notes })
    }
}

impl Forwarder for Client {
    fn forward<'a>(&'a self, report: &'a Handover) -> BoxFuture<'a, Result<String, ForwardError>> {
        self.forward_report(report).boxed()
    }

    fn state<'a>(&'a self, remote_id: &'a str) -> BoxFuture<'a, Result<RemoteState, ForwardError>> {
        self.request_state(remote_id).boxed()
    }

    fn follow_every(&self) -> Duration {
        Duration::from_secs(self.partner.follow_seconds.max(1))
    }
}
