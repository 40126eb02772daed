//! The `[whatsapp]` section of the configuration: sandbox or cloud mode, the Cloud API's (or an
//! EU provider's) address and secrets, how webhooks are authenticated, and the approved
//! templates that stand in for replies outside the 24-hour window. Every key can also be set as
//! `MELDEWEG_WHATSAPP_<KEY>`.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{invalid, secret, ConfigError, Settings};

/// The section's name in the configuration.
pub const SECTION: &str = "whatsapp";
const CLOUD: &str = "whatsapp.mode = \"cloud\"";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhatsAppMode {
    /// Nothing leaves the machine; replies are shown on /sandbox.
    Sandbox,
    /// Messages go to the Cloud API (or an EU provider) at `api_base_url`.
    Cloud,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookAuth {
    /// Meta's `X-Hub-Signature-256` HMAC of the body with the app secret.
    Signature,
    /// A provider that sends the app secret in `webhook_auth_header`.
    Header,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppSettings {
    pub mode: WhatsAppMode,
    pub api_base_url: String,
    pub api_version: String,
    pub phone_number_id: String,
    pub messages_path: String,
    pub media_path: String,
    pub auth_header: String,
    pub auth_scheme: String,
    pub webhook_auth: WebhookAuth,
    pub webhook_auth_header: String,
    pub timeout_seconds: u64,
    /// Hosts a media object may send us to for the file, with the access token: exact names,
    /// or `*.example.com` for its subdomains. The API's own address is always allowed.
    pub media_hosts: Vec<String>,
    pub app_secret: SecretString,
    pub access_token: SecretString,
    pub verify_token: SecretString,
    #[serde(default)]
    pub templates: BTreeMap<String, TemplateSettings>,
}

/// An approved template message that stands in for a reply outside the 24-hour window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub params: Vec<String>,
}

/// The `[whatsapp]` section, checked.
pub fn load(settings: &Settings) -> Result<WhatsAppSettings, ConfigError> {
    let whatsapp: WhatsAppSettings = settings.channels.section(SECTION)?;
    whatsapp.validate(settings)?;
    Ok(whatsapp)
}

pub fn check(settings: &Settings) -> Result<(), ConfigError> {
    load(settings).map(drop)
}

impl WhatsAppSettings {
    /// Checks the section, also against the core's `settings` (cloud mode needs the encryption
    /// key and a public https address): the service refuses to start with any of it wrong.
    fn validate(&self, settings: &Settings) -> Result<(), ConfigError> {
        let base =
            reqwest::Url::parse(&self.api_base_url).map_err(|e| invalid("whatsapp.api_base_url", e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("whatsapp.api_base_url", "must be an http(s) URL"));
        }
        if !self.messages_path.starts_with('/') {
            return Err(invalid("whatsapp.messages_path", "must start with /"));
        }
        if !self.media_path.starts_with('/') || !self.media_path.contains("{media_id}") {
            return Err(invalid("whatsapp.media_path", "must start with / and contain {media_id}"));
        }
        if self.auth_header.parse::<axum::http::HeaderName>().is_err() {
            return Err(invalid("whatsapp.auth_header", "is not a valid HTTP header name"));
        }
        if self.webhook_auth == WebhookAuth::Header
            && self.webhook_auth_header.parse::<axum::http::HeaderName>().is_err()
        {
            return Err(invalid("whatsapp.webhook_auth_header", "must name the header when webhook_auth = \"header\""));
        }
        if self.timeout_seconds == 0 {
            return Err(invalid("whatsapp.timeout_seconds", "must be greater than 0"));
        }
        let host_like = |h: &str| {
            let name = h.strip_prefix("*.").unwrap_or(h);
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        };
        if !self.media_hosts.iter().all(|h| host_like(h)) {
            return Err(invalid(
                "whatsapp.media_hosts",
                "must be host names such as lookaside.fbsbx.com or *.example.com",
            ));
        }
        for template in self.templates.values() {
            if template.name.is_empty() || template.language.is_empty() {
                return Err(invalid("whatsapp.templates", "every template needs name and language"));
            }
        }
        if self.mode == WhatsAppMode::Cloud {
            let needs_phone_number_id = self.messages_path.contains("{phone_number_id}");
            if needs_phone_number_id && !is_digits(&self.phone_number_id) {
                return Err(invalid(
                    "whatsapp.phone_number_id",
                    "cloud mode needs the numeric phone number id (MELDEWEG_WHATSAPP_PHONE_NUMBER_ID)",
                ));
            }
            let missing: Vec<&str> = [
                ("MELDEWEG_WHATSAPP_APP_SECRET", &self.app_secret),
                ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", &self.access_token),
                ("MELDEWEG_WHATSAPP_VERIFY_TOKEN", &self.verify_token),
            ]
            .into_iter()
            .filter(|(_, value)| secret(value).is_none())
            .map(|(name, _)| name)
            .collect();
            if !missing.is_empty() {
                return Err(ConfigError::MissingSecrets { setting: CLOUD, names: missing.join(", ") });
            }
            if secret(&settings.encryption_key).is_none() {
                return Err(ConfigError::MissingSecrets { setting: CLOUD, names: "MELDEWEG_ENCRYPTION_KEY".into() });
            }
            if !settings.public_url.starts_with("https://") {
                return Err(invalid(
                    "public_url",
                    "cloud mode needs the public https address (MELDEWEG_PUBLIC_URL): citizens open its links and WhatsApp fetches photos from it",
                ));
            }
        }
        Ok(())
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<WhatsAppSettings, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        super::load(&Settings::load_with_env(None, |name| env.get(name).cloned())?)
    }

    #[test]
    fn the_defaults_are_the_sandbox_and_the_environment_overrides_them() {
        assert_eq!(load(&[]).unwrap().mode, WhatsAppMode::Sandbox);
        let whatsapp = load(&[
            ("MELDEWEG_WHATSAPP_API_BASE_URL", "http://127.0.0.1:9999"),
            ("MELDEWEG_WHATSAPP_API_VERSION", "v24.0"),
            ("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", "1234"),
            ("MELDEWEG_WHATSAPP_TIMEOUT_SECONDS", "3"),
        ])
        .unwrap();
        assert_eq!(whatsapp.api_base_url, "http://127.0.0.1:9999");
        assert_eq!(whatsapp.api_version, "v24.0");
        assert_eq!(whatsapp.phone_number_id, "1234");
        assert_eq!(whatsapp.timeout_seconds, 3);
        assert!(whatsapp.templates.contains_key("order_done"), "the shipped templates");
    }

    #[test]
    fn cloud_mode_refuses_to_start_without_its_secrets_and_names_them() {
        let error = load(&[
            ("MELDEWEG_WHATSAPP_MODE", "cloud"),
            ("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", "1234"),
            ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", "token"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("MELDEWEG_WHATSAPP_APP_SECRET"), "{error}");
        assert!(error.contains("MELDEWEG_WHATSAPP_VERIFY_TOKEN"), "{error}");
        assert!(!error.contains("ACCESS_TOKEN"), "{error}");

        let all = [
            ("MELDEWEG_WHATSAPP_MODE", "cloud"),
            ("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", "1234"),
            ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", "token"),
            ("MELDEWEG_WHATSAPP_APP_SECRET", "secret"),
            ("MELDEWEG_WHATSAPP_VERIFY_TOKEN", "verify"),
        ];
        let error = load(&all).unwrap_err().to_string();
        assert!(error.contains("MELDEWEG_ENCRYPTION_KEY"), "{error}");
        let mut with_key = all.to_vec();
        with_key.push(("MELDEWEG_ENCRYPTION_KEY", "a-key"));
        let error = load(&with_key).unwrap_err().to_string();
        assert!(error.contains("public_url") && error.contains("https"), "{error}");
        with_key.push(("MELDEWEG_PUBLIC_URL", "https://maengel.musterstadt.de"));
        assert!(load(&with_key).is_ok());
    }

    #[test]
    fn its_secrets_never_show_in_debug_output() {
        let whatsapp = load(&[
            ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", "super-secret-token"),
            ("MELDEWEG_WHATSAPP_APP_SECRET", "super-secret-app"),
            ("MELDEWEG_WHATSAPP_VERIFY_TOKEN", "super-secret-verify"),
        ])
        .unwrap();
        let debug = format!("{whatsapp:?}");
        assert!(!debug.contains("super-secret") && debug.contains("access_token"), "{debug}");
    }

    #[test]
    fn bad_values_are_refused_with_the_key_that_is_wrong() {
        let error = load(&[("MELDEWEG_WHATSAPP_MODE", "clod")]).unwrap_err().to_string();
        assert!(error.contains("clod") && error.contains("[whatsapp]"), "{error}");
        let error = load(&[("MELDEWEG_WHATSAPP_API_BASE_URL", "not a url")]).unwrap_err();
        assert!(error.to_string().contains("whatsapp.api_base_url"), "{error}");
        let error = load(&[("MELDEWEG_WHATSAPP_TIMEOUT_SECONDS", "0")]).unwrap_err();
        assert!(error.to_string().contains("whatsapp.timeout_seconds"), "{error}");
    }
}
