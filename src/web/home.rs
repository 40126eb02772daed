//! `/`: what this server is, how citizens reach it (each channel's entrance: the web form, the
//! sandbox's simulator) and where operators look (health checks).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

use crate::channels::Entrance;

#[derive(Template, WebTemplate, Clone)]
#[template(path = "home.html")]
struct HomePage {
    municipality: String,
    entrances: Vec<Entrance>,
}

pub fn router(municipality: String, entrances: Vec<Entrance>) -> Router {
    let page = Arc::new(HomePage { municipality, entrances });
    Router::new().route("/", get(home)).with_state(page)
}

async fn home(State(page): State<Arc<HomePage>>) -> HomePage {
    HomePage::clone(&page)
}
