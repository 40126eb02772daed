//! The Bauhof's working hours (PRIVACY P14): weekly hours and closed days in Europe/Berlin.
//! A report acknowledged outside them says when it will be looked at, so nobody waits for a
//! crew that is not there; urgent reports get the 110/112 hint at any hour regardless.

use jiff::civil::{Date, Time, Weekday};
use meldeweg_workers::conversation::Lang;

use serde::Deserialize;

use crate::time::{berlin_date, berlin_ms, berlin_zoned};

/// The Bauhof's working hours in Europe/Berlin (P14): "HH:MM-HH:MM" per weekday, empty for a
/// closed day, and closed days as YYYY-MM-DD. Checked by `ServiceHours::from_settings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHoursSettings {
    pub enabled: bool,
    pub monday: String,
    pub tuesday: String,
    pub wednesday: String,
    pub thursday: String,
    pub friday: String,
    pub saturday: String,
    pub sunday: String,
    pub holidays: Vec<String>,
}

/// How far ahead the next opening is looked for (past the longest run of closed days).
const LOOK_AHEAD_DAYS: i16 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHours {
    /// Opening and closing time per weekday, Monday first; `None` is a closed day.
    week: [Option<(Time, Time)>; 7],
    holidays: Vec<Date>,
}

impl ServiceHours {
    /// The configured hours, or `None` when they are switched off (every hour counts as
    /// working time). Errors name the setting and what is wrong with it.
    pub fn from_settings(settings: &ServiceHoursSettings) -> Result<Option<Self>, (&'static str, String)> {
        if !settings.enabled {
            return Ok(None);
        }
        let days = [
            ("service_hours.monday", &settings.monday),
            ("service_hours.tuesday", &settings.tuesday),
            ("service_hours.wednesday", &settings.wednesday),
            ("service_hours.thursday", &settings.thursday),
            ("service_hours.friday", &settings.friday),
            ("service_hours.saturday", &settings.saturday),
            ("service_hours.sunday", &settings.sunday),
        ];
        let mut week = [None; 7];
        for (slot, (day, text)) in week.iter_mut().zip(days) {
            *slot = hours(text).map_err(|reason| (day, reason))?;
        }
        if week.iter().all(Option::is_none) {
            return Err(("service_hours", "at least one weekday must have hours when enabled".into()));
        }
        let mut holidays = Vec::with_capacity(settings.holidays.len());
        for text in &settings.holidays {
            let date = text
                .trim()
                .parse::<Date>()
                .map_err(|_| ("service_hours.holidays", format!("{text:?} is not a date like 2026-12-24")))?;
            holidays.push(date);
        }
        holidays.sort();
        Ok(Some(ServiceHours { week, holidays }))
    }

    /// `None` while the Bauhof is working at `now_ms`; otherwise when it next starts (Unix ms).
    pub fn next_opening(&self, now_ms: i64) -> Option<i64> {
        let now = berlin_zoned(now_ms);
        let today = now.date();
        for offset in 0..=LOOK_AHEAD_DAYS {
            let day = today.checked_add(jiff::Span::new().days(offset)).ok()?;
            if self.holidays.binary_search(&day).is_ok() {
                continue;
            }
            let Some((open, close)) = self.week[day.weekday().to_monday_zero_offset() as usize] else { continue };
            let (open_at, close_at) = (day.to_datetime(open), day.to_datetime(close));
            if offset == 0 && now.datetime() >= open_at && now.datetime() < close_at {
                return None;
            }
            if offset > 0 || now.datetime() < open_at {
                return berlin_ms(open_at);
            }
        }
        None
    }
}

/// "HH:MM-HH:MM", or empty for a closed day.
fn hours(text: &str) -> Result<Option<(Time, Time)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let wrong = || format!("{text:?} is not hours like 07:00-16:00 (or empty for a closed day)");
    let (open, close) = text.split_once('-').ok_or_else(wrong)?;
    let time = |t: &str| {
        let (h, m) = t.trim().split_once(':').ok_or_else(wrong)?;
        let (h, m): (i8, i8) = (h.parse().map_err(|_| wrong())?, m.parse().map_err(|_| wrong())?);
        Time::new(h, m, 0, 0).map_err(|_| wrong())
    };
    let (open, close) = (time(open)?, time(close)?);
    if open >= close {
        return Err(format!("{text:?}: the day must end after it starts"));
    }
    Ok(Some((open, close)))
}

