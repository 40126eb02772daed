//! `spawn_app()` and friends: the real service on port 0 against a fresh database (a SQLite file,
//! or a fresh PostgreSQL schema when `MELDEWEG_TEST_DATABASE_URL` is set) and a fake Graph API;
//! builders for webhook deliveries as Meta sends them; and waiting on conditions with a deadline.

use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use meldeweg::channels::whatsapp::signature::sign;
use meldeweg::config::Settings;
use meldeweg::db::Db;
use meldeweg::startup::Application;
use meldeweg::texts::{TextKey, Texts};
use meldeweg_workers::conversation::Lang;
use rand::Rng;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};
use tokio_util::sync::CancellationToken;

use crate::fake_graph::{FakeGraph, ACCESS_TOKEN, API_VERSION, PHONE_NUMBER_ID};

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const ENCRYPTION_KEY: &str = "6d656c64657765676d656c64657765676d656c64657765676d656c6465776567";
/// How long a test waits for something to happen before it fails: generous, because a photo
/// goes through cleaning and face and plate detection in a debug build, and CI runs many
/// tests at once on two cores (a test that passes waits only as long as it takes).
pub const DEADLINE: Duration = Duration::from_secs(60);

static LOGGING: Once = Once::new();

/// Set TEST_LOG=debug to see the service's logs while a test runs.
fn init_logging() {
    LOGGING.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init();
        }
    });
}

/// A database nobody else uses: a new SQLite file in `dir`, or a new PostgreSQL schema.
pub async fn fresh_database(dir: &Path) -> String {
    match std::env::var("MELDEWEG_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("t_{}", hex::encode(rand::rng().random::<[u8; 8]>()));
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("MELDEWEG_TEST_DATABASE_URL must point at a reachable PostgreSQL");
            conn.execute(format!("CREATE SCHEMA {schema}").as_str()).await.expect("create schema");
            conn.close().await.expect("close");
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("{base}{separator}options=-c%20search_path%3D{schema}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("meldeweg.db").display()),
    }
}

/// Where citizens would reach the service in the tests (cloud mode needs https).
pub const PUBLIC_URL: &str = "https://maengel.musterstadt.test";

/// How long the service waits for the fake Graph API.
const GRAPH_TIMEOUT_SECONDS: &str = "5";

/// Cloud-mode settings pointing at the fake Graph API, with short retry delays.
pub fn test_settings(dir: &Path, database_url: &str, graph_url: &str) -> Settings {
    let mut settings = Settings::load_with_env(None, |_| None).expect("defaults load").with_database_url(database_url);
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.data_dir = dir.to_path_buf();
    settings.messages_dir = dir.join("built-in-texts");
    settings.encryption_key = SecretString::from(ENCRYPTION_KEY);
    settings.public_url = PUBLIC_URL.to_string();
    for (key, value) in [
        ("mode", "cloud"),
        ("api_base_url", graph_url),
        ("api_version", API_VERSION),
        ("phone_number_id", PHONE_NUMBER_ID),
        ("app_secret", APP_SECRET),
        ("access_token", ACCESS_TOKEN),
        ("verify_token", VERIFY_TOKEN),
        ("timeout_seconds", GRAPH_TIMEOUT_SECONDS),
    ] {
        settings.channels.set(&format!("whatsapp.{key}"), value);
    }
    // The detectors look at a smaller picture than in production (1024): the tests' photos are
    // small, and a debug build runs the networks slowly. Accuracy is measured in the benchmark.
    settings.photos.face_side = 512;
    settings.photos.plate_side = 512;
    // Retention runs when a test calls it, at the time the test gives, never on its own.
    settings.retention.run_every_hours = 0;
    let queue = &mut settings.queue;
    queue.retry_base_ms = 20;
    queue.retry_max_seconds = 1;
    queue.poll_seconds = 1;
    queue.lease_seconds = 5;
    settings
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub graph: FakeGraph,
    pub db: Db,
    pub database_url: String,
    pub settings: Settings,
    pub dir: tempfile::TempDir,
    /// The reply texts the service was started with.
    pub texts: Texts,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the service with test settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let database_url = fresh_database(dir.path()).await;
    let mut settings = test_settings(dir.path(), &database_url, &graph.url);
    configure(&mut settings);
    let app = Application::build(settings.clone()).await.expect("the service starts");
    let address = format!("http://{}", app.local_addr());
    let db = app.db().clone();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let texts = Texts::load(&settings.messages_dir, &settings.municipality).expect("the message files load");
    TestApp { address, http: reqwest::Client::new(), graph, db, database_url, settings, dir, texts, shutdown }
}

static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A simulated citizen on WhatsApp.
#[derive(Debug, Clone)]
pub struct Citizen {
    pub phone: Option<String>,
    pub user_id: Option<String>,
}

impl Citizen {
    /// A citizen with a random German mobile number and a business-scoped user id.
    pub fn new() -> Self {
        let mut rng = rand::rng();
        let phone = format!("49151{:08}", rng.random_range(0..100_000_000u32));
        let user_id = format!("DE.{}", rng.random_range(10_u64.pow(15)..10_u64.pow(16)));
        Self { phone: Some(phone), user_id: Some(user_id) }
    }

    /// A citizen who adopted a username and hides the number.
    pub fn without_number() -> Self {
        Self { phone: None, ..Self::new() }
    }

    /// Where replies to this citizen go: the number, else the user id.
    pub fn address(&self) -> &str {
        self.phone.as_deref().or(self.user_id.as_deref()).expect("an identity")
    }

    /// A message from this citizen with a fresh id, sent `seconds_ago`.
    pub fn message_at(&self, content: Value, seconds_ago: i64) -> Value {
        let n = MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed);
        // Like Meta's ids, it carries the sender (P6: never stored in clear).
        let id = format!("wamid.test.{}.{}.{n}", self.address(), hex::encode(rand::rng().random::<[u8; 6]>()));
        let timestamp = (meldeweg::time::now_ms() / 1000 - seconds_ago).to_string();
        let mut message = json!({ "id": id, "timestamp": timestamp });
        if let Some(phone) = &self.phone {
            message["from"] = json!(phone);
        }
        if let Some(user_id) = &self.user_id {
            message["from_user_id"] = json!(user_id);
        }
        for (key, value) in content.as_object().expect("content is an object") {
            message[key] = value.clone();
        }
        message
    }

    pub fn message(&self, content: Value) -> Value {
        self.message_at(content, 0)
    }

    pub fn contact(&self) -> Value {
        let mut contact = json!({ "profile": { "name": "Erika Mustermann" } });
        if let Some(phone) = &self.phone {
            contact["wa_id"] = json!(phone);
        }
        if let Some(user_id) = &self.user_id {
            contact["user_id"] = json!(user_id);
        }
        contact
    }
}

