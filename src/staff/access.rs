//! Who may do what: the permission matrix of roles × operations × own/other depot, in one
//! pure function that the staff UI and the JSON API both ask before they touch anything.
//!
//! depot — sees and works the orders of its own depot · dispatcher — all orders; also reopens,
//! re-routes, merges, corrects categories and moderates photos · manager — reads everything,
//! statistics · admin — reads everything, users, dead-lettered jobs, moderates photos.
//!
//! Moderating photos (what the public sees of bystanders) is for the dispatchers and the
//! administration, who decide for the whole municipality, not for each depot's crew.

use serde::Serialize;

use meldeweg_workers::status::Transition;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Depot,
    Dispatcher,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Depot, Role::Dispatcher, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Depot => "depot",
            Role::Dispatcher => "dispatcher",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == s)
    }
}

/// Something a staff member may ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// See an order, its reports and history.
    View,
    Transition(Transition),
    Comment,
    /// Attach a photo of the finished work.
    AfterPhoto,
    Reroute,
    Merge,
    Recategorise,
    /// Approve, hide or show a photo's public copy, or obscure more of it (issue 22).
    ModeratePhotos,
    /// Users, API tokens, dead-lettered jobs.
    Administer,
    Statistics,
}

impl Operation {
    /// Every operation, for exhaustive tests and the documentation.
    pub fn all() -> Vec<Operation> {
        let mut all = vec![Operation::View];
        all.extend(Transition::ALL.map(Operation::Transition));
        all.extend([
            Operation::Comment,
            Operation::AfterPhoto,
            Operation::Reroute,
            Operation::Merge,
            Operation::Recategorise,
            Operation::ModeratePhotos,
            Operation::Administer,
            Operation::Statistics,
        ]);
        all
    }

    /// Whether the operation is about one work order (and so depends on its depot).
    pub fn concerns_an_order(self) -> bool {
        !matches!(self, Operation::Administer | Operation::Statistics)
    }
}

/// A person's role and, for depot staff, their depot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub depot: Option<String>,
}

/// Whether `grant` may do `operation` on an order of `order_depot` (`None` for operations that
/// concern no order). The reason says what to do instead.
pub fn check(grant: &Grant, operation: Operation, order_depot: Option<&str>) -> Result<(), &'static str> {
    use Operation as O;
    let own = match (grant.depot.as_deref(), order_depot) {
        (Some(mine), Some(theirs)) => mine == theirs,
        _ => false,
    };
    let allowed = match grant.role {
        Role::Depot => {
            own && matches!(
                operation,
                O::View
                    | O::Comment
                    | O::AfterPhoto
                    | O::Transition(
                        Transition::Accept
                            | Transition::Start
                            | Transition::Done
                            | Transition::Reject
                            | Transition::Forward
                    )
            )
        }
        Role::Dispatcher => operation.concerns_an_order(),
        Role::Manager => matches!(operation, O::View | O::Statistics),
        Role::Admin => matches!(operation, O::View | O::Statistics | O::Administer | O::ModeratePhotos),
    };
    if allowed {
        return Ok(());
    }
    Err(match (grant.role, operation) {
        (Role::Depot, _) if operation.concerns_an_order() && !own => {
            "Dieser Auftrag gehört zu einem anderen Betriebshof."
        }
        (_, O::Administer) => "Nur die Administration verwaltet Benutzer und Aufgaben.",
        (_, O::Statistics) => "Statistiken sind für Leitung und Administration.",
        (_, O::ModeratePhotos) => "Fotos geben die Disposition und die Administration frei.",
        (Role::Depot, _) => "Das kann nur die Disposition.",
        (Role::Manager | Role::Admin, _) => "Ihre Rolle darf Aufträge lesen, aber nicht ändern.",
        (Role::Dispatcher, _) => "Nicht erlaubt.",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, depot: Option<&str>) -> Grant {
        Grant { role, depot: depot.map(str::to_string) }
    }

    /// The whole matrix, written out: role × operation × own/other depot.
    #[test]
    fn the_permission_matrix_is_exactly_as_documented() {
        let depot_work = |op: Operation| {
            matches!(
                op,
                Operation::View
                    | Operation::Comment
                    | Operation::AfterPhoto
                    | Operation::Transition(
                        Transition::Accept
                            | Transition::Start
                            | Transition::Done
                            | Transition::Reject
                            | Transition::Forward
                    )
            )
        };
        for operation in Operation::all() {
            for own in [true, false] {
                let order = operation.concerns_an_order().then_some(if own { "nord" } else { "sued" });
                let expected = [
                    (Role::Depot, own && depot_work(operation)),
                    (Role::Dispatcher, operation.concerns_an_order()),
                    (Role::Manager, matches!(operation, Operation::View | Operation::Statistics)),
                    (
                        Role::Admin,
                        matches!(
                            operation,
                            Operation::View | Operation::Statistics | Operation::Administer | Operation::ModeratePhotos
                        ),
                    ),
                ];
                for (role, allowed) in expected {
                    let depot = (role == Role::Depot).then_some("nord");
                    let result = check(&grant(role, depot), operation, order);
                    assert_eq!(result.is_ok(), allowed, "{role:?} {operation:?} own={own}: {result:?}");
                    if let Err(reason) = result {
                        assert!(!reason.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn depot_staff_without_a_depot_may_do_nothing_and_hear_why() {
        let reason = check(&grant(Role::Depot, None), Operation::View, Some("nord")).unwrap_err();
        assert_eq!(reason, "Dieser Auftrag gehört zu einem anderen Betriebshof.");
        let reason = check(&grant(Role::Depot, Some("nord")), Operation::Merge, Some("nord")).unwrap_err();
        assert_eq!(reason, "Das kann nur die Disposition.");
    }
}
