//! Typed configuration: `config/default.toml` (compiled in), optionally overlaid by a settings
//! file (`find_file`: `--config`, `MELDEWEG_CONFIG`, `/etc/meldeweg/meldeweg.toml`, then
//! `./meldeweg.toml`), then by `MELDEWEG_*` environment variables, then by credentials: files in
//! `$CREDENTIALS_DIRECTORY` (systemd's) or in a `credentials` folder beside the settings file,
//! for secrets kept out of the unit and the environment.
//!
//! Every key of the default file has an environment name: `MELDEWEG_<SECTION>_<KEY>` for keys
//! in a section, `MELDEWEG_<KEY>` at the top level (`MELDEWEG_WHATSAPP_API_BASE_URL`,
//! `MELDEWEG_LISTEN`). Secrets are `SecretString`, so `Debug` output of the settings is safe to log.
//!
//! `Settings` is the core's part. Every other section (`[whatsapp]`, `[email]`) belongs to a
//! channel: it is kept as read in `ChannelSettings`, and the channel reads it in its own type
//! and checks it (`channels::check`, which every command runs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, File, FileFormat, Source};
use meldeweg_workers::category::Category;
use secrecy::{ExposeSecret, SecretString};

use crate::service_hours::{ServiceHours, ServiceHoursSettings};
use serde::de::DeserializeOwned;
use serde::Deserialize;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "MELDEWEG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("configuration: {setting} needs these secrets in the environment: {names}")]
    MissingSecrets { setting: &'static str, names: String },
    #[error("configuration: [{section}]: {source}")]
    Section { section: String, source: Box<config::ConfigError> },
    #[error("configuration: [{0}] is neither a setting nor the section of a channel")]
    UnknownSection(String),
    #[error("configuration: the credential file {path} names no setting{hint}; credentials are named like the environment variables without MELDEWEG_ (DATABASE_URL, ENCRYPTION_KEY, WHATSAPP_ACCESS_TOKEN, …)")]
    UnknownCredential { path: String, hint: String },
}

pub fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
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
    pub conversation: ConversationSettings,
    pub queue: QueueSettings,
    pub staff: StaffSettings,
    pub sla: SlaSettings,
    pub service_hours: ServiceHoursSettings,
    pub retention: RetentionSettings,
    pub map: MapSettings,
    pub metrics: MetricsSettings,
    pub http: HttpSettings,
    pub storage: StorageSettings,
    pub photos: PhotoSettings,
    pub geo: GeoSettings,
    pub classify: ClassifySettings,
    /// Radius in metres per category id within which a report joins an open work order.
    pub duplicates: BTreeMap<String, f64>,
    /// The channels' sections (`[whatsapp]`, `[email]`), which each channel reads and checks.
    #[serde(skip)]
    pub channels: ChannelSettings,
}

/// The municipality's data files (paths relative to the working directory).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoSettings {
    pub districts_file: PathBuf,
    pub routing_file: PathBuf,
    pub streets_file: PathBuf,
    /// Named street lines (GeoJSON) for the map background; empty: lines through the address
    /// points of `streets_file`.
    pub street_lines_file: PathBuf,
    /// Farthest an address point may be from a report to name it in the work order header.
    pub max_address_distance_m: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifySettings {
    pub categories_file: PathBuf,
    pub training_dir: PathBuf,
    pub min_confidence: f64,
    /// How often each process looks whether the classifier was retrained elsewhere.
    pub follow_seconds: u32,
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
    /// Failed logins of one account from one address before each further attempt waits.
    pub login_free_failures: u32,
    /// Failed logins of one account (from any address) that show it to admins as under attack.
    pub login_failures_to_alert: u32,
    /// Login attempts from one address (across accounts) within the window.
    pub login_max_attempts_per_client: u32,
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
    /// the limits per client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// From waiting for a request (a new connection, or after the previous answer) until its
    /// whole head has arrived.
    pub header_read_timeout_seconds: u64,
    /// A connection with no request in flight that sends nothing this long is closed.
    pub idle_timeout_seconds: u64,
    /// Longest pause while a request body arrives.
    pub body_timeout_seconds: u64,
    /// Longest a whole request may take, upload included.
    pub request_timeout_seconds: u64,
    /// Connections open at once, in all and per client address (IPv6: per /64).
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Uploads (photos with a form) held in memory at once, all requests together.
    pub max_upload_mib_in_flight: u32,
}

