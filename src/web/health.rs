//! `/healthz` (the process is up) and `/readyz` (the database answers and every migration this
//! build knows is applied), for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::db::{Db, Schema};

pub fn router(db: Db) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(db)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(db): State<Db>) -> (StatusCode, Json<Value>) {
    let not_ready =
        |reason: &str| (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not ready", "reason": reason })));
    match db.schema().await {
        Ok(Schema::Current) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Schema::Behind) => not_ready("migrations are not applied; run `meldeweg migrate`"),
        Ok(Schema::Ahead) => not_ready("a newer version of Meldeweg migrated the database; upgrade this instance"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            not_ready("the database does not answer")
        }
    }
}
