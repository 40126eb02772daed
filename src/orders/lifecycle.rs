//! Changing a work order: a transition, a comment, a re-route, a merge or a category
//! correction, each in one transaction that checks the actor's permission and the order's
//! status under a lock, writes the change and its event, moves the linked reports along, and
//! queues the replies every linked reporter gets (accepted, done, rejected, forwarded).
//!
//! Free text from staff is bounded here; what citizens are told is built from the configured
//! texts, never from internal comments.

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::Priority;
use meldeweg_workers::conversation::Lang;
use meldeweg_workers::Reference;
use sqlx::{AnyConnection, Row};

use super::store as work_orders;
use crate::db::{Backend, Tx};
use crate::orders::events::{self as order_events, EventKind, NewEvent};
use crate::pipeline::outgoing::{Addressee, ReportUpdate};
use crate::pipeline::Pipeline;
use crate::queue::QueueError;
use crate::reports::{self, Recategorised};
use crate::staff::access::{self, Operation};
use crate::staff::StaffUser;
use crate::texts::TextKey;
use meldeweg_workers::status::ReportStatus;
use meldeweg_workers::status::{OrderStatus, Transition};

/// Longest comment, rejection reason or body name accepted.
pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_BODY_CHARS: usize = 120;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("Den Auftrag {0} gibt es nicht.")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request is well-formed but the order's state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// A field is missing or out of bounds.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Order(#[from] work_orders::OrderError),
    #[error(transparent)]
    Report(#[from] reports::ReportError),
}

/// A change someone asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// `note` is the reason (reject) or the body's name (forward); `after_photo` the token of an
    /// already cleaned and stored photo (done).
    Transition {
        transition: Transition,
        note: Option<String>,
        after_photo: Option<String>,
    },
    Comment(String),
    Reroute {
        depot: String,
    },
    Merge {
        into: String,
    },
    Recategorise {
        reference: String,
        category: Category,
    },
}

impl Command {
    pub fn operation(&self) -> Operation {
        match self {
            Command::Transition { transition, .. } => Operation::Transition(*transition),
            Command::Comment(_) => Operation::Comment,
            Command::Reroute { .. } => Operation::Reroute,
            Command::Merge { .. } => Operation::Merge,
            Command::Recategorise { .. } => Operation::Recategorise,
        }
    }
}

/// A required free text, trimmed and bounded. A `single_line` text (a reason or a body's name,
/// which citizens receive, also as template parameters that may not contain line breaks) has
/// every run of whitespace turned into one space.
pub fn bounded_text(text: Option<&str>, what: &str, max: usize, single_line: bool) -> Result<String, LifecycleError> {
    let text = text.map(str::trim).unwrap_or_default();
    let joined;
    let text = if single_line {
        joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        joined.as_str()
    } else {
        text
    };
    if text.is_empty() {
        return Err(LifecycleError::Invalid(format!("Bitte {what} eingeben.")));
    }
    if text.chars().count() > max {
        return Err(LifecycleError::Invalid(format!("Der Text ist zu lang (höchstens {max} Zeichen).")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(LifecycleError::Invalid("Der Text enthält Steuerzeichen.".to_string()));
    }
    Ok(text.to_string())
}

struct Locked {
    id: i64,
    depot: String,
    status: OrderStatus,
    priority: Priority,
}

/// Loads the order for a change; on PostgreSQL its row stays locked until the transaction ends.
async fn lock(conn: &mut AnyConnection, backend: Backend, number: &str) -> Result<Locked, LifecycleError> {
    let sql = match backend {
        Backend::Postgres => "SELECT id, depot, status, priority FROM work_orders WHERE number = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT id, depot, status, priority FROM work_orders WHERE number = $1",
    };
    let row = sqlx::query(sql)
        .bind(number)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| LifecycleError::NotFound(number.to_string()))?;
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let corrupt = |field: &str, value: &str| {
        LifecycleError::Conflict(format!("order {number} has an unreadable {field} {value:?}"))
    };
    Ok(Locked {
        id: row.try_get("id")?,
        depot: row.try_get("depot")?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("priority", &priority))?,
    })
}

/// Whether `actor` may do `operation` on order `number` (for the UI to check before it starts
/// on expensive work such as cleaning an uploaded photo; `perform` checks again).
pub async fn permitted(
    pipeline: &Pipeline,
    actor: &StaffUser,
    number: &str,
    operation: Operation,
) -> Result<(), LifecycleError> {
    let mut conn = pipeline.db.pool().acquire().await?;
    let depot: Option<String> = sqlx::query_scalar("SELECT depot FROM work_orders WHERE number = $1")
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?;
    let depot = depot.ok_or_else(|| LifecycleError::NotFound(number.to_string()))?;
    access::check(&actor.grant(), operation, Some(&depot)).map_err(LifecycleError::Forbidden)
}

