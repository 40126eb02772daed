//! The photo stage every photo goes through: fetched from its channel (or handed over with a
//! form), cleaned on the blocking pool (`workers::photo::clean`, a bounded number at a time),
//! searched for bystanders' faces and number plates (`workers::bystanders`, on the pixels the
//! cleaning decoded), and the cleaned image, its public copy with those obscured, and their
//! thumbnails stored. The original exists only in memory while this runs (P5). When detection
//! fails the photo is stored without a public copy and stays private (fail closed); the
//! report goes on all the same.
//!
//! The public copy is written by whoever records it (`record_copy`), in the transaction that
//! records the photo, and only while no checked copy is recorded: a job that runs a second
//! time, or a late re-check, never overwrites a copy staff have already obscured more in.
//!
//! A chat photo is cleaned inside the intake job of its message, so a citizen's photo and the
//! messages around it go through the dialogue in the order they were sent. Storing is
//! idempotent: the token is a keyed hash of the channel's message id, so a job that runs again
//! overwrites the same cleaned files.

use std::sync::Arc;

use bytes::Bytes;

use meldeweg_workers::bystanders::{self, Detectors};
use meldeweg_workers::conversation::PhotoProblem;
use meldeweg_workers::message::MediaRef;
use meldeweg_workers::photo::{self, Limits, PhotoError};
use meldeweg_workers::LatLon;
use sqlx::AnyConnection;
use tokio::sync::Semaphore;

use super::channel::{MediaError, MessageSource};
use super::niced::{Lost, NicedPool};
use super::retry;
use crate::config::Publish;
use crate::crypto::Vault;
use crate::public_copies::{self, Checked, Recording};
use crate::queue::JobFailure;
use crate::storage::{self, PhotoStore, StorageError, Variant};

/// What the photo stage needs; built once at start-up.
pub struct PhotoStage {
    pub store: PhotoStore,
    pub limits: Limits,
    /// Chat photos being cleaned at once in this process.
    pub chat_permits: Arc<Semaphore>,
    /// Photos uploaded with a request (forms, after-photos) being cleaned at once: a budget of
    /// their own, so a flood of uploads cannot delay citizens' chat photos ...
    pub upload_permits: Arc<Semaphore>,
    /// ... and threads of their own, at a lower CPU priority.
    pub upload_threads: NicedPool,
    /// The face and plate detectors, loaded and checked at start.
    pub detectors: Arc<Detectors>,
    /// When a public copy may be seen (`photos.publish`).
    pub publish: Publish,
}

/// Where a photo is cleaned: a chat photo on the blocking pool, an upload on the niced threads.
#[derive(Clone, Copy)]
enum Cleaner {
    Chat,
    Upload,
}

/// A photo cleaned and stored.
pub struct StoredPhoto {
    pub token: String,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub gps: Option<LatLon>,
    pub taken_at: Option<String>,
    /// What detection found, or why it failed.
    pub checked: Checked,
    /// The public copy detection made, stored when the photo is recorded (`record_copy`).
    pub copy: Option<bystanders::PublicCopy>,
}

/// Why a photo's public copy could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub enum PhotoOutcome {
    Stored(StoredPhoto),
    /// The citizen is asked to send the photo again.
    Refused(PhotoProblem),
}

impl PhotoStage {
    /// Fetches the photo `media` from its channel, cleans and stores it under a token derived
    /// from `key` (its message). Passing trouble (network, storage) fails the job for a retry;
    /// a photo that cannot be used is `Refused`.
    pub async fn fetch_and_clean(
        &self,
        source: &dyn MessageSource,
        vault: &Vault,
        key: &str,
        media: &MediaRef,
    ) -> Result<PhotoOutcome, JobFailure> {
        let bytes = match source.fetch_photo(media, self.limits.max_input_bytes).await {
            Ok(bytes) => bytes,
            Err(MediaError::Transient(reason)) => return Err(retry(reason)),
            Err(MediaError::Gone(reason)) => {
                tracing::warn!(%reason, "a photo could not be fetched");
                return Ok(PhotoOutcome::Refused(PhotoProblem::Unavailable));
            }
            Err(MediaError::TooLarge { max }) => {
                tracing::info!(max, "a photo was larger than allowed");
                return Ok(PhotoOutcome::Refused(PhotoProblem::TooLarge));
            }
        };
        self.clean_and_store(Cleaner::Chat, bytes, storage::token_for(vault, key)).await
    }

