//! Managing staff accounts and API tokens from the command line (`meldeweg user ...`,
//! `meldeweg token ...`): checked input in, one line of result out. Passwords are hashed here
//! and never printed; a new API token is shown once and stored only as its hash.

use sqlx::AnyConnection;

use super::store::{self as staff, NewUser};
use super::StaffError;
use super::{password, Email, Role};
use crate::secrets;
use crate::town::Municipality;

fn email(text: &str) -> Result<Email, StaffError> {
    Email::parse(text).map_err(|reason| StaffError::Invalid(format!("{text:?}: {reason}")))
}

/// Checks role, depot and language together: depot staff need a depot of the routing, other
/// roles have none.
pub fn grant(
    role: &str,
    depot: Option<&str>,
    lang: &str,
    municipality: &Municipality,
) -> Result<(Role, Option<String>), StaffError> {
    let role = Role::parse(role).ok_or_else(|| {
        StaffError::Invalid(format!("{role:?} is not a role; use depot, dispatcher, manager or admin"))
    })?;
    if !matches!(lang, "de" | "en") {
        return Err(StaffError::Invalid(format!("{lang:?} is not a language; use de or en")));
    }
    match (role, depot) {
        (Role::Depot, None) => Err(StaffError::Invalid("depot staff need --depot (a depot id of routing.toml)".into())),
        (Role::Depot, Some(id)) if municipality.depot(id).is_none() => {
            let ids: Vec<&str> = municipality.routing.depots().iter().map(|d| d.id.as_str()).collect();
            Err(StaffError::Invalid(format!("there is no depot {id:?}; one of {}", ids.join(", "))))
        }
        (Role::Depot, Some(id)) => Ok((role, Some(id.to_string()))),
        (_, Some(_)) => Err(StaffError::Invalid("only depot staff belong to a depot; leave out --depot".into())),
        (_, None) => Ok((role, None)),
    }
}

pub async fn add(
    conn: &mut AnyConnection,
    email_text: &str,
    (role, depot): (Role, Option<String>),
    lang: &str,
    password_text: &str,
    now_ms: i64,
) -> Result<String, StaffError> {
    let email = email(email_text)?;
    let hash = password::hash(password_text)?;
    let user = NewUser { email: &email, password_hash: &hash, role, depot: depot.as_deref(), lang };
    staff::insert(conn, user, now_ms).await?;
    Ok(format!("{} added as {}", email.as_str(), role.as_str()))
}

pub async fn set_disabled(
    conn: &mut AnyConnection,
    email_text: &str,
    disabled: bool,
    now_ms: i64,
) -> Result<String, StaffError> {
    let email = email(email_text)?;
    staff::set_disabled(conn, &email, disabled, now_ms).await?;
    Ok(format!("{} {}", email.as_str(), if disabled { "disabled; its sessions ended" } else { "enabled" }))
}

pub async fn reset(conn: &mut AnyConnection, email_text: &str, password_text: &str) -> Result<String, StaffError> {
    let email = email(email_text)?;
    let hash = password::hash(password_text)?;
    staff::set_password(conn, &email, &hash).await?;
    Ok(format!("new password set for {}; its sessions ended", email.as_str()))
}

/// Creates an API token for the account and returns it (the only time it is shown).
pub async fn create_token(
    conn: &mut AnyConnection,
    email_text: &str,
    label: &str,
    now_ms: i64,
) -> Result<String, StaffError> {
    let email = email(email_text)?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(StaffError::Invalid("--label must have 1 to 100 characters".into()));
    }
    let user = staff::by_email(conn, &email).await?;
    if user.disabled {
        return Err(StaffError::Invalid(format!("{} is disabled", email.as_str())));
    }
    let token = format!("mw_{}", secrets::random_token());
    staff::insert_token(conn, user.id, &secrets::stored_hash(&token), label, now_ms).await?;
    Ok(token)
}
