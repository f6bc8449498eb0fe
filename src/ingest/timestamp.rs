//! Log timestamps. Classic syslog stamps (`Dec 15 07:48:10`) carry no year and no zone:
//! they are read as local time of this machine (as the server that wrote them usually
//! is), with the year from `--year` or the file's modification time.

use chrono::{Local, NaiveDate, TimeZone};

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Decides the year of yearless stamps while reading forwards.
#[derive(Debug, Clone)]
pub struct YearTracker {
    year: i32,
    /// Month of the reference (mtime); `None` once the first line fixed the year, or when
    /// the user gave the year of the first line.
    reference_month: Option<u32>,
    last_month: Option<u32>,
    hour_cache: Option<((i32, u32, u32, u32), i64)>,
    /// The time to use for lines that carry no stamp at all (pasted message parts).
    pub fallback_ts: i64,
}

impl YearTracker {
    /// `--year`: the year of the first line.
    pub fn given(year: i32) -> Self {
        YearTracker {
            year,
            reference_month: None,
            last_month: None,
            hour_cache: None,
            fallback_ts: NaiveDate::from_ymd_opt(year, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp())
                .unwrap_or(0),
        }
    }

    /// The year and month of the file's last write. A first line whose month lies after
    /// that month was written the year before (a log that spans a Dec → Jan turn).
    pub fn from_reference(epoch: i64) -> Self {
        let dt = Local
            .timestamp_opt(epoch, 0)
            .single()
            .unwrap_or_else(Local::now);
        use chrono::Datelike;
        YearTracker {
            year: dt.year(),
            reference_month: Some(dt.month()),
            last_month: None,
            hour_cache: None,
            fallback_ts: epoch,
        }
    }

    fn year_for(&mut self, month: u32) -> i32 {
        if let Some(reference) = self.reference_month.take() {
            if month > reference {
                self.year -= 1;
            }
        } else if let Some(last) = self.last_month {
            // Only a big step back is a year turn; a line or two out of order at a month
            // boundary is not.
            if month + 6 < last {
                self.year += 1;
            }
        }
        self.last_month = Some(month);
        self.year
    }

    /// Parses `Mmm dd HH:MM:SS` (day may be space-padded) at the start of `s`. Returns the
    /// unix time and the stamp's length.
    pub fn parse_classic(&mut self, s: &[u8]) -> Option<(i64, usize)> {
        if s.len() < 15 {
            return None;
        }
        let month = MONTHS.iter().position(|m| &s[..3] == *m)? as u32 + 1;
        if s[3] != b' ' {
            return None;
        }
        let (day, rest) = if s[4] == b' ' {
            (digit(s[5])?, 6)
        } else if s[5] == b' ' {
            (digit(s[4])?, 5)
        } else {
            (digit(s[4])? * 10 + digit(s[5])?, 6)
        };
        let t = &s[rest..];
        if t.len() < 9 || t[0] != b' ' || t[3] != b':' || t[6] != b':' {
            return None;
        }
        let hour = digit(t[1])? * 10 + digit(t[2])?;
        let minute = digit(t[4])? * 10 + digit(t[5])?;
        let second = digit(t[7])? * 10 + digit(t[8])?;
        let mut len = rest + 9;
        // Fractional seconds (`Dec 15 07:48:10.123`) are dropped.
        if s.get(len) == Some(&b'.') {
            len += 1;
            while s.get(len).is_some_and(u8::is_ascii_digit) {
                len += 1;
            }
        }
        if hour > 23 || minute > 59 || second > 60 || day == 0 || day > 31 {
            return None;
        }
        let year = self.year_for(month);
        let hour_start = self.local_hour(year, month, day, hour)?;
        Some((hour_start + i64::from(minute * 60 + second), len))
    }

    fn local_hour(&mut self, year: i32, month: u32, day: u32, hour: u32) -> Option<i64> {
        let key = (year, month, day, hour);
        if let Some((k, v)) = self.hour_cache
            && k == key
        {
            return Some(v);
        }
        let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, 0, 0)?;
        let v = match Local.from_local_datetime(&naive).earliest() {
            Some(dt) => dt.timestamp(),
            // The hour skipped by a DST change: read it as the hour after.
            None => {
                Local
                    .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()?
                    .timestamp()
                    - 3600
            }
        };
        self.hour_cache = Some((key, v));
        Some(v)
    }
}

