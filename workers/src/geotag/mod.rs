//! Placing and routing reports: which district a point is in (`area`), which depot handles a
//! category there or whom it is forwarded to (`routing`), and which open work order a new
//! report duplicates (`nearby`), and addresses: written ones to places, places to the nearest
//! address (`streets`) and to words for people (`words`).

pub mod area;
pub mod nearby;
pub mod routing;
pub mod streets;
pub mod words;

pub use area::{Area, AreaError, District, Placement};
pub use nearby::{Cell, Cells, OpenOrder, OrderIndex};
pub use routing::{Depot, Route, Routing, RoutingError};
pub use streets::{AddressPoint, Gazetteer, StreetsError};
pub use words::Spot;
