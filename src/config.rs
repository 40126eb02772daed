//! Typed configuration: `config/default.toml` (compiled in), optionally overlaid by a file given
//! with `--config`, then by `MELDEWEG_*` environment variables.
//!
//! Every key of the default file has an environment name: `MELDEWEG_<SECTION>_<KEY>` for keys
//! in a section, `MELDEWEG_<KEY>` at the top level (`MELDEWEG_WHATSAPP_API_BASE_URL`,
//! `MELDEWEG_LISTEN`). Secrets are `SecretString`, so `Debug` output of the settings is safe to log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, File, FileFormat};
use meldeweg_workers::category::Category;
use secrecy::{ExposeSecret, SecretString};

use crate::service_hours::{ServiceHours, ServiceHoursSettings};
use serde::Deserialize;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "MELDEWEG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("configuration: whatsapp.mode = \"cloud\" needs these secrets in the environment: {0}")]
    MissingSecrets(String),
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: SocketAddr,
    pub public_url: String,
    pub data_dir: PathBuf,
    database_url: SecretString,
    pub encryption_key: SecretString,
    /// Keys that only open, during a key rotation (`id:key`, comma-separated).
    pub encryption_old_keys: SecretString,
    pub messages_dir: PathBuf,
    pub municipality: Municipality,
    pub database: DatabaseSettings,
    pub whatsapp: WhatsAppSettings,
    pub conversation: ConversationSettings,
    pub queue: QueueSettings,
    pub staff: StaffSettings,
    pub sla: SlaSettings,
    pub service_hours: ServiceHoursSettings,
    pub retention: RetentionSettings,
    pub email: EmailSettings,
    pub map: MapSettings,
    pub metrics: MetricsSettings,
    pub http: HttpSettings,
    pub photos: PhotoSettings,
    pub geo: GeoSettings,
    pub classify: ClassifySettings,
    /// Radius in metres per category id within which a report joins an open work order.
    pub duplicates: BTreeMap<String, f64>,
}

/// The municipality's data files (paths relative to the working directory).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoSettings {
    pub districts_file: PathBuf,
    pub routing_file: PathBuf,
    pub streets_file: PathBuf,
    /// Farthest an address point may be from a report to name it in the work order header.
    pub max_address_distance_m: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifySettings {
    pub categories_file: PathBuf,
    pub training_dir: PathBuf,
    pub min_confidence: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Municipality {
    pub name: String,
    pub privacy_url: String,
    pub web_form_url: String,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Normal,
    Full,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    pub sqlite_synchronous: SqliteSynchronous,
}

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationSettings {
    pub draft_ttl_hours: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    pub in_process: bool,
    pub concurrency: usize,
    pub lease_seconds: u64,
    pub retry_base_ms: u64,
    pub retry_max_seconds: u64,
    pub max_attempts: u32,
    pub poll_seconds: u64,
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    pub session_idle_minutes: u32,
    pub session_max_hours: u32,
    pub login_window_minutes: u32,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_client: u32,
}

/// Hours until a work order is due, per priority.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    pub urgent: u32,
    pub high: u32,
    pub normal: u32,
}

impl SlaSettings {
    /// When an order of `priority` created at `created_ms` is due.
    pub fn due(&self, priority: meldeweg_workers::classify::Priority, created_ms: i64) -> i64 {
        use meldeweg_workers::classify::Priority;
        let hours = match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Normal => self.normal,
        };
        created_ms + i64::from(hours) * 3_600_000
    }
}

/// E-mail updates for reports from the web form (PRIVACY P12). With no `smtp_url` the form
/// offers no e-mail field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required`, or
    /// `smtp://localhost:25` for a local relay; may hold a password, so it is a secret.
    pub smtp_url: SecretString,
    /// The sender, e.g. "Mängelmelder Musterstadt <maengelmelder@musterstadt.de>".
    pub from: String,
}

/// The deletion concept (PRIVACY P7): how long each class of data is kept. Checked by
/// `RetentionSettings::validate`; see `crate::retention` for what each class covers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Raw inbound messages (the provider's payload with the sender's number), from receipt.
    pub inbound_payload_days: u32,
    /// The citizen's words and the messages exchanged, from the report's closing.
    pub conversation_days: u32,
    /// The number (and a web-form e-mail address), from the closing of the reporter's last
    /// report, or their last message if they have none.
    pub contact_days: u32,
    /// Photos, from the report's (or the work order's) closing.
    pub photo_days: u32,
    /// Closed reports are anonymised this many years after closing.
    pub report_years: u32,
    /// How often the scheduled run happens, in hours; 0 switches it off (then run
    /// `meldeweg retention run` from cron).
    pub run_every_hours: u32,
}

