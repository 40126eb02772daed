//! This process's copy of the open work orders as an R-tree (`OrderIndex`), for the duplicate
//! search. It is kept current by revision: triage reads the database's revision (locking it),
//! and the copy either matches, catches up on the orders changed since, or is rebuilt when it
//! cannot be matched (first use, or a database that went back in time).

use std::collections::HashMap;

use meldeweg_workers::geotag::{OpenOrder, OrderIndex};
use meldeweg_workers::LatLon;
use sqlx::AnyConnection;

use crate::orders::store as work_orders;
use crate::orders::OrderError;

pub struct OpenOrders {
    /// The revision of the open-order set this copy reflects.
    revision: i64,
    index: Option<OrderIndex>,
    /// Each order's last known entry, to take it out of the index when it changes.
    known: HashMap<i64, OpenOrder>,
    /// Projection origin: the middle of the municipality.
    origin: LatLon,
}

impl OpenOrders {
    pub fn new(origin: LatLon) -> Self {
        Self { revision: 0, index: None, known: HashMap::new(), origin }
    }

    /// Brings the copy to the database's `revision` and returns it.
    pub async fn catch_up(&mut self, conn: &mut AnyConnection, revision: i64) -> Result<&OrderIndex, OrderError> {
        match &mut self.index {
            Some(index) if self.revision <= revision => {
                if self.revision < revision {
                    for (order, open) in work_orders::changed_since(conn, self.revision).await? {
                        if let Some(old) = self.known.remove(&order.id) {
                            index.remove(&old);
                        }
                        if open {
                            index.insert(order.clone());
                            self.known.insert(order.id, order);
                        }
                    }
                }
            }
            _ => {
                let all = work_orders::all_open(conn).await?;
                self.known = all.iter().map(|order| (order.id, order.clone())).collect();
                self.index = Some(OrderIndex::new(self.origin, all));
            }
        }
        self.revision = revision;
        Ok(self.index.as_ref().expect("built above"))
    }

    /// Adds an order this process opened as `revision`, after its transaction committed.
    pub fn opened(&mut self, order: OpenOrder, revision: i64) {
        if let Some(index) = &mut self.index {
            index.insert(order.clone());
            self.known.insert(order.id, order);
            self.revision = revision;
        }
    }
}
