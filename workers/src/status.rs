//! The status vocabulary of reports and work orders, and how they may move.
//!
//! A work order: open → accepted → in_progress → done, or rejected (with a reason) or forwarded
//! (to another body, by name); a dispatcher reopens a closed order. An order merged into another
//! is closed for good. The state machine refuses a move with a reason a person can act on.
//! A report follows its work order once it has one; before that it is received, outside the
//! area or forwarded by routing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Accepted,
    InProgress,
    Done,
    Rejected,
    Forwarded,
    /// Merged into another order, which carries its reports on.
    Merged,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Open,
        OrderStatus::Accepted,
        OrderStatus::InProgress,
        OrderStatus::Done,
        OrderStatus::Rejected,
        OrderStatus::Forwarded,
        OrderStatus::Merged,
    ];

    /// The statuses of orders someone still has to work on (and that duplicates can join).
    pub const ACTIVE: [OrderStatus; 3] = [OrderStatus::Open, OrderStatus::Accepted, OrderStatus::InProgress];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Accepted => "accepted",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Done => "done",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Forwarded => "forwarded",
            OrderStatus::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

/// A change of status someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Accept,
    Start,
    Done,
    Reject,
    Forward,
    Reopen,
}

impl Transition {
    pub const ALL: [Transition; 6] = [
        Transition::Accept,
        Transition::Start,
        Transition::Done,
        Transition::Reject,
        Transition::Forward,
        Transition::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Accept => "accept",
            Transition::Start => "start",
            Transition::Done => "done",
            Transition::Reject => "reject",
            Transition::Forward => "forward",
            Transition::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The status the order is in afterwards.
    pub fn target(self) -> OrderStatus {
        match self {
            Transition::Accept => OrderStatus::Accepted,
            Transition::Start => OrderStatus::InProgress,
            Transition::Done => OrderStatus::Done,
            Transition::Reject => OrderStatus::Rejected,
            Transition::Forward => OrderStatus::Forwarded,
            Transition::Reopen => OrderStatus::Open,
        }
    }

    /// The status after this transition from `from`, or why it cannot happen.
    pub fn from(self, from: OrderStatus) -> Result<OrderStatus, &'static str> {
        use OrderStatus as S;
        let allowed = match self {
            Transition::Accept => from == S::Open,
            Transition::Start => matches!(from, S::Open | S::Accepted),
            Transition::Done => matches!(from, S::Accepted | S::InProgress),
            Transition::Reject | Transition::Forward => from.is_active(),
            Transition::Reopen => matches!(from, S::Done | S::Rejected | S::Forwarded),
        };
        if allowed {
            return Ok(self.target());
        }
        Err(match (self, from) {
            (_, S::Merged) => "Der Auftrag wurde mit einem anderen zusammengeführt; bitte dort weiterarbeiten.",
            (Transition::Reopen, _) => {
                "Nur erledigte, abgelehnte oder weitergegebene Aufträge können wieder geöffnet werden."
            }
            (Transition::Done, S::Open) => "Bitte den Auftrag zuerst übernehmen, dann erledigt melden.",
            (Transition::Accept, S::Accepted | S::InProgress) => "Der Auftrag ist bereits übernommen.",
            (Transition::Start, S::InProgress) => "Der Auftrag ist bereits in Arbeit.",
            (_, S::Done | S::Rejected | S::Forwarded) => {
                "Der Auftrag ist abgeschlossen; die Disposition kann ihn wieder öffnen."
            }
            _ => "Das ist im aktuellen Status des Auftrags nicht möglich.",
        })
    }

    /// The transitions possible from `from`, in the order the UI offers them.
    pub fn possible(from: OrderStatus) -> impl Iterator<Item = Transition> {
        Self::ALL.into_iter().filter(move |t| t.from(from).is_ok())
    }
}

/// How far a report has got. A report linked to a work order follows the order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Created; triage has not placed it yet.
    Received,
    /// Linked to an open work order (its own or one it duplicates).
    Open,
    /// Outside the municipality: kept, but no work order.
    OutsideArea,
    /// Passed on to another body (routing's `forward_to`, or staff forwarding its order).
    Forwarded,
    /// Its work order was accepted by the depot.
    Accepted,
    InProgress,
    Done,
    /// Its work order was rejected (the reason is on the order).
    Rejected,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 8] = [
        ReportStatus::Received,
        ReportStatus::Open,
        ReportStatus::OutsideArea,
        ReportStatus::Forwarded,
        ReportStatus::Accepted,
        ReportStatus::InProgress,
        ReportStatus::Done,
        ReportStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::Open => "open",
            ReportStatus::OutsideArea => "outside_area",
            ReportStatus::Forwarded => "forwarded",
            ReportStatus::Accepted => "accepted",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Done => "done",
            ReportStatus::Rejected => "rejected",
        }
    }

    /// The status of a report whose work order is in `status` (`None` for a merged order,
    /// whose reports follow the order they were merged into).
    pub fn of_order(status: OrderStatus) -> Option<Self> {
        Some(match status {
            OrderStatus::Open => ReportStatus::Open,
            OrderStatus::Accepted => ReportStatus::Accepted,
            OrderStatus::InProgress => ReportStatus::InProgress,
            OrderStatus::Done => ReportStatus::Done,
            OrderStatus::Rejected => ReportStatus::Rejected,
            OrderStatus::Forwarded => ReportStatus::Forwarded,
            OrderStatus::Merged => return None,
        })
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The statuses of reports nothing more will be done with: finished, rejected, passed on,
    /// or outside the municipality (retention and erasure count from their closing).
    pub const CLOSED: [ReportStatus; 4] =
        [ReportStatus::Done, ReportStatus::Rejected, ReportStatus::Forwarded, ReportStatus::OutsideArea];

    pub fn is_closed(self) -> bool {
        Self::CLOSED.contains(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;

    #[test]
    fn the_lifecycle_moves_forward_and_refuses_shortcuts_with_a_reason() {
        assert_eq!(Transition::Accept.from(S::Open), Ok(S::Accepted));
        assert_eq!(Transition::Start.from(S::Accepted), Ok(S::InProgress));
        assert_eq!(Transition::Done.from(S::InProgress), Ok(S::Done));
        assert_eq!(Transition::Done.from(S::Accepted), Ok(S::Done));
        assert_eq!(Transition::Done.from(S::Open), Err("Bitte den Auftrag zuerst übernehmen, dann erledigt melden."));
        assert!(Transition::Accept.from(S::Done).unwrap_err().contains("wieder öffnen"));
        assert!(Transition::Done.from(S::Merged).unwrap_err().contains("zusammengeführt"));
        assert_eq!(Transition::Reopen.from(S::Rejected), Ok(S::Open));
        assert!(Transition::Reopen.from(S::Open).is_err());
    }

    #[test]
    fn every_status_and_transition_round_trips_and_closed_orders_offer_only_reopen() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
            let possible: Vec<_> = Transition::possible(status).collect();
            if status.is_active() {
                assert!(possible.contains(&Transition::Reject), "{status:?}");
                assert!(!possible.contains(&Transition::Reopen), "{status:?}");
            } else if status == S::Merged {
                assert!(possible.is_empty());
            } else {
                assert_eq!(possible, vec![Transition::Reopen], "{status:?}");
            }
        }
        for transition in Transition::ALL {
            assert_eq!(Transition::parse(transition.as_str()), Some(transition));
        }
    }
}
