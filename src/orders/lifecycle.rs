//! Changing a work order: a transition, a comment, a re-route, a merge or a category
//! correction. `apply` checks the actor's permission and the order's status under a lock,
//! writes the change and its event, and moves the linked reports along, in the caller's
//! transaction; it returns what the citizens of the order's reports should hear (`Told`) and
//! leaves telling them to the caller (`pipeline::updates`).
//!
//! Free text from staff is bounded here; what citizens are told is built from the configured
//! texts, never from internal comments.

use meldeweg_workers::category::Category;
use meldeweg_workers::status::{OrderStatus, ReportStatus, Transition};
use meldeweg_workers::{text, Reference};
use sqlx::AnyConnection;

use super::events::{self, EventKind, NewEvent};
use super::store::{self, Locked};
use super::OrderError;
use crate::config::SlaSettings;
use crate::db::Backend;
use crate::reports::{self, Recategorised};
use crate::staff::access::{self, Operation};
use crate::staff::StaffUser;
use crate::town::Municipality;

/// Longest comment, rejection reason or body name accepted.
pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_BODY_CHARS: usize = 120;

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

/// What the rules need besides the order: its municipality's depots and the due times.
pub struct Rules<'a> {
    pub backend: Backend,
    pub municipality: &'a Municipality,
    pub sla: &'a SlaSettings,
}

/// A transition the citizens of the order's reports hear about.
#[derive(Debug, Clone)]
pub struct Told {
    pub order_id: i64,
    pub transition: Transition,
    /// Where the order stood before.
    pub from: OrderStatus,
    /// The reason (reject) or the body (forward).
    pub note: Option<String>,
    /// The crew's after-photo (done).
    pub after_photo: Option<String>,
}

/// A required free text, trimmed and bounded. A `single_line` text (a reason or a body's name,
/// which citizens receive, also as template parameters that may not contain line breaks) has
/// every run of whitespace turned into one space. Invisible format characters (a bidi override
/// pasted into a reject reason would turn it around on the public status page) are dropped.
pub fn bounded_text(text: Option<&str>, what: &str, max: usize, single_line: bool) -> Result<String, OrderError> {
    let visible: String = text.unwrap_or_default().chars().filter(|c| !text::is_hidden_format(*c)).collect();
    let text = visible.trim();
    let joined;
    let text = if single_line {
        joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        joined.as_str()
    } else {
        text
    };
    if text.is_empty() {
        return Err(OrderError::Invalid(format!("Bitte {what} eingeben.")));
    }
    if text.chars().count() > max {
        return Err(OrderError::Invalid(format!("Der Text ist zu lang (höchstens {max} Zeichen).")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(OrderError::Invalid("Der Text enthält Steuerzeichen.".to_string()));
    }
    Ok(text.to_string())
}

/// Whether `actor` may do `operation` on order `number` (for the UI to check before it starts
/// on expensive work such as cleaning an uploaded photo; `apply` checks again).
pub async fn permitted(
    conn: &mut AnyConnection,
    actor: &StaffUser,
    number: &str,
    operation: Operation,
) -> Result<(), OrderError> {
    let depot = store::depot_of(conn, number).await?.ok_or_else(|| OrderError::NotFound(number.to_string()))?;
    access::check(&actor.grant(), operation, Some(&depot)).map_err(OrderError::Forbidden)
}

/// Carries out `command` on order `number` for `actor`, in the caller's transaction.
pub async fn apply(
    conn: &mut AnyConnection,
    rules: &Rules<'_>,
    actor: &StaffUser,
    number: &str,
    command: Command,
    now: i64,
) -> Result<Option<Told>, OrderError> {
    // The squares of the orders concerned first, as triage takes them, then their rows: triage
    // cannot link a report to an order being closed, and two changes never wait for each
    // other's rows in opposite order.
    let cells = rules.municipality.duplicate_cells();
    let mut squares = Vec::with_capacity(2);
    squares.extend(store::cell_of(conn, &cells, number).await?);
    if let Command::Merge { into } = &command {
        squares.extend(store::cell_of(conn, &cells, into.trim()).await?);
    }
    squares.sort_unstable();
    squares.dedup();
    store::lock_cells(conn, rules.backend, &squares).await?;
    let order =
        store::lock(conn, rules.backend, number).await?.ok_or_else(|| OrderError::NotFound(number.to_string()))?;
    access::check(&actor.grant(), command.operation(), Some(&order.depot)).map_err(OrderError::Forbidden)?;
    match command {
        Command::Transition { transition, note, after_photo } => {
            return transition_order(conn, rules, actor, &order, transition, note, after_photo, now).await.map(Some)
        }
        Command::Comment(text) => {
            let text = bounded_text(Some(&text), "einen Kommentar", MAX_COMMENT_CHARS, false)?;
            events::insert(conn, event(&order, actor, EventKind::Comment, Some(&text)), now).await?;
        }
        Command::Reroute { depot } => reroute(conn, rules, actor, &order, &depot, now).await?,
        Command::Merge { into } => merge(conn, rules, actor, &order, &into, now).await?,
        Command::Recategorise { reference, category } => {
            recategorise(conn, actor, &order, &reference, category, now).await?
        }
    }
    Ok(None)
}

fn event<'a>(order: &Locked, actor: &StaffUser, kind: EventKind, detail: Option<&'a str>) -> NewEvent<'a> {
    NewEvent { order_id: order.id, report_id: None, kind, actor_id: Some(actor.id), from: None, to: None, detail }
}

