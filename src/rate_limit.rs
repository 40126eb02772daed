//! Rate limits kept in the database, so they survive a restart and hold across instances.
//!
//! A bucket (a keyed hash of what is limited: one client's web-form reports, one address's
//! logins) is charged before the work it pays for, in one atomic upsert that returns the new
//! count, and is never refunded: a refused or failed request has cost its sender a slot. The
//! decision counts the current fixed window in full and the previous one by how much of it
//! still lies inside the sliding window, so a burst across a window's edge does not get twice
//! the allowance. Finished windows are dropped by their expiry now and then.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyConnection, Row};

/// At most `max` charges in any `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_ms: i64,
}

/// How often (one charge in so many per process) expired windows are swept.
const SWEEP_EVERY: u64 = 128;

static CHARGES: AtomicU64 = AtomicU64::new(0);

/// Charges `bucket` once at `now_ms`; whether it is still within `limit`.
pub async fn charge(conn: &mut AnyConnection, bucket: &str, limit: Limit, now_ms: i64) -> sqlx::Result<bool> {
    let window = limit.window_ms.max(1);
    let start = now_ms - now_ms.rem_euclid(window);
    let current: i64 = sqlx::query(
        "INSERT INTO rate_limits (bucket, window_start, count, expires_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_limits.count + 1
         RETURNING count",
    )
    .bind(bucket)
    .bind(start)
    .bind(start + 2 * window)
    .fetch_one(&mut *conn)
    .await?
    .try_get("count")?;
    let previous: Option<i64> =
        sqlx::query_scalar("SELECT count FROM rate_limits WHERE bucket = $1 AND window_start = $2")
            .bind(bucket)
            .bind(start - window)
            .fetch_optional(&mut *conn)
            .await?;
    if CHARGES.fetch_add(1, Ordering::Relaxed).is_multiple_of(SWEEP_EVERY) {
        sqlx::query("DELETE FROM rate_limits WHERE expires_at < $1").bind(now_ms).execute(&mut *conn).await?;
    }
    Ok(within(current, previous.unwrap_or(0), now_ms - start, window, limit.max))
}

/// Whether `current` charges in this window and `previous` in the last, `elapsed` ms into this
/// one, stay within `max` over the sliding window.
fn within(current: i64, previous: i64, elapsed: i64, window: i64, max: u32) -> bool {
    let carried = previous as f64 * (window - elapsed) as f64 / window as f64;
    current as f64 + carried <= f64::from(max)
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn the_last_window_counts_by_how_much_of_it_is_still_inside() {
        assert!(within(20, 0, 0, 100, 20));
        assert!(!within(21, 0, 0, 100, 20));
        // 20 at the end of the last window: right after the edge, almost nothing is free...
        assert!(!within(2, 20, 5, 100, 20));
        // ... half-way through, half of them have slid out.
        assert!(within(10, 20, 50, 100, 20));
        assert!(!within(11, 20, 50, 100, 20));
    }
}