/// The month of a classic stamp at the start of a line (after an optional docker-compose
/// `name | ` prefix).
pub fn line_month(line: &[u8]) -> Option<u32> {
    let s = match memchr::memmem::find(&line[..line.len().min(64)], b" | ") {
        Some(i) => &line[i + 3..],
        None => line,
    };
    let m = s.get(..3)?;
    MONTHS
        .iter()
        .position(|name| m == *name)
        .map(|i| i as u32 + 1)
}

/// The year of the first line of a plain file whose stamps carry no year, from the months
/// of its first and last lines and its modification time: the last line was written no
/// later than the mtime, and a first month after the last month means the log crossed a
/// new year. (A log spanning more than a year cannot be told apart: use `--year`.)
pub fn first_year(first_month: u32, last_month: u32, mtime: i64) -> i32 {
    use chrono::Datelike;
    let m = Local
        .timestamp_opt(mtime, 0)
        .single()
        .unwrap_or_else(Local::now);
    let last_year = if last_month > m.month() {
        m.year() - 1
    } else {
        m.year()
    };
    if first_month > last_month {
        last_year - 1
    } else {
        last_year
    }
}

fn digit(b: u8) -> Option<u32> {
    b.is_ascii_digit().then(|| u32::from(b - b'0'))
}

/// Parses an RFC 3339 stamp at the start of `s` (`2026-05-16T16:13:25.137663+02:00`).
pub fn parse_rfc3339(s: &[u8]) -> Option<(i64, usize)> {
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    let text = std::str::from_utf8(&s[..end]).ok()?;
    if end < 19 || s[4] != b'-' || s[10] != b'T' {
        return None;
    }
    let dt = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some((dt.timestamp(), end))
}

/// Formats unix seconds as RFC 3339 UTC (`2026-05-16T14:13:25Z`).
pub fn format_rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Unix seconds written as RFC 3339 in JSON output, so every time a user reads from
/// sendlog's JSON has one form (`#[serde(serialize_with = "…")]`).
pub mod json_time {
    use super::format_rfc3339;

    pub fn required<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*t))
    }

    pub fn optional<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_rfc3339(*t)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(ts: i64) -> String {
        Local
            .timestamp_opt(ts, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    #[test]
    fn classic_stamps_walk_across_new_year() {
        let mut t = YearTracker::given(2025);
        let (a, len) = t.parse_classic(b"Dec 31 23:59:58 host").unwrap();
        assert_eq!(len, 15);
        assert_eq!(ymd(a), "2025-12-31 23:59:58");
        let (b, _) = t.parse_classic(b"Jan  1 00:00:03 host").unwrap();
        assert_eq!(ymd(b), "2026-01-01 00:00:03");
        assert!(b > a);
    }

    #[test]
    fn reference_time_puts_later_months_in_the_previous_year() {
        // File last written in January 2026; a first line from December is from 2025.
        let jan = Local
            .with_ymd_and_hms(2026, 1, 5, 12, 0, 0)
            .unwrap()
            .timestamp();
        let mut t = YearTracker::from_reference(jan);
        let (a, _) = t.parse_classic(b"Dec 30 10:00:00").unwrap();
        assert_eq!(ymd(a), "2025-12-30 10:00:00");
        let (b, _) = t.parse_classic(b"Jan  2 10:00:00").unwrap();
        assert_eq!(ymd(b), "2026-01-02 10:00:00");
    }

    #[test]
    fn first_year_from_the_last_line_and_mtime() {
        let nov_2026 = Local
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .unwrap()
            .timestamp();
        // Aug → Feb, copied in November: the log ran Aug 2025 → Feb 2026.
        assert_eq!(first_year(8, 2, nov_2026), 2025);
        // Jan → Apr: 2026.
        assert_eq!(first_year(1, 4, nov_2026), 2026);
        // Dec → Dec, written in November: last December was 2025.
        assert_eq!(first_year(12, 12, nov_2026), 2025);
        assert_eq!(line_month(b"mail    | Jul 19 08:03:44 mail"), Some(7));
        assert_eq!(line_month(b"2019-04-11T19:41:56"), None);
    }

    #[test]
    fn rejects_non_stamps() {
        let mut t = YearTracker::given(2025);
        assert!(t.parse_classic(b"Foo 15 07:48:10 x").is_none());
        assert!(t.parse_classic(b"Dec 15 7:48:10 xxxxx").is_none());
        assert!(t.parse_classic(b"Dec 15").is_none());
        assert!(parse_rfc3339(b"2026-05-16 16:13:25").is_none());
        let (ts, len) = parse_rfc3339(b"2026-05-16T16:13:25.137663+02:00 host").unwrap();
        assert_eq!(len, 32);
        assert_eq!(format_rfc3339(ts), "2026-05-16T14:13:25Z");
    }
}
