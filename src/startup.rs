//! Building and running Meldeweg from its typed configuration.
//!
//! `Application::build` binds the listener first (port 0 in tests, so the real address is known
//! before anything runs), connects and migrates the database, and wires the pipeline;
//! `run_until_stopped` serves HTTP and runs the workers until the shutdown token is cancelled,
//! then drains both. `run_worker` is the same without HTTP, for scaling out on PostgreSQL.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use meldeweg_workers::bystanders::Detectors;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::channels::{self, ChannelError, Routes};
use crate::config::{secret, Settings};
use crate::crypto::{CryptoError, Vault};
use crate::db::{Backend, Db, DbError};
use crate::http::server::{self, ConnectionLimits};
use crate::http::uploads::UploadBudget;
use crate::pipeline::ingress::Ingress;
use crate::pipeline::niced::NicedPool;
use crate::pipeline::photo::PhotoStage;
use crate::pipeline::{Channels, Pipeline};
use crate::queue::{self, Queue, Schedule, Worker};
use crate::reports;
use crate::service_hours::ServiceHours;
use crate::storage::{PhotoStore, StorageError};
use crate::texts::{Texts, TextsError};

/// How often the statistics roll-ups are brought up to date in the background.
const STATISTICS_EVERY: Duration = Duration::from_secs(300);
/// When the first turn of a heavy schedule (retention, statistics) comes after the first start
/// of a version that has it: not while a restarted service catches up with what waited for it.
const FIRST_TURN: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("messages: {0}")]
    Texts(#[from] TextsError),
    #[error(transparent)]
    Town(#[from] crate::town::TownError),
    #[error("reading the classifier's corrections: {0}")]
    Corrections(#[from] reports::ReportError),
    #[error("the job queue: {0}")]
    Queue(#[from] queue::QueueError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the face and plate detectors (photos.models_dir): {0}")]
    Models(#[from] meldeweg_workers::bystanders::ModelError),
    #[error("{0}: {1}")]
    ServiceHours(&'static str, String),
    #[error("encryption_old_keys is set: run `meldeweg keys rotate` with the service stopped, then remove it (MELDEWEG_ENCRYPTION_OLD_KEYS) and start again")]
    RotationUnfinished,
    #[error("cannot bring stored personal data up to date: {0}")]
    Upgrade(#[from] crate::key_rotation::RotationError),
    #[error("the encryption key opens none of the personal data in this database: every instance needs the key the others use (copy credentials/ENCRYPTION_KEY from the first machine; after `meldeweg keys rotate`, the new key)")]
    ForeignKey,
}

/// The parts every process needs: database, queue, keys, the channels and the pipeline.
pub struct Services {
    pub db: Db,
    pub pipeline: Arc<Pipeline>,
    /// The channels' HTTP routes, made once the pipeline exists.
    routes: Vec<Routes>,
    /// Uploads held in memory at once, for every form that takes a file.
    uploads: UploadBudget,
    database_url: String,
    retention: crate::config::RetentionSettings,
    recheck_seconds: u32,
    /// This process's name in job leases and schedule holds.
    holder: String,
    /// For retraining the classifier: the municipality's files.
    settings: Settings,
    /// The retrain (`reports::corrections_upto`) the classifier has learnt up to.
    corrections_seen: i64,
}

impl Services {
    /// Everything a process needs; `shutdown` stops what channels run on their own (long polls).
    pub async fn build(settings: &Settings, shutdown: &CancellationToken) -> Result<Self, StartupError> {
        // Settings changed after loading (by a caller, or a test) are held to the same rules.
        settings.validate()?;
        // Old keys only open values during `meldeweg keys rotate`; a running service would look
        // reporters up under the new key and treat everyone it knows as new.
        if secret(&settings.encryption_old_keys).is_some() {
            return Err(StartupError::RotationUnfinished);
        }
        // The municipality's files first: a start that cannot work leaves nothing behind.
        let texts = Arc::new(Texts::load(&settings.messages_dir, &settings.municipality)?);
        let mut municipality = crate::town::load(settings, &[])?;
        let mut channels = Channels::default();
        let uploads = UploadBudget::new(settings.http.max_upload_mib_in_flight as usize * 1024 * 1024);
        let parts =
            channels::Parts { settings, texts: texts.clone(), shutdown: shutdown.clone(), uploads: uploads.clone() };
        let routes = channels::register(&parts, &mut channels)?;
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartupError::DataDir { path: settings.data_dir.display().to_string(), source })?;
        let vault = settings.vault()?;
        let database_url = settings.database_url();
        let db = open_database(settings, &database_url, &vault).await?;
        // No retrain yet (0) keeps the shipped model; otherwise it learns the corrections too.
        let corrections_seen = match retrained(&db, settings, 0).await? {
            Some((classifier, upto)) => {
                municipality.town.classifier = classifier;
                upto
            }
            None => 0,
        };
        // This process, as named in job leases and schedule holds.
        let holder = format!("{}-{}", std::process::id(), short_random());
        let queue = Queue::new(db.clone(), settings.queue.clone(), holder.clone());
        let writers = (settings.database.max_connections as usize / 2).clamp(1, 8);
        let pipeline = Arc::new(Pipeline {
            db: db.clone(),
            ingress: Ingress::start(db.clone(), queue.clone(), writers),
            queue,
            vault,
            texts,
            channels,
            photos: PhotoStage {
                store: PhotoStore::open(&settings.storage, &settings.data_dir)?,
                limits: settings.photos.limits(),
                chat_permits: Arc::new(tokio::sync::Semaphore::new(settings.photos.concurrency())),
                upload_permits: Arc::new(tokio::sync::Semaphore::new(settings.photos.upload_concurrency)),
                upload_threads: NicedPool::start(settings.photos.upload_concurrency),
                detectors: Arc::new(Detectors::load(&settings.photos.models_dir, settings.photos.detection())?),
                publish: settings.photos.publish,
            },
            municipality,
            draft_ttl_ms: i64::from(settings.conversation.draft_ttl_hours) * 3_600_000,
            sla: settings.sla.clone(),
            service_hours: ServiceHours::from_settings(&settings.service_hours)
                .map_err(|(key, reason)| StartupError::ServiceHours(key, reason))?,
            public_base: settings.public_base().to_string(),
            conversation_changes: watch::channel(0).0,
        });
        let recheck_seconds = settings.photos.recheck_seconds;
        let retention = settings.retention.clone();
        let settings = settings.clone();
        Ok(Self {
            db,
            pipeline,
            routes,
            uploads,
            database_url,
            retention,
            recheck_seconds,
            holder,
            settings,
            corrections_seen,
        })
    }

    /// On PostgreSQL, tells other processes about jobs this one commits, until `shutdown`.
    pub fn spawn_announcer(&self, shutdown: &CancellationToken) {
        if self.db.backend() == Backend::Postgres {
            let announce = self.db.jobs_to_announce().clone();
            queue::spawn_postgres_notifier(self.db.pool().clone(), announce, shutdown.clone());
        }
    }

    /// Starts the scheduled work where the workers run, each schedule once across all
    /// instances (`queue::Schedule`): retention runs (P7), the public copies still missing
    /// (issue 22) and the statistics roll-ups. They stop with `shutdown`.
    pub fn spawn_schedules(&self, shutdown: &CancellationToken) {
        let schedule = |name, every| Schedule::new(self.db.clone(), name, every, self.holder.clone());
        if self.retention.run_every_hours > 0 {
            let every = Duration::from_secs(u64::from(self.retention.run_every_hours) * 3600);
            let (db, store, retention) = (self.db.clone(), self.pipeline.photos.store.clone(), self.retention.clone());
            schedule("retention", every).spawn(FIRST_TURN, shutdown.clone(), move || {
                let (db, store, retention) = (db.clone(), store.clone(), retention.clone());
                async move { crate::retention::scheduled_run(&db, &store, &retention).await }
            });
        }
        let every = Duration::from_secs(u64::from(self.recheck_seconds));
        let pipeline = self.pipeline.clone();
        schedule("photo_recheck", every).spawn(every.min(Duration::from_secs(5)), shutdown.clone(), move || {
            let pipeline = pipeline.clone();
            async move { crate::pipeline::recheck::scheduled_turn(&pipeline).await }
        });
        // Now and then, so that the statistics page seldom has roll-ups to build first (after an
        // upgrade, a whole history).
        let db = self.db.clone();
        schedule("statistics", STATISTICS_EVERY).spawn(FIRST_TURN, shutdown.clone(), move || {
            let db = db.clone();
            async move {
                match crate::stats::rollup::refresh(&db).await {
                    Ok(0) => {}
                    Ok(buckets) => tracing::info!(buckets, "statistics roll-ups built"),
                    Err(error) => {
                        tracing::warn!(%error, "statistics roll-ups not built; the statistics page will build them")
                    }
                }
            }
        });
    }

    /// Follows retraining done elsewhere (`meldeweg classify retrain`, another instance): every
    /// `classify.follow_seconds`, when the corrections the model learns from have moved, this process
    /// retrains and takes the new model over while it goes on classifying. Stops with `shutdown`.
    pub fn spawn_classifier_follow(&self, shutdown: &CancellationToken) {
        let (db, pipeline, settings) = (self.db.clone(), self.pipeline.clone(), self.settings.clone());
        let (mut seen, shutdown) = (self.corrections_seen, shutdown.clone());
        let every = Duration::from_secs(u64::from(self.settings.classify.follow_seconds));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = shutdown.cancelled() => return,
                }
                match retrained(&db, &settings, seen).await {
                    Ok(None) => {}
                    Ok(Some((classifier, upto))) => {
                        pipeline.municipality.town.classifier.learn_from(classifier);
                        seen = upto;
                        tracing::info!(upto, "the classifier learnt the corrections of a retrain");
                    }
                    Err(error) => {
                        tracing::warn!(%error, "following the classifier's retraining failed; it is tried again")
                    }
                }
            }
        });
    }

    /// Starts the worker (and, on PostgreSQL, the NOTIFY listener); both stop with `shutdown`.
    pub fn spawn_worker(&self, shutdown: &CancellationToken) -> tokio::task::JoinHandle<()> {
        let wake = self.db.jobs_committed().clone();
        if self.db.backend() == Backend::Postgres {
            queue::spawn_postgres_listener(self.database_url.clone(), wake.clone(), shutdown.clone());
        }
        let worker = Worker::new(self.pipeline.queue.clone(), self.pipeline.clone(), shutdown.clone());
        tokio::spawn(worker.run(wake))
    }
}

pub struct Application {
    listener: TcpListener,
    limits: ConnectionLimits,
    /// /metrics on an address of its own, when configured.
    metrics: Option<(TcpListener, axum::Router)>,
    metrics_enabled: bool,
    router: axum::Router,
    services: Services,
    shutdown: CancellationToken,
    run_workers: bool,
}

impl Application {
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.listen, source })?;
        settings.listening_on(
            listener.local_addr().map_err(|source| StartupError::Bind { addr: settings.listen, source })?,
        );
        let shutdown = CancellationToken::new();
        let mut services = Services::build(&settings, &shutdown).await?;
        let routes = std::mem::take(&mut services.routes);
        let router = crate::web::router(&settings, services.pipeline.clone(), routes, services.uploads.clone());
        let metrics = match settings.metrics.listen() {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })?;
                let token = secret(&settings.metrics.token).map(str::to_string);
                Some((listener, crate::web::metrics::router(services.db.clone(), token, false)))
            }
            None => None,
        };
        let run_workers = settings.queue.in_process;
        let metrics_enabled = settings.metrics.enabled();
        let limits = ConnectionLimits::from_settings(&settings.http, server::raise_open_files_limit());
        Ok(Self { listener, limits, metrics, metrics_enabled, router, services, shutdown, run_workers })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The separate metrics address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Cancelling this token stops the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub fn db(&self) -> &Db {
        &self.services.db
    }

    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.services.spawn_announcer(&self.shutdown);
        if self.metrics_enabled {
            crate::telemetry::spawn_upkeep(self.shutdown.clone());
        }
        let sealer = crate::audit::spawn_sealer(self.services.db.clone(), self.shutdown.clone());
        self.services.spawn_classifier_follow(&self.shutdown);
        let worker = self.run_workers.then(|| self.services.spawn_worker(&self.shutdown));
        if self.run_workers {
            self.services.spawn_schedules(&self.shutdown);
        }
        tracing::info!(addr = %self.local_addr(), "listening");
        if let Some(metrics) = self.metrics {
            serve_metrics(metrics, self.limits.clone(), &self.shutdown);
        }
        // Returns once the shutdown token is cancelled and the requests in flight are answered.
        server::serve(self.listener, self.router, self.limits, self.shutdown.clone()).await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        let _ = sealer.await;
        self.services.db.close().await;
        Ok(())
    }
}

