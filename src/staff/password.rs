//! Passwords: argon2id with the crate's recommended parameters (19 MiB, 2 passes), each with
//! its own random salt. Hashing runs on the blocking pool, so a login never stalls the server.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

/// Shortest password accepted for a staff account.
pub const MIN_LENGTH: usize = 10;
/// Longest password hashed (longer input only costs time).
pub const MAX_LENGTH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password may have at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Checks a new password against the rules and hashes it.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash (a malformed hash matches nothing).
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash of no password, verified against when the account does not exist, so a login takes
/// as long for an unknown address as for a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy-password-never-used").expect("the decoy password follows the rules"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_others_do_not() {
        let stored = hash("Schlagloch-2026").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("Schlagloch-2026", &stored));
        assert!(!verify("schlagloch-2026", &stored));
        assert!(!verify("Schlagloch-2026", "not a hash"));
        assert_ne!(hash("Schlagloch-2026").unwrap(), stored, "every hash has its own salt");
    }

    #[test]
    fn short_and_overlong_passwords_are_refused() {
        assert!(matches!(hash("kurz"), Err(PasswordError::TooShort)));
        assert!(matches!(hash(&"x".repeat(MAX_LENGTH + 1)), Err(PasswordError::TooLong)));
    }
}