#[allow(clippy::too_many_arguments)]
async fn transition_order(
    conn: &mut AnyConnection,
    rules: &Rules<'_>,
    actor: &StaffUser,
    order: &Locked,
    transition: Transition,
    note: Option<String>,
    after_photo: Option<String>,
    now: i64,
) -> Result<Told, OrderError> {
    let to = transition.from(order.status).map_err(|reason| OrderError::Conflict(reason.to_string()))?;
    let note = match transition {
        Transition::Reject => Some(bounded_text(note.as_deref(), "einen Grund", MAX_REASON_CHARS, true)?),
        Transition::Forward => Some(bounded_text(note.as_deref(), "die zuständige Stelle", MAX_BODY_CHARS, true)?),
        _ => None,
    };
    let after_photo = after_photo.filter(|_| transition == Transition::Done);
    // Reopening starts the clock again: the order is due by its priority from now.
    let due_at = (transition == Transition::Reopen).then(|| rules.sla.due(order.priority, now));
    store::apply_transition(conn, order.id, transition, to, note.as_deref(), after_photo.as_deref(), due_at, now)
        .await?;
    if let Some(status) = ReportStatus::of_order(to) {
        reports::follow_order(conn, order.id, status).await?;
    }
    let mut changed = event(order, actor, EventKind::Transition(transition), note.as_deref());
    changed.from = Some(order.status);
    changed.to = Some(to);
    events::insert(conn, changed, now).await?;
    if after_photo.is_some() {
        events::insert(conn, event(order, actor, EventKind::AfterPhoto, None), now).await?;
    }
    Ok(Told { order_id: order.id, transition, from: order.status, note, after_photo })
}

