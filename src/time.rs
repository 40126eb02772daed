//! Time as Meldeweg keeps and shows it: Unix milliseconds (UTC) in the database, Europe/Berlin
//! for people. Code that decides something by time takes `now` as an argument; only the shell
//! reads the clock, through `now_ms`.

use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn berlin() -> &'static TimeZone {
    static BERLIN: OnceLock<TimeZone> = OnceLock::new();
    // The tz database is compiled in (jiff's bundled copy), so the zone is always there.
    BERLIN.get_or_init(|| TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC))
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The instant in Europe/Berlin (for calendar arithmetic on local days and hours).
pub fn berlin_zoned(ms: i64) -> jiff::Zoned {
    timestamp(ms).to_zoned(berlin().clone())
}

/// A Berlin wall-clock time as Unix milliseconds (a time skipped by the change to summer time
/// counts as the instant after the gap).
pub fn berlin_ms(local: jiff::civil::DateTime) -> Option<i64> {
    local.to_zoned(berlin().clone()).ok().map(|zoned| zoned.timestamp().as_millisecond())
}

/// RFC 3339 in UTC, for machine-readable output.
pub fn rfc3339(ms: i64) -> String {
    timestamp(ms).to_string()
}

/// The calendar year in Germany at that instant (reference numbers count per German year).
pub fn berlin_year(ms: i64) -> u16 {
    let year = berlin_zoned(ms).year();
    u16::try_from(year).unwrap_or(2000)
}

/// "23.11.2026" in Europe/Berlin.
pub fn berlin_date(ms: i64) -> String {
    berlin_zoned(ms).strftime("%d.%m.%Y").to_string()
}

/// "23.11.2026 14:05" in Europe/Berlin.
pub fn berlin_date_time(ms: i64) -> String {
    berlin_zoned(ms).strftime("%d.%m.%Y %H:%M").to_string()
}

/// Midnight in Europe/Berlin at the start of `date` (YYYY-MM-DD), as Unix milliseconds.
pub fn berlin_midnight(date: jiff::civil::Date) -> i64 {
    berlin_ms(date.to_datetime(jiff::civil::Time::midnight())).unwrap_or(0)
}

/// The calendar date in Europe/Berlin at that instant.
pub fn berlin_civil_date(ms: i64) -> jiff::civil::Date {
    berlin_zoned(ms).date()
}

/// The ISO week (year, week) of that instant in Europe/Berlin, e.g. (2026, 48).
pub fn berlin_iso_week(ms: i64) -> (i16, i8) {
    let week = berlin_civil_date(ms).iso_week_date();
    (week.year(), week.week())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_and_date_follow_german_time_not_utc() {
        // 2026-12-31T23:30:00Z is already 2027 in Berlin.
        let new_year = 1_798_759_800_000;
        assert_eq!(rfc3339(new_year), "2026-12-31T23:30:00Z");
        assert_eq!(berlin_year(new_year), 2027);
        assert_eq!(berlin_date(new_year), "01.01.2027");
        assert_eq!(berlin_date_time(new_year), "01.01.2027 00:30");
    }

    #[test]
    fn days_and_iso_weeks_follow_german_time() {
        let date = jiff::civil::date(2026, 3, 29); // the day summer time starts
        let midnight = berlin_midnight(date);
        assert_eq!(rfc3339(midnight), "2026-03-28T23:00:00Z");
        assert_eq!(berlin_midnight(date.tomorrow().unwrap()) - midnight, 23 * 3_600_000, "a 23-hour day");
        assert_eq!(berlin_civil_date(midnight), date);
        // 2026-12-31 is in ISO week 53 of 2026; 2027-01-04 in week 1 of 2027.
        assert_eq!(berlin_iso_week(berlin_midnight(jiff::civil::date(2026, 12, 31))), (2026, 53));
        assert_eq!(berlin_iso_week(berlin_midnight(jiff::civil::date(2027, 1, 4))), (2027, 1));
    }

    #[test]
    fn summer_time_is_applied() {
        // 2026-07-01T10:00:00Z is 12:00 in Berlin (CEST).
        assert_eq!(berlin_date_time(1_782_900_000_000), "01.07.2026 12:00");
    }
}
