//! Log timestamps. Classic syslog stamps (`Dec 15 07:48:10`) carry no year and no zone:
//! they are read in the zone given with `--tz` (else this machine's, as the server that
//! wrote them usually is), with the year from `--year` or the file's modification time.

use chrono::{FixedOffset, Local, LocalResult, NaiveDate, NaiveDateTime, TimeZone};

/// The zone of stamps that carry none (`--tz`): an IANA name, a fixed offset, or this
/// machine's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `Australia/Sydney`, `UTC`, `Z`, `+11:00`, `+1100`, `-05`, `local`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
            return Ok(Zone::Fixed(FixedOffset::east_opt(0).expect("zero offset")));
        }
        if let Some(offset) = parse_offset(t) {
            return Ok(Zone::Fixed(offset));
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!(
                "{s:?} is not a time zone: use an IANA name (Europe/Berlin) or an offset (+11:00)"
            )
        })
    }

    /// The name to store and show: what `parse` reads back.
    pub fn name(&self) -> String {
        match self {
            Zone::Local => "local".into(),
            Zone::Fixed(o) if o.local_minus_utc() == 0 => "UTC".into(),
            Zone::Fixed(o) => o.to_string(),
            Zone::Named(tz) => tz.name().to_string(),
        }
    }

    /// The unix times a wall-clock time of this zone may stand for: one, two (the hour
    /// repeated when clocks go back, earlier first) or none (the hour skipped).
    fn candidates(&self, naive: &NaiveDateTime) -> LocalResult<i64> {
        fn ts<T: TimeZone>(r: LocalResult<chrono::DateTime<T>>) -> LocalResult<i64> {
            r.map(|d| d.timestamp())
        }
        match self {
            Zone::Local => ts(Local.from_local_datetime(naive)),
            Zone::Fixed(o) => ts(o.from_local_datetime(naive)),
            Zone::Named(tz) => ts(tz.from_local_datetime(naive)),
        }
    }

    /// Unix time of a wall-clock time of this zone. A time in the hour skipped by a DST
    /// change is read in the offset before it (a clock not yet set forward: 02:30 is the
    /// instant of 03:30), so time keeps moving forward; a repeated hour is
    /// the one that keeps the log in order after `previous` (a log is written in order),
    /// else the earlier.
    pub fn to_unix(&self, naive: &NaiveDateTime, previous: Option<i64>) -> Option<i64> {
        match self.candidates(naive) {
            LocalResult::Single(t) => Some(t),
            LocalResult::Ambiguous(early, late) => Some(pick_repeated(early, late, previous)),
            LocalResult::None => {
                let after = *naive + chrono::Duration::hours(1);
                match self.candidates(&after) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
                    LocalResult::None => None,
                }
            }
        }
    }
}

/// A point in time as typed (`--since`, `--until`): RFC 3339, or an age back from the
/// last log line (`7d`), since a log read a month later is not a month older.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    At(i64),
    Ago(i64),
}

impl TimeSpec {
    /// The unix time, given the last log line (`None`: an empty store, nothing to count
    /// back from).
    pub fn resolve(self, log_now: Option<i64>) -> Option<i64> {
        match self {
            TimeSpec::At(t) => Some(t),
            TimeSpec::Ago(d) => log_now.map(|n| n - d),
        }
    }
}

/// What "at risk" is judged against (`--now`): a time, or this machine's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    At(i64),
    Clock,
}

impl Now {
    pub fn resolve(self) -> i64 {
        match self {
            Now::At(t) => t,
            Now::Clock => chrono::Utc::now().timestamp(),
        }
    }
}

/// Of the two readings of a wall-clock time in the hour repeated when clocks go back:
/// the later once the log has already passed the earlier by more than lines out of
/// order by a minute can explain.
fn pick_repeated(early: i64, late: i64, previous: Option<i64>) -> i64 {
    match previous {
        Some(p) if p > early + 60 => late,
        _ => early,
    }
}

/// `+11:00`, `+1100`, `-05`: a fixed offset from UTC.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Where yearless stamps have got to: the year, and the month of the last stamp read.
pub type YearPosition = (i32, Option<u32>);

/// A wall-clock hour: (year, month, day, hour).
type HourKey = (i32, u32, u32, u32);