async fn reroute(
    conn: &mut AnyConnection,
    rules: &Rules<'_>,
    actor: &StaffUser,
    order: &Locked,
    depot: &str,
    now: i64,
) -> Result<(), OrderError> {
    if !order.status.is_active() {
        return Err(OrderError::Conflict(
            "Nur ein Auftrag in Bearbeitung kann an einen anderen Betriebshof gehen.".into(),
        ));
    }
    if rules.municipality.depot(depot).is_none() {
        return Err(OrderError::Invalid(format!("Den Betriebshof {depot:?} gibt es nicht.")));
    }
    if depot == order.depot {
        return Err(OrderError::Conflict(format!("Der Auftrag liegt bereits beim Betriebshof {depot}.")));
    }
    // The new depot has not accepted anything yet: the order starts over as open.
    store::reroute(conn, order.id, depot, now).await?;
    reports::follow_order(conn, order.id, ReportStatus::Open).await?;
    let detail = format!("{} → {depot}", order.depot);
    let mut rerouted = event(order, actor, EventKind::Rerouted, Some(&detail));
    rerouted.from = Some(order.status);
    rerouted.to = Some(OrderStatus::Open);
    events::insert(conn, rerouted, now).await?;
    Ok(())
}

/// Moves every report of `order` to the order `into` and closes `order` as merged. The target
/// keeps its status and depot and takes the higher priority.
async fn merge(
    conn: &mut AnyConnection,
    rules: &Rules<'_>,
    actor: &StaffUser,
    order: &Locked,
    into: &str,
    now: i64,
) -> Result<(), OrderError> {
    let into = into.trim();
    if into == order.number {
        return Err(OrderError::Invalid("Ein Auftrag kann nicht mit sich selbst zusammengeführt werden.".into()));
    }
    if !order.status.is_active() {
        return Err(OrderError::Conflict("Nur ein Auftrag in Bearbeitung kann zusammengeführt werden.".into()));
    }
    let target = store::lock(conn, rules.backend, into)
        .await?
        .ok_or_else(|| OrderError::Invalid(format!("Den Auftrag {into} gibt es nicht.")))?;
    if !target.status.is_active() {
        return Err(OrderError::Conflict(format!(
            "Der Auftrag {into} ist abgeschlossen; bitte zuerst wieder öffnen oder einen anderen wählen."
        )));
    }
    // In the target order they are further reports of its problem, not the one that opened it.
    let target_status = ReportStatus::of_order(target.status).unwrap_or(ReportStatus::Open);
    reports::move_to_order(conn, order.id, target.id, target_status).await?;
    store::close_merged(conn, order.id, target.id, now).await?;
    store::raise_priority(conn, target.id, order.priority, rules.sla, now).await?;
    let mut merged = event(order, actor, EventKind::Merged, Some(into));
    merged.from = Some(order.status);
    merged.to = Some(OrderStatus::Merged);
    events::insert(conn, merged, now).await?;
    events::insert(conn, event(&target, actor, EventKind::Absorbed, Some(&order.number)), now).await?;
    Ok(())
}

/// Corrects the category of one of the order's reports (training data for the classifier). If
/// that report opened the order, the order's category follows; re-routing stays a separate,
/// deliberate step.
async fn recategorise(
    conn: &mut AnyConnection,
    actor: &StaffUser,
    order: &Locked,
    reference: &str,
    category: Category,
    now: i64,
) -> Result<(), OrderError> {
    let not_ours = || OrderError::Invalid(format!("Die Meldung {reference} gehört nicht zu diesem Auftrag."));
    let parsed: Reference = reference.parse().map_err(|_| not_ours())?;
    let (report_id, opened) = reports::in_order(conn, reference, order.id).await?.ok_or_else(not_ours)?;
    let from = match reports::recategorise(conn, parsed, category, &actor.actor_label(), now).await? {
        Recategorised::Changed { from } => from,
        Recategorised::Unchanged => {
            return Err(OrderError::Conflict(format!("Die Meldung {reference} hat diese Kategorie schon.")))
        }
        Recategorised::NotFound => return Err(not_ours()),
    };
    if opened {
        store::set_category(conn, order.id, category, now).await?;
    }
    let detail = format!("{from} → {}", category.id());
    let mut corrected = event(order, actor, EventKind::Recategorised, Some(&detail));
    corrected.report_id = Some(report_id);
    events::insert(conn, corrected, now).await?;
    Ok(())
}
