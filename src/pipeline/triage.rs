//! The triage job: places a new report and dispatches it.
//!
//! Inside the municipality? (no → kept as `outside_area`, the citizen is told who is
//! responsible) — which district, and the nearest address for the work order header — who
//! handles the category there (routing: a depot, or another body it is forwarded to) — is an
//! open order of the same category already within the category's radius (then the report joins
//! it, and the citizen hears the problem is known) — otherwise a new work order. The reply goes
//! out with the report's reference; urgent reports add the emergency numbers.
//!
//! The duplicate search and a new order happen under the lock on the open-order revision, so
//! two reports of one pothole arriving together cannot open two orders.

use meldeweg_workers::classify::Priority;
use meldeweg_workers::conversation::Lang;
use meldeweg_workers::geotag::{OpenOrder, Placement, Route};
use serde::{Deserialize, Serialize};

use super::replies::ReportUpdate;
use super::{complete, retry, Pipeline};
use crate::db::Tx;
use crate::orders::events::{self as order_events, EventKind};
use crate::orders::store::{self as work_orders, NewOrder};
use crate::outbox::Addressee;
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reports::{self, Triaged};
use crate::service_hours;
use crate::texts::TextKey;
use crate::time::{berlin_year, now_ms};
use meldeweg_workers::status::ReportStatus;

#[derive(Debug, Serialize, Deserialize)]
pub struct TriageJob {
    pub report_id: i64,
}

impl TriageJob {
    pub async fn enqueue(&self, queue: &Queue, tx: &mut Tx, now_ms: i64) -> Result<i64, QueueError> {
        queue.enqueue(tx, JobKind::Triage, None, self, now_ms).await
    }
}

/// What the citizen is told.
enum Answer<'a> {
    Created,
    Known,
    Outside,
    Forwarded(&'a str),
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let TriageJob { report_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad triage payload: {e}")))?;
    let municipality = &pipeline.municipality;
    let area = &municipality.town.area;
    // Held until the transaction ends: this process's open-order copy changes only with it.
    let mut open_orders = pipeline.open_orders.lock().await;
    let now = now_ms();
    let mut tx = pipeline.db.begin().await?;
    let report = reports::load_for_triage(tx.conn(), report_id)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobFailure::Fatal(format!("report {report_id} does not exist")))?;
    if report.triaged {
        drop(tx);
        return complete(pipeline, job).await;
    }
    let address = municipality.address_near(report.at);
    let district = match area.locate(report.at) {
        Placement::Outside => None,
        Placement::Inside(Some(district)) => Some(district),
        Placement::Inside(None) => Some(area.nearest_district(report.at)),
    };
    let mut triaged = Triaged {
        status: ReportStatus::OutsideArea,
        district: district.map(|d| d.id.as_str()),
        address: address.as_deref(),
        forwarded_to: None,
        order: None,
    };
    let mut opened = None;
    let answer = match district {
        None => Answer::Outside,
        Some(district) => match municipality.routing.route(report.category, &district.id) {
            None => return Err(JobFailure::Fatal(format!("routing has no rule for district {}", district.id))),
            Some(Route::Forward { to, reply }) => {
                triaged.status = ReportStatus::Forwarded;
                triaged.forwarded_to = Some(to);
                Answer::Forwarded(reply)
            }
            Some(Route::Depot(depot)) => {
                triaged.status = ReportStatus::Open;
                let revision = work_orders::lock_revision(tx.conn(), pipeline.db.backend()).await.map_err(retry)?;
                let index = open_orders.catch_up(tx.conn(), revision).await.map_err(retry)?;
                match index.duplicate_of(report.at, report.category, municipality.radii[&report.category]) {
                    Some((order_id, _)) => {
                        let order_status =
                            work_orders::raise_priority(tx.conn(), order_id, report.priority, &pipeline.sla, now)
                                .await
                                .map_err(retry)?;
                        order_events::insert(
                            tx.conn(),
                            order_events::NewEvent::system(order_id, report_id, EventKind::DuplicateLinked),
                            now,
                        )
                        .await
                        .map_err(retry)?;
                        // The report joins the order where it stands (it may be accepted already).
                        triaged.status = ReportStatus::of_order(order_status).unwrap_or(ReportStatus::Open);
                        triaged.order = Some((order_id, "duplicate"));
                        Answer::Known
                    }
                    None => {
                        let order = NewOrder {
                            depot: &depot.id,
                            category: report.category,
                            district: &district.id,
                            at: report.at,
                            address: address.as_deref(),
                            priority: report.priority,
                            due_at: pipeline.sla.due(report.priority, now),
                        };
                        let (order_id, number) =
                            work_orders::insert(tx.conn(), order, revision + 1, berlin_year(now), now)
                                .await
                                .map_err(retry)?;
                        order_events::insert(
                            tx.conn(),
                            order_events::NewEvent::system(order_id, report_id, EventKind::Opened),
                            now,
                        )
                        .await
                        .map_err(retry)?;
                        tracing::info!(report = %report.reference, order = %number, depot = %depot.id, "work order opened");
                        triaged.order = Some((order_id, "opened"));
                        opened =
                            Some((OpenOrder { id: order_id, category: report.category, at: report.at }, revision + 1));
                        Answer::Created
                    }
                }
            }
        },
    };
    let status = triaged.status;
    reports::record_triage(tx.conn(), report_id, triaged, now).await.map_err(retry)?;
    let lang = match (report.reporter, report.contact) {
        (Some((_, lang)), _) | (None, Some(lang)) => lang,
        (None, None) => Lang::De,
    };
    let link = pipeline.status_link(&report.public_token, lang);
    let common = [("reference", report.reference.as_str()), ("link", link.as_str())];
    let mut params = common.to_vec();
    // A report for the Bauhof that arrives outside its hours says when it will be looked at.
    let for_the_bauhof = matches!(answer, Answer::Created | Answer::Known);
    let key = match answer {
        Answer::Created => TextKey::ReportCreated,
        Answer::Known => TextKey::ReportKnown,
        Answer::Outside => TextKey::ReportOutside,
        Answer::Forwarded(reply) => {
            params.push(("reply", reply));
            TextKey::ReportForwarded
        }
    };
    let mut text = pipeline.texts.render(lang, key, &params);
    let hours = pipeline.service_hours.as_ref().filter(|_| for_the_bauhof);
    if let Some(opening) = hours.and_then(|hours| hours.next_opening(now)) {
        let when = service_hours::describe(lang, opening);
        let note = pipeline.texts.render(lang, TextKey::OutsideHours, &[("when", &when)]);
        text = format!("{text}\n\n{note}");
    }
    if report.priority == Priority::Urgent {
        text = format!("{text}\n\n{}", pipeline.texts.render(lang, TextKey::EmergencyHint, &[]));
    }
    let to = match (report.reporter, report.contact) {
        (Some((reporter_id, _)), _) => Some(Addressee::Reporter(reporter_id)),
        (None, Some(_)) => Some(Addressee::ReportContact(report_id)),
        (None, None) => None,
    };
    if let Some(to) = to {
        let update = ReportUpdate { report_id, key, text, params: &params, photo: None };
        update.send(pipeline, &mut tx, to, lang, now).await?;
    }
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    if let Some((order, revision)) = opened {
        open_orders.opened(order, revision);
    }
    tracing::debug!(report = %report.reference, status = status.as_str(), "triaged");
    pipeline.chat_changed();
    Ok(())
}
