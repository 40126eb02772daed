//! The order list's filters as they arrive in a query string (staff pages, map, print, API),
//! parsed into a checked `Filter`, with a search (`q`). Depot staff always see their own depot, whatever they ask.

use serde::Deserialize;

use crate::orders::board::{Filter, StatusFilter};
use crate::reports::search::Search;
use crate::staff::{Role, StaffUser};
use crate::town::Municipality;
use meldeweg_workers::status::OrderStatus;

/// Most orders one page or API call returns.
pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 100;
/// Longest search text.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct FilterQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub district: Option<String>,
    pub depot: Option<String>,
    pub overdue: Option<String>,
    /// A search: a reference, a street, words of a description.
    pub q: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl FilterQuery {
    pub fn parse(&self, user: &StaffUser, municipality: &Municipality) -> Result<Filter, String> {
        let q = given(&self.q).unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("the search may have at most {MAX_QUERY_CHARS} characters"));
        }
        let search = Search::parse(q);
        let status = match given(&self.status) {
            // A search looks at finished orders too, unless a status is chosen.
            None if search.is_some() => StatusFilter::All,
            None | Some("active") => StatusFilter::Active,
            Some("all") => StatusFilter::All,
            Some(other) => {
                StatusFilter::Only(OrderStatus::parse(other).ok_or_else(|| format!("unknown status {other:?}"))?)
            }
        };
        let (category, district, mut depot) = municipality.selection(&self.category, &self.district, &self.depot)?;
        if user.role == Role::Depot {
            depot = Some(user.depot.clone().unwrap_or_default());
        }
        let overdue = match given(&self.overdue) {
            None | Some("0" | "false" | "off") => false,
            Some("1" | "true" | "on") => true,
            Some(other) => return Err(format!("overdue must be true or false, not {other:?}")),
        };
        let number = |value: &Option<String>, name: &str, default: i64, max: i64| match given(value) {
            None => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| format!("{name} must be a whole number from 0 to {max}")),
        };
        let limit = number(&self.limit, "limit", DEFAULT_LIMIT, MAX_LIMIT)?.max(1);
        let offset = number(&self.offset, "offset", 0, 1_000_000)?;
        Ok(Filter { status, category, district, depot, overdue, search, limit, offset })
    }
}
