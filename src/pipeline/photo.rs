//! The photo stage of the intake job: fetch the citizen's photo, clean it on the blocking pool
//! (`workers::photo::clean`, a bounded number at a time), and store the cleaned image and
//! thumbnail. The original exists only in memory while this runs (P5).
//!
//! It runs inside the intake job of the photo's message, so a citizen's photo and the messages
//! around it go through the dialogue in the order they were sent. Storing is idempotent: the
//! token is a keyed hash of the WhatsApp message id, so a job that runs again overwrites the
//! same two files.

use std::sync::Arc;

use bytes::Bytes;

use meldeweg_workers::conversation::PhotoProblem;
use meldeweg_workers::photo::{self, Limits, PhotoError};
use meldeweg_workers::LatLon;
use tokio::sync::Semaphore;

use super::retry;
use crate::channels::whatsapp::client::MediaError;
use crate::channels::whatsapp::media::MediaSource;
use crate::channels::whatsapp::webhook::Media;
use crate::crypto::Vault;
use crate::queue::JobFailure;
use crate::storage::{self, PhotoStore};

/// What the photo stage needs; built once at start-up.
pub struct PhotoStage {
    pub media: MediaSource,
    pub store: PhotoStore,
    pub limits: Limits,
    /// Photos being cleaned at once in this process.
    pub permits: Arc<Semaphore>,
}

/// A photo cleaned and stored.
pub struct StoredPhoto {
    pub token: String,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub gps: Option<LatLon>,
    pub taken_at: Option<String>,
}

pub enum PhotoOutcome {
    Stored(StoredPhoto),
    /// The citizen is asked to send the photo again.
    Refused(PhotoProblem),
}

impl PhotoStage {
    /// Fetches, cleans and stores the photo of message `message_id`. Passing trouble (network,
    /// storage) fails the job for a retry; a photo that cannot be used is `Refused`.
    pub async fn process(&self, vault: &Vault, message_id: &str, media: &Media) -> Result<PhotoOutcome, JobFailure> {
        let bytes = match self.media.fetch(&media.id, media.sha256.as_deref(), self.limits.max_input_bytes).await {
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
        let token = storage::token_for(vault, message_id);
        self.clean_and_store(bytes, token).await
    }

    /// Cleans a photo staff uploaded (the after-photo of a done order) and stores it under a
    /// new random token.
    pub async fn clean_upload(&self, bytes: Vec<u8>) -> Result<PhotoOutcome, JobFailure> {
        if bytes.len() > self.limits.max_input_bytes {
            return Ok(PhotoOutcome::Refused(PhotoProblem::TooLarge));
        }
        self.clean_and_store(Bytes::from(bytes), crate::staff::secrets::random_hex128()).await
    }

    async fn clean_and_store(&self, bytes: Bytes, token: String) -> Result<PhotoOutcome, JobFailure> {
        // The permit travels with the blocking task, so a job abandoned mid-clean still counts
        // until its cleaning has really stopped.
        let permit = self.permits.clone().acquire_owned().await.map_err(retry)?;
        let limits = self.limits.clone();
        let cleaned = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let started = std::time::Instant::now();
            let cleaned = photo::clean(&bytes, &limits);
            crate::telemetry::photo_cleaned(started.elapsed());
            cleaned
        })
        .await;
        let cleaned = match cleaned {
            Ok(cleaned) => cleaned,
            // A decoder that panics on this file will panic again: the photo is unusable.
            Err(error) if error.is_panic() => {
                tracing::warn!("cleaning a photo panicked; it is refused");
                return Ok(PhotoOutcome::Refused(PhotoProblem::Unreadable));
            }
            Err(error) => return Err(retry(format!("cleaning stopped: {error}"))),
        };
        let cleaned = match cleaned {
            Ok(cleaned) => cleaned,
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
        Ok(PhotoOutcome::Stored(StoredPhoto {
            token,
            width: cleaned.width,
            height: cleaned.height,
            sha256: cleaned.sha256,
            gps: cleaned.gps,
            taken_at: cleaned.taken_at,
        }))
    }
}