    /// Cleans a photo that came with its request (a form's photo, a crew's after-photo) and
    /// stores it under a new random token.
    pub async fn clean_upload(&self, bytes: Bytes) -> Result<PhotoOutcome, JobFailure> {
        if bytes.len() > self.limits.max_input_bytes {
            return Ok(PhotoOutcome::Refused(PhotoProblem::TooLarge));
        }
        self.clean_and_store(Cleaner::Upload, bytes, crate::secrets::random_hex128()).await
    }

    async fn clean_and_store(&self, cleaner: Cleaner, bytes: Bytes, token: String) -> Result<PhotoOutcome, JobFailure> {
        let permits = match cleaner {
            Cleaner::Chat => &self.chat_permits,
            Cleaner::Upload => &self.upload_permits,
        };
        // The permit travels with the work, so a job abandoned mid-clean still counts until its
        // cleaning has really stopped.
        let permit = permits.clone().acquire_owned().await.map_err(retry)?;
        let limits = self.limits.clone();
        let detectors = self.detectors.clone();
        let work = move || {
            let _permit = permit;
            let started = std::time::Instant::now();
            let cleaned = photo::clean(&bytes, &limits);
            crate::telemetry::photo_cleaned(started.elapsed());
            drop(bytes);
            cleaned.map(|cleaned| {
                let started = std::time::Instant::now();
                let public = public_copy(&detectors, &cleaned.pixels, &limits);
                crate::telemetry::photo_checked(started.elapsed());
                (cleaned, public)
            })
        };
        let cleaned = match cleaner {
            Cleaner::Chat => tokio::task::spawn_blocking(work).await.map_err(|error| {
                if error.is_panic() {
                    Lost::Panicked
                } else {
                    Lost::Gone
                }
            }),
            Cleaner::Upload => self.upload_threads.run(work).await,
        };
        let cleaned = match cleaned {
            Ok(cleaned) => cleaned,
            // A decoder that panics on this file will panic again: the photo is unusable.
            Err(Lost::Panicked) => {
                tracing::warn!("cleaning a photo panicked; it is refused");
                return Ok(PhotoOutcome::Refused(PhotoProblem::Unreadable));
            }
            Err(Lost::Gone) => return Err(retry("cleaning stopped: the service is stopping")),
        };
        let (cleaned, public) = match cleaned {
            Ok(done) => done,
            Err(error) => {
                tracing::info!(%error, "a photo was refused");
                let problem = match error {
                    PhotoError::TooLarge { .. } | PhotoError::TooManyPixels { .. } | PhotoError::TooMuchMemory => {
                        PhotoProblem::TooLarge
                    }
                    _ => PhotoProblem::Unreadable,
                };
                return Ok(PhotoOutcome::Refused(problem));
            }
        };
        self.store.put(&token, cleaned.jpeg, cleaned.thumbnail).await.map_err(retry)?;
        let (checked, copy) = split(public);
        Ok(PhotoOutcome::Stored(StoredPhoto {
            token,
            width: cleaned.width,
            height: cleaned.height,
            sha256: cleaned.sha256,
            gps: cleaned.gps,
            taken_at: cleaned.taken_at,
            checked,
            copy,
        }))
    }

    /// Records what detection said about `photo` and stores its public copy (see the module's
    /// doc): in the caller's transaction, before it commits.
    pub async fn record_copy(
        &self,
        conn: &mut AnyConnection,
        photo: &StoredPhoto,
        now_ms: i64,
    ) -> Result<(), RecordError> {
        let recording = Recording::New;
        let recorded =
            public_copies::record(conn, &photo.token, &photo.checked, recording, self.publish, now_ms).await?;
        self.store_if(recorded, &photo.token, photo.copy.as_ref()).await
    }

    /// Records a re-check of a stored photo (`check_stored`) and, if its row is still there and
    /// unchecked, stores `copy`; a photo deleted meanwhile gets nothing.
    pub async fn record_recheck(
        &self,
        conn: &mut AnyConnection,
        token: &str,
        checked: &Checked,
        copy: Option<&bystanders::PublicCopy>,
        now_ms: i64,
    ) -> Result<(), RecordError> {
        let recorded = public_copies::record(conn, token, checked, Recording::Again, self.publish, now_ms).await?;
        self.store_if(recorded, token, copy).await
    }

    async fn store_if(
        &self,
        recorded: bool,
        token: &str,
        copy: Option<&bystanders::PublicCopy>,
    ) -> Result<(), RecordError> {
        match copy {
            Some(copy) if recorded => Ok(self.store_public(token, copy).await?),
            _ => Ok(()),
        }
    }

    /// Writes `token`'s public copy.
    pub async fn store_public(&self, token: &str, copy: &bystanders::PublicCopy) -> Result<(), StorageError> {
        self.store.put_public(token, copy.jpeg.clone(), copy.thumbnail.clone()).await
    }

