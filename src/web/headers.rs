//! Security headers on every answer of the main address, pages and APIs alike: scripts,
//! styles and frames only from this server (no inline script or style anywhere), images also
//! from a map tile server if the municipality configured one and, for the sandbox's photo previews, `blob:`; never
//! framed; no type sniffing; no address of a page (a status page's link is its key) sent to
//! another server; of the browser's powers only the position, for the web form's "use my
//! location".

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;

/// The content security policy for a map tile URL such as `https://tile.example/{z}/{x}/{y}.png`.
fn policy(tile_url: &str) -> String {
    let tiles = reqwest::Url::parse(&tile_url.replace(['{', '}'], ""))
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    let images = if tiles.is_empty() { String::new() } else { format!(" {tiles}") };
    format!(
        "default-src 'self'; img-src 'self' data: blob:{images}; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

const PERMISSIONS: &str = "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), interest-cohort=()";

/// `router` with the headers set on every response.
pub fn on_every_answer(router: Router, tile_url: &str) -> Router {
    let csp = HeaderValue::from_str(&policy(tile_url)).unwrap_or(HeaderValue::from_static("default-src 'self'"));
    router.layer(axum::middleware::map_response(move |mut response: Response| {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS));
        std::future::ready(response)
    }))
}

#[cfg(test)]
mod tests {
    use super::policy;

    #[test]
    fn the_policy_names_the_tile_server_and_nothing_inline() {
        let csp = policy("https://tiles.example.org/{z}/{x}/{y}.png");
        assert!(csp.contains("img-src 'self' data: blob: https://tiles.example.org;"), "{csp}");
        assert!(csp.starts_with("default-src 'self';") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let own = policy("");
        assert!(own.contains("img-src 'self' data: blob:; object-src"), "no tile server by default: {own}");
    }
}
