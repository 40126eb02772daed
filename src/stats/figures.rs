//! The arithmetic of the statistics, kept pure so each definition is tested by itself:
//! nearest-rank percentiles, backlog age buckets, SLA compliance, and the street of an address.

use serde::Serialize;

/// The nearest-rank percentile `p` (0 < p ≤ 100) of `values`: the smallest value with at least
/// p % of the values at or below it. Reorders `values` (a selection, not a full sort). `None`
/// when there are none.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * values.len() as u64).div_ceil(100).max(1) as usize;
    Some(*values.select_nth_unstable(rank - 1).1)
}

/// Median and 90th percentile of durations in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Spread {
    pub fn of(mut durations: Vec<i64>) -> Self {
        Spread {
            count: durations.len(),
            median_ms: percentile(&mut durations, 50),
            p90_ms: percentile(&mut durations, 90),
        }
    }
}

/// The backlog's age buckets: 0–7, 8–30, 31–90 and more than 90 whole days since the order
/// was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgeBuckets {
    pub days_0_7: u64,
    pub days_8_30: u64,
    pub days_31_90: u64,
    pub days_over_90: u64,
}

impl AgeBuckets {
    /// `n` orders that were `days` whole days old.
    pub fn add_days(&mut self, days: i64, n: u64) {
        match days {
            ..=7 => self.days_0_7 += n,
            8..=30 => self.days_8_30 += n,
            31..=90 => self.days_31_90 += n,
            _ => self.days_over_90 += n,
        }
    }

    pub fn total(&self) -> u64 {
        self.days_0_7 + self.days_8_30 + self.days_31_90 + self.days_over_90
    }
}

/// Orders done, and how many of them by their due date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Sla {
    pub done: u64,
    pub on_time: u64,
}

impl Sla {
    /// Whether an order done at `done_ms` was done by its due date.
    pub fn on_time(done_ms: i64, due_ms: Option<i64>) -> bool {
        due_ms.is_some_and(|due| done_ms <= due)
    }

    pub fn add(&mut self, done_ms: i64, due_ms: Option<i64>) {
        self.done += 1;
        if Self::on_time(done_ms, due_ms) {
            self.on_time += 1;
        }
    }

    /// The share done on time, 0 to 1 (`None` with nothing done).
    pub fn share(&self) -> Option<f64> {
        (self.done > 0).then(|| self.on_time as f64 / self.done as f64)
    }
}

/// The street of an address point: "Lindenweg 4" → "Lindenweg", "Am Markt 12a" → "Am Markt";
/// a corner "Ecke A/B" stays as it is.
pub fn street_of(address: &str) -> &str {
    let address = address.trim();
    match address.rsplit_once(' ') {
        Some((street, number)) if number.chars().next().is_some_and(|c| c.is_ascii_digit()) => street.trim(),
        _ => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 50), Some(7));
        assert_eq!(percentile(&mut [4, 1, 3, 2], 50), Some(2), "rank ceil(0.5 * 4) = 2");
        assert_eq!(percentile(&mut [5, 1, 4, 2, 3], 50), Some(3));
        let mut ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut ten, 90), Some(9));
        assert_eq!(percentile(&mut ten, 100), Some(10));
        let mut eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&mut eleven, 90), Some(10), "rank ceil(9.9) = 10");
    }

    #[test]
    fn backlog_ages_fall_into_whole_day_buckets() {
        let mut buckets = AgeBuckets::default();
        for days in [0, 7, 8, 30, 31, 90, 91, 400] {
            buckets.add_days(days, 1);
        }
        assert_eq!(buckets, AgeBuckets { days_0_7: 2, days_8_30: 2, days_31_90: 2, days_over_90: 2 });
        assert_eq!(buckets.total(), 8);
    }

    #[test]
    fn sla_counts_done_by_the_due_date_as_on_time() {
        let mut sla = Sla::default();
        sla.add(100, Some(100));
        sla.add(101, Some(100));
        sla.add(50, None);
        assert_eq!((sla.done, sla.on_time), (3, 1));
        assert!((sla.share().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(Sla::default().share(), None);
    }

    #[test]
    fn streets_lose_their_house_numbers() {
        assert_eq!(street_of("Lindenweg 4"), "Lindenweg");
        assert_eq!(street_of("Am Markt 12a"), "Am Markt");
        assert_eq!(street_of("Ecke Bahnhofstraße/Schulstraße"), "Ecke Bahnhofstraße/Schulstraße");
    }
}
