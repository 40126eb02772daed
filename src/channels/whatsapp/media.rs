//! Photos as WhatsApp hands them over: from the Cloud API (or EU provider) by media id, or, in
//! sandbox mode, from the uploads the simulator holds in memory for a few minutes as WhatsApp's
//! servers do; either way checked against the checksum the message announced. Neither is
//! written to disk: only the cleaned image is ever stored (P5).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::pipeline::channel::MediaError;

/// How long the sandbox keeps an upload (WhatsApp's media URLs expire after 5 minutes).
const SANDBOX_TTL: Duration = Duration::from_secs(300);
/// Most uploads the sandbox holds at once.
const SANDBOX_CAPACITY: usize = 64;

/// The file's bytes, if they match the SHA-256 its message announced (hex or base64).
pub async fn check_announced(bytes: Bytes, announced_sha256: Option<&str>) -> Result<Bytes, MediaError> {
    let Some(announced) = announced_sha256 else { return Ok(bytes) };
    // Hashing megabytes is CPU work: off the async runtime.
    let hashed = bytes.clone();
    let digest = tokio::task::spawn_blocking(move || Sha256::digest(&hashed))
        .await
        .map_err(|e| MediaError::Transient(format!("hashing stopped: {e}")))?;
    let matches = announced.eq_ignore_ascii_case(&hex::encode(digest))
        || announced == base64::engine::general_purpose::STANDARD.encode(digest);
    if !matches {
        return Err(MediaError::Gone("the file does not match its announced SHA-256".into()));
    }
    Ok(bytes)
}

/// An upload and when it arrived.
type Upload = (Instant, Bytes);

/// Uploads from the sandbox page, by media id, until they expire.
#[derive(Clone, Default)]
pub struct SandboxMedia {
    uploads: Arc<Mutex<HashMap<String, Upload>>>,
}

impl SandboxMedia {
    pub fn put(&self, media_id: String, bytes: Bytes) {
        let mut uploads = self.uploads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        uploads.retain(|_, (at, _)| at.elapsed() < SANDBOX_TTL);
        if uploads.len() >= SANDBOX_CAPACITY {
            let oldest = uploads.iter().min_by_key(|(_, (at, _))| *at).map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                uploads.remove(&oldest);
            }
        }
        uploads.insert(media_id, (Instant::now(), bytes));
    }

    /// An upload that has not expired, at most `max_bytes`.
    pub fn take(&self, media_id: &str, max_bytes: usize) -> Result<Bytes, MediaError> {
        let uploads = self.uploads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bytes = uploads
            .get(media_id)
            .filter(|(at, _)| at.elapsed() < SANDBOX_TTL)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| MediaError::Gone("the upload has expired".into()))?;
        if bytes.len() > max_bytes {
            return Err(MediaError::TooLarge { max: max_bytes });
        }
        Ok(bytes)
    }
}
