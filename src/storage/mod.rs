//! Where cleaned photos live: an `object_store`, the local filesystem under the data directory by
//! default, or any S3-compatible store (`s3`) that several instances share. Only cleaned JPEGs
//! are ever written here; each photo is two objects named by its unguessable token (image and
//! thumbnail), and two more once its public copy is made (faces and plates obscured, issue 22).
//!
//! A photo's files are written before the transaction that records it commits; when that
//! transaction does not commit, `tokens_older_than` lets the sweep find and delete them later.
//! `copy_to` moves a store's photos into another one and checks each copy.

mod s3;

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::StorageSettings;
use crate::crypto::Vault;

/// Length of a photo token: 128 bits in hex.
const TOKEN_LEN: usize = 32;

/// The token a message's photo is stored under: a keyed hash of the message id, so it cannot
/// be guessed or enumerated, and a job that runs again writes the same files.
pub fn token_for(vault: &Vault, message_id: &str) -> String {
    vault.lookup_hash("photo", message_id)[..TOKEN_LEN].to_string()
}

/// Whether `text` has the shape of a token (anything else cannot name a photo).
pub fn is_token(text: &str) -> bool {
    text.len() == TOKEN_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("photo storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("photo storage: {0} differs from the original after copying")]
    Mismatch(String),
    #[error("photo storage directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
}

/// Which file of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Image,
    Thumbnail,
    /// The public copy (bystanders obscured) and its thumbnail.
    PublicImage,
    PublicThumbnail,
}

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::Image, Variant::Thumbnail, Variant::PublicImage, Variant::PublicThumbnail];
}

#[derive(Clone)]
pub struct PhotoStore {
    store: Arc<dyn ObjectStore>,
}

impl PhotoStore {
    /// The store the settings name: `storage.photos_url`, or `data_dir/photos`.
    pub fn open(settings: &StorageSettings, data_dir: &FsPath) -> Result<Self, StorageError> {
        if settings.photos_url.trim().is_empty() {
            Self::local(&data_dir.join("photos"))
        } else {
            Ok(Self { store: s3::open(settings)? })
        }
    }

    /// A store in `dir` (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StorageError::Directory { path: dir.display().to_string(), source })?;
        Ok(Self { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?) })
    }

    /// Writes both files of a photo. Writing the same token again replaces them.
    pub async fn put(&self, token: &str, image: Vec<u8>, thumbnail: Vec<u8>) -> Result<(), StorageError> {
        self.store.put(&key(token, Variant::Image), PutPayload::from(image)).await?;
        self.store.put(&key(token, Variant::Thumbnail), PutPayload::from(thumbnail)).await?;
        Ok(())
    }

    /// Writes both files of a photo's public copy, replacing an earlier one.
    pub async fn put_public(&self, token: &str, image: Vec<u8>, thumbnail: Vec<u8>) -> Result<(), StorageError> {
        self.store.put(&key(token, Variant::PublicImage), PutPayload::from(image)).await?;
        self.store.put(&key(token, Variant::PublicThumbnail), PutPayload::from(thumbnail)).await?;
        Ok(())
    }

    /// One file of a photo; `None` if there is no such photo.
    pub async fn get(&self, token: &str, variant: Variant) -> Result<Option<Bytes>, StorageError> {
        read(&*self.store, &key(token, variant)).await
    }
}

impl PhotoStore {
    /// Removes every file of a photo (its public copy too); a photo already gone is no error (erasure runs again
    /// after an interruption).
    pub async fn delete(&self, token: &str) -> Result<(), StorageError> {
        for variant in Variant::ALL {
            match self.store.delete(&key(token, variant)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

/// What `copy_to` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Objects written to the target and read back identical.
    pub copied: u64,
    /// Objects the target held already, identical.
    pub present: u64,
}

impl PhotoStore {
    /// The tokens of photos with a file last written before `before_ms` (Unix milliseconds).
    pub async fn tokens_older_than(&self, before_ms: i64) -> Result<Vec<String>, StorageError> {
        let mut listing = self.store.list(None);
        let mut tokens = std::collections::BTreeSet::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp_millis() >= before_ms {
                continue;
            }
            if let Some(token) = meta.location.filename().and_then(token_of) {
                tokens.insert(token.to_string());
            }
        }
        Ok(tokens.into_iter().collect())
    }

    /// Copies every photo file into `target`, reads each copy back and compares it byte for
    /// byte; a file the target holds already is compared and left. Fails at the first
    /// difference, naming the object.
    pub async fn copy_to(&self, target: &PhotoStore) -> Result<Copied, StorageError> {
        let mut copied = Copied::default();
        let mut listing = self.store.list(None);
        while let Some(meta) = listing.next().await {
            let location = meta?.location;
            if location.filename().and_then(token_of).is_none() {
                continue;
            }
            let bytes = self.store.get(&location).await?.bytes().await?;
            match read(&*target.store, &location).await? {
                Some(held) if held == bytes => copied.present += 1,
                _ => {
                    target.store.put(&location, PutPayload::from(bytes.clone())).await?;
                    if read(&*target.store, &location).await?.as_ref() != Some(&bytes) {
                        return Err(StorageError::Mismatch(location.to_string()));
                    }
                    copied.copied += 1;
                }
            }
        }
        Ok(copied)
    }
}

async fn read(store: &dyn ObjectStore, location: &Path) -> Result<Option<Bytes>, StorageError> {
    match store.get(location).await {
        Ok(found) => Ok(Some(found.bytes().await?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The token a photo file's name begins with (`<token>.jpg`, `<token>.public.thumb.jpg`, …).
fn token_of(name: &str) -> Option<&str> {
    let token = name.get(..TOKEN_LEN)?;
    (is_token(token) && name[TOKEN_LEN..].starts_with('.') && name.ends_with(".jpg")).then_some(token)
}

/// Objects are spread over 256 folders by the token's first two characters.
fn key(token: &str, variant: Variant) -> Path {
    let name = match variant {
        Variant::Image => format!("{token}.jpg"),
        Variant::Thumbnail => format!("{token}.thumb.jpg"),
        Variant::PublicImage => format!("{token}.public.jpg"),
        Variant::PublicThumbnail => format!("{token}.public.thumb.jpg"),
    };
    Path::from(format!("{}/{name}", token.get(..2).unwrap_or(token)))
}
