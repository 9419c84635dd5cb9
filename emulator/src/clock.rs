//! Wall-clock time as nanoseconds since the Unix epoch, read monotonically, and RFC 3339 formatting.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub(crate) type UnixNanos = u64;

/// A clock anchored once to the system time and advanced with a monotonic `Instant`,
/// so that session timelines never jump when the system clock is adjusted.
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    base_instant: Instant,
    base_unix: UnixNanos,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            base_instant: Instant::now(),
            base_unix: duration_nanos(since),
        }
    }

    pub(crate) fn now(&self) -> UnixNanos {
        self.base_unix
            .saturating_add(duration_nanos(self.base_instant.elapsed()))
    }
}

/// A duration in whole nanoseconds, saturating at `u64::MAX` (584 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn nanos_to_millis(t: UnixNanos) -> u64 {
    t / 1_000_000
}

/// `(year, month 1-12, day 1-31)` for a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The calendar year of a moment.
pub(crate) fn year_of(t: UnixNanos) -> i64 {
    civil_from_days((t / 86_400_000_000_000) as i64).0
}

/// RFC 3339 in the form Signicat uses: exactly 7 fractional digits and `+00:00`,
/// e.g. `2026-06-29T11:08:34.9495067+00:00`.
pub(crate) fn rfc3339(t: UnixNanos) -> String {
    let secs = t / 1_000_000_000;
    let ticks = (t % 1_000_000_000) / 100; // 100 ns units, 7 digits
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ticks:07}+00:00",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Whether `year-month-day` exists on the (proleptic Gregorian) calendar.
pub(crate) fn is_valid_date(year: i64, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_signicat() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.0000000+00:00");
        // 2026-06-29T11:08:34.9495067Z
        let t = 1_782_731_314_949_506_700u64;
        assert_eq!(rfc3339(t), "2026-06-29T11:08:34.9495067+00:00");
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.0000000+00:00"
        );
        assert_eq!(year_of(t), 2026);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(1900, 2, 29));
        assert!(!is_valid_date(2021, 4, 31));
    }
}