    /// Checks a photo stored earlier (its cleaned file; the upload is long gone) and makes its
    /// public copy (not yet stored: `record_recheck` does). Storage trouble is the error; a
    /// photo that cannot be checked is `Failed`.
    pub async fn check_stored(&self, token: &str) -> Result<(Checked, Option<bystanders::PublicCopy>), String> {
        let Some(pixels) = self.stored_pixels(token).await? else {
            return Ok((Checked::Failed("the cleaned photo is missing from the photo store".into()), None));
        };
        let (detectors, limits) = (self.detectors.clone(), self.limits.clone());
        let public = self.on_upload_threads(move || public_copy(&detectors, &pixels, &limits)).await?;
        Ok(split(public))
    }

    /// The cleaned pixels of the photo stored under `token`; `None` when its file is gone.
    pub async fn stored_pixels(&self, token: &str) -> Result<Option<bystanders::RgbImage>, String> {
        let Some(jpeg) = self.store.get(token, Variant::Image).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let pixels = self.on_upload_threads(move || photo::decode_cleaned(&jpeg)).await?;
        pixels.map(Some).map_err(|e| e.to_string())
    }

    /// A public copy of the cleaned `pixels` with every region in `regions` obscured (a staff
    /// member obscured more); the caller stores it.
    pub async fn render_copy(
        &self,
        pixels: Arc<bystanders::RgbImage>,
        regions: Vec<bystanders::Region>,
    ) -> Result<bystanders::PublicCopy, String> {
        let limits = self.limits.clone();
        let copy = self.on_upload_threads(move || bystanders::public_copy(&pixels, &regions, &limits)).await?;
        copy.map_err(|e| e.to_string())
    }

    /// Runs `work` on the upload threads, within their budget: work on stored photos yields to
    /// citizens' chat photos as uploads do.
    async fn on_upload_threads<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let permit = self.upload_permits.clone().acquire_owned().await.map_err(|e| e.to_string())?;
        self.upload_threads
            .run(move || {
                let _permit = permit;
                work()
            })
            .await
            .map_err(|_| "the photo work stopped (the service is stopping, or it panicked)".to_string())
    }
}

/// Regions found in a photo and its public copy with them obscured.
type Found = (Vec<bystanders::Region>, bystanders::PublicCopy);

/// What detection said, and the copy it made.
fn split(public: Result<Found, String>) -> (Checked, Option<bystanders::PublicCopy>) {
    match public {
        Ok((regions, copy)) => (Checked::Found(regions), Some(copy)),
        Err(reason) => {
            tracing::warn!(%reason, "bystander detection failed; the photo stays private");
            (Checked::Failed(reason), None)
        }
    }
}

/// The regions found in `pixels` and the public copy with them obscured; the reason when
/// either failed.
fn public_copy(detectors: &Detectors, pixels: &bystanders::RgbImage, limits: &Limits) -> Result<Found, String> {
    let regions = detectors.find(pixels).map_err(|e| e.to_string())?;
    let copy = bystanders::public_copy(pixels, &regions, limits).map_err(|e| e.to_string())?;
    Ok((regions, copy))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Semaphore;

    use super::{Detectors, PhotoOutcome, PhotoStage};
    use crate::storage::PhotoStore;

    const PHOTO: &[u8] = include_bytes!("../../tests/fixtures/photos/recompressed_nometa.jpg");

    #[tokio::test]
    async fn a_chat_photo_is_cleaned_while_every_upload_permit_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::config::Settings::load_with_env(None, |_| None).unwrap().photos;
        let stage = PhotoStage {
            store: PhotoStore::local(dir.path()).unwrap(),
            limits: settings.limits(),
            detectors: Arc::new(Detectors::load(&settings.models_dir, settings.detection()).unwrap()),
            publish: settings.publish,
            chat_permits: Arc::new(Semaphore::new(1)),
            upload_permits: Arc::new(Semaphore::new(1)),
            upload_threads: super::NicedPool::start(1),
        };
        // A flood of uploads holds the upload budget...
        let _flood = stage.upload_permits.clone().acquire_owned().await.unwrap();
        let upload = stage.clean_upload(PHOTO.to_vec().into());
        tokio::pin!(upload);
        assert!(tokio::time::timeout(Duration::from_millis(200), &mut upload).await.is_err(), "the upload waits");
        // ... and a citizen's chat photo goes through all the same.
        let chat = stage.clean_and_store(super::Cleaner::Chat, PHOTO.to_vec().into(), "chat-photo".into());
        let cleaned = tokio::time::timeout(Duration::from_secs(30), chat).await.expect("the chat photo is not held up");
        assert!(matches!(cleaned, Ok(PhotoOutcome::Stored(_))));
    }
}
