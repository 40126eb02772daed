//! Work orders after triage: their status machine (`status`) and the changes staff make to
//! them (`lifecycle`), shared by the staff UI and the JSON API so both follow the same rules.

pub mod board;
pub mod events;
pub mod lifecycle;
pub mod store;