/// Carries out `command` on order `number` for `actor`.
pub async fn perform(
    pipeline: &Pipeline,
    actor: &StaffUser,
    number: &str,
    command: Command,
    now: i64,
) -> Result<(), LifecycleError> {
    let backend = pipeline.db.backend();
    let mut tx = pipeline.db.begin().await?;
    // The open-order revision first, as triage takes it: on PostgreSQL every change to orders
    // then queues behind one lock, so triage cannot link a report to an order being closed,
    // and two changes never wait for each other's rows in opposite order.
    work_orders::lock_revision(tx.conn(), backend).await?;
    let order = lock(tx.conn(), backend, number).await?;
    access::check(&actor.grant(), command.operation(), Some(&order.depot)).map_err(LifecycleError::Forbidden)?;
    match command {
        Command::Transition { transition, note, after_photo } => {
            transition_order(pipeline, &mut tx, actor, &order, transition, note, after_photo, now).await?
        }
        Command::Comment(text) => {
            let text = bounded_text(Some(&text), "einen Kommentar", MAX_COMMENT_CHARS, false)?;
            order_events::insert(tx.conn(), event(&order, actor, EventKind::Comment, Some(&text)), now).await?;
        }
        Command::Reroute { depot } => reroute(pipeline, &mut tx, actor, &order, &depot, now).await?,
        Command::Merge { into } => merge(pipeline, &mut tx, actor, &order, number, &into, now).await?,
        Command::Recategorise { reference, category } => {
            recategorise(pipeline, &mut tx, actor, &order, &reference, category, now).await?
        }
    }
    tx.commit().await?;
    pipeline.chat_changed();
    Ok(())
}

fn event<'a>(order: &Locked, actor: &StaffUser, kind: EventKind, detail: Option<&'a str>) -> NewEvent<'a> {
    NewEvent { order_id: order.id, report_id: None, kind, actor_id: Some(actor.id), from: None, to: None, detail }
}

