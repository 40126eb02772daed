//! What a statistics roll-up bucket is, for the roll-up writer (`rollup`) and its reader
//! (`counted`) alike: a week of UTC time counted in hours, the fields of its report and
//! work-order groups, and the hotspot cell a position is counted in.

/// One bucket: a week of UTC time (Berlin days and hours lie inside whole UTC hours).
pub const BUCKET_MS: i64 = 604_800_000;
/// Hours per bucket; an entry's hour is counted from the bucket's start.
pub const BUCKET_HOURS: i64 = 168;

/// A report group's fields: the five filters in `Filter::values`' order (category, district,
/// depot, channel, priority; a report's depot is its order's), then the order link. Its body is
/// one entry per report: hour, hotspot cell latitude and longitude (signed).
pub const REPORT_FIELDS: usize = 6;
/// A work-order group's fields: the five filters (the channel is that of the report that opened
/// the order). Its body is a section per event of `load::EVENTS`, each its count and entries: the hour,
/// then for accepted the time since opening, for done that and whether it was on time (0 or 1).
/// The events and their times are `OrderRow::events`, as in the plain recomputation.
pub const ORDER_FIELDS: usize = 5;
/// Hotspot cells are this many degrees of latitude and longitude (about 200 m and 140 m here).
pub const CELL_DEGREES: f64 = 0.002;

/// The hotspot cell of a position: the floor of its latitude and longitude over `CELL_DEGREES`.
pub fn cell(lat: f64, lon: f64) -> (i64, i64) {
    ((lat / CELL_DEGREES).floor() as i64, (lon / CELL_DEGREES).floor() as i64)
}
