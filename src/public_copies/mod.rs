//! Public copies (issue 22): for each photo (a citizen's or a crew's after-photo, by its
//! token) whether the copy with faces and plates obscured exists and who may see it. Anything
//! outside the staff UI asks here first and serves only a copy that is `Public`; every other
//! state answers as if there were no photo (fail closed).
//!
//! `Checking` — no public copy yet: detection has not run, or it failed (`failure` says why;
//! the sweep tries again). `Waiting` — the copy is made and waits for a staff member's approval
//! (the default) … `Public` — … or went public on its own (`photos.publish = "after_detection"`).
//! `Hidden` — a staff member took it off the public pages.

pub mod moderation;

use meldeweg_workers::bystanders::{Kind, Region};
use sqlx::{AnyConnection, Row};

use crate::config::Publish;

/// Where a photo's public copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Checking,
    Waiting,
    Public,
    Hidden,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Checking => "checking",
            State::Waiting => "waiting",
            State::Public => "public",
            State::Hidden => "hidden",
        }
    }

    fn parse(text: &str) -> State {
        match text {
            "waiting" => State::Waiting,
            "public" => State::Public,
            "hidden" => State::Hidden,
            // Anything unknown is treated as not checked: never public by accident.
            _ => State::Checking,
        }
    }
}

/// What detection said about a photo.
pub enum Checked {
    Found(Vec<Region>),
    Failed(String),
}

/// One photo's public copy as recorded.
#[derive(Debug, Clone)]
pub struct PublicCopy {
    pub token: String,
    pub state: State,
    pub regions: Vec<Region>,
    pub failure: Option<String>,
    /// Whether detection ran and the copy was made (a hidden photo may never have been).
    pub checked: bool,
}

impl PublicCopy {
    pub fn count(&self, kind: Kind) -> usize {
        self.regions.iter().filter(|r| r.kind == kind).count()
    }
}

/// Whether a check is of a photo stored just now, or a re-check of one stored earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    /// The photo's row is made here (or, when its job runs again, changed).
    New,
    /// The sweep: only a row that still exists is changed, so a photo deleted meanwhile
    /// (retention, erasure) is not recorded again and gets no public copy.
    Again,
}

/// Records the public copy of the photo stored under `token`: checked (and public or waiting,
/// as `publish` says) or still to be checked when detection failed. Recording again changes
/// only a photo that is not checked yet (it stays hidden if it was hidden), never one with a
/// checked copy. Returns whether it took effect (the caller then stores the copy it recorded).
pub async fn record(
    conn: &mut AnyConnection,
    token: &str,
    checked: &Checked,
    recording: Recording,
    publish: Publish,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let (state, regions, failure) = columns(checked, publish);
    let values = match recording {
        Recording::New => "VALUES ($1, $2, $3, 1, $4, $5, $6)",
        Recording::Again => {
            "SELECT $1, $2, $3, 1, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM public_copies WHERE token = $1)"
        }
    };
    let changed = sqlx::query(&format!(
        "INSERT INTO public_copies (token, state, regions, attempts, failure, created_at, checked_at)
         {values}
         ON CONFLICT (token) DO UPDATE SET
             state = CASE WHEN public_copies.state = 'hidden' THEN 'hidden' ELSE excluded.state END,
             regions = excluded.regions, attempts = public_copies.attempts + 1, failure = excluded.failure,
             checked_at = excluded.checked_at
         WHERE public_copies.checked_at IS NULL"
    ))
    .bind(token)
    .bind(state.as_str())
    .bind(regions)
    .bind(failure)
    .bind(now_ms)
    .bind(failure.is_none().then_some(now_ms))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// The state, regions (JSON) and failure a check is recorded with.
fn columns(checked: &Checked, publish: Publish) -> (State, String, Option<&str>) {
    match checked {
        Checked::Found(regions) => {
            (after_check(publish), serde_json::to_string(regions).expect("regions serialise"), None)
        }
        Checked::Failed(reason) => (State::Checking, "[]".to_string(), Some(reason.as_str())),
    }
}

fn after_check(publish: Publish) -> State {
    match publish {
        Publish::AfterApproval => State::Waiting,
        Publish::AfterDetection => State::Public,
    }
}

/// The public copy of `token`, if the photo has a row.
pub async fn of_token(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<PublicCopy>> {
    let row = sqlx::query("SELECT token, state, regions, failure, checked_at FROM public_copies WHERE token = $1")
        .bind(token)
        .fetch_optional(conn)
        .await?;
    row.map(|row| from_row(&row)).transpose()
}

/// Where `token`'s public copy stands, if the photo has a row (what the public pages ask, on
/// every request: the state alone).
pub async fn state_of(conn: &mut AnyConnection, token: &str) -> sqlx::Result<Option<State>> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM public_copies WHERE token = $1").bind(token).fetch_optional(conn).await?;
    Ok(state.as_deref().map(State::parse))
}

/// Whether `token`'s public copy may be served to anyone.
/// Where anyone fetches the public copy of photo `token` (`public_base`: the service's public
/// address without its trailing slash).
pub fn url(public_base: &str, token: &str) -> String {
    format!("{public_base}/photos/{token}")
}

/// The token of the first photo of report `r` whose public copy may be shown, as an SQL
/// subquery (`NULL` when there is none).
pub const FIRST_PUBLIC_OF_REPORT: &str = "(SELECT p.token FROM photos p JOIN public_copies c ON c.token = p.token
      WHERE p.report_id = r.id AND c.state = 'public' ORDER BY p.id LIMIT 1)";

pub async fn is_public(conn: &mut AnyConnection, token: &str) -> sqlx::Result<bool> {
    Ok(state_of(conn, token).await? == Some(State::Public))
}

fn from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<PublicCopy> {
    let regions: String = row.try_get("regions")?;
    let regions = serde_json::from_str(&regions).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(PublicCopy {
        token: row.try_get("token")?,
        state: State::parse(&row.try_get::<String, _>("state")?),
        regions,
        failure: row.try_get("failure")?,
        checked: row.try_get::<Option<i64>, _>("checked_at")?.is_some(),
    })
}

/// Most attempts at checking one photo; after them it stays private until a staff member
/// looks at it (the review page shows why detection failed).
pub const MAX_ATTEMPTS: i64 = 5;

/// Tokens of photos that still need their public copy made: never checked (stored before
/// bystander detection, or detection failed; also those hidden before they were checked, which
/// stay hidden) and not yet given up on. Oldest first.
pub async fn unchecked(conn: &mut AnyConnection, limit: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT token FROM public_copies WHERE checked_at IS NULL AND attempts < $1
         ORDER BY created_at, token LIMIT $2",
    )
    .bind(MAX_ATTEMPTS)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Tokens of photos recorded before `before_ms` that no report, draft or work order names any
/// more: an after-photo whose order was reopened (which clears it) or whose "done" did not go
/// through, a form's photo whose report was not stored. Their files are kept by nobody.
pub async fn unattached(conn: &mut AnyConnection, before_ms: i64, limit: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT token FROM public_copies c
         WHERE created_at < $1
           AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.token = c.token)
           AND NOT EXISTS (SELECT 1 FROM work_orders o WHERE o.after_photo = c.token)
         ORDER BY created_at, token LIMIT $2",
    )
    .bind(before_ms)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Forgets the public copy of a deleted photo (its files went with the photo's).
pub async fn forget(conn: &mut AnyConnection, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM public_copies WHERE token = $1").bind(token).execute(conn).await.map(drop)
}