/// Runs only the workers until `shutdown` is cancelled (with /metrics on `metrics.listen`,
/// when set: each worker process counts its own jobs).
pub async fn run_worker(settings: Settings, shutdown: CancellationToken) -> Result<(), StartupError> {
    let services = Services::build(&settings, &shutdown).await?;
    if let Some(metrics) = metrics_listener(&settings, &services).await? {
        crate::telemetry::spawn_upkeep(shutdown.clone());
        let limits = ConnectionLimits::from_settings(&settings.http, server::raise_open_files_limit());
        serve_metrics(metrics, limits, &shutdown);
    }
    services.spawn_announcer(&shutdown);
    services.spawn_schedules(&shutdown);
    let sealer = crate::audit::spawn_sealer(services.db.clone(), shutdown.clone());
    services.spawn_classifier_follow(&shutdown);
    let _ = services.spawn_worker(&shutdown).await;
    let _ = sealer.await;
    services.db.close().await;
    Ok(())
}

/// Binds the separate metrics address, when one is configured, and installs the recorder
/// whenever metrics are on.
async fn metrics_listener(
    settings: &Settings,
    services: &Services,
) -> Result<Option<(TcpListener, axum::Router)>, StartupError> {
    if settings.metrics.enabled() {
        crate::telemetry::handle();
    }
    let Some(addr) = settings.metrics.listen() else { return Ok(None) };
    let listener = TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })?;
    let token = secret(&settings.metrics.token).map(str::to_string);
    Ok(Some((listener, crate::web::metrics::router(services.db.clone(), token, false))))
}

