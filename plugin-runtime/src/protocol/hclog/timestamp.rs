//! hclog's `@timestamp`: written by plugins as `2006-01-02T15:04:05.000000Z07:00` (Go layout
//! notation), read by hosts with exactly that layout, and shown by Go hosts as
//! `2006-01-02T15:04:05.000Z0700`.
//!
//! Civil dates are computed here (Howard Hinnant's days-from-civil algorithms) rather than with a
//! date crate: these three conversions are all the runtime needs.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends `time` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds, zone `Z`).
///
/// Times before 1970 are written as the epoch; a plugin's clock is not that wrong.
pub(crate) fn write_utc(out: &mut Vec<u8>, time: SystemTime) {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(i64::MAX / 2));
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_micros()
    );
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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

/// A timestamp a host accepted: the wall-clock fields and zone offset exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
    /// Seconds east of UTC.
    offset: i32,
}

impl Timestamp {
    /// Parses with Go's `time.Parse("2006-01-02T15:04:05.000000Z07:00", s)` rules: exactly six
    /// fractional digits (after `.` or `,`), a zone of `Z` or `±hh:mm`, valid calendar ranges, and
    /// nothing after the zone. As in Go, the hour may have one digit.
    pub(crate) fn parse(s: &str) -> Option<Timestamp> {
        let mut rest = s.as_bytes();
        let year = fixed_digits(&mut rest, 4)?;
        literal(&mut rest, b'-')?;
        let month = fixed_digits(&mut rest, 2)?;
        literal(&mut rest, b'-')?;
        let day = fixed_digits(&mut rest, 2)?;
        literal(&mut rest, b'T')?;
        let hour = hour_digits(&mut rest)?;
        literal(&mut rest, b':')?;
        let minute = fixed_digits(&mut rest, 2)?;
        literal(&mut rest, b':')?;
        let second = fixed_digits(&mut rest, 2)?;
        let micros = fraction(&mut rest)?;
        let offset = zone(&mut rest)?;
        if !rest.is_empty()
            || !(1..=12).contains(&month)
            || hour > 23
            || minute > 59
            || second > 59
            || day < 1
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            offset,
        })
    }

    /// Go's `time.Time{}` as a Go host formats it: what it shows when `@timestamp` is absent.
    pub(crate) const ZERO: Timestamp = Timestamp {
        year: 1,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        micros: 0,
        offset: 0,
    };

    /// The form a Go host shows (`hclog.TimeFormat`): milliseconds, truncated, and the zone as
    /// `Z` or `±hhmm`.
    pub(crate) fn to_host_string(self) -> String {
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.unsigned_abs() / 60;
            format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.micros / 1000
        )
    }
}

fn literal(rest: &mut &[u8], byte: u8) -> Option<()> {
    let (&first, tail) = rest.split_first()?;
    (first == byte).then(|| *rest = tail)
}

fn fixed_digits(rest: &mut &[u8], count: usize) -> Option<u32> {
    let digits = rest.get(..count)?;
    let mut value = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    *rest = &rest[count..];
    Some(value)
}