pub fn text(body: &str) -> Value {
    json!({ "type": "text", "text": { "body": body } })
}

pub fn location(lat: f64, lon: f64) -> Value {
    json!({ "type": "location", "location": {
        "latitude": lat, "longitude": lon, "name": "Grundschule am Park", "address": "Parkstraße 3" } })
}

/// The citizen's tap on a reply button.
pub fn button_reply(id: &str, title: &str) -> Value {
    json!({ "type": "interactive", "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": title } } })
}

/// The citizen's choice from a list.
pub fn list_reply(id: &str, title: &str) -> Value {
    json!({ "type": "interactive", "interactive": { "type": "list_reply", "list_reply": { "id": id, "title": title } } })
}

/// A webhook delivery as Meta POSTs it, with these contacts, messages and statuses.
pub fn delivery(contacts: Vec<Value>, messages: Vec<Value>, statuses: Vec<Value>) -> Value {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID },
    });
    if !contacts.is_empty() {
        value["contacts"] = json!(contacts);
    }
    if !messages.is_empty() {
        value["messages"] = json!(messages);
    }
    if !statuses.is_empty() {
        value["statuses"] = json!(statuses);
    }
    json!({ "object": "whatsapp_business_account",
            "entry": [{ "id": "419561257915477", "changes": [{ "field": "messages", "value": value }] }] })
}

/// A status webhook for a message Meldeweg sent.
pub fn status(wamid: &str, status: &str, recipient: &str, error_code: Option<i64>) -> Value {
    let mut value = json!({
        "id": wamid, "status": status, "timestamp": (meldeweg::time::now_ms() / 1000).to_string(),
        "recipient_id": recipient,
    });
    if let Some(code) = error_code {
        value["errors"] = json!([{ "code": code, "title": "Re-engagement message",
                                   "message": "Re-engagement message", "error_data": { "details": "window" } }]);
    }
    value
}

