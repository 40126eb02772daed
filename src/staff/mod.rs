//! Staff: the people who work the orders (depot crews, dispatchers, managers, admins), how they
//! prove who they are (passwords, sessions, API tokens) and what they may do (`access`).
//!
//! Secrets are never stored as they are: passwords as argon2id hashes, session ids and API
//! tokens as SHA-256 hashes, failed logins as keyed hashes of account and address.

pub mod access;
pub mod accounts;
pub mod password;
pub mod sessions;
pub mod store;

use serde::Serialize;

pub use access::{Grant, Operation, Role};

/// Why something with an account did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// What an operator typed is not usable; the reason says why.
    #[error("{0}")]
    Invalid(String),
    #[error("there is already an account for {0}")]
    Exists(String),
    #[error("there is no account for {0}")]
    NotFound(String),
    #[error("account {id} has an unknown role {role:?}")]
    Corrupt { id: i64, role: String },
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// An e-mail address as a login name: trimmed, lower-case, one `@` with text on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let email = text.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@'));
        if valid {
            Ok(Self(email))
        } else {
            Err("enter an e-mail address like name@example.de")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A staff member as the rest of Meldeweg sees them once logged in.
#[derive(Debug, Clone, Serialize)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub depot: Option<String>,
    pub lang: String,
    pub disabled: bool,
}

impl StaffUser {
    pub fn grant(&self) -> Grant {
        Grant { role: self.role, depot: self.depot.clone() }
    }

    /// How events and corrections name this person.
    pub fn actor_label(&self) -> String {
        format!("staff:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_normalised_and_nonsense_is_refused() {
        assert_eq!(Email::parse("  Anna.Bauer@Musterstadt.DE ").unwrap().as_str(), "anna.bauer@musterstadt.de");
        for bad in ["", "anna", "@musterstadt.de", "anna@", "anna@localhost", "an na@x.de", "a@b@c.de"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@x.de", "a".repeat(260))).is_err());
    }
}
