//! The Cloud API client: POSTs a message and sorts failures into retry-later, window-closed
//! and give-up, by HTTP status and Graph error code (the error codes in docs/architecture.md, "WhatsApp"); and
//! downloads media (GET the media object, then its short-lived URL, with a size cap).
//!
//! Base URL, path and auth header come from configuration so an EU provider can sit in
//! between (P1). The token is never logged; error details are Meta's text, not message text.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use reqwest::header::{HeaderName, HeaderValue, RETRY_AFTER};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use super::settings::WhatsAppSettings;
use crate::pipeline::channel::MediaError;

/// Graph error codes worth retrying: throttling, temporary errors, per-user pair limit.
const TRANSIENT_CODES: &[i64] = &[1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004];
/// Codes that mean the token or permissions are wrong: retried so an admin can fix the
/// configuration before the messages are given up.
const CONFIGURATION_CODES: &[i64] = &[10, 190, 200];
/// The 24-hour customer service window has closed.
pub const WINDOW_CLOSED: i64 = 131047;
/// Too many messages to the same user in a short time: back off 4^n seconds.
pub const PAIR_RATE_LIMIT: i64 = 131056;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("whatsapp client: {0}")]
    Setup(String),
}

#[derive(Debug, Deserialize)]
struct MediaObject {
    url: String,
    /// Meta sends the size as a string; some providers as a number.
    #[serde(default)]
    file_size: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure ({}): {detail}", code.map_or("no code".to_string(), |c| c.to_string()))]
    Transient { code: Option<i64>, detail: String, retry_after: Option<Duration> },
    #[error("the 24-hour window is closed: {detail}")]
    WindowClosed { detail: String },
    #[error("refused ({}): {detail}", code.map_or("no code".to_string(), |c| c.to_string()))]
    Permanent { code: Option<i64>, detail: String },
}

/// Cheap to clone: the HTTP client and the addresses are shared.
#[derive(Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    endpoints: Arc<Endpoints>,
}

struct Endpoints {
    messages_url: reqwest::Url,
    /// The media object URL with `{media_id}` still in it.
    media_url: String,
    /// The API's own origin (`scheme://host:port`): media may come from it over plain HTTP.
    api_origin: String,
    /// Other hosts a media file may be fetched from, over HTTPS (`*.` for subdomains).
    media_hosts: Vec<String>,
    auth_header: HeaderName,
    auth_value: HeaderValue,
}

impl Endpoints {
    /// Whether a media file at `url` may be fetched with the token.
    fn may_fetch_from(&self, url: &reqwest::Url) -> bool {
        if url.origin().ascii_serialization() == self.api_origin {
            return true;
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { return false };
        url.scheme() == "https"
            && self.media_hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
                Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.')),
                None => *allowed == host,
            })
    }
}

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    #[serde(default)]
    is_transient: bool,
}

