//! `/`: what this server is and where to go next (the sandbox, health checks).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

#[derive(Clone)]
struct HomeState {
    municipality: String,
    sandbox: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    municipality: String,
    sandbox: bool,
}

pub fn router(municipality: String, sandbox: bool) -> Router {
    Router::new().route("/", get(home)).with_state(HomeState { municipality, sandbox })
}

async fn home(State(state): State<HomeState>) -> HomePage {
    HomePage { municipality: state.municipality, sandbox: state.sandbox }
}
