//! CSV records read line by line, for the CSV-shaped formats (Exchange tracking, Microsoft
//! 365 traces, PowerMTA accounting). A quoted field may hold a newline, so a line that
//! leaves a quote open waits for the next one.

/// A record may span at most this many bytes before it is given up as junk (a stray quote
/// must not swallow the rest of the file).
const MAX_RECORD: usize = 256 * 1024;

#[derive(Default)]
pub struct CsvLines {
    pending: Vec<u8>,
    pending_line: u64,
}

pub enum Record {
    /// A whole record and the line it started on.
    Fields(Vec<String>, u64),
    /// The line opened a quoted field: more lines follow.
    Partial,
    /// An unterminated quote ran too long: the buffered text is dropped.
    Overlong(u64),
}

impl CsvLines {
    pub fn push(&mut self, raw: &[u8], line_no: u64) -> Record {
        if self.pending.is_empty() {
            self.pending_line = line_no;
        } else {
            self.pending.push(b'\n');
        }
        self.pending.extend_from_slice(raw);
        if quote_open(&self.pending) {
            if self.pending.len() > MAX_RECORD {
                self.pending.clear();
                return Record::Overlong(self.pending_line);
            }
            return Record::Partial;
        }
        let fields = split(&self.pending);
        self.pending.clear();
        Record::Fields(fields, self.pending_line)
    }
}

/// RFC 4180 doubles quotes inside quoted fields, so an odd count means one is still open.
fn quote_open(s: &[u8]) -> bool {
    memchr::memchr_iter(b'"', s).count() % 2 == 1
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

    #[test]
    fn quoted_fields_with_commas_and_newlines() {
        let mut c = CsvLines::default();
        assert!(
            matches!(c.push(b"a,\"b, c\",d", 1), Record::Fields(f, 1) if f == ["a", "b, c", "d"])
        );
        assert!(matches!(c.push(b"x,\"two", 2), Record::Partial));
        match c.push(b"lines\",\"q\"\"uote\"", 3) {
            Record::Fields(f, 2) => assert_eq!(f, ["x", "two\nlines", "q\"uote"]),
            _ => panic!("expected a record from line 2"),
        }
        assert_eq!(split(b"a,,b,"), ["a", "", "b", ""]);
        assert_eq!(split(b"a,\"\",b"), ["a", "", "b"]);
        assert_eq!(column_key("\u{feff}Recipient-Status"), "recipientstatus");
        assert_eq!(column_key("recipient_status"), "recipientstatus");
    }
}