impl HttpSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes < 1024 {
            return Err(invalid("http.max_body_bytes", "must be at least 1024"));
        }
        for (key, value, range) in [
            ("http.header_read_timeout_seconds", self.header_read_timeout_seconds, 1..=300),
            ("http.idle_timeout_seconds", self.idle_timeout_seconds, 1..=3600),
            ("http.body_timeout_seconds", self.body_timeout_seconds, 1..=300),
            // The sandbox chat's long poll (25 s) must fit in a request.
            ("http.request_timeout_seconds", self.request_timeout_seconds, 30..=3600),
            ("http.max_connections", self.max_connections as u64, 16..=1_000_000),
            ("http.max_connections_per_client", self.max_connections_per_client as u64, 1..=1_000_000),
        ] {
            if !range.contains(&value) {
                return Err(invalid(key, format!("must be between {} and {}", range.start(), range.end())));
            }
        }
        if self.max_connections_per_client > self.max_connections {
            return Err(invalid("http.max_connections_per_client", "must not be more than http.max_connections"));
        }
        Ok(())
    }
}

/// Where cleaned photos live (`crate::storage`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// Empty: `data_dir/photos`; `s3://BUCKET[/PREFIX]`: an S3-compatible store.
    pub photos_url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: SecretString,
    pub s3_secret_access_key: SecretString,
    pub s3_addressing: S3Addressing,
}

/// How an S3 store names a bucket in its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum S3Addressing {
    Path,
    Virtual,
}

impl StorageSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.photos_url.trim();
        if !url.is_empty() {
            let rest = url
                .strip_prefix("s3://")
                .ok_or_else(|| invalid("storage.photos_url", "must be empty or start with s3://"))?;
            if rest.split('/').next().is_none_or(str::is_empty) {
                return Err(invalid("storage.photos_url", "names no bucket (s3://BUCKET/PREFIX)"));
            }
        }
        let endpoint = self.s3_endpoint.trim();
        if !(endpoint.is_empty() || endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(invalid("storage.s3_endpoint", "must start with https:// or http://"));
        }
        Ok(())
    }
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
    /// Chat photos cleaned at once per process; 0 means one per core.
    pub concurrency: usize,
    /// Photos uploaded with a form or a crew's "done" cleaned at once per process, apart from
    /// the chat's.
    pub upload_concurrency: usize,
    /// The folder with the face and plate detectors' model files (checked at start).
    pub models_dir: PathBuf,
    /// Long side of the picture the face detector looks at, in pixels.
    pub face_side: u32,
    /// Long side of the picture the plate detector looks at, in pixels.
    pub plate_side: u32,
    /// How sure the face detector must be, 0–1.
    pub face_threshold: f32,
    /// When a photo's public copy (faces and plates obscured) may be seen outside the staff UI.
    pub publish: Publish,
    /// How often photos still without a public copy are checked again, in seconds.
    pub recheck_seconds: u32,
}

