//! The request id that follows a report through the service: made (or taken from a proxy's
//! `X-Request-Id`) when an HTTP request arrives, kept with every job that request enqueues, and
//! handed on to the jobs those jobs enqueue. Every log line written meanwhile carries it in its
//! span, so `grep` on one id shows a webhook delivery, its intake, triage and the reply sent.
//!
//! The id is a task-local value: code that enqueues a job needs no parameter for it.

use std::future::Future;

tokio::task_local! {
    static CURRENT: String;
}

/// Longest id taken from outside.
const MAX_LEN: usize = 64;

/// The id of the request or job this task works for, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A fresh id: 16 hex digits.
pub fn fresh() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}

/// `offered` when it is a plausible id (1–64 letters, digits, `-`, `_`, `.`), so that a
/// client's header cannot put anything else into the logs; a fresh id otherwise.
pub fn accept(offered: Option<&str>) -> String {
    match offered {
        Some(id) if (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(is_id_byte) => id.to_string(),
        _ => fresh(),
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Runs `work` with `id` as the current id.
pub async fn scope<F: Future>(id: String, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offered_id_is_taken_only_when_it_is_plain() {
        assert_eq!(accept(Some("3f2a-proxy_1.b")), "3f2a-proxy_1.b");
        for bad in ["", "zeile\nzwei", "mit leerzeichen", "ü", &"a".repeat(65)] {
            let id = accept(Some(bad));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 16, "{id}");
        }
        assert_eq!(accept(None).len(), 16);
    }

    #[tokio::test]
    async fn the_id_is_current_inside_its_scope_only() {
        assert_eq!(current(), None);
        let inside = scope("abc".to_string(), async { current() }).await;
        assert_eq!(inside.as_deref(), Some("abc"));
        assert_eq!(current(), None);
    }
}