impl TestApp {
    /// A reply as Meldeweg words it, in German, without parameters.
    pub fn render(&self, key: TextKey) -> String {
        self.render_in(Lang::De, key, &[])
    }

    pub fn render_in(&self, lang: Lang, key: TextKey, params: &[(&str, &str)]) -> String {
        self.texts.render(lang, key, params)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs raw bytes to the webhook with the given signature header (if any).
    pub async fn post_webhook_bytes(&self, body: Vec<u8>, signature: Option<String>) -> reqwest::Response {
        let mut request = self.http.post(self.url("/webhooks/whatsapp")).header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.body(body).send().await.expect("webhook request")
    }

    /// POSTs a delivery signed with the app secret, as Meta does.
    pub async fn post_webhook(&self, delivery: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(delivery).unwrap();
        let signature = sign(APP_SECRET.as_bytes(), &body);
        self.post_webhook_bytes(body, Some(signature)).await
    }

    /// The citizen sends one message; asserts the webhook accepted it.
    pub async fn send(&self, citizen: &Citizen, content: Value) {
        self.send_at(citizen, content, 0).await
    }

    pub async fn send_at(&self, citizen: &Citizen, content: Value, seconds_ago: i64) {
        let delivery = delivery(vec![citizen.contact()], vec![citizen.message_at(content, seconds_ago)], vec![]);
        let response = self.post_webhook(&delivery).await;
        assert_eq!(response.status(), 200, "webhook refused: {}", response.text().await.unwrap_or_default());
    }

    /// Waits until `count` texts were delivered to the citizen, and returns them.
    pub async fn replies(&self, citizen: &Citizen, count: usize) -> Vec<String> {
        let address = citizen.address().to_string();
        eventually(&format!("{count} replies to the citizen"), || {
            let graph = self.graph.clone();
            let address = address.clone();
            async move { graph.texts_to(&address).len() >= count }
        })
        .await;
        self.graph.texts_to(citizen.address())
    }

    /// The public status page of a report, as its acknowledgement links it.
    pub async fn status_link(&self, reference: &str) -> String {
        let token: String = sqlx::query_scalar("SELECT public_token FROM reports WHERE reference = $1")
            .bind(reference)
            .fetch_one(self.db.pool())
            .await
            .expect("the report exists");
        format!("{}/m/{token}", self.settings.public_base())
    }

    /// A number from the database.
    /// A count; one over the audit log chains the events recorded so far first.
    pub async fn count(&self, sql: &str) -> i64 {
        if sql.contains("audit_log") {
            self.seal_audit().await;
        }
        sqlx::query_scalar(sql).fetch_one(self.db.pool()).await.expect(sql)
    }

    /// Chains the audit events recorded so far (the service's sealer does so within a tenth of
    /// a second; a test reading `audit_log` right after a step does it itself).
    pub async fn seal_audit(&self) {
        let mut conn = self.db.pool().acquire().await.unwrap();
        meldeweg::audit::seal(&mut conn).await.expect("sealing the audit events");
    }

    /// Waits until the queue holds no job that can still run.
    pub async fn queue_drained(&self) {
        eventually("the queue to drain", || async {
            self.count("SELECT COUNT(*) FROM jobs WHERE dead_at IS NULL").await == 0
        })
        .await;
    }

    /// The environment a `meldeweg` process needs to join this test's service.
    pub fn process_env(&self) -> Vec<(String, String)> {
        let s = &self.settings;
        [
            ("MELDEWEG_DATABASE_URL", self.database_url.clone()),
            ("MELDEWEG_DATA_DIR", s.data_dir.display().to_string()),
            ("MELDEWEG_MESSAGES_DIR", s.messages_dir.display().to_string()),
            ("MELDEWEG_ENCRYPTION_KEY", ENCRYPTION_KEY.to_string()),
            ("MELDEWEG_PUBLIC_URL", PUBLIC_URL.to_string()),
            ("MELDEWEG_WHATSAPP_MODE", "cloud".to_string()),
            ("MELDEWEG_WHATSAPP_API_BASE_URL", self.graph.url.clone()),
            ("MELDEWEG_WHATSAPP_API_VERSION", API_VERSION.to_string()),
            ("MELDEWEG_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_string()),
            ("MELDEWEG_WHATSAPP_APP_SECRET", APP_SECRET.to_string()),
            ("MELDEWEG_WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN.to_string()),
            ("MELDEWEG_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN.to_string()),
            ("MELDEWEG_WHATSAPP_TIMEOUT_SECONDS", GRAPH_TIMEOUT_SECONDS.to_string()),
            ("MELDEWEG_QUEUE_RETRY_BASE_MS", s.queue.retry_base_ms.to_string()),
            ("MELDEWEG_QUEUE_RETRY_MAX_SECONDS", s.queue.retry_max_seconds.to_string()),
            ("MELDEWEG_QUEUE_POLL_SECONDS", s.queue.poll_seconds.to_string()),
            ("MELDEWEG_QUEUE_LEASE_SECONDS", s.queue.lease_seconds.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Starts a `meldeweg` process with `args` against this test's database and fake API.
    pub fn start_process(&self, args: &[&str], extra_env: &[(&str, &str)]) -> tokio::process::Child {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_meldeweg"));
        command
            .args(args)
            .env_clear()
            .envs(self.process_env())
            .envs(extra_env.iter().copied())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command.spawn().expect("start meldeweg")
    }
}

/// Waits until `condition` holds, failing the test after `DEADLINE`.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends SIGTERM (a graceful stop request) to a child process.
pub fn terminate(child: &tokio::process::Child) {
    let pid = child.id().expect("the process is running") as i32;
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    let result = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(result, 0, "sending SIGTERM failed");
}

/// The path of a photo in tests/fixtures/photos (see SOURCES.md there).
pub fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photos").join(name)
}

/// A photo from tests/fixtures/photos.
pub fn fixture_photo(name: &str) -> Vec<u8> {
    let path = fixture_path(name).display().to_string();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The SHA-256 of `bytes` as the webhook announces it (base64).
pub fn announced_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// An image message for media the fake Graph API holds, announcing the bytes' SHA-256.
pub fn image(app: &TestApp, media_id: &str, bytes: Vec<u8>, caption: Option<&str>) -> Value {
    let sha256 = announced_sha256(&bytes);
    app.graph.add_media(media_id, bytes);
    let mut image = json!({ "id": media_id, "mime_type": "image/jpeg", "sha256": sha256 });
    if let Some(caption) = caption {
        image["caption"] = json!(caption);
    }
    json!({ "type": "image", "image": image })
}

/// Every file below `dir` (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `meldeweg serve` process against the test's database and fake API, on its own port.
pub struct Served {
    child: tokio::process::Child,
    pub base: String,
}

impl Served {
    pub async fn start(app: &TestApp, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("127.0.0.1:{port}");
        let mut env = env.to_vec();
        env.push(("MELDEWEG_LISTEN", &listen));
        let child = app.start_process(&["serve"], &env);
        let base = format!("http://{listen}");
        let health = format!("{base}/healthz");
        eventually("the process to serve", || async {
            reqwest::get(&health).await.is_ok_and(|r| r.status().is_success())
        })
        .await;
        Self { child, base }
    }

    pub async fn deliver(&self, delivery: &Value) {
        assert!(self.try_deliver(delivery).await, "the delivery is acknowledged");
    }

    /// Whether the process acknowledged the delivery (200); false when it refused or is gone.
    pub async fn try_deliver(&self, delivery: &Value) -> bool {
        let body = serde_json::to_vec(delivery).unwrap();
        let response = reqwest::Client::new()
            .post(format!("{}/webhooks/whatsapp", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), &body))
            .body(body)
            .send()
            .await;
        response.is_ok_and(|response| response.status() == 200)
    }

    /// Kills the process at once (SIGKILL), as a machine that fails: nothing finishes.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let _ = self.child.wait().await;
    }

    pub async fn send(&self, citizen: &Citizen, content: Value) {
        self.deliver(&delivery(vec![citizen.contact()], vec![citizen.message(content)], vec![])).await;
    }

    /// Stops the process gracefully and returns everything it logged.
    pub async fn stop(self) -> String {
        terminate(&self.child);
        let output = self.child.wait_with_output().await.unwrap();
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    }
}
