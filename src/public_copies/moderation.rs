//! What staff decide about a public copy: approve it (or show a hidden one again), hide it, or
//! obscure one more rectangle. Each decision is checked against the copy's state, changes it in
//! the caller's transaction, and is an audit-chain event with the staff account and the reason
//! they gave (`photo.approved`, `photo.shown`, `photo.hidden`, `photo.area_obscured`).

use meldeweg_workers::bystanders::{Kind, Region};
use serde_json::json;
use sqlx::AnyConnection;

use super::{of_token, PublicCopy, State};
use crate::audit;

/// A decision a staff member asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Make the public copy visible (from waiting: approve; from hidden: show again).
    Publish,
    Hide,
}

/// Why a decision cannot be taken; the text is shown to the staff member.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("Dieses Foto gibt es nicht (mehr).")]
    Unknown,
    #[error("Das Foto wird noch auf Gesichter und Kennzeichen geprüft; erst danach kann es freigegeben werden.")]
    StillChecking,
    #[error("Das Foto ist schon so eingestellt.")]
    Already,
    #[error("Bitte einen Grund angeben (höchstens 500 Zeichen).")]
    Reason,
    #[error("Der Bereich liegt nicht auf dem Foto.")]
    Outside,
    #[error("Das Foto wurde gerade von jemand anderem bearbeitet. Bitte noch einmal versuchen.")]
    Changed,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 500;

/// Who decides, and why (already cleaned of control characters by the caller).
pub struct Decider<'a> {
    /// "staff:<id>".
    pub actor: &'a str,
    pub reason: &'a str,
    /// The order the photo belongs to, for the audit entry.
    pub order_id: Option<i64>,
}

impl Decider<'_> {
    fn checked_reason(&self) -> Result<&str, Refused> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refused::Reason);
        }
        Ok(reason)
    }
}

/// Publishes or hides the public copy of `token`; returns the state it is in now.
pub async fn decide(
    conn: &mut AnyConnection,
    token: &str,
    decision: Decision,
    by: &Decider<'_>,
    now_ms: i64,
) -> Result<State, Refused> {
    let reason = by.checked_reason()?;
    let copy = of_token(conn, token).await?.ok_or(Refused::Unknown)?;
    let (to, kind) = match (decision, copy.state) {
        // Never public without a checked copy, also not by hiding an unchecked photo first.
        (Decision::Publish, State::Checking) => return Err(Refused::StillChecking),
        (Decision::Publish, State::Hidden) if !copy.checked => return Err(Refused::StillChecking),
        (Decision::Publish, State::Public) | (Decision::Hide, State::Hidden) => return Err(Refused::Already),
        (Decision::Publish, State::Waiting) => (State::Public, "photo.approved"),
        (Decision::Publish, State::Hidden) => (State::Public, "photo.shown"),
        (Decision::Hide, _) => (State::Hidden, "photo.hidden"),
    };
    // Only from the state just read: two staff members deciding at once cannot both win.
    let changed = sqlx::query("UPDATE public_copies SET state = $1, decided_at = $2 WHERE token = $3 AND state = $4")
        .bind(to.as_str())
        .bind(now_ms)
        .bind(token)
        .bind(copy.state.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(Refused::Already);
    }
    let detail = json!({ "photo": token, "from": copy.state.as_str(), "to": to.as_str(), "reason": reason });
    record(conn, kind, by, detail, now_ms).await?;
    Ok(to)
}

/// The rectangle a staff member drew on `copy`'s photo (`width` × `height` pixels), cut to the
/// photo. Only a checked photo has a public copy to draw on.
pub fn drawn_region(copy: &PublicCopy, area: (u32, u32, u32, u32), size: (u32, u32)) -> Result<Region, Refused> {
    if !copy.checked {
        return Err(Refused::StillChecking);
    }
    let (x, y, width, height) = area;
    Region::clamped(
        Kind::Manual,
        x as f32,
        y as f32,
        x.saturating_add(width) as f32,
        y.saturating_add(height) as f32,
        size.0,
        size.1,
    )
    .filter(|r| r.width >= 2 && r.height >= 2)
    .ok_or(Refused::Outside)
}

/// Adds `region` to what `copy`'s public copy obscures, as an audit event of `by`, if its
/// regions are still those of `copy`: two staff members drawing at once cannot lose one's
/// rectangle (the later one is `Changed` and tries again with the other's included).
pub async fn add_region(
    conn: &mut AnyConnection,
    copy: &PublicCopy,
    region: Region,
    by: &Decider<'_>,
    now_ms: i64,
) -> Result<(), Refused> {
    let reason = by.checked_reason()?;
    let before = serde_json::to_string(&copy.regions).expect("regions serialise");
    let mut regions = copy.regions.clone();
    regions.push(region);
    let changed =
        sqlx::query("UPDATE public_copies SET regions = $1, decided_at = $2 WHERE token = $3 AND regions = $4")
            .bind(serde_json::to_string(&regions).expect("regions serialise"))
            .bind(now_ms)
            .bind(&copy.token)
            .bind(before)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if changed == 0 {
        return Err(Refused::Changed);
    }
    let detail = json!({
        "photo": copy.token,
        "area": { "x": region.x, "y": region.y, "width": region.width, "height": region.height },
        "reason": reason,
    });
    record(conn, "photo.area_obscured", by, detail, now_ms).await?;
    Ok(())
}

async fn record(
    conn: &mut AnyConnection,
    kind: &str,
    by: &Decider<'_>,
    detail: serde_json::Value,
    now_ms: i64,
) -> sqlx::Result<()> {
    let entry = audit::Entry {
        kind,
        report_id: None,
        order_id: by.order_id,
        reporter_id: None,
        actor: Some(by.actor.to_string()),
        detail,
    };
    audit::record(conn, entry, now_ms).await
}