/// Go reads the `15` hour field with one or two digits.
fn hour_digits(rest: &mut &[u8]) -> Option<u32> {
    match rest {
        [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => fixed_digits(rest, 2),
        _ => fixed_digits(rest, 1),
    }
}

/// `.000000`: a period or comma and six characters that Go's `atoi` accepts as a non-negative
/// number (so a leading `+` passes, as it does in Go).
fn fraction(rest: &mut &[u8]) -> Option<u32> {
    let (&sep, tail) = rest.split_first()?;
    if sep != b'.' && sep != b',' {
        return None;
    }
    let field = tail.get(..6)?;
    let digits = field.strip_prefix(b"+").unwrap_or(field);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let micros = digits
        .iter()
        .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0'));
    *rest = &tail[6..];
    Some(micros)
}

/// `Z07:00`: `Z`, or a sign, two hour digits, `:`, two minute digits (Go allows up to 24:60).
fn zone(rest: &mut &[u8]) -> Option<i32> {
    if literal(rest, b'Z').is_some() {
        return Some(0);
    }
    let field = rest.get(..6)?;
    if field[3] != b':' {
        return None;
    }
    let mut hours_field = &field[1..3];
    let mut minutes_field = &field[4..6];
    let hours = fixed_digits(&mut hours_field, 2)?;
    let minutes = fixed_digits(&mut minutes_field, 2)?;
    if hours > 24 || minutes > 60 {
        return None;
    }
    let offset = i32::try_from((hours * 60 + minutes) * 60).ok()?;
    let offset = match field[0] {
        b'+' => offset,
        b'-' => -offset,
        _ => return None,
    };
    *rest = &rest[6..];
    Some(offset)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn utc(secs: u64, micros: u32) -> String {
        let mut out = Vec::new();
        write_utc(
            &mut out,
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(u64::from(micros)),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_utc_with_six_fractional_digits() {
        assert_eq!(utc(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(utc(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(utc(1_795_344_973, 244_512), "2026-11-22T10:56:13.244512Z");
        assert_eq!(utc(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
        assert_eq!(utc(253_402_300_799, 0), "9999-12-31T23:59:59.000000Z");
    }

    #[test]
    fn nanoseconds_are_truncated_not_rounded() {
        let mut out = Vec::new();
        write_utc(&mut out, UNIX_EPOCH + Duration::from_nanos(999_999_999));
        assert_eq!(out, b"1970-01-01T00:00:00.999999Z");
    }

    #[test]
    fn days_round_trip_over_four_centuries() {
        // civil_from_days must be monotonic and hit every valid date exactly once.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
            d += 1;
            if d > days_in_month(y as u32, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn what_we_write_parses() {
        for (secs, micros) in [(0, 0), (1_795_344_973, 244_512), (951_782_400, 7)] {
            assert!(Timestamp::parse(&utc(secs, micros)).is_some());
        }
    }

    #[test]
    fn accepts_go_layout() {
        let t = Timestamp::parse("2026-11-22T10:56:13.244512Z").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T10:56:13.244Z");
        let t = Timestamp::parse("2026-11-22T10:56:13.244512+00:00").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T10:56:13.244Z");
        let t = Timestamp::parse("2026-11-22T10:56:13.244999-07:30").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T10:56:13.244-0730");
        let t = Timestamp::parse("2026-11-22T10:56:13,000001+01:00").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T10:56:13.000+0100");
        let t = Timestamp::parse("2026-11-22T9:56:13.000000Z").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T09:56:13.000Z");
        let t = Timestamp::parse("2024-02-29T00:00:00.000000+24:60").unwrap();
        assert_eq!(t.to_host_string(), "2024-02-29T00:00:00.000+2500");
        // Go's fraction reader takes a sign; the value is 12345 microseconds.
        let t = Timestamp::parse("2026-11-22T10:56:13.+12345Z").unwrap();
        assert_eq!(t.to_host_string(), "2026-11-22T10:56:13.012Z");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "2026-11-22T10:56:13.244Z",
            "2026-11-22T10:56:13.2445120Z",
            "2026-11-22T10:56:13Z",
            "2026-11-22T10:56:13.244512",
            "2026-11-22T10:56:13.244512z",
            "2026-11-22T10:56:13.244512+0000",
            "2026-11-22T10:56:13.244512+00",
            "2026-11-22T10:56:13.244512 +00:00",
            "2026-11-22T10:56:13.244512Z ",
            "2026-11-22 10:56:13.244512Z",
            "26-11-22T10:56:13.244512Z",
            "2026-1-22T10:56:13.244512Z",
            "2026-13-22T10:56:13.244512Z",
            "2026-00-22T10:56:13.244512Z",
            "2026-11-31T10:56:13.244512Z",
            "2025-02-29T10:56:13.244512Z",
            "2100-02-29T10:56:13.244512Z",
            "2026-11-00T10:56:13.244512Z",
            "2026-11-22T24:56:13.244512Z",
            "2026-11-22T10:60:13.244512Z",
            "2026-11-22T10:56:60.244512Z",
            "2026-11-22T10:56:13.-12345Z",
            "2026-11-22T10:56:13.24451aZ",
            "2026-11-22T10:56:13.244512+25:00",
            "2026-11-22T10:56:13.244512*01:00",
            "2026-11-22T10:56:13.244512+1a:00",
            "2026-11-22T10:56:13.244512+01:61",
            "２026-11-22T10:56:13.244512Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn zero_time_is_gos() {
        assert_eq!(Timestamp::ZERO.to_host_string(), "0001-01-01T00:00:00.000Z");
    }
}
