//! Reading uploaded form fields and request bodies into memory with bounds: each up to its own
//! limit (the rest of an over-long one is not read), and all of them together up to the budget
//! they share (`http.max_upload_mib_in_flight` for uploads; the webhook has a budget of its
//! own): each takes room for its limit, or the length it declares, before it is read. A
//! request that finds no room waits a moment, then is turned away (503) instead of growing the
//! process.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in KiB (a semaphore's permits are a `u32` per acquisition).
const UNIT: usize = 1024;

/// How long an upload waits for room in the budget before it is turned away.
const WAIT_FOR_ROOM: Duration = Duration::from_secs(2);

/// Bytes of uploads held in memory at once, shared by every form that takes a file.
#[derive(Clone)]
pub struct UploadBudget {
    units: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the field is longer than {0} bytes")]
    TooLarge(usize),
    #[error("the server is taking in too many uploads at once")]
    Busy,
    /// The body broke off, timed out or is not multipart; `TooLarge` when over the body limit.
    #[error("the form could not be read: {0}")]
    Unreadable(String),
}

/// A field's bytes, with their share of the budget held until it is dropped.
pub struct Upload {
    pub bytes: Bytes,
    _held: OwnedSemaphorePermit,
}

impl UploadBudget {
    pub fn new(max_bytes: usize) -> Self {
        Self { units: Arc::new(Semaphore::new(max_bytes.div_ceil(UNIT).max(1))) }
    }

    /// Reads a request body whole, up to `max_bytes`, taking room for the length it declares
    /// (or `max_bytes` without one) before the first byte is read.
    pub async fn read_body(
        &self,
        body: Body,
        declared: Option<usize>,
        max_bytes: usize,
    ) -> Result<Upload, UploadError> {
        if declared.is_some_and(|length| length > max_bytes) {
            return Err(UploadError::TooLarge(max_bytes));
        }
        let held = self.room_for(declared.unwrap_or(max_bytes)).await?;
        let mut stream = body.into_data_stream();
        let mut bytes = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| UploadError::Unreadable(error.to_string()))?;
            if bytes.len() + chunk.len() > declared.unwrap_or(max_bytes) {
                return Err(UploadError::TooLarge(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Upload { bytes: bytes.freeze(), _held: held })
    }

    /// Room for `bytes` in the budget, waiting at most `WAIT_FOR_ROOM`.
    async fn room_for(&self, bytes: usize) -> Result<OwnedSemaphorePermit, UploadError> {
        let units = u32::try_from(bytes.div_ceil(UNIT)).map_err(|_| UploadError::TooLarge(bytes))?;
        let room = tokio::time::timeout(WAIT_FOR_ROOM, self.units.clone().acquire_many_owned(units));
        room.await.map_err(|_| UploadError::Busy)?.map_err(|_| UploadError::Busy)
    }

    /// Reads `field` whole, up to `max_bytes`; stops reading as soon as it is longer. The room
    /// for `max_bytes` is taken before the first byte is read, so uploads that got in finish
    /// and the others are turned away: none holds part of the budget while waiting for more.
    pub async fn read(&self, field: &mut Field<'_>, max_bytes: usize) -> Result<Upload, UploadError> {
        let held = self.room_for(max_bytes).await?;
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(UploadError::TooLarge(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Upload { bytes: bytes.freeze(), _held: held })
    }
}

fn unreadable(error: MultipartError) -> UploadError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        UploadError::TooLarge(0)
    } else {
        UploadError::Unreadable(error.body_text())
    }
}
