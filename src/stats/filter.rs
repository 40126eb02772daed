//! A statistics request's filters as SQL `AND` clauses after the window's `$1` and `$2`,
//! with their values bound in order: the same for the grouped queries and the raw rows.

use sqlx::AnyConnection;

use super::StatsQuery;

/// `channel` is the channel asked for or one of its parts ("open311" holds "open311:stadt-app",
/// each Open311 key's reports).
fn within(channel: &str) -> String {
    format!(
        "(COALESCE({channel}, '') = CAST(? AS TEXT)
          OR SUBSTR(COALESCE({channel}, ''), 1, LENGTH(CAST(? AS TEXT)) + 1) = CAST(? AS TEXT) || ':')"
    )
}

/// Whether a channel `field` is `wanted` or one of its parts (`within` in Rust).
pub fn is_within(field: &str, wanted: &str) -> bool {
    field == wanted || field.strip_prefix(wanted).is_some_and(|rest| rest.starts_with(':'))
}

/// The request's filters as SQL after `$1` and `$2`, with their values.
pub struct Filter {
    pub sql: String,
    values: Vec<String>,
}

impl Filter {
    fn add(&mut self, clause: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.values.push(value.to_string());
            self.sql.push_str(" AND ");
            self.sql.push_str(&clause.replace('?', &format!("${}", self.values.len() + 2)));
        }
    }

    /// The filters on reports (a report's depot is its order's).
    pub fn reports(query: &StatsQuery) -> Self {
        Self::of(query, ["r.category = ?", "r.district = ?", "o.depot = ?", &within("r.channel"), "r.priority = ?"])
    }

    /// The filters on work orders (the channel is that of the report that opened the order).
    pub fn orders(query: &StatsQuery) -> Self {
        Self::of(query, ["o.category = ?", "o.district = ?", "o.depot = ?", &within("o.channel"), "o.priority = ?"])
    }

    /// The values asked for, in the order category, district, depot, channel, priority.
    pub fn values(query: &StatsQuery) -> [Option<&str>; 5] {
        [
            query.category.map(|c| c.id()),
            query.district.as_deref(),
            query.depot.as_deref(),
            query.channel.as_deref(),
            query.priority.map(|p| p.as_str()),
        ]
    }

    /// `clauses` for category, district, depot, channel and priority, each with `?` for its value.
    fn of(query: &StatsQuery, clauses: [&str; 5]) -> Self {
        let mut filter = Filter { sql: String::new(), values: Vec::new() };
        for (clause, value) in clauses.into_iter().zip(Self::values(query)) {
            filter.add(clause, value);
        }
        filter
    }

    /// Runs `sql` with `bounds` as `$1` and `$2` and the filters' values after them, planned
    /// for these values (not a prepared statement's generic plan, which PostgreSQL may choose
    /// after a few runs and which cannot know how few orders were closed after `$2`).
    pub async fn run(
        &self,
        conn: &mut AnyConnection,
        sql: &str,
        bounds: (i64, i64),
    ) -> sqlx::Result<Vec<sqlx::any::AnyRow>> {
        let mut statement = sqlx::query(sql).persistent(false).bind(bounds.0).bind(bounds.1);
        for value in &self.values {
            statement = statement.bind(value);
        }
        statement.fetch_all(conn).await
    }
}
