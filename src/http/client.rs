//! Who is asking, for rate limits (staff logins, the public web form): the peer's address, or
//! behind a reverse proxy listed in `http.trusted_proxies`, the last address in
//! `X-Forwarded-For` that is not one of those proxies (earlier entries can be forged by the
//! client). Callers keep only a keyed hash of it, and count by `connection_of` it.

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

/// The part of an address that stands for one connection: IPv4 whole, IPv6 by its /64 (one
/// household or phone gets a whole /64).
pub fn connection_of(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::connection_of;

    #[test]
    fn an_ipv6_connection_is_its_64_and_ipv4_its_address() {
        assert_eq!(connection_of("2001:db8:1:2:aaaa::1"), connection_of("2001:db8:1:2:ffff::9"));
        assert_ne!(connection_of("2001:db8:1:2::1"), connection_of("2001:db8:1:3::1"));
        assert_eq!(connection_of("192.0.2.7"), "192.0.2.7");
        assert_eq!(connection_of("unknown"), "unknown");
    }
}
