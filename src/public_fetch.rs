//! Fetching a file another system names by its address (Open311's `media_url`), without letting
//! that address reach inside the town's network: only `https`, only hosts whose every address
//! is public (no loopback, private, link-local, shared, documentation or multicast range), the
//! connection pinned to the addresses checked (a second DNS answer cannot swap them), each
//! redirect checked the same way (at most three), the whole answer within a size and a time.
//! Hosts a municipality names in `plain_hosts` (`host:port`, a partner inside its network) are
//! reached over `http` whatever their address.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Url;

/// Most redirects followed.
const MAX_REDIRECTS: usize = 3;
/// Longest address taken.
pub const MAX_URL: usize = 2000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the address is not a URL")]
    NotAUrl,
    #[error("only https addresses are fetched")]
    NotHttps,
    #[error("the host {0} is not on the public internet")]
    NotPublic(String),
    #[error("the host cannot be found")]
    Unknown,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the server answered {0}")]
    Status(u16),
    /// Passing trouble (a timeout, a refused connection): worth another try later.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
}

/// Where fetching may go.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `host:port` pairs reached over http and whatever their address.
    pub plain_hosts: Vec<String>,
    pub max_bytes: usize,
}

/// Whether `ip` lies on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            if let Some(v4) = v6.to_ipv4().filter(|_| first == 0 && second == 0) {
                // IPv4-compatible (::a.b.c.d).
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || first == 0x2001 && (second == 0x0db8 || second == 0)
                || first == 0x2002
                || first == 0x0064 && (second == 0xff9b))
        }
    }
}

/// The URL and the addresses to connect to, if `text` may be fetched under `rules`.
async fn checked(text: &str, rules: &Rules) -> Result<(Url, Vec<SocketAddr>), FetchError> {
    if text.len() > MAX_URL {
        return Err(FetchError::NotAUrl);
    }
    let url = Url::parse(text).map_err(|_| FetchError::NotAUrl)?;
    let host = url.host_str().ok_or(FetchError::NotAUrl)?.to_string();
    let port = url.port_or_known_default().ok_or(FetchError::NotAUrl)?;
    let plain = rules.plain_hosts.iter().any(|allowed| *allowed == format!("{host}:{port}"));
    match url.scheme() {
        "https" => {}
        "http" if plain => {}
        _ => return Err(FetchError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::NotAUrl);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let lookup = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((bare, port)));
    let addresses: Vec<SocketAddr> = match lookup.await {
        Ok(Ok(found)) => found.collect(),
        Ok(Err(_)) => return Err(FetchError::Unknown),
        // A name server that does not answer is passing trouble.
        Err(_) => return Err(FetchError::Unreachable("the name server did not answer".into())),
    };
    if addresses.is_empty() {
        return Err(FetchError::Unknown);
    }
    if !plain && addresses.iter().any(|address| !is_public(address.ip())) {
        return Err(FetchError::NotPublic(host));
    }
    Ok((url, addresses))
}

/// Fetches `text` under `rules`: the file's bytes.
pub async fn fetch(text: &str, rules: &Rules) -> Result<Bytes, FetchError> {
    let mut next = text.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let (url, addresses) = checked(&next, rules).await?;
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        // No proxy: it would look the host up again itself, past the addresses checked here.
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .resolve_to_addrs(&host, &addresses)
            .build()
            .map_err(|error| FetchError::Unreachable(error.to_string()))?;
        let mut response =
            client.get(url.clone()).send().await.map_err(|error| FetchError::Unreachable(error.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or(FetchError::Status(status.as_u16()))?;
            next = url.join(location).map_err(|_| FetchError::NotAUrl)?.to_string();
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response.content_length().is_some_and(|length| length > rules.max_bytes as u64) {
            return Err(FetchError::TooLarge(rules.max_bytes));
        }
        let mut bytes = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| FetchError::Unreachable(error.to_string()))? {
            if bytes.len() + chunk.len() > rules.max_bytes {
                return Err(FetchError::TooLarge(rules.max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes.freeze());
    }
    Err(FetchError::TooManyRedirects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.178.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "64:ff9b:1::a00:1",
            "fec0::1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "::10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.215.14", "8.8.8.8", "2a00:1450:4001:82a::200e", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn addresses_that_break_a_rule_are_refused_before_any_connection() {
        let rules = Rules { plain_hosts: vec!["127.0.0.1:9".into()], max_bytes: 1000 };
        for (url, expected) in [
            ("http://example.org/a.jpg", FetchError::NotHttps),
            ("ftp://example.org/a.jpg", FetchError::NotHttps),
            ("file:///etc/passwd", FetchError::NotAUrl),
            ("kein url", FetchError::NotAUrl),
            ("https://127.0.0.1/a.jpg", FetchError::NotPublic("127.0.0.1".into())),
            ("https://[::1]/a.jpg", FetchError::NotPublic("[::1]".into())),
            ("https://169.254.169.254/latest/meta-data", FetchError::NotPublic("169.254.169.254".into())),
            ("https://10.0.0.1:8443/a.jpg", FetchError::NotPublic("10.0.0.1".into())),
            ("https://user:pw@93.184.215.14/a.jpg", FetchError::NotAUrl),
            ("http://127.0.0.1:10/a.jpg", FetchError::NotHttps),
        ] {
            assert_eq!(checked(url, &rules).await.map(drop), Err(expected), "{url}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL));
        assert_eq!(checked(&long, &rules).await.map(drop), Err(FetchError::NotAUrl));
        assert!(checked("http://127.0.0.1:9/a.jpg", &rules).await.is_ok(), "a named plain host");
    }
}
