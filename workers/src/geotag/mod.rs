//! Placing reports: which district a point is in (`area`). Routing, the street gazetteer and
//! duplicate search build on this.

pub mod area;

pub use area::{Area, AreaError, District, Placement};
