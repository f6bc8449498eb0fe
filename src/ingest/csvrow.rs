//! CSV records read line by line, for the CSV-shaped formats (Exchange tracking, Microsoft
//! 365 traces, PowerMTA accounting). A quoted field may hold a newline, so a line that
//! leaves a quote open waits for the next one.

use super::{Event, LineOutcome};

/// A record may span at most this many bytes, and this many lines, before the line that
/// opened it is given up as malformed (a stray quote must not swallow the rest of the file).
const MAX_RECORD: usize = 256 * 1024;
const MAX_RECORD_LINES: usize = 32;

/// CSV records from lines. A quoted field may hold a newline, so a line that leaves a
/// quote open waits for the next ones; if they do not close it into a record of the
/// expected shape (within the limits above), the opening line is dropped as malformed and
/// the lines after it are read again on their own. Each line's quotes are counted once:
/// linear time whatever the input.
#[derive(Default)]
pub struct CsvLines {
    /// Lines of a record whose quoted field is still open, with their numbers.
    lines: Vec<(Vec<u8>, u64)>,
    bytes: usize,
    /// Where the quoting stands at the end of `lines`.
    scan: Scan,
    /// A quote misplaced for RFC 4180 in `lines` (see `Scan::over_checked`).
    broken: bool,
    ready: std::collections::VecDeque<Record>,
    /// Fields per record (from the header), when known: a record spanning lines must
    /// have this many to be taken as one.
    pub expected: Option<usize>,
}

pub enum Record {
    /// A whole record and the line it started on.
    Fields(Vec<String>, u64),
    /// A line opened a quoted field that never closed into a record: dropped.
    Malformed(u64),
}

impl CsvLines {
    /// Reads one line; the records it completes come from `pop`.
    pub fn push(&mut self, raw: &[u8], line_no: u64) {
        if self.lines.is_empty() && !Scan::FieldStart.over(raw).is_open() {
            self.ready.push_back(Record::Fields(split(raw), line_no));
            return;
        }
        self.add(raw.to_vec(), line_no);
    }

    fn add(&mut self, raw: Vec<u8>, line_no: u64) {
        // The line break of a record going on is inside its open quoted field.
        self.scan = self.scan.over_checked(&raw, &mut self.broken);
        self.bytes += raw.len() + 1;
        self.lines.push((raw, line_no));
        if !self.scan.is_open() {
            let first = self.lines[0].1;
            let joined = self
                .lines
                .iter()
                .map(|(l, _)| l.as_slice())
                .collect::<Vec<_>>()
                .join(&b'\n');
            let fields = split(&joined);
            let shaped = self.lines.len() == 1
                || (!self.broken && self.expected.is_none_or(|n| n == fields.len()));
            if shaped {
                self.reset();
                self.ready.push_back(Record::Fields(fields, first));
                return;
            }
        } else if self.lines.len() <= MAX_RECORD_LINES && self.bytes <= MAX_RECORD {
            return;
        }
        // Never closed into a record: the first line goes, the others are read again.
        let mut lines = std::mem::take(&mut self.lines);
        self.reset();
        let (_, first) = lines.remove(0);
        self.ready.push_back(Record::Malformed(first));
        self.read_again(lines);
    }

    fn read_again(&mut self, lines: Vec<(Vec<u8>, u64)>) {
        for (l, n) in lines {
            if self.lines.is_empty() && !Scan::FieldStart.over(&l).is_open() {
                self.ready.push_back(Record::Fields(split(&l), n));
            } else {
                self.add(l, n);
            }
        }
    }

    fn reset(&mut self) {
        self.lines.clear();
        self.bytes = 0;
        self.scan = Scan::FieldStart;
        self.broken = false;
    }

    /// The end of the input: a quoted field still open never closes, so its lines are
    /// given up one by one (each first line malformed, the others read again).
    pub fn finish(&mut self) {
        while !self.lines.is_empty() {
            let mut lines = std::mem::take(&mut self.lines);
            self.reset();
            let (_, first) = lines.remove(0);
            self.ready.push_back(Record::Malformed(first));
            self.read_again(lines);
        }
    }

    /// The next record completed so far.
    pub fn pop(&mut self) -> Option<Record> {
        self.ready.pop_front()
    }
}

/// Where RFC 4180 quoting stands after some bytes of a record. A quote opens a quoted
/// field only at the start of a field; elsewhere it is a character like any other (as the
/// `csv` crate reads it), so `5.1.1 "bad" user` in an unquoted field opens nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Scan {
    #[default]
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of a doubled quote.
    QuoteInQuoted,
}

impl Scan {
    fn over(self, bytes: &[u8]) -> Scan {
        self.over_checked(bytes, &mut false)
    }

    /// As `over`, and sets `broken` when a quoted field is closed by a quote that neither
    /// ends the field nor doubles: lenient readers take that, but a record that needs it
    /// to span lines is not one.
    fn over_checked(self, bytes: &[u8], broken: &mut bool) -> Scan {
        let mut state = self;
        for &b in bytes {
            if state == Scan::QuoteInQuoted && b != b'"' && b != b',' {
                *broken = true;
            }
            state = match (state, b) {
                (Scan::FieldStart, b'"') => Scan::Quoted,
                (Scan::FieldStart | Scan::Unquoted | Scan::QuoteInQuoted, b',') => Scan::FieldStart,
                (Scan::FieldStart | Scan::Unquoted, _) => Scan::Unquoted,
                (Scan::Quoted, b'"') => Scan::QuoteInQuoted,
                (Scan::Quoted, _) => Scan::Quoted,
                (Scan::QuoteInQuoted, b'"') => Scan::Quoted,
                (Scan::QuoteInQuoted, _) => Scan::Unquoted,
            };
        }
        state
    }

