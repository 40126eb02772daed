//! Staff change a work order (`orders::lifecycle`), and the citizens of its reports hear about
//! it: accepted, done (with the crew's after-photo), rejected (with the reason), forwarded (to
//! whom). The change and the replies it causes commit together. Each citizen hears about their
//! own reference only (P13); STOP and their channel's rules apply when the replies are sent.

use meldeweg_workers::status::{OrderStatus, Transition};

use super::replies::ReportUpdate;
use super::Pipeline;
use crate::db::Tx;
use crate::orders::lifecycle::{self, Command, Rules, Told};
use crate::orders::OrderError;
use crate::outbox::Addressee;
use crate::queue::QueueError;
use crate::reports;
use crate::staff::StaffUser;
use crate::texts::TextKey;

/// Why a change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The rules refused it (or the order is not there): the reason says why.
    #[error(transparent)]
    Refused(#[from] OrderError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Carries out `command` on order `number` for `actor`, and queues what the citizens hear.
pub async fn perform(
    pipeline: &Pipeline,
    actor: &StaffUser,
    number: &str,
    command: Command,
    now: i64,
) -> Result<(), ChangeError> {
    let rules = Rules { backend: pipeline.db.backend(), municipality: &pipeline.municipality, sla: &pipeline.sla };
    let mut tx = pipeline.db.begin().await?;
    if let Some(told) = lifecycle::apply(tx.conn(), &rules, actor, number, command, now).await? {
        tell(pipeline, &mut tx, &told, now).await?;
    }
    tx.commit().await?;
    pipeline.chat_changed();
    Ok(())
}

/// Whether `actor` may do `command`'s operation on order `number` (checked before expensive
/// work such as cleaning an uploaded photo; `perform` checks again).
pub async fn permitted(
    pipeline: &Pipeline,
    actor: &StaffUser,
    number: &str,
    command: &Command,
) -> Result<(), ChangeError> {
    let mut conn = pipeline.db.pool().acquire().await?;
    Ok(lifecycle::permitted(&mut conn, actor, number, command.operation()).await?)
}

/// Queues the update for every report of the order that has someone to tell.
async fn tell(pipeline: &Pipeline, tx: &mut Tx, told: &Told, now: i64) -> Result<(), ChangeError> {
    let (key, placeholder) = match told.transition {
        // Starting straight away is also the moment the citizen hears the order was taken on.
        Transition::Accept => (TextKey::OrderAccepted, None),
        Transition::Start if told.from == OrderStatus::Open => (TextKey::OrderAccepted, None),
        Transition::Done => (TextKey::OrderDone, None),
        Transition::Reject => (TextKey::OrderRejected, Some("reason")),
        Transition::Forward => (TextKey::OrderForwarded, Some("body")),
        Transition::Start | Transition::Reopen => return Ok(()),
    };
    for follower in reports::followers(tx.conn(), told.order_id).await? {
        let link = pipeline.status_link(&follower.public_token, follower.lang);
        let mut params = vec![("reference", follower.reference.as_str()), ("link", link.as_str())];
        if let (Some(name), Some(value)) = (placeholder, told.note.as_deref()) {
            params.push((name, value));
        }
        let text = pipeline.texts.render(follower.lang, key, &params);
        let to = match follower.reporter_id {
            Some(reporter_id) => Addressee::Reporter(reporter_id),
            None => Addressee::ReportContact(follower.report_id),
        };
        let update = ReportUpdate {
            report_id: follower.report_id,
            key,
            text,
            params: &params,
            photo: told.after_photo.as_deref(),
        };
        update.send(pipeline, tx, to, follower.lang, now).await?;
    }
    Ok(())
}
