//! Webhook authentication, checked on the raw body before anything is parsed.
//!
//! Meta signs each POST with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with
//! the app secret>`. Some EU providers send a shared secret in a header instead. Both are
//! compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks Meta's signature header against the body.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret).expect("any key length");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Meta's signature header value for `body` (the sandbox and tests sign what they inject).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Constant-time comparison of a presented secret with the expected one.
pub fn secrets_match(presented: &str, expected: &str) -> bool {
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correct_signature_verifies_and_any_change_does_not() {
        let header = sign(b"secret", b"{\"a\":1}");
        assert_eq!(verify(b"secret", b"{\"a\":1}", Some(&header)), Ok(()));
        assert_eq!(verify(b"secret", b"{\"a\":2}", Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", b"{\"a\":1}", Some(&header)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        assert_eq!(verify(b"s", b"x", None), Err(SignatureError::Missing));
        assert_eq!(verify(b"s", b"x", Some("md5=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify(b"s", b"x", Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify(b"s", b"x", Some("sha256=abcd")), Err(SignatureError::Mismatch));
    }

    #[test]
    fn secrets_are_compared_exactly() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("ab", "abc"));
    }
}