    fn is_open(self) -> bool {
        self == Scan::Quoted
    }
}

/// A format read as CSV records: lines go in, each record they complete goes to `row`.
pub trait CsvFormat {
    fn csv(&mut self) -> &mut CsvLines;
    fn row(&mut self, row: &[String], line: u64, out: &mut Vec<Event>) -> LineOutcome;

    /// Reads one line; what it came to over the records it completed.
    fn feed(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
        self.csv().push(raw, line_no);
        self.drain_records(out)
    }

    /// The end of the input: a record still open is given up, the lines after it read.
    fn finish_records(&mut self, out: &mut Vec<Event>) -> LineOutcome {
        self.csv().finish();
        self.drain_records(out)
    }

    fn drain_records(&mut self, out: &mut Vec<Event>) -> LineOutcome {
        let mut outcome = LineOutcome::Ignored;
        while let Some(r) = self.csv().pop() {
            let o = match r {
                Record::Fields(row, line) => self.row(&row, line, out),
                Record::Malformed(_) => LineOutcome::Skipped,
            };
            outcome = combine(outcome, o);
        }
        outcome
    }
}

/// What a line of a CSV format came to, over the records it completed: skipped if any
/// was, parsed if any was, else ignored (nothing completed: a quoted field goes on).
fn combine(a: LineOutcome, b: LineOutcome) -> LineOutcome {
    match (a, b) {
        (LineOutcome::Skipped, _) | (_, LineOutcome::Skipped) => LineOutcome::Skipped,
        (LineOutcome::Parsed, _) | (_, LineOutcome::Parsed) => LineOutcome::Parsed,
        _ => LineOutcome::Ignored,
    }
}

/// The fields of one record (the `csv` crate does the quoting rules).
pub fn split(record: &[u8]) -> Vec<String> {
    if memchr::memchr(b'"', record).is_none() {
        // Without quotes a comma always ends a field: no reader needed for most rows.
        return record
            .split(|b| *b == b',')
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(record);
    let mut rec = csv::ByteRecord::new();
    match reader.read_byte_record(&mut rec) {
        Ok(true) => rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// A column name reduced to lower-case letters and digits, so `recipient-status`,
/// `RecipientStatus` and `recipient_status` are one name.
pub fn column_key(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Column positions by reduced name.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    keys: Vec<String>,
}

impl Columns {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        Columns {
            keys: names.iter().map(|n| column_key(n.as_ref())).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The first of `keys` present, as a position.
    pub fn index(&self, keys: &[&str]) -> Option<usize> {
        keys.iter()
            .find_map(|k| self.keys.iter().position(|c| c == k))
    }

    /// The trimmed, non-empty value of the first of `keys` present in `row`.
    pub fn get<'r>(&self, row: &'r [String], keys: &[&str]) -> Option<&'r str> {
        let i = self.index(keys)?;
        row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(c: &mut CsvLines) -> Vec<(Option<Vec<String>>, u64)> {
        std::iter::from_fn(|| c.pop())
            .map(|r| match r {
                Record::Fields(f, l) => (Some(f), l),
                Record::Malformed(l) => (None, l),
            })
            .collect()
    }

    #[test]
    fn quoted_fields_with_commas_and_newlines() {
        let mut c = CsvLines::default();
        c.push(b"a,\"b, c\",d", 1);
        assert_eq!(
            records(&mut c),
            [(Some(vec!["a".into(), "b, c".into(), "d".into()]), 1)]
        );
        c.push(b"x,\"two", 2);
        assert!(records(&mut c).is_empty());
        c.push(b"lines\",\"q\"\"uote\"", 3);
        assert_eq!(
            records(&mut c),
            [(
                Some(vec!["x".into(), "two\nlines".into(), "q\"uote".into()]),
                2
            )]
        );
        assert_eq!(split(b"a,,b,"), ["a", "", "b", ""]);
        assert_eq!(split(b"a,\"\",b"), ["a", "", "b"]);
        assert_eq!(column_key("\u{feff}Recipient-Status"), "recipientstatus");
        assert_eq!(column_key("recipient_status"), "recipientstatus");
    }

    /// A stray quote drops its own line only: the lines after it are records again, a
    /// later quote does not glue the lines between into one record of the wrong shape,
    /// and a quote inside an unquoted field is just a character.
    #[test]
    fn a_stray_quote_drops_only_its_line() {
        let mut c = CsvLines {
            expected: Some(3),
            ..CsvLines::default()
        };
        c.push(b"a,\"b,c", 1);
        for n in 2..=5 {
            c.push(format!("r{n},x,y").as_bytes(), n);
        }
        c.push(b"e,f,g\"", 6);
        c.push(b"x,5.1.1 \"bad\" user,z", 7);
        c.push(b"h,\"never closed", 8);
        for n in 9..=60 {
            c.push(format!("r{n},x,y").as_bytes(), n);
        }
        c.push(b"i,\"at the end", 61);
        c.push(b"r62,x,y", 62);
        c.finish();
        let got = records(&mut c);
        let lines: Vec<u64> = got.iter().map(|(_, l)| *l).collect();
        assert_eq!(
            lines,
            (1..=62).collect::<Vec<u64>>(),
            "every line once, in order"
        );
        let malformed: Vec<u64> = got
            .iter()
            .filter(|(f, _)| f.is_none())
            .map(|(_, l)| *l)
            .collect();
        assert_eq!(malformed, [1, 8, 61]);
        assert!(
            got.iter()
                .filter_map(|(f, _)| f.as_ref())
                .all(|f| f.len() == 3)
        );
        assert_eq!(got[6].0.as_ref().unwrap()[1], "5.1.1 \"bad\" user");
    }
}