fn serve_metrics(
    (listener, router): (TcpListener, axum::Router),
    limits: ConnectionLimits,
    shutdown: &CancellationToken,
) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics listening");
    }
    let shutdown = shutdown.clone();
    tokio::spawn(server::serve(listener, router, limits, shutdown));
}

/// The configured database, migrated, with the data stored before this version brought up to it.
/// Instances starting together take turns (`Db::startup_lock`): the first migrates and brings
/// the data up, the others then find nothing left to do.
async fn open_database(settings: &Settings, url: &str, vault: &Vault) -> Result<Db, StartupError> {
    let db = Db::connect(url, &settings.database).await?;
    let lock = db.startup_lock().await?;
    let prepared = prepare(&db, vault).await;
    lock.release().await;
    prepared?;
    Ok(db)
}

async fn prepare(db: &Db, vault: &Vault) -> Result<(), StartupError> {
    db.migrate().await?;
    if !crate::key_rotation::opens_stored_data(db, vault).await.map_err(DbError::from)? {
        return Err(StartupError::ForeignKey);
    }
    let upgraded = crate::key_rotation::upgrade(db, vault).await?;
    if upgraded > 0 {
        tracing::info!(upgraded, "data stored by an earlier version was brought up to this one");
    }
    let indexed = reports::search::catch_up(db).await?;
    if indexed > 0 {
        tracing::info!(indexed, "reports from before the search index were indexed");
    }
    Ok(())
}

/// A classifier trained anew, also from staff corrections, when the corrections it learns from
/// moved past `seen` (0: none yet), and the retrain it learnt up to.
async fn retrained(
    db: &Db,
    settings: &Settings,
    seen: i64,
) -> Result<Option<(meldeweg_workers::classify::Classifier, i64)>, StartupError> {
    let mut conn = db.pool().acquire().await.map_err(DbError::from)?;
    let upto = reports::corrections_upto(&mut conn).await?;
    if upto == seen {
        return Ok(None);
    }
    let corrections = reports::training_corrections(&mut conn).await?;
    drop(conn);
    Ok(Some((crate::town::load_classifier(settings, &corrections)?, upto)))
}

fn short_random() -> String {
    use rand::Rng;
    format!("{:06x}", rand::rng().random_range(0..0x1000000))
}
