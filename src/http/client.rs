//! Who is asking, for rate limits (staff logins, the public web form): the peer's address, or
//! behind a reverse proxy listed in `http.trusted_proxies`, the last address in
//! `X-Forwarded-For` that is not one of those proxies (earlier entries can be forged by the
//! client). Callers keep only a keyed hash of it.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

pub fn address(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if trusted.contains(&peer.ip()) {
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        if let Some(client) = hops.iter().rev().find(|hop| !trusted.contains(hop)) {
            return client.to_string();
        }
    }
    peer.ip().to_string()
}