/// When the next opening is, as a citizen reads it: "Montag, 30.11.2026, 07:00 Uhr".
pub fn describe(lang: Lang, at_ms: i64) -> String {
    let at = berlin_zoned(at_ms);
    match lang {
        Lang::De => {
            let weekday = match at.weekday() {
                Weekday::Monday => "Montag",
                Weekday::Tuesday => "Dienstag",
                Weekday::Wednesday => "Mittwoch",
                Weekday::Thursday => "Donnerstag",
                Weekday::Friday => "Freitag",
                Weekday::Saturday => "Samstag",
                Weekday::Sunday => "Sonntag",
            };
            format!("{weekday}, {}, {} Uhr", berlin_date(at_ms), at.strftime("%H:%M"))
        }
        Lang::En => at.strftime("%A, %d/%m/%Y, %H:%M").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(holidays: &[&str]) -> ServiceHoursSettings {
        let day = |text: &str| text.to_string();
        ServiceHoursSettings {
            enabled: true,
            monday: day("07:00-16:00"),
            tuesday: day("07:00-16:00"),
            wednesday: day("07:00-16:00"),
            thursday: day("07:00-16:00"),
            friday: day("07:00-12:30"),
            saturday: day(""),
            sunday: day(" "),
            holidays: holidays.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn at(text: &str) -> i64 {
        berlin_ms(text.parse().unwrap()).unwrap()
    }

    #[test]
    fn inside_the_hours_nothing_is_said_and_outside_the_next_start_is_named() {
        let hours = ServiceHours::from_settings(&settings(&["2026-12-24", "2026-12-25"])).unwrap().unwrap();
        // Monday 2026-11-30.
        assert_eq!(hours.next_opening(at("2026-11-30T07:00")), None, "opening minute");
        assert_eq!(hours.next_opening(at("2026-11-30T15:59")), None);
        assert_eq!(hours.next_opening(at("2026-11-30T06:59")), Some(at("2026-11-30T07:00")), "before opening");
        assert_eq!(hours.next_opening(at("2026-11-30T16:00")), Some(at("2026-12-01T07:00")), "after closing");
        // Friday afternoon and the weekend wait for Monday.
        assert_eq!(hours.next_opening(at("2026-12-04T12:30")), Some(at("2026-12-07T07:00")));
        assert_eq!(hours.next_opening(at("2026-12-06T11:00")), Some(at("2026-12-07T07:00")));
        // Christmas Eve (Thursday) and Christmas Day (Friday) are closed: Monday the 28th.
        assert_eq!(hours.next_opening(at("2026-12-23T17:00")), Some(at("2026-12-28T07:00")));
        assert_eq!(hours.next_opening(at("2026-12-24T10:00")), Some(at("2026-12-28T07:00")));
        // Across the change to summer time (Sunday 2027-03-28): 07:00 local on Monday.
        assert_eq!(hours.next_opening(at("2027-03-27T09:00")), Some(at("2027-03-29T07:00")));
    }

    #[test]
    fn switched_off_hours_are_always_open_and_bad_hours_are_refused_with_the_setting() {
        let off = ServiceHoursSettings { enabled: false, monday: "nonsense".into(), ..settings(&[]) };
        assert_eq!(ServiceHours::from_settings(&off), Ok(None));
        for (bad, setting) in [
            (ServiceHoursSettings { monday: "7-16".into(), ..settings(&[]) }, "service_hours.monday"),
            (ServiceHoursSettings { tuesday: "16:00-07:00".into(), ..settings(&[]) }, "service_hours.tuesday"),
            (ServiceHoursSettings { friday: "25:00-26:00".into(), ..settings(&[]) }, "service_hours.friday"),
            (settings(&["24.12.2026"]), "service_hours.holidays"),
        ] {
            assert_eq!(ServiceHours::from_settings(&bad).unwrap_err().0, setting);
        }
        let closed = ServiceHoursSettings {
            monday: String::new(),
            tuesday: String::new(),
            wednesday: String::new(),
            thursday: String::new(),
            friday: String::new(),
            ..settings(&[])
        };
        assert!(ServiceHours::from_settings(&closed).is_err(), "never open");
    }

    #[test]
    fn the_next_start_reads_as_a_day_date_and_time() {
        assert_eq!(describe(Lang::De, at("2026-11-30T07:00")), "Montag, 30.11.2026, 07:00 Uhr");
        assert_eq!(describe(Lang::En, at("2026-12-28T07:00")), "Monday, 28/12/2026, 07:00");
    }
}