#[allow(clippy::too_many_arguments)]
async fn transition_order(
    pipeline: &Pipeline,
    tx: &mut Tx,
    actor: &StaffUser,
    order: &Locked,
    transition: Transition,
    note: Option<String>,
    after_photo: Option<String>,
    now: i64,
) -> Result<(), LifecycleError> {
    let to = transition.from(order.status).map_err(|reason| LifecycleError::Conflict(reason.to_string()))?;
    let note = match transition {
        Transition::Reject => Some(bounded_text(note.as_deref(), "einen Grund", MAX_REASON_CHARS, true)?),
        Transition::Forward => Some(bounded_text(note.as_deref(), "die zuständige Stelle", MAX_BODY_CHARS, true)?),
        _ => None,
    };
    let after_photo = after_photo.filter(|_| transition == Transition::Done);
    let closes = !to.is_active();
    // Reopening starts the clock again: the order is due by its priority from now.
    let due_at = (transition == Transition::Reopen).then(|| pipeline.sla.due(order.priority, now));
    sqlx::query(
        "UPDATE work_orders SET status = $1, updated_at = $2,
             accepted_at = CASE WHEN $3 THEN COALESCE(accepted_at, $2) ELSE accepted_at END,
             done_at = CASE WHEN $4 THEN $2 WHEN $5 THEN NULL ELSE done_at END,
             closed_at = CASE WHEN $6 THEN $2 ELSE NULL END,
             reason = CASE WHEN $7 IS NOT NULL AND $8 THEN $7 WHEN $5 THEN NULL ELSE reason END,
             forwarded_to = CASE WHEN $7 IS NOT NULL AND $9 THEN $7 WHEN $5 THEN NULL ELSE forwarded_to END,
             after_photo = CASE WHEN $5 THEN NULL ELSE COALESCE($10, after_photo) END,
             due_at = COALESCE($11, due_at)
         WHERE id = $12",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(matches!(transition, Transition::Accept | Transition::Start | Transition::Done))
    .bind(transition == Transition::Done)
    .bind(transition == Transition::Reopen)
    .bind(closes)
    .bind(note.as_deref())
    .bind(transition == Transition::Reject)
    .bind(transition == Transition::Forward)
    .bind(after_photo.as_deref())
    .bind(due_at)
    .bind(order.id)
    .execute(tx.conn())
    .await?;
    if let Some(status) = ReportStatus::of_order(to) {
        set_report_status(tx.conn(), order.id, status).await?;
    }
    work_orders::bump_revision(tx.conn(), pipeline.db.backend(), order.id).await?;
    let mut changed = event(order, actor, EventKind::Transition(transition), note.as_deref());
    changed.from = Some(order.status);
    changed.to = Some(to);
    order_events::insert(tx.conn(), changed, now).await?;
    if after_photo.is_some() {
        order_events::insert(tx.conn(), event(order, actor, EventKind::AfterPhoto, None), now).await?;
    }
    tell_reporters(pipeline, tx, order, transition, note.as_deref(), after_photo.as_deref(), now).await
}

async fn set_report_status(conn: &mut AnyConnection, order_id: i64, status: ReportStatus) -> sqlx::Result<()> {
    sqlx::query("UPDATE reports SET status = $1 WHERE work_order_id = $2")
        .bind(status.as_str())
        .bind(order_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Queues the status message for every report of the order that has a reporter: each hears
/// about their own reference only (P13). STOP and the 24-hour window are applied when sent.
async fn tell_reporters(
    pipeline: &Pipeline,
    tx: &mut Tx,
    order: &Locked,
    transition: Transition,
    note: Option<&str>,
    after_photo: Option<&str>,
    now: i64,
) -> Result<(), LifecycleError> {
    let (key, placeholder) = match transition {
        // Starting straight away is also the moment the citizen hears the order was taken on.
        Transition::Accept => (TextKey::OrderAccepted, None),
        Transition::Start if order.status == OrderStatus::Open => (TextKey::OrderAccepted, None),
        Transition::Done => (TextKey::OrderDone, None),
        Transition::Reject => (TextKey::OrderRejected, Some("reason")),
        Transition::Forward => (TextKey::OrderForwarded, Some("body")),
        Transition::Start | Transition::Reopen => return Ok(()),
    };
    let rows = sqlx::query(
        "SELECT r.id, r.reference, r.public_token, r.reporter_id, COALESCE(p.lang, r.contact_lang) AS lang
         FROM reports r LEFT JOIN reporters p ON p.id = r.reporter_id
         WHERE r.work_order_id = $1 AND (r.reporter_id IS NOT NULL OR r.contact_email_enc IS NOT NULL)
         ORDER BY r.id",
    )
    .bind(order.id)
    .fetch_all(tx.conn())
    .await?;
    for row in rows {
        let report_id: i64 = row.try_get("id")?;
        let reference: String = row.try_get("reference")?;
        let token: Option<String> = row.try_get("public_token")?;
        let lang: Option<String> = row.try_get("lang")?;
        let lang = lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::De);
        let link = pipeline.status_link(token.as_deref().unwrap_or_default(), lang);
        let mut params = vec![("reference", reference.as_str()), ("link", link.as_str())];
        if let (Some(name), Some(value)) = (placeholder, note) {
            params.push((name, value));
        }
        let text = pipeline.texts.render(lang, key, &params);
        // Reports without a reporter here came from the web form with an e-mail address (P12).
        let to = match row.try_get::<Option<i64>, _>("reporter_id")? {
            Some(reporter_id) => Addressee::Chat { reporter_id },
            None => Addressee::Email,
        };
        let update = ReportUpdate { report_id, key, text, params: &params, photo: after_photo };
        update.send(pipeline, tx, to, lang, now).await?;
    }
    Ok(())
}

async fn reroute(
    pipeline: &Pipeline,
    tx: &mut Tx,
    actor: &StaffUser,
    order: &Locked,
    depot: &str,
    now: i64,
) -> Result<(), LifecycleError> {
    if !order.status.is_active() {
        return Err(LifecycleError::Conflict(
            "Nur ein Auftrag in Bearbeitung kann an einen anderen Betriebshof gehen.".into(),
        ));
    }
    if pipeline.municipality.depot(depot).is_none() {
        return Err(LifecycleError::Invalid(format!("Den Betriebshof {depot:?} gibt es nicht.")));
    }
    if depot == order.depot {
        return Err(LifecycleError::Conflict(format!("Der Auftrag liegt bereits beim Betriebshof {depot}.")));
    }
    // The new depot has not accepted anything yet: the order starts over as open.
    sqlx::query("UPDATE work_orders SET depot = $1, status = $2, accepted_at = NULL, updated_at = $3 WHERE id = $4")
        .bind(depot)
        .bind(OrderStatus::Open.as_str())
        .bind(now)
        .bind(order.id)
        .execute(tx.conn())
        .await?;
    set_report_status(tx.conn(), order.id, ReportStatus::Open).await?;
    work_orders::bump_revision(tx.conn(), pipeline.db.backend(), order.id).await?;
    let detail = format!("{} → {depot}", order.depot);
    let mut rerouted = event(order, actor, EventKind::Rerouted, Some(&detail));
    rerouted.from = Some(order.status);
    rerouted.to = Some(OrderStatus::Open);
    order_events::insert(tx.conn(), rerouted, now).await?;
    Ok(())
}

/// Moves every report of `order` to the order `into` and closes `order` as merged. The target
/// keeps its status and depot and takes the higher priority.
#[allow(clippy::too_many_arguments)]
async fn merge(
    pipeline: &Pipeline,
    tx: &mut Tx,
    actor: &StaffUser,
    order: &Locked,
    number: &str,
    into: &str,
    now: i64,
) -> Result<(), LifecycleError> {
    let into = into.trim();
    if into == number {
        return Err(LifecycleError::Invalid("Ein Auftrag kann nicht mit sich selbst zusammengeführt werden.".into()));
    }
    if !order.status.is_active() {
        return Err(LifecycleError::Conflict("Nur ein Auftrag in Bearbeitung kann zusammengeführt werden.".into()));
    }
    let backend = pipeline.db.backend();
    let target = match lock(tx.conn(), backend, into).await {
        Err(LifecycleError::NotFound(_)) => {
            return Err(LifecycleError::Invalid(format!("Den Auftrag {into} gibt es nicht.")))
        }
        other => other?,
    };
    if !target.status.is_active() {
        return Err(LifecycleError::Conflict(format!(
            "Der Auftrag {into} ist abgeschlossen; bitte zuerst wieder öffnen oder einen anderen wählen."
        )));
    }
    let target_status = ReportStatus::of_order(target.status).unwrap_or(ReportStatus::Open);
    // In the target order they are further reports of its problem, not the one that opened it.
    sqlx::query(
        "UPDATE reports SET work_order_id = $1, status = $2, order_link = 'duplicate' WHERE work_order_id = $3",
    )
    .bind(target.id)
    .bind(target_status.as_str())
    .bind(order.id)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE work_orders SET status = $1, merged_into = $2, closed_at = $3, updated_at = $3 WHERE id = $4")
        .bind(OrderStatus::Merged.as_str())
        .bind(target.id)
        .bind(now)
        .bind(order.id)
        .execute(tx.conn())
        .await?;
    work_orders::raise_priority(tx.conn(), target.id, order.priority, &pipeline.sla, now).await?;
    work_orders::bump_revision(tx.conn(), backend, order.id).await?;
    let mut merged = event(order, actor, EventKind::Merged, Some(into));
    merged.from = Some(order.status);
    merged.to = Some(OrderStatus::Merged);
    order_events::insert(tx.conn(), merged, now).await?;
    order_events::insert(tx.conn(), event(&target, actor, EventKind::Absorbed, Some(number)), now).await?;
    Ok(())
}

/// Corrects the category of one of the order's reports (training data for the classifier). If
/// that report opened the order, the order's category follows; re-routing stays a separate,
/// deliberate step.
async fn recategorise(
    pipeline: &Pipeline,
    tx: &mut Tx,
    actor: &StaffUser,
    order: &Locked,
    reference: &str,
    category: Category,
    now: i64,
) -> Result<(), LifecycleError> {
    let not_ours = || LifecycleError::Invalid(format!("Die Meldung {reference} gehört nicht zu diesem Auftrag."));
    let parsed: Reference = reference.parse().map_err(|_| not_ours())?;
    let row = sqlx::query("SELECT id, order_link FROM reports WHERE reference = $1 AND work_order_id = $2")
        .bind(reference)
        .bind(order.id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(not_ours)?;
    let report_id: i64 = row.try_get("id")?;
    let opened = row.try_get::<Option<String>, _>("order_link")?.as_deref() == Some("opened");
    let from = match reports::recategorise(tx.conn(), parsed, category, &actor.actor_label(), now).await? {
        Recategorised::Changed { from } => from,
        Recategorised::Unchanged => {
            return Err(LifecycleError::Conflict(format!("Die Meldung {reference} hat diese Kategorie schon.")))
        }
        Recategorised::NotFound => return Err(not_ours()),
    };
    if opened {
        sqlx::query("UPDATE work_orders SET category = $1, updated_at = $2 WHERE id = $3")
            .bind(category.id())
            .bind(now)
            .bind(order.id)
            .execute(tx.conn())
            .await?;
        work_orders::bump_revision(tx.conn(), pipeline.db.backend(), order.id).await?;
    }
    let detail = format!("{from} → {}", category.id());
    let mut corrected = event(order, actor, EventKind::Recategorised, Some(&detail));
    corrected.report_id = Some(report_id);
    order_events::insert(tx.conn(), corrected, now).await?;
    Ok(())
}
