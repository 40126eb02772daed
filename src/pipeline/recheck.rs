//! Making the public copies that are still missing (issue 22): photos stored before bystander
//! detection existed, and photos whose detection failed when they came in. Every
//! `photos.recheck_seconds` (a minute by default), on one of the instances where the workers run
//! (`queue::Schedule`), a few of them are read back from the photo store (the cleaned JPEG; the
//! upload is long gone), checked for faces and plates, and get their public copy; until then
//! they stay private. A photo that fails `public_copies::MAX_ATTEMPTS` times is left for a
//! staff member (its review page says why).

use super::Pipeline;
use crate::public_copies::{self, Checked};
use crate::time::now_ms;

/// Photos checked per turn.
const BATCH: i64 = 8;

/// The scheduled turn (`queue::Schedule` "photo_recheck", every `photos.recheck_seconds`): a
/// failure is logged and the next turn tries again.
pub async fn scheduled_turn(pipeline: &Pipeline) {
    if let Err(reason) = turn(pipeline).await {
        tracing::warn!(%reason, "checking stored photos for faces and plates failed; it runs again at the next turn");
    }
}

/// Checks up to `BATCH` photos that have no public copy; returns how many got one.
pub async fn turn(pipeline: &Pipeline) -> Result<usize, String> {
    let tokens = {
        let mut conn = pipeline.db.pool().acquire().await.map_err(|e| e.to_string())?;
        public_copies::unchecked(&mut conn, BATCH).await.map_err(|e| e.to_string())?
    };
    let mut made = 0;
    for token in tokens {
        let (checked, copy) = pipeline.photos.check_stored(&token).await?;
        made += usize::from(matches!(checked, Checked::Found(_)));
        let mut tx = pipeline.db.begin().await.map_err(|e| e.to_string())?;
        pipeline
            .photos
            .record_recheck(tx.conn(), &token, &checked, copy.as_ref(), now_ms())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(made)
}
