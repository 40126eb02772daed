//! The triage job: places a new report and dispatches it.
//!
//! Inside the municipality? (no → kept as `outside_area`, the citizen is told who is
//! responsible) — which district, and the nearest address for the work order header — who
//! handles the category there (routing: a depot, or another body it is forwarded to) — is an
//! open order of the same category already within the category's radius (then the report joins
//! it, and the citizen hears the problem is known) — otherwise a new work order. The reply goes
//! out with the report's reference; urgent reports add the emergency numbers.
//!
//! The duplicate search and a new order happen under the locks on the squares around the report
//! (`orders::store::lock_cells`), so two reports of one pothole arriving together cannot open
//! two orders, on however many instances, while reports elsewhere in town go on at once.

use meldeweg_workers::classify::Priority;
use meldeweg_workers::geotag::{OrderIndex, Placement, Route};
use meldeweg_workers::status::ReportStatus;
use serde::{Deserialize, Serialize};

use super::forward::ForwardJob;
use super::replies::ReportUpdate;
use super::{complete, retry, Pipeline};
use crate::db::Tx;
use crate::orders::store::{self as work_orders, NewOrder};
use crate::outbox::Addressee;
use crate::queue::{ClaimedJob, JobFailure, JobKind, Queue, QueueError};
use crate::reports::{self, ForTriage, Triaged};
use crate::service_hours;
use crate::texts::TextKey;
use crate::time::now_ms;

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

/// What triage decided: the report's new state and what the citizen hears.
struct Decision<'a> {
    triaged: Triaged<'a>,
    answer: Answer<'a>,
}

pub async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), JobFailure> {
    let TriageJob { report_id } = job.payload().map_err(|e| JobFailure::Fatal(format!("bad triage payload: {e}")))?;
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
    let address = pipeline.municipality.address_near(report.at);
    let decision = decide(pipeline, &mut tx, report_id, &report, address.as_deref(), now).await?;
    let status = decision.triaged.status;
    let forwarded_to = decision.triaged.forwarded_to;
    reports::record_triage(tx.conn(), report_id, decision.triaged, now).await.map_err(retry)?;
    reports::search::index(tx.conn(), report_id).await.map_err(retry)?;
    if let Some(body) = forwarded_to.filter(|body| pipeline.channels.forwarder(body).is_some()) {
        ForwardJob { report_id }.enqueue(pipeline, &mut tx, now).await?;
        tracing::debug!(report = %report.reference, %body, "to be handed over");
    }
    acknowledge(pipeline, &mut tx, report_id, &report, decision.answer, now).await?;
    pipeline.queue.complete_in(&mut tx, job).await?;
    tx.commit().await?;
    tracing::debug!(report = %report.reference, status = status.as_str(), "triaged");
    pipeline.chat_changed();
    Ok(())
}

/// Places the report (district, inside the town at all?) and routes it: outside, forwarded to
/// another body, joined to an open order of the same problem nearby, or opening one.
async fn decide<'a>(
    pipeline: &'a Pipeline,
    tx: &mut Tx,
    report_id: i64,
    report: &ForTriage,
    address: Option<&'a str>,
    now: i64,
) -> Result<Decision<'a>, JobFailure> {
    let municipality = &pipeline.municipality;
    let area = &municipality.town.area;
    let district = match area.locate(report.at) {
        Placement::Outside => None,
        Placement::Inside(Some(district)) => Some(district),
        Placement::Inside(None) => Some(area.nearest_district(report.at)),
    };
    let mut decision = Decision {
        triaged: Triaged {
            status: ReportStatus::OutsideArea,
            district: district.map(|d| d.id.as_str()),
            address,
            forwarded_to: None,
            order: None,
        },
        answer: Answer::Outside,
    };
    let Some(district) = district else { return Ok(decision) };
    let depot = match municipality.routing.route(report.category, &district.id) {
        None => return Err(JobFailure::Fatal(format!("routing has no rule for district {}", district.id))),
        Some(Route::Forward { to, reply }) => {
            decision.triaged.status = ReportStatus::Forwarded;
            decision.triaged.forwarded_to = Some(to);
            decision.answer = Answer::Forwarded(reply);
            return Ok(decision);
        }
        Some(Route::Depot(depot)) => depot,
    };
    let radius = municipality.radii[&report.category];
    let cells = municipality.duplicate_cells();
    work_orders::lock_cells(tx.conn(), pipeline.db.backend(), &cells.around(report.at)).await.map_err(retry)?;
    let nearby =
        work_orders::open_within(tx.conn(), report.category, cells.bounds(report.at, radius)).await.map_err(retry)?;
    let index = OrderIndex::new(report.at, nearby);
    if let Some((order_id, _)) = index.duplicate_of(report.at, report.category, radius) {
        let order_status =
            work_orders::link_duplicate(tx.conn(), order_id, report_id, report.priority, &pipeline.sla, now)
                .await
                .map_err(retry)?;
        // The report joins the order where it stands (it may be accepted already).
        decision.triaged.status = ReportStatus::of_order(order_status).unwrap_or(ReportStatus::Open);
        decision.triaged.order = Some((order_id, "duplicate"));
        decision.answer = Answer::Known;
        return Ok(decision);
    }
    let order = NewOrder {
        depot: &depot.id,
        category: report.category,
        district: &district.id,
        at: report.at,
        address,
        priority: report.priority,
        due_at: pipeline.sla.due(report.priority, now),
    };
    let (order_id, number) = work_orders::open(tx.conn(), order, report_id, now).await.map_err(retry)?;
    tracing::info!(report = %report.reference, order = %number, depot = %depot.id, "work order opened");
    decision.triaged.status = ReportStatus::Open;
    decision.triaged.order = Some((order_id, "opened"));
    decision.answer = Answer::Created;
    Ok(decision)
}

/// Tells whoever follows the report where it went, with its reference and status page; a
/// report for the Bauhof outside its hours says when it will be looked at, an urgent one adds
/// the emergency numbers.
async fn acknowledge(
    pipeline: &Pipeline,
    tx: &mut Tx,
    report_id: i64,
    report: &ForTriage,
    answer: Answer<'_>,
    now: i64,
) -> Result<(), JobFailure> {
    let to = match (report.reporter, report.contact) {
        (Some((reporter_id, lang)), _) => (Addressee::Reporter(reporter_id), lang),
        (None, Some(lang)) => (Addressee::ReportContact(report_id), lang),
        (None, None) => return Ok(()),
    };
    let (to, lang) = to;
    let link = pipeline.status_link(&report.public_token, lang);
    let mut params = vec![("reference", report.reference.as_str()), ("link", link.as_str())];
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
    let update = ReportUpdate { report_id, key, text, params: &params, photo: None };
    Ok(update.send(pipeline, tx, to, lang, now).await?)
}
