//! Placing reports: which district a point is in (`area`), and which open work order a new
//! report duplicates (`nearby`). Routing and the street gazetteer build on these.

pub mod area;
pub mod nearby;

pub use area::{Area, AreaError, District, Placement};
pub use nearby::{OpenOrder, OrderIndex};
