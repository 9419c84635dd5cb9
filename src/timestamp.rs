//! RFC 3339 timestamps as Signicat writes them (`2026-06-29T11:08:34.9495067+00:00`, up to 7
//! fractional digits) and the HTTP-date of a `Retry-After` header.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC, to the nanosecond.
///
/// ```
/// use safeconv::Timestamp;
/// let t: Timestamp = "2026-06-29T11:08:34.9495067+00:00".parse().unwrap();
/// assert_eq!(t.to_string(), "2026-06-29T11:08:34.9495067Z");
/// assert_eq!(t.unix_millis(), 1_782_731_314_949);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    unix_seconds: i64,
    nanos: u32,
}

/// The text was not an RFC 3339 date-time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampError(&'static str);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RFC 3339 date-time: {}", self.0)
    }
}

impl std::error::Error for TimestampError {}

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.unix_seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Timestamp {
        Timestamp {
            unix_seconds: millis.div_euclid(1000),
            nanos: (millis.rem_euclid(1000) as u32) * 1_000_000,
        }
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(TimestampError("too short"));
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = &b[range];
            if part.iter().all(u8::is_ascii_digit) {
                Ok(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
            } else {
                Err(TimestampError("expected digits"))
            }
        };
        let sep = |i: usize, allowed: &[u8]| {
            if allowed.contains(&b[i]) {
                Ok(())
            } else {
                Err(TimestampError("unexpected separator"))
            }
        };
        let year = num(0..4)?;
        sep(4, b"-")?;
        let month = num(5..7)?;
        sep(7, b"-")?;
        let day = num(8..10)?;
        sep(10, b"Tt ")?;
        let hour = num(11..13)?;
        sep(13, b":")?;
        let minute = num(14..16)?;
        sep(16, b":")?;
        let second = num(17..19)?;

        let mut i = 19;
        let mut nanos: u32 = 0;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Digits past nanoseconds are read and dropped.
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return Err(TimestampError("empty fraction"));
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset_seconds = match &b[i..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(TimestampError("bad offset"));
                }
                let h = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
                let m = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
                if h > 23 || m > 59 {
                    return Err(TimestampError("bad offset"));
                }
                let magnitude = h * 3600 + m * 60;
                if *sign == b'+' { magnitude } else { -magnitude }
            }
            _ => return Err(TimestampError("bad offset")),
        };

        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(TimestampError("field out of range"));
        }
        // A leap second is read as the last second of the minute.
        let second = second.min(59);
        let unix_seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset_seconds;
        // An offset can carry 0000-01-01 or 9999-12-31 out of the four-digit years, which no
        // RFC 3339 text (and so not `Display`) can hold.
        let first = days_from_civil(0, 1, 1) * 86_400;
        let last = days_from_civil(9999, 12, 31) * 86_400 + 86_399;
        if !(first..=last).contains(&unix_seconds) {
            return Err(TimestampError("outside the years 0000 to 9999 in UTC"));
        }
        Ok(Timestamp {
            unix_seconds,
            nanos,
        })
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with 7 fractional digits, like Signicat's own timestamps (9 when the
    /// instant has a finer part, so that the text always reads back to the same instant).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60,
        )?;
        if self.nanos.is_multiple_of(100) {
            write!(f, "{:07}Z", self.nanos / 100)
        } else {
            write!(f, "{:09}Z", self.nanos)
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), the HTTP-date form of `Retry-After`.
pub(crate) fn parse_http_date(text: &str) -> Option<Timestamp> {
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    format!("{year:04}-{month:02}-{day:02}T{time}Z")
        .parse()
        .ok()
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil and its inverse.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Result<Timestamp, TimestampError> {
        s.parse()
    }

    #[test]
    fn signicat_forms() {
        let t = ts("2026-06-29T11:08:34.9495067+00:00").unwrap();
        assert_eq!(t.unix_seconds, 1_782_731_314);
        assert_eq!(t.nanos, 949_506_700);
        assert_eq!(ts("2026-06-29T13:08:34.9495067+02:00").unwrap(), t);
        assert_eq!(ts("2026-06-29T11:08:34Z").unwrap().nanos, 0);
        assert_eq!(ts("2026-06-29t11:08:34.5z").unwrap().nanos, 500_000_000);
        assert_eq!(
            ts("2026-06-29T11:08:34.123456789123Z").unwrap().nanos,
            123_456_789
        );
    }

    #[test]
    fn round_trip() {
        for s in [
            "1970-01-01T00:00:00.0000000Z",
            "2000-02-29T23:59:59.9999999Z",
            "1969-12-31T23:59:59.5000000Z",
        ] {
            assert_eq!(ts(s).unwrap().to_string(), s);
        }
        let t = Timestamp::from_unix_millis(1_782_731_314_949);
        assert_eq!(t.unix_millis(), 1_782_731_314_949);
    }

    // Found by fuzz/fuzz_targets/session_json.rs: what `Display` writes must read back.
    #[test]
    fn finer_than_100_ns_and_year_edges_round_trip() {
        let fine = ts("2026-06-29T14:54:14.944941702Z").unwrap();
        assert_eq!(fine.to_string(), "2026-06-29T14:54:14.944941702Z");
        assert_eq!(ts(&fine.to_string()).unwrap(), fine);
        for edge in [
            "0000-01-01T00:00:00.0000000Z",
            "9999-12-31T23:59:59.9999999Z",
        ] {
            assert_eq!(ts(edge).unwrap().to_string(), edge);
        }
        assert!(ts("0000-01-01T00:30:00+01:00").is_err());
        assert!(ts("9999-12-31T23:30:00-01:00").is_err());
        assert!(ts("0000-01-01T00:30:00-01:00").is_ok());
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2026-06-29",
            "2026-06-29T11:08:34",
            "2026-02-30T11:08:34Z",
            "2026-13-01T11:08:34Z",
            "2026-06-29T24:00:00Z",
            "2026-06-29T11:08:34.Z",
            "2026-06-29T11:08:34+0000",
            "2026-06-29T11:08:34+24:00",
            "2026-06-29X11:08:34Z",
            "２026-06-29T11:08:34Z",
        ] {
            assert!(ts(s).is_err(), "{s}");
        }
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(t, ts("2015-10-21T07:28:00Z").unwrap());
        assert!(parse_http_date("21 Oct 2015").is_none());
        assert!(parse_http_date("Wed, 21 Foo 2015 07:28:00 GMT").is_none());
    }
}
