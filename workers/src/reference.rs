//! The public reference number of a report, `M-<year>-<6 digits>` (e.g. `M-2026-000123`).
//!
//! Citizens type these back into the chat in all sorts of ways ("m 2026 123", "M-2026-000123.",
//! "2026/123"), so parsing is forgiving about case, separators and leading zeros, while display
//! is always the canonical form.

use std::fmt;
use std::str::FromStr;

/// A report's public reference: the year it was received and its number within that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reference {
    year: u16,
    number: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a reference number like M-2026-000123")]
pub struct ReferenceError;

/// Highest number a year can hold in the six-digit form.
pub const MAX_NUMBER: u32 = 999_999;

impl Reference {
    pub fn new(year: u16, number: u32) -> Result<Self, ReferenceError> {
        if !(2000..=9999).contains(&year) || number == 0 || number > MAX_NUMBER {
            return Err(ReferenceError);
        }
        Ok(Self { year, number })
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "M-{}-{:06}", self.year, self.number)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim().trim_end_matches(['.', '!', '?', ',']);
        let rest = trimmed.strip_prefix(['M', 'm']).unwrap_or(trimmed);
        let is_separator = |c: char| matches!(c, '-' | ' ' | '/' | '.' | '_' | '#');
        let mut groups = rest.split(is_separator).filter(|g| !g.is_empty());
        let (year, number) = match (groups.next(), groups.next(), groups.next()) {
            (Some(year), Some(number), None) => (year, number),
            // "M2026000123": year and number written together.
            (Some(joined), None, None) if joined.len() > 4 && joined.is_char_boundary(4) => joined.split_at(4),
            _ => return Err(ReferenceError),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !all_digits(year) || !all_digits(number) || number.len() > 6 {
            return Err(ReferenceError);
        }
        let year = year.parse().map_err(|_| ReferenceError)?;
        let number = number.parse().map_err(|_| ReferenceError)?;
        Self::new(year, number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_the_canonical_form() {
        assert_eq!(Reference::new(2026, 123).unwrap().to_string(), "M-2026-000123");
        assert_eq!(Reference::new(2027, 999_999).unwrap().to_string(), "M-2027-999999");
    }

    #[test]
    fn parses_what_citizens_type() {
        let expected = Reference::new(2026, 123).unwrap();
        for typed in [
            "M-2026-000123",
            "m-2026-000123",
            " M 2026 123 ",
            "M-2026-123.",
            "2026/000123",
            "M2026000123",
            "m_2026_123",
        ] {
            assert_eq!(typed.parse::<Reference>(), Ok(expected), "{typed}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for typed in [
            "",
            "M",
            "M-26-000123",
            "M-2026-0001234",
            "M-2026-000000",
            "M-2026-12a",
            "M-2026-1-2",
            "X-2026-000123",
            "M-1999-000001",
            "Lindenweg 4",
            "M-2026-ß",
        ] {
            assert_eq!(typed.parse::<Reference>(), Err(ReferenceError), "{typed}");
        }
    }
}
