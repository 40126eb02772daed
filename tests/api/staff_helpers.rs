//! Staff in tests: accounts created through the library's own account functions, logins
//! through the real login form (cookie and CSRF token read from the pages), API tokens, and
//! reports placed through the webhook so orders exist the way they do in production.

use meldeweg::staff::{accounts, Role};
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::helpers::*;

pub const PASSWORD: &str = "Richtig-Geheim-2026";
/// Points in the demo town: Nord (Bauhof Nord) and Süd (Bauhof Süd).
pub const NORD: (f64, f64) = (51.975, 7.645);
pub const SUED: (f64, f64) = (51.945, 7.600);

/// A client that does not follow redirects, so tests see where they point.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

pub async fn add_staff(app: &TestApp, email: &str, role: Role, depot: Option<&str>) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let grant = (role, depot.map(str::to_string));
    accounts::add(&mut conn, email, grant, "de", PASSWORD, meldeweg::time::now_ms()).await.expect("account added");
}

pub async fn api_token(app: &TestApp, email: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    accounts::create_token(&mut conn, email, "test", meldeweg::time::now_ms()).await.expect("token created")
}

/// The value of `name="csrf"` in a page.
pub fn csrf_in(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[start..].split('"').next().unwrap().to_string()
}

fn cookie_from(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")) && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// A logged-in browser without a browser: the session cookie and the forms' CSRF token.
pub struct StaffSession {
    pub http: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

/// Posts the login form as a browser would; returns the response (no redirect followed).
pub async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let http = client();
    let form = http.get(app.url("/staff/login")).send().await.unwrap();
    let login_cookie = cookie_from(&form, "meldeweg_login").expect("the login form sets its cookie");
    let csrf = csrf_in(&form.text().await.unwrap());
    http.post(app.url("/staff/login"))
        .header(COOKIE, login_cookie)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

pub async fn login(app: &TestApp, email: &str) -> StaffSession {
    let response = post_login(app, email, PASSWORD).await;
    assert_eq!(response.status(), 303, "login failed: {}", response.text().await.unwrap_or_default());
    assert_eq!(response.headers()[LOCATION], "/staff/orders");
    let cookie = cookie_from(&response, "meldeweg_session").expect("a session cookie");
    let http = client();
    let page = http.get(app.url("/staff/orders")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_in(&page.text().await.unwrap());
    StaffSession { http, cookie, csrf }
}

impl StaffSession {
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.http.get(app.url(path)).header(COOKIE, &self.cookie).send().await.unwrap()
    }

    /// A page as a browser asks for it: its status and its HTML.
    pub async fn page(&self, app: &TestApp, path: &str) -> (u16, String) {
        let response =
            self.http.get(app.url(path)).header(COOKIE, &self.cookie).header(ACCEPT, "text/html").send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &self.csrf));
        self.post_raw(app, path, &form).await
    }

    /// Posts exactly these fields (to test a missing or wrong token).
    pub async fn post_raw(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(app.url(path)).header(COOKIE, &self.cookie).form(fields).send().await.unwrap()
    }
}

/// A new citizen reports `what` at `at`; returns the citizen, the reference and the order number.
pub async fn reported(app: &TestApp, what: &str, at: (f64, f64)) -> (Citizen, String, String) {
    let citizen = Citizen::new();
    reported_by(app, &citizen, what, at, 0).await
}

/// `citizen` reports, with messages sent `seconds_ago`.
pub async fn reported_by(
    app: &TestApp,
    citizen: &Citizen,
    what: &str,
    at: (f64, f64),
    seconds_ago: i64,
) -> (Citizen, String, String) {
    let triaged = "SELECT COUNT(*) FROM reports WHERE triaged_at IS NOT NULL";
    let before = app.count(triaged).await;
    app.send_at(citizen, text(what), seconds_ago).await;
    app.send_at(citizen, location(at.0, at.1), seconds_ago).await;
    eventually("the report to be triaged", || async { app.count(triaged).await > before }).await;
    app.queue_drained().await;
    let row: (String, Option<String>) = sqlx::query_as(
        "SELECT r.reference, o.number FROM reports r LEFT JOIN work_orders o ON o.id = r.work_order_id
         ORDER BY r.id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    (citizen.clone(), row.0, row.1.expect("the report has a work order"))
}

/// Moves `order` through `transitions` ("accept", "done", ...) over the JSON API.
pub async fn transitions(app: &TestApp, token: &str, order: &str, transitions: &[&str]) {
    let path = format!("/api/v1/orders/{order}/transitions");
    for transition in transitions {
        let body = serde_json::json!({ "transition": transition });
        let response = app.http.post(app.url(&path)).bearer_auth(token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 200, "{transition}: {}", response.text().await.unwrap_or_default());
    }
    app.queue_drained().await;
}