impl CloudClient {
    pub fn new(settings: &WhatsAppSettings) -> Result<Self, ClientError> {
        let path = settings
            .messages_path
            .replace("{version}", &settings.api_version)
            .replace("{phone_number_id}", &settings.phone_number_id);
        let base = settings.api_base_url.trim_end_matches('/');
        let messages_url = reqwest::Url::parse(&format!("{base}{path}"))
            .map_err(|e| ClientError::Setup(format!("messages URL: {e}")))?;
        let media_url = format!("{base}{}", settings.media_path.replace("{version}", &settings.api_version));
        let api_origin = reqwest::Url::parse(base)
            .map_err(|e| ClientError::Setup(format!("API base URL: {e}")))?
            .origin()
            .ascii_serialization();
        let token = settings.access_token.expose_secret();
        let value = match settings.auth_scheme.as_str() {
            "" => token.to_string(),
            scheme => format!("{scheme} {token}"),
        };
        let mut auth_value = HeaderValue::from_str(&value)
            .map_err(|_| ClientError::Setup("the access token is not a valid header value".into()))?;
        auth_value.set_sensitive(true);
        let auth_header =
            settings.auth_header.parse().map_err(|_| ClientError::Setup("auth_header is not a header name".into()))?;
        // Redirects stay on the host they start from: the auth header must not travel further.
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            let same_host =
                attempt.previous().first().is_some_and(|first| first.host_str() == attempt.url().host_str());
            if attempt.previous().len() > 3 || !same_host {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .connect_timeout(Duration::from_secs(settings.timeout_seconds.min(5)))
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            endpoints: Arc::new(Endpoints {
                messages_url,
                media_url,
                api_origin,
                media_hosts: settings.media_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                auth_header,
                auth_value,
            }),
        })
    }

    /// Sends one message; returns WhatsApp's message id if it gave one.
    pub async fn send(&self, message: &Value) -> Result<Option<String>, SendError> {
        let response = self
            .http
            .post(self.endpoints.messages_url.clone())
            .header(self.endpoints.auth_header.clone(), self.endpoints.auth_value.clone())
            .json(message)
            .send()
            .await
            .map_err(|e| SendError::Transient {
                code: None,
                detail: format!("request failed: {}", without_url(e)),
                retry_after: None,
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(|e| SendError::Transient {
            code: None,
            detail: format!("reading the response failed: {}", without_url(e)),
            retry_after,
        })?;
        if status.is_success() {
            let sent: Option<SendResponse> = serde_json::from_slice(&body).ok();
            return Ok(sent.and_then(|s| s.messages.into_iter().next()).map(|m| m.id));
        }
        let graph = serde_json::from_slice::<GraphErrorBody>(&body).ok().map(|b| b.error);
        Err(classify(status.as_u16(), graph, retry_after))
    }
}

impl CloudClient {
    /// Downloads a media file by id: the media object names a short-lived URL, which is
    /// fetched with the same token. Stops reading once `max_bytes` is exceeded.
    pub async fn download_media(&self, media_id: &str, max_bytes: usize) -> Result<Bytes, MediaError> {
        // Media ids are Graph ids; anything else must not reach other API paths with our token.
        if media_id.is_empty() || !media_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(MediaError::Gone("the media id is not a Graph id".into()));
        }
        let object_url = reqwest::Url::parse(&self.endpoints.media_url.replace("{media_id}", media_id))
            .map_err(|e| MediaError::Gone(format!("media id gives no URL: {e}")))?;
        let response = self.get(object_url).await?;
        let body = read_capped(response, 64 * 1024).await?;
        let object: MediaObject = serde_json::from_slice(&body)
            .map_err(|e| MediaError::Transient(format!("unreadable media object: {e}")))?;
        let announced = object.file_size.as_ref().and_then(|v| match v {
            Value::String(s) => s.parse::<u64>().ok(),
            other => other.as_u64(),
        });
        if announced.is_some_and(|size| size > max_bytes as u64) {
            return Err(MediaError::TooLarge { max: max_bytes });
        }
        // The token goes with the download: only to the configured API itself, or over HTTPS to
        // a host the configuration names (Meta's media host by default).
        let file_url = reqwest::Url::parse(&object.url)
            .ok()
            .filter(|u| self.endpoints.may_fetch_from(u))
            .ok_or_else(|| MediaError::Gone("the media object names a host the token may not go to".into()))?;
        let response = self.get(file_url).await?;
        read_capped(response, max_bytes).await
    }

    async fn get(&self, url: reqwest::Url) -> Result<reqwest::Response, MediaError> {
        let response = self
            .http
            .get(url)
            .header(self.endpoints.auth_header.clone(), self.endpoints.auth_value.clone())
            .send()
            .await
            .map_err(|e| MediaError::Transient(format!("request failed: {}", without_url(e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 401 || status.as_u16() == 403 {
            // Throttling, Meta's trouble, or a token an admin can still fix.
            return Err(MediaError::Transient(format!("HTTP {status}")));
        }
        Err(MediaError::Gone(format!("HTTP {status}")))
    }
}

/// Reads a response body, giving up as soon as it grows past `max_bytes`.
async fn read_capped(mut response: reqwest::Response, max_bytes: usize) -> Result<Bytes, MediaError> {
    if response.content_length().is_some_and(|length| length > max_bytes as u64) {
        return Err(MediaError::TooLarge { max: max_bytes });
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| MediaError::Transient(format!("download broke off: {}", without_url(e))))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(MediaError::TooLarge { max: max_bytes });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn classify(status: u16, graph: Option<GraphError>, retry_after: Option<Duration>) -> SendError {
    let code = graph.as_ref().and_then(|g| g.code);
    let detail = match &graph {
        Some(g) if !g.message.is_empty() => format!("HTTP {status}: {}", g.message),
        _ => format!("HTTP {status}"),
    };
    let transient_flag = graph.as_ref().is_some_and(|g| g.is_transient);
    match code {
        Some(WINDOW_CLOSED) => SendError::WindowClosed { detail },
        Some(c) if TRANSIENT_CODES.contains(&c) || CONFIGURATION_CODES.contains(&c) || transient_flag => {
            SendError::Transient { code, detail, retry_after }
        }
        // A Graph error code says more than the HTTP status: any other code is final.
        Some(_) => SendError::Permanent { code, detail },
        None if status == 429 || status >= 500 || status == 401 || status == 403 => {
            SendError::Transient { code, detail, retry_after }
        }
        None => SendError::Permanent { code, detail },
    }
}

/// reqwest errors include the URL; ours carries no secret, but keep logs short and uniform.
fn without_url(error: reqwest::Error) -> String {
    error.without_url().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(code: i64) -> Option<GraphError> {
        Some(GraphError { message: "m".into(), code: Some(code), is_transient: false })
    }

    #[test]
    fn the_token_goes_only_to_the_api_and_the_named_media_hosts() {
        let endpoints = Endpoints {
            messages_url: reqwest::Url::parse("https://graph.facebook.com/v23.0/1/messages").unwrap(),
            media_url: "https://graph.facebook.com/v23.0/{media_id}".into(),
            api_origin: "https://graph.facebook.com".into(),
            media_hosts: vec!["lookaside.fbsbx.com".into(), "*.cdn.example".into()],
            auth_header: HeaderName::from_static("authorization"),
            auth_value: HeaderValue::from_static("Bearer t"),
        };
        let may = |url: &str| endpoints.may_fetch_from(&reqwest::Url::parse(url).unwrap());
        assert!(may("https://graph.facebook.com/files/1"));
        assert!(may("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"));
        assert!(may("https://eu.cdn.example/x.jpg"));
        assert!(!may("http://lookaside.fbsbx.com/x"), "not over plain HTTP");
        assert!(!may("https://evil.example/x"));
        assert!(!may("https://lookaside.fbsbx.com.evil.example/x"));
        assert!(!may("https://evilcdn.example/x"), "a wildcard takes subdomains only");
        assert!(!may("https://cdn.example/x"));
    }

    #[test]
    fn errors_are_sorted_by_code_before_status() {
        assert!(matches!(classify(400, graph(131047), None), SendError::WindowClosed { .. }));
        assert!(matches!(classify(400, graph(131056), None), SendError::Transient { .. }));
        assert!(matches!(classify(400, graph(130429), None), SendError::Transient { .. }));
        assert!(matches!(classify(400, graph(131026), None), SendError::Permanent { .. }));
        assert!(matches!(classify(400, graph(132001), None), SendError::Permanent { .. }));
        assert!(matches!(classify(400, graph(131008), None), SendError::Permanent { .. }));
        assert!(matches!(classify(500, graph(131026), None), SendError::Permanent { .. }));
    }

    #[test]
    fn status_codes_decide_when_there_is_no_graph_error() {
        assert!(matches!(classify(500, None, None), SendError::Transient { .. }));
        assert!(matches!(classify(503, None, None), SendError::Transient { .. }));
        assert!(matches!(classify(429, None, None), SendError::Transient { .. }));
        assert!(matches!(classify(400, None, None), SendError::Permanent { .. }));
        let flagged = Some(GraphError { message: String::new(), code: Some(9), is_transient: true });
        assert!(matches!(classify(400, flagged, None), SendError::Transient { .. }));
    }
}