/// When a checked photo becomes public (`photos.publish`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publish {
    /// A staff member approves each public copy first (the default).
    AfterApproval,
    /// As soon as detection has run and the copy is made.
    AfterDetection,
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

    pub fn detection(&self) -> meldeweg_workers::bystanders::Settings {
        meldeweg_workers::bystanders::Settings {
            face_side: self.face_side,
            plate_side: self.plate_side,
            face_threshold: self.face_threshold,
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
        if !(1..=64).contains(&self.upload_concurrency) {
            return Err(invalid("photos.upload_concurrency", "must be between 1 and 64"));
        }
        for (name, side) in [("photos.face_side", self.face_side), ("photos.plate_side", self.plate_side)] {
            if !(256..=4096).contains(&side) || !side.is_multiple_of(32) {
                return Err(invalid(name, "must be a multiple of 32 between 256 and 4096"));
            }
        }
        if !(1..=86_400).contains(&self.recheck_seconds) {
            return Err(invalid("photos.recheck_seconds", "must be between 1 and 86400"));
        }
        if !(0.05..=0.95).contains(&self.face_threshold) {
            return Err(invalid("photos.face_threshold", "must be between 0.05 and 0.95"));
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

/// Where the installed settings live (the Debian package's, marked as configuration).
pub const SYSTEM_FILE: &str = "/etc/meldeweg/meldeweg.toml";
/// The settings file a checkout may keep beside `config/`.
pub const LOCAL_FILE: &str = "meldeweg.toml";

/// The settings file to overlay on the defaults, in this order: the one given (`--config`, or
/// `MELDEWEG_CONFIG`), `/etc/meldeweg/meldeweg.toml`, `./meldeweg.toml`; none: the built-in
/// defaults alone, with paths relative to the working directory (a checkout).
pub fn find_file(given: Option<PathBuf>, exists: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    given.or_else(|| [SYSTEM_FILE, LOCAL_FILE].into_iter().map(PathBuf::from).find(|path| exists(path)))
}

/// A systemd credential named like the environment variable, without its final line break;
/// `None` if there is no such file.
fn credential(dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    Some(text.trim_end_matches(['\n', '\r']).to_string())
}

/// A secret that counts as unset when it is empty.
pub fn secret(value: &SecretString) -> Option<&str> {
    Some(value.expose_secret()).filter(|s| !s.is_empty())
}

impl Settings {
    /// Loads the defaults, then `file` if given, then for each setting the first of: the process
    /// environment (`MELDEWEG_ENCRYPTION_KEY`), a credential systemd passed under that name
    /// (`$CREDENTIALS_DIRECTORY/MELDEWEG_ENCRYPTION_KEY`), a file in the `credentials` folder
    /// beside `file` (`/etc/meldeweg/credentials/ENCRYPTION_KEY`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let systemd = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let beside = file.and_then(Path::parent).map(|dir| dir.join("credentials"));
        if let Some(dir) = &beside {
            check_credential_names(dir)?;
        }
        Self::load_with_env(file, |name| {
            std::env::var(name)
                .ok()
                .or_else(|| credential(systemd.as_deref()?, name))
                .or_else(|| credential(beside.as_deref()?, name.strip_prefix("MELDEWEG_")?))
        })
    }

    /// Like `load`, reading environment variables through `env` (tests pass their own).
    pub fn load_with_env(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = File::from_str(DEFAULT_TOML, FileFormat::Toml);
        let mut builder = Config::builder().add_source(defaults);
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        for (key, name) in env_names(&default_tree()) {
            if let Some(value) = env(&name) {
                builder = builder.set_override(key, value)?;
            }
        }
        let mut table = builder.build()?.collect()?;
        let core = field_names::<Settings>();
        let sections: Vec<String> = table
            .iter()
            .filter(|(key, value)| !core.contains(&key.as_str()) && is_table(value))
            .map(|(k, _)| k.clone())
            .collect();
        let channels = sections.into_iter().filter_map(|name| table.remove_entry(&name)).collect();
        let mut settings = Settings::deserialize(config::Value::new(None, config::ValueKind::Table(table)))?;
        settings.channels = ChannelSettings(channels);
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
        self.photos.validate()?;
        self.storage.validate()?;
        if !(1..=3600).contains(&self.classify.follow_seconds) {
            return Err(invalid("classify.follow_seconds", "must be between 1 and 3600"));
        }
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
            ("staff.login_free_failures", staff.login_free_failures),
            ("staff.login_failures_to_alert", staff.login_failures_to_alert),
            ("staff.login_max_attempts_per_client", staff.login_max_attempts_per_client),
            ("sla.urgent", self.sla.urgent),
            ("sla.high", self.sla.high),
            ("sla.normal", self.sla.normal),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if !self.map.tile_url.is_empty()
            && (!self.map.tile_url.contains("{z}") || !self.map.tile_url.starts_with("http"))
        {
            return Err(invalid("map.tile_url", "must be empty or an http(s) URL with {z}, {x} and {y}"));
        }
        if !self.metrics.listen.trim().is_empty() && self.metrics.listen().is_none() {
            return Err(invalid("metrics.listen", "must be an address like 127.0.0.1:9464, or empty"));
        }
        self.http.validate()?;
        if self.http.max_upload_mib_in_flight < self.photos.max_input_mib {
            return Err(invalid("http.max_upload_mib_in_flight", "must be at least photos.max_input_mib"));
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

/// The sections of the configuration that belong to channels, as read (defaults, file,
/// environment): a channel takes its own with `section` when it registers and checks it there;
/// the core does not know their shape.
#[derive(Clone, Default)]
pub struct ChannelSettings(BTreeMap<String, config::Value>);

impl ChannelSettings {
    /// Section `name` as the channel's settings type.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let value = self.0.get(name).cloned().unwrap_or_else(empty_table);
        T::deserialize(value)
            .map_err(|source| ConfigError::Section { section: name.to_string(), source: Box::new(source) })
    }

    /// The names of the sections present.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Sets `section.key` (a dotted path, tables made on the way) as the configuration file would.
    pub fn set(&mut self, path: &str, value: impl Into<config::ValueKind>) {
        let mut keys = path.split('.');
        let section = keys.next().unwrap_or_default().to_string();
        let at = self.0.entry(section).or_insert_with(empty_table);
        put(at, keys, value.into());
    }
}

fn put(at: &mut config::Value, mut keys: std::str::Split<'_, char>, value: config::ValueKind) {
    let Some(key) = keys.next() else {
        at.kind = value;
        return;
    };
    if !is_table(at) {
        at.kind = config::ValueKind::Table(config::Map::new());
    }
    if let config::ValueKind::Table(table) = &mut at.kind {
        let next = table.entry(key.to_string()).or_insert_with(|| config::Value::new(None, config::ValueKind::Nil));
        put(next, keys, value);
    }
}

/// Only the names: a section can hold secrets.
impl std::fmt::Debug for ChannelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

fn empty_table() -> config::Value {
    config::Value::new(None, config::ValueKind::Table(config::Map::new()))
}

fn is_table(value: &config::Value) -> bool {
    matches!(value.kind, config::ValueKind::Table(_))
}

/// The field names of struct `T`, as its derived `Deserialize` asks for them: the keys the core
/// reads, so that every other section of the configuration is a channel's.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor};

    struct Names(&'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for &mut Names {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("only the field names are asked for"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(Error::custom("only the field names are asked for"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut names = Names(&[]);
    let _ = T::deserialize(&mut names);
    names.0
}

/// Every file in the `credentials` folder must name a setting: a misspelt one (`database_url`)
/// would otherwise be ignored, and the service would run on the default in its place. Hidden
/// files (an editor's) are left alone; a folder that cannot be read holds nothing to check.
fn check_credential_names(dir: &Path) -> Result<(), ConfigError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let known: Vec<String> =
        env_names(&default_tree()).into_iter().map(|(_, name)| name[ENV_PREFIX.len() + 1..].to_string()).collect();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || known.contains(&name) {
            continue;
        }
        let hint = known
            .iter()
            .find(|setting| setting.eq_ignore_ascii_case(&name))
            .map(|setting| format!(" (write it as {setting})"))
            .unwrap_or_default();
        return Err(ConfigError::UnknownCredential { path: entry.path().display().to_string(), hint });
    }
    Ok(())
}

/// The built-in defaults as a TOML tree.
fn default_tree() -> toml::Table {
    toml::from_str(DEFAULT_TOML).expect("the built-in default.toml is valid TOML")
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
    fn the_settings_file_is_found_in_the_documented_order() {
        let given = Some(PathBuf::from("/srv/town.toml"));
        assert_eq!(find_file(given.clone(), |_| true), given);
        assert_eq!(find_file(None, |_| true), Some(PathBuf::from(SYSTEM_FILE)));
        assert_eq!(find_file(None, |path| path == Path::new(LOCAL_FILE)), Some(PathBuf::from(LOCAL_FILE)));
        assert_eq!(find_file(None, |_| false), None);
    }

    #[test]
    fn a_credential_is_read_without_its_line_break_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("MELDEWEG_ENCRYPTION_KEY"), "a2V5\n").unwrap();
        assert_eq!(credential(dir.path(), "MELDEWEG_ENCRYPTION_KEY").as_deref(), Some("a2V5"));
        assert_eq!(credential(dir.path(), "MELDEWEG_DATABASE_URL"), None);
    }

    #[test]
    fn a_credential_file_must_name_a_setting_and_a_misspelt_one_is_named_back() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ENCRYPTION_KEY", "DATABASE_URL", "WHATSAPP_ACCESS_TOKEN", "STORAGE_S3_SECRET_ACCESS_KEY", ".swp"]
        {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert!(check_credential_names(dir.path()).is_ok());
        assert!(check_credential_names(&dir.path().join("missing")).is_ok());
        std::fs::write(dir.path().join("database_url"), "postgres://db/meldeweg").unwrap();
        let error = check_credential_names(dir.path()).unwrap_err().to_string();
        assert!(error.contains("database_url names no setting (write it as DATABASE_URL)"), "{error}");
        std::fs::remove_file(dir.path().join("database_url")).unwrap();
        std::fs::write(dir.path().join("PASSWORD"), "x").unwrap();
        let error = check_credential_names(dir.path()).unwrap_err().to_string();
        assert!(error.contains("PASSWORD names no setting;"), "{error}");
    }

    #[test]
    fn the_defaults_run_out_of_the_box_in_sandbox_mode() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.channels.names().collect::<Vec<_>>(), ["email", "open311", "whatsapp"]);
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database_url(), "sqlite://data/meldeweg.db?mode=rwc");
    }

    #[test]
    fn the_documented_environment_names_override_settings() {
        let settings = load(&[
            ("MELDEWEG_LISTEN", "0.0.0.0:9000"),
            ("MELDEWEG_DATABASE_URL", "postgres://u@db/meldeweg"),
            ("MELDEWEG_DATA_DIR", "/var/lib/meldeweg"),
            ("MELDEWEG_EMAIL_FROM", "Bauhof <bauhof@musterstadt.de>"),
            ("MELDEWEG_QUEUE_LEASE_SECONDS", "7"),
        ])
        .unwrap();
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.database_url(), "postgres://u@db/meldeweg");
        assert_eq!(settings.data_dir, PathBuf::from("/var/lib/meldeweg"));
        assert_eq!(settings.queue.lease_seconds, 7);
        #[derive(Deserialize)]
        struct Email {
            from: String,
        }
        let email: Email = settings.channels.section("email").unwrap();
        assert_eq!(email.from, "Bauhof <bauhof@musterstadt.de>", "a channel's keys are overridden the same way");
    }

    #[test]
    fn a_channel_section_is_kept_for_its_channel_and_a_stray_key_is_refused() {
        let dir = std::env::temp_dir().join(format!("meldeweg-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("extra.toml");
        std::fs::write(&file, "[threema]\ngateway_id = \"*MELDEWG\"\nretries = 3\n").unwrap();
        let mut settings = Settings::load_with_env(Some(&file), |_| None).unwrap();
        assert_eq!(settings.channels.names().collect::<Vec<_>>(), ["email", "open311", "threema", "whatsapp"]);
        settings.channels.set("threema.limits.per_minute", 20);
        #[derive(Deserialize, Debug, PartialEq)]
        struct Limits {
            per_minute: u32,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Threema {
            gateway_id: String,
            retries: u8,
            limits: Limits,
        }
        let threema: Threema = settings.channels.section("threema").unwrap();
        let expected = Threema { gateway_id: "*MELDEWG".into(), retries: 3, limits: Limits { per_minute: 20 } };
        assert_eq!(threema, expected);
        let error = settings.channels.section::<Limits>("threema").unwrap_err().to_string();
        assert!(error.contains("[threema]"), "{error}");

        std::fs::write(&file, "lissten = \"127.0.0.1:80\"\n").unwrap();
        let error = Settings::load_with_env(Some(&file), |_| None).unwrap_err().to_string();
        assert!(error.contains("lissten"), "a stray key outside any section is refused: {error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_are_refused_with_the_key_that_is_wrong() {
        let error = load(&[("MELDEWEG_LISTEN", "localhost")]).unwrap_err().to_string();
        assert!(error.contains("listen"), "{error}");
        let error = load(&[("MELDEWEG_QUEUE_CONCURRENCY", "0")]).unwrap_err().to_string();
        assert!(error.contains("queue.concurrency"), "{error}");
        let error = load(&[("MELDEWEG_DATABASE_URL", "mysql://x")]).unwrap_err().to_string();
        assert!(error.contains("database_url"), "{error}");
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
        let settings = load(&[
            ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", "super-secret-token"),
            ("MELDEWEG_ENCRYPTION_KEY", "1:super-secret-key"),
            ("MELDEWEG_DATABASE_URL", "postgres://meldeweg:super-secret-password@db/meldeweg"),
            ("MELDEWEG_METRICS_TOKEN", "super-secret-metrics"),
        ])
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("super-secret"), "{debug}");
        assert!(debug.contains("whatsapp"), "the channels' sections are named: {debug}");
    }
}
