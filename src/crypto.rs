//! Personal data at rest (PRIVACY.md P6): sealing with XChaCha20-Poly1305 and keyed lookup hashes.
//!
//! A reporter's number, WhatsApp user id and the raw inbound payloads are stored only sealed;
//! they are found again by an HMAC-SHA256 of the identity, so the database never holds them in
//! clear. Both keys derive from one master key. Nothing here logs or formats plaintext.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Sealed values start with this key id, so keys can be rotated later.
const KEY_ID: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key must be 32 bytes, written as base64 or 64 hex digits")]
    BadKey,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("a sealed value is damaged or was sealed with another key")]
    Unseal,
}

/// Seals and opens personal data, and computes lookup hashes.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
    lookup_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// A vault from a master key written as base64 or hex.
    pub fn from_key_text(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| CryptoError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| CryptoError::BadKey)?
        };
        let master: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::from_master(&master))
    }

    /// Reads the key file, creating it with a fresh random key (mode 0600) if it does not exist.
    /// Used only in sandbox mode, where no key is configured.
    pub fn from_key_file(path: &Path) -> Result<Self, CryptoError> {
        let file_error = |source| CryptoError::KeyFile { path: path.display().to_string(), source };
        if !path.exists() {
            let mut master = [0u8; 32];
            rand::rng().fill_bytes(&mut master);
            let text = base64::engine::general_purpose::STANDARD.encode(master);
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(file_error)?;
            file.write_all(text.as_bytes()).map_err(file_error)?;
        }
        let text = fs::read_to_string(path).map_err(file_error)?;
        Self::from_key_text(&text)
    }

    fn from_master(master: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let cipher = XChaCha20Poly1305::new(&derive(b"meldeweg seal v1").into());
        Self { cipher, lookup_key: derive(b"meldeweg lookup v1") }
    }

    /// Encrypts `plaintext`: key id, random 24-byte nonce, ciphertext with tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(KEY_ID);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != KEY_ID {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| CryptoError::Unseal)
    }

    pub fn open_string(&self, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| CryptoError::Unseal)
    }

    /// A keyed hash for finding a sealed value again (hex HMAC-SHA256 of `namespace:value`).
    pub fn lookup_hash(&self, namespace: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup_key).expect("any key length");
        mac.update(namespace.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn sealed_values_open_again_and_do_not_contain_the_plaintext() {
        let vault = Vault::from_key_text(KEY).unwrap();
        let sealed = vault.seal(b"4915112345678");
        assert!(!sealed.windows(13).any(|w| w == b"4915112345678"));
        assert_eq!(vault.open_string(&sealed).unwrap(), "4915112345678");
        assert_ne!(sealed, vault.seal(b"4915112345678"), "a fresh nonce every time");
    }

    #[test]
    fn tampering_or_another_key_is_detected() {
        let vault = Vault::from_key_text(KEY).unwrap();
        let mut sealed = vault.seal(b"secret");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(vault.open(&sealed).is_err());
        let other = Vault::from_key_text(&"ab".repeat(32)).unwrap();
        assert!(other.open(&vault.seal(b"secret")).is_err());
        assert!(vault.open(b"short").is_err());
    }

    #[test]
    fn lookup_hashes_are_stable_keyed_and_namespaced() {
        let vault = Vault::from_key_text(KEY).unwrap();
        let other = Vault::from_key_text(&"ab".repeat(32)).unwrap();
        assert_eq!(vault.lookup_hash("wa", "49151"), vault.lookup_hash("wa", "49151"));
        assert_ne!(vault.lookup_hash("wa", "49151"), other.lookup_hash("wa", "49151"));
        assert_ne!(vault.lookup_hash("wa", "49151"), vault.lookup_hash("user", "49151"));
    }

    #[test]
    fn keys_are_accepted_as_hex_or_base64_and_refused_otherwise() {
        let base64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(Vault::from_key_text(&base64).is_ok());
        assert!(Vault::from_key_text("too short").is_err());
        assert!(Vault::from_key_text(&"ab".repeat(31)).is_err());
    }

    #[test]
    fn a_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("meldeweg-key-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret.key");
        let _ = fs::remove_file(&path);
        let first = Vault::from_key_file(&path).unwrap();
        let second = Vault::from_key_file(&path).unwrap();
        assert_eq!(second.open(&first.seal(b"x")).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