impl RetentionSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let checks = [
            ("retention.inbound_payload_days", self.inbound_payload_days, 1, 365),
            ("retention.conversation_days", self.conversation_days, 1, 3650),
            ("retention.contact_days", self.contact_days, 1, 3650),
            ("retention.photo_days", self.photo_days, 1, 3650),
            ("retention.report_years", self.report_years, 1, 30),
            ("retention.run_every_hours", self.run_every_hours, 0, 168),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(invalid(key, format!("must be between {min} and {max}")));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSettings {
    pub tile_url: String,
    pub tile_attribution: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// A separate address for /metrics; empty: the main one (then a token is required).
    pub listen: String,
    pub token: SecretString,
}

impl MetricsSettings {
    /// Whether /metrics is served anywhere (a token for the main address, or an address).
    pub fn enabled(&self) -> bool {
        self.listen().is_some() || secret(&self.token).is_some()
    }

    /// The separate address, if one is configured.
    pub fn listen(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Reverse proxies in front of Meldeweg: their `X-Forwarded-For` names the client (for
    /// the login limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoSettings {
    pub max_input_mib: u32,
    pub max_megapixels: u32,
    pub max_decoder_mib: u32,
    pub max_side: u32,
    pub thumb_side: u32,
    pub quality: u8,
    /// Photos cleaned at once per process; 0 means one per core.
    pub concurrency: usize,
}

impl PhotoSettings {
    pub fn limits(&self) -> meldeweg_workers::photo::Limits {
        meldeweg_workers::photo::Limits {
            max_input_bytes: self.max_input_mib as usize * 1024 * 1024,
            max_pixels: u64::from(self.max_megapixels) * 1_000_000,
            max_decoder_bytes: u64::from(self.max_decoder_mib) * 1024 * 1024,
            max_side: self.max_side,
            thumb_side: self.thumb_side,
            quality: self.quality,
        }
    }

    pub fn concurrency(&self) -> usize {
        match self.concurrency {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=256).contains(&self.max_input_mib) {
            return Err(invalid("photos.max_input_mib", "must be between 1 and 256"));
        }
        if !(1..=500).contains(&self.max_megapixels) {
            return Err(invalid("photos.max_megapixels", "must be between 1 and 500"));
        }
        if self.max_decoder_mib < 16 {
            return Err(invalid("photos.max_decoder_mib", "must be at least 16"));
        }
        if !(64..=8192).contains(&self.max_side) {
            return Err(invalid("photos.max_side", "must be between 64 and 8192"));
        }
        if !(16..=self.max_side).contains(&self.thumb_side) {
            return Err(invalid("photos.thumb_side", "must be between 16 and photos.max_side"));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(invalid("photos.quality", "must be between 1 and 100"));
        }
        Ok(())
    }
}

/// Where a server listening on `addr` is reached from this machine: `public_url` when none is
/// set (an address for all interfaces is reached on the loopback address).
pub fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// A secret that counts as unset when it is empty.
pub fn secret(value: &SecretString) -> Option<&str> {
    Some(value.expose_secret()).filter(|s| !s.is_empty())
}

impl Settings {
    /// Loads the defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, |name| std::env::var(name).ok())
    }

    /// Like `load`, reading environment variables through `env` (tests pass their own).
    pub fn load_with_env(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = File::from_str(DEFAULT_TOML, FileFormat::Toml);
        let mut builder = Config::builder().add_source(defaults);
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let default_tree: toml::Table = toml::from_str(DEFAULT_TOML).expect("the built-in default.toml is valid TOML");
        for (key, name) in env_names(&default_tree) {
            if let Some(value) = env(&name) {
                builder = builder.set_override(key, value)?;
            }
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        if settings.public_url.trim().is_empty() {
            settings.public_url = local_url(settings.listen);
        }
        if settings.municipality.web_form_url.trim().is_empty() {
            // Meldeweg's own form (P12), unless the municipality links to another.
            settings.municipality.web_form_url = settings.own_form_url();
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Follows the address the server really listens on (port 0 picks one): a `public_url` and
    /// web form that were derived from `listen` are derived again from `bound`.
    pub fn listening_on(&mut self, bound: SocketAddr) {
        if self.public_url != local_url(self.listen) {
            return;
        }
        let own_form = self.municipality.web_form_url == self.own_form_url();
        self.listen = bound;
        self.public_url = local_url(bound);
        if own_form {
            self.municipality.web_form_url = self.own_form_url();
        }
    }

    /// Meldeweg's own web form, `/melden` below `public_url`.
    fn own_form_url(&self) -> String {
        format!("{}/melden", self.public_base())
    }

    /// The database URL; a SQLite file in `data_dir` unless one is configured.
    pub fn database_url(&self) -> String {
        match secret(&self.database_url) {
            Some(url) => url.to_string(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("meldeweg.db").display()),
        }
    }

    pub fn with_database_url(mut self, url: &str) -> Self {
        self.database_url = SecretString::from(url);
        self
    }

    /// The vault for personal data: the configured key (with any old keys of a rotation), or in
    /// sandbox mode without a key, one kept in `data_dir/secret.key`.
    pub fn vault(&self) -> Result<crate::crypto::Vault, crate::crypto::CryptoError> {
        use crate::crypto::Vault;
        match secret(&self.encryption_key) {
            Some(key) => Vault::with_old_keys(key, secret(&self.encryption_old_keys).unwrap_or_default()),
            None => Vault::from_key_file(&self.data_dir.join("secret.key")),
        }
    }

    /// Checks every setting; the service refuses to start with any of them wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url();
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|s| url.starts_with(s)) {
            return Err(invalid("database_url", "must start with sqlite:// or postgres://"));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        self.whatsapp.validate()?;
        self.photos.validate()?;
        let queue = &self.queue;
        for (key, value) in [
            ("queue.concurrency", queue.concurrency as u64),
            ("queue.lease_seconds", queue.lease_seconds),
            ("queue.retry_base_ms", queue.retry_base_ms),
            ("queue.retry_max_seconds", queue.retry_max_seconds),
            ("queue.max_attempts", u64::from(queue.max_attempts)),
            ("queue.poll_seconds", queue.poll_seconds),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        let public_url = reqwest::Url::parse(&self.public_url).map_err(|e| invalid("public_url", e.to_string()))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.path() != "/" {
            return Err(invalid(
                "public_url",
                "must be an http(s) URL without a path, like https://maengel.musterstadt.de",
            ));
        }
        let staff = &self.staff;
        for (key, value) in [
            ("staff.session_idle_minutes", staff.session_idle_minutes),
            ("staff.session_max_hours", staff.session_max_hours),
            ("staff.login_window_minutes", staff.login_window_minutes),
            ("staff.login_max_failures_per_account", staff.login_max_failures_per_account),
            ("staff.login_max_failures_per_client", staff.login_max_failures_per_client),
            ("sla.urgent", self.sla.urgent),
            ("sla.high", self.sla.high),
            ("sla.normal", self.sla.normal),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if !self.map.tile_url.contains("{z}") || !self.map.tile_url.starts_with("http") {
            return Err(invalid("map.tile_url", "must be an http(s) URL with {z}, {x} and {y}"));
        }
        if !self.metrics.listen.trim().is_empty() && self.metrics.listen().is_none() {
            return Err(invalid("metrics.listen", "must be an address like 127.0.0.1:9464, or empty"));
        }
        if self.http.max_body_bytes < 1024 {
            return Err(invalid("http.max_body_bytes", "must be at least 1024"));
        }
        if self.conversation.draft_ttl_hours == 0 {
            return Err(invalid("conversation.draft_ttl_hours", "must be greater than 0"));
        }
        if !(0.0..=1.0).contains(&self.classify.min_confidence) {
            return Err(invalid("classify.min_confidence", "must be between 0 and 1"));
        }
        if !(0.0..=5000.0).contains(&self.geo.max_address_distance_m) {
            return Err(invalid("geo.max_address_distance_m", "must be between 0 and 5000"));
        }
        self.duplicate_radii()?;
        ServiceHours::from_settings(&self.service_hours).map_err(|(key, reason)| invalid(key, reason))?;
        self.retention.validate()?;
        if self.whatsapp.mode == WhatsAppMode::Cloud && secret(&self.encryption_key).is_none() {
            return Err(ConfigError::MissingSecrets("MELDEWEG_ENCRYPTION_KEY".into()));
        }
        if self.whatsapp.mode == WhatsAppMode::Cloud && !self.public_url.starts_with("https://") {
            return Err(invalid(
                "public_url",
                "cloud mode needs the public https address (MELDEWEG_PUBLIC_URL): citizens open its links and WhatsApp fetches photos from it",
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// `public_url` without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The duplicate radius of every category, checked: each category once, 1 to 1000 m.
    pub fn duplicate_radii(&self) -> Result<BTreeMap<Category, f64>, ConfigError> {
        let mut radii = BTreeMap::new();
        for (id, &radius) in &self.duplicates {
            let category =
                Category::from_id(id).ok_or_else(|| invalid("duplicates", format!("{id:?} is not a category id")))?;
            if !(1.0..=1000.0).contains(&radius) {
                return Err(invalid("duplicates", format!("{id} = {radius}: the radius must be 1 to 1000 metres")));
            }
            radii.insert(category, radius);
        }
        match Category::ALL.into_iter().find(|c| !radii.contains_key(c)) {
            Some(missing) => Err(invalid("duplicates", format!("no radius for {}", missing.id()))),
            None => Ok(radii),
        }
    }
}

impl WhatsAppSettings {
    fn validate(&self) -> Result<(), ConfigError> {
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
                return Err(ConfigError::MissingSecrets(missing.join(", ")));
            }
        }
        Ok(())
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The environment variable name of every leaf key in the default configuration.
fn env_names(tree: &toml::Table) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for (key, value) in tree {
        match value {
            toml::Value::Table(section) => {
                for (sub, sub_value) in section {
                    if !sub_value.is_table() {
                        let name = format!("{ENV_PREFIX}_{key}_{sub}").to_uppercase();
                        names.push((format!("{key}.{sub}"), name));
                    }
                }
            }
            _ => names.push((key.clone(), format!("{ENV_PREFIX}_{key}").to_uppercase())),
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::load_with_env(None, |name| env.get(name).cloned())
    }

    #[test]
    fn the_defaults_run_out_of_the_box_in_sandbox_mode() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.whatsapp.mode, WhatsAppMode::Sandbox);
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database_url(), "sqlite://data/meldeweg.db?mode=rwc");
    }

    #[test]
    fn the_documented_environment_names_override_settings() {
        let settings = load(&[
            ("MELDEWEG_LISTEN", "0.0.0.0:9000"),
            ("MELDEWEG_DATABASE_URL", "postgres://u@db/meldeweg"),
            ("MELDEWEG_DATA_DIR", "/var/lib/meldeweg"),
            ("MELDEWEG_WHATSAPP_API_BASE_URL", "http://127.0.0.1:9999"),
            ("MELDEWEG_WHATSAPP_API_VERSION", "v24.0"),
            ("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", "1234"),
            ("MELDEWEG_QUEUE_LEASE_SECONDS", "7"),
        ])
        .unwrap();
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.database_url(), "postgres://u@db/meldeweg");
        assert_eq!(settings.data_dir, PathBuf::from("/var/lib/meldeweg"));
        assert_eq!(settings.whatsapp.api_base_url, "http://127.0.0.1:9999");
        assert_eq!(settings.whatsapp.api_version, "v24.0");
        assert_eq!(settings.whatsapp.phone_number_id, "1234");
        assert_eq!(settings.queue.lease_seconds, 7);
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
    fn bad_values_are_refused_with_the_key_that_is_wrong() {
        let error = load(&[("MELDEWEG_WHATSAPP_MODE", "clod")]).unwrap_err().to_string();
        assert!(error.contains("clod"), "{error}");
        let error = load(&[("MELDEWEG_LISTEN", "localhost")]).unwrap_err().to_string();
        assert!(error.contains("listen"), "{error}");
        let error = load(&[("MELDEWEG_QUEUE_CONCURRENCY", "0")]).unwrap_err().to_string();
        assert!(error.contains("queue.concurrency"), "{error}");
        let error = load(&[("MELDEWEG_DATABASE_URL", "mysql://x")]).unwrap_err().to_string();
        assert!(error.contains("database_url"), "{error}");
        let error = load(&[("MELDEWEG_WHATSAPP_API_BASE_URL", "not a url")]).unwrap_err();
        assert!(error.to_string().contains("whatsapp.api_base_url"), "{error}");
        let hours = [("MELDEWEG_SERVICE_HOURS_ENABLED", "true"), ("MELDEWEG_SERVICE_HOURS_FRIDAY", "7 bis 12")];
        let error = load(&hours).unwrap_err().to_string();
        assert!(error.contains("service_hours.friday"), "{error}");
        assert!(load(&hours[..1]).is_ok(), "the shipped hours are valid once enabled");
    }

    #[test]
    fn duplicate_radii_cover_every_category_and_are_bounded() {
        let radii = load(&[]).unwrap().duplicate_radii().unwrap();
        assert_eq!(radii[&Category::Strassenschaden], 25.0);
        assert_eq!(radii.len(), Category::ALL.len());
        let error = load(&[("MELDEWEG_DUPLICATES_MUELL", "0")]).unwrap_err().to_string();
        assert!(error.contains("muell = 0"), "{error}");
        let error = load(&[("MELDEWEG_CLASSIFY_MIN_CONFIDENCE", "1.5")]).unwrap_err().to_string();
        assert!(error.contains("classify.min_confidence"), "{error}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let settings = load(&[("MELDEWEG_WHATSAPP_ACCESS_TOKEN", "super-secret-token")]).unwrap();
        assert!(!format!("{settings:?}").contains("super-secret-token"));
    }
}
