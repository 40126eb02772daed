//! A statistics request's filters as SQL `AND` clauses after the window's `$1` and `$2`,
//! with their values bound in order: the same for the grouped queries and the raw rows.

use sqlx::AnyConnection;

use super::{StatsQuery, Window};

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

    pub fn reports(query: &StatsQuery) -> Self {
        let mut filter = Filter { sql: String::new(), values: Vec::new() };
        filter.add("r.category = ?", query.category.map(|c| c.id()));
        filter.add("r.district = ?", query.district.as_deref());
        filter.add("r.channel = ?", query.channel.as_deref());
        filter.add("r.priority = ?", query.priority.map(|p| p.as_str()));
        filter.add("o.depot = ?", query.depot.as_deref());
        filter
    }

    pub fn orders(query: &StatsQuery) -> Self {
        let mut filter = Filter { sql: String::new(), values: Vec::new() };
        filter.add("o.category = ?", query.category.map(|c| c.id()));
        filter.add("o.district = ?", query.district.as_deref());
        filter.add("o.depot = ?", query.depot.as_deref());
        filter.add("o.priority = ?", query.priority.map(|p| p.as_str()));
        filter.add(
            "EXISTS (SELECT 1 FROM reports f WHERE f.work_order_id = o.id AND f.order_link = 'opened' AND f.channel = ?)",
            query.channel.as_deref(),
        );
        filter
    }

    /// The same filters on the roll-ups' columns (migration 0009).
    pub fn rollups(query: &StatsQuery) -> Self {
        let mut filter = Filter { sql: String::new(), values: Vec::new() };
        filter.add("category = ?", query.category.map(|c| c.id()));
        filter.add("district = ?", query.district.as_deref());
        filter.add("depot = ?", query.depot.as_deref());
        filter.add("channel = ?", query.channel.as_deref());
        filter.add("priority = ?", query.priority.map(|p| p.as_str()));
        filter
    }

    pub async fn run(
        &self,
        conn: &mut AnyConnection,
        sql: &str,
        window: Window,
    ) -> sqlx::Result<Vec<sqlx::any::AnyRow>> {
        let mut statement = sqlx::query(sql).bind(window.start).bind(window.end);
        for value in &self.values {
            statement = statement.bind(value);
        }
        statement.fetch_all(conn).await
    }
}
