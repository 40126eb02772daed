//! `/metrics` for Prometheus: the process's counters and histograms (`telemetry`), with the
//! queue sampled from the database at scrape time. On the main address it needs the configured
//! token; on a separate metrics address the token is optional.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::db::Db;
use crate::http::AppError;
use crate::secrets;
use crate::telemetry;
use crate::time::now_ms;

#[derive(Clone)]
struct MetricsState {
    db: Db,
    token: Option<String>,
    /// Whether this is the main address, where a token is required.
    main: bool,
}

pub fn router(db: Db, token: Option<String>, main: bool) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(MetricsState { db, token, main })
}

async fn scrape(State(state): State<MetricsState>, headers: HeaderMap) -> Result<Response, AppError> {
    match (&state.token, state.main) {
        (None, true) => {
            return Err(AppError::NotFound(
                "metrics are off on this address: set MELDEWEG_METRICS_TOKEN or metrics.listen".into(),
            ))
        }
        (None, false) => {}
        (Some(token), _) => {
            if !crate::http::bearer_token(&headers).is_some_and(|presented| secrets::same(presented, token)) {
                return Err(AppError::Unauthorized("send the metrics token as `Authorization: Bearer <token>`".into()));
            }
        }
    }
    // Without the database the process's own counters are still worth having.
    let now = now_ms();
    match crate::queue::depths(&state.db, now).await {
        Ok(depths) => {
            for depth in depths {
                let age = depth.oldest_due_at.map_or(0, |at| (now - at).max(0));
                let age = std::time::Duration::from_millis(age as u64);
                telemetry::queue_depth(depth.kind.as_str(), depth.waiting, depth.dead, age);
            }
        }
        Err(error) => tracing::warn!(%error, "sampling the queue for /metrics failed"),
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], telemetry::handle().render()).into_response())
}