/// Decides the year of yearless stamps while reading forwards.
#[derive(Debug, Clone)]
pub struct YearTracker {
    year: i32,
    /// Month of the reference (mtime); `None` once the first line fixed the year, or when
    /// the user gave the year of the first line.
    reference_month: Option<u32>,
    last_month: Option<u32>,
    /// The last hour resolved: its (year, month, day, hour) and its unix start time, or
    /// both readings when clocks went back through it.
    hour_cache: Option<(HourKey, LocalResult<i64>)>,
    /// The time to use for lines that carry no stamp at all (pasted message parts).
    pub fallback_ts: i64,
    zone: Zone,
    /// The last stamp read, to place a repeated (DST fall-back) hour by line order.
    previous: Option<i64>,
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
            zone: Zone::Local,
            previous: None,
        }
    }

    /// Stamps without a zone are read in `zone` (`--tz`).
    pub fn in_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self.hour_cache = None;
        self
    }

    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Unix time of a full wall-clock time without a zone (Exim's own stamps), read in
    /// this input's zone and placed by line order in a repeated hour.
    pub fn resolve(&mut self, naive: &NaiveDateTime) -> Option<i64> {
        let t = self.zone.to_unix(naive, self.previous)?;
        self.previous = Some(t);
        Some(t)
    }

    /// The year the next yearless stamp continues from, and its month: carried from one
    /// file to the next of the same import, so a year turn between `mail.log.1` and
    /// `mail.log` is seen.
    pub fn position(&self) -> YearPosition {
        (self.year, self.last_month)
    }

    /// Continues after a file that ended in `year`/`month`.
    pub fn continuing(year: i32, month: Option<u32>) -> Self {
        let mut t = YearTracker::given(year);
        t.last_month = month;
        t
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
            zone: Zone::Local,
            previous: None,
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
        let within = i64::from(minute * 60 + second);
        let ts = match self.local_hour(year, month, day, hour)? {
            LocalResult::Single(start) => start + within,
            LocalResult::Ambiguous(early, late) => {
                pick_repeated(early + within, late + within, self.previous)
            }
            LocalResult::None => return None,
        };
        self.previous = Some(ts);
        Some((ts, len))
    }

    /// The start of a wall-clock hour (cached: a log has thousands of lines per hour).
    fn local_hour(
        &mut self,
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
    ) -> Option<LocalResult<i64>> {
        let key = (year, month, day, hour);
        if let Some((k, v)) = self.hour_cache
            && k == key
        {
            return Some(v);
        }
        let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, 0, 0)?;
        let v = match self.zone.candidates(&naive) {
            LocalResult::None => LocalResult::Single(self.zone.to_unix(&naive, None)?),
            found => found,
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

pub use crate::model::time::{format_rfc3339, json_time};

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
    fn zones_by_name_or_offset_and_a_repeated_hour_by_line_order() {
        assert_eq!(Zone::parse("+11:00").unwrap().name(), "+11:00");
        assert_eq!(Zone::parse("-0500").unwrap().name(), "-05:00");
        assert_eq!(Zone::parse("utc").unwrap().name(), "UTC");
        assert_eq!(
            Zone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert!(Zone::parse("+25:00").is_err());
        assert!(Zone::parse("Nowhere/City").is_err());
        // New York, 1 Nov 2026: 01:00–02:00 happens twice (EDT, then EST).
        let ny = Zone::parse("America/New_York").unwrap();
        let mut t = YearTracker::given(2026).in_zone(ny);
        let (a, _) = t.parse_classic(b"Nov  1 01:30:00").unwrap();
        let (b, _) = t.parse_classic(b"Nov  1 01:10:00").unwrap();
        let (c, _) = t.parse_classic(b"Nov  1 01:40:00").unwrap();
        let (d, _) = t.parse_classic(b"Nov  1 02:05:00").unwrap();
        assert_eq!(format_rfc3339(a), "2026-11-01T05:30:00Z");
        assert_eq!(format_rfc3339(b), "2026-11-01T06:10:00Z");
        assert_eq!(format_rfc3339(c), "2026-11-01T06:40:00Z");
        assert_eq!(format_rfc3339(d), "2026-11-01T07:05:00Z");
        // A line a few seconds out of order is not taken for the second pass.
        let mut t = YearTracker::given(2026).in_zone(ny);
        t.parse_classic(b"Nov  1 01:30:05").unwrap();
        let (e, _) = t.parse_classic(b"Nov  1 01:30:00").unwrap();
        assert_eq!(format_rfc3339(e), "2026-11-01T05:30:00Z");
        // The skipped hour (8 Mar 2026, 02:00–03:00) reads as the hour after.
        let mut t = YearTracker::given(2026).in_zone(ny);
        let (f, _) = t.parse_classic(b"Mar  8 02:30:00").unwrap();
        assert_eq!(format_rfc3339(f), "2026-03-08T07:30:00Z");
        assert_eq!(TimeSpec::Ago(60).resolve(Some(100)), Some(40));
        assert_eq!(TimeSpec::Ago(60).resolve(None), None);
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
