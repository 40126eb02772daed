//! Personal data at rest (PRIVACY P6): sealing with XChaCha20-Poly1305 and keyed lookup hashes.
//!
//! A reporter's number, WhatsApp user id, a web-form e-mail address and the raw inbound payloads
//! are stored only sealed; they are found again by an HMAC-SHA256 of the identity, so the
//! database never holds them in clear. Both keys derive from one master key. Nothing here logs
//! or formats plaintext.
//!
//! Keys rotate: every sealed value starts with its key's id (1 to 255, written `id:key`; a key
//! without an id is key 1). The vault seals with the current key and opens with it or any old
//! key it was given; `meldeweg keys rotate` (db::rotation) re-seals everything with the current
//! key and recomputes the lookup hashes, after which the old keys can go.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The id of a key written without one.
const DEFAULT_KEY_ID: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key must be 32 bytes, written as base64 or 64 hex digits, optionally after an id 1-255 and a colon")]
    BadKey,
    #[error("two encryption keys have the id {0}: give each key its own id (id:key)")]
    DuplicateKeyId(u8),
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("a sealed value is damaged or was sealed with another key")]
    Unseal,
}

/// Seals and opens personal data, and computes lookup hashes.
#[derive(Clone)]
pub struct Vault {
    /// The key that seals, with its id.
    current: (u8, XChaCha20Poly1305),
    /// Keys that only open (values sealed before a rotation).
    old: Vec<(u8, XChaCha20Poly1305)>,
    lookup_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// A vault from a master key written as base64 or hex, optionally as `id:key`.
    pub fn from_key_text(text: &str) -> Result<Self, CryptoError> {
        let (id, master) = parse_key(text)?;
        Ok(Self::from_master(id, &master))
    }

    /// A vault that seals with `current` and also opens values sealed with any of `old`
    /// (comma-separated, each `id:key`), during a key rotation.
    pub fn with_old_keys(current: &str, old: &str) -> Result<Self, CryptoError> {
        let mut vault = Self::from_key_text(current)?;
        for text in old.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (id, master) = parse_key(text)?;
            if id == vault.current.0 || vault.old.iter().any(|(old, _)| *old == id) {
                return Err(CryptoError::DuplicateKeyId(id));
            }
            vault.old.push((id, cipher(&master)));
        }
        Ok(vault)
    }

    /// The id of the key that seals.
    pub fn key_id(&self) -> u8 {
        self.current.0
    }

    /// Whether `sealed` was sealed with another key than the current one.
    pub fn needs_resealing(&self, sealed: &[u8]) -> bool {
        sealed.first().is_some_and(|id| *id != self.current.0)
    }

    /// Reads the key file, creating it with a fresh random key (mode 0600) if it does not exist.
    /// Used only in sandbox mode, where no key is configured.
    pub fn from_key_file(path: &Path) -> Result<Self, CryptoError> {
        let file_error = |source| CryptoError::KeyFile { path: path.display().to_string(), source };
        if !path.exists() {
            let text = generate_key();
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

    fn from_master(id: u8, master: &[u8; 32]) -> Self {
        Self { current: (id, cipher(master)), old: Vec::new(), lookup_key: derive(master, b"meldeweg lookup v1") }
    }

    /// Encrypts `plaintext`: key id, random 24-byte nonce, ciphertext with tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .1
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(self.current.0);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN {
            return Err(CryptoError::Unseal);
        }
        let cipher = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|(id, _)| *id == sealed[0])
            .map(|(_, cipher)| cipher)
            .ok_or(CryptoError::Unseal)?;
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| CryptoError::Unseal)
    }

    pub fn open_string(&self, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| CryptoError::Unseal)
    }

    /// What is stored of a WhatsApp message id (`wamid.…`): Meta's ids encode the number they
    /// belong to, so only a keyed hash of them is kept, for de-duplication and delivery statuses.
    pub fn message_id_hash(&self, id: &str) -> String {
        format!("h:{}", self.lookup_hash("wamid", id))
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

/// `id:key` or `key` (id 1): the id and the 32-byte master key.
fn parse_key(text: &str) -> Result<(u8, [u8; 32]), CryptoError> {
    let text = text.trim();
    let (id, key) = match text.split_once(':') {
        Some((id, key)) => (id.trim().parse::<u8>().ok().filter(|id| *id > 0).ok_or(CryptoError::BadKey)?, key.trim()),
        None => (DEFAULT_KEY_ID, text),
    };
    let bytes = if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(key).map_err(|_| CryptoError::BadKey)?
    } else {
        base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| CryptoError::BadKey)?
    };
    Ok((id, bytes.try_into().map_err(|_| CryptoError::BadKey)?))
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn cipher(master: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&derive(master, b"meldeweg seal v1").into())
}

/// A fresh random master key as base64, for `meldeweg keys generate`.
pub fn generate_key() -> String {
    let mut master = [0u8; 32];
    rand::rng().fill_bytes(&mut master);
    base64::engine::general_purpose::STANDARD.encode(master)
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
    fn values_sealed_with_an_old_key_open_during_a_rotation_and_new_ones_use_the_new_key() {
        let old = Vault::from_key_text(KEY).unwrap();
        let sealed = old.seal(b"4915112345678");
        let new_key = format!("2:{}", "ab".repeat(32));
        let rotating = Vault::with_old_keys(&new_key, KEY).unwrap();
        assert_eq!(rotating.open(&sealed).unwrap(), b"4915112345678");
        assert!(rotating.needs_resealing(&sealed));
        let resealed = rotating.seal(b"4915112345678");
        assert_eq!(resealed[0], 2);
        assert!(!rotating.needs_resealing(&resealed));
        let after = Vault::from_key_text(&new_key).unwrap();
        assert!(after.open(&sealed).is_err(), "without the old key the old value stays closed");
        assert_eq!(after.open(&resealed).unwrap(), b"4915112345678");
        assert!(matches!(Vault::with_old_keys(KEY, KEY), Err(CryptoError::DuplicateKeyId(1))));
        assert!(Vault::from_key_text(&format!("0:{KEY}")).is_err());
        assert!(Vault::from_key_text(&format!("256:{KEY}")).is_err());
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
