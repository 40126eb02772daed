//! `meldeweg-workers`: the pure processing stages of Meldeweg.
//!
//! Everything here is a function from values to values: no `async`, no database, no network,
//! no clock (the current time is an argument). The service shell in the `meldeweg` package loads
//! what a stage needs, calls it, and writes the result; that split keeps the decisions easy to
//! test, benchmark and fuzz.

pub mod basemap;
pub mod bystanders;
pub mod category;
pub mod classify;
pub mod conversation;
pub mod geotag;
pub mod latlon;
pub mod message;
pub mod photo;
pub mod reference;
pub mod status;
pub mod text;
pub mod town;

pub use latlon::LatLon;
pub use reference::Reference;
