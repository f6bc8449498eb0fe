//! Opening an input and sniffing its start: format, the year its stamps begin in, its
//! first time and the hosts it names.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use crate::ingest::detect;
use crate::ingest::input;
use crate::ingest::timestamp::{self, YearTracker};
use crate::ingest::{Format, line_parser};

use super::{ImportError, ImportOptions};

/// Detection reads this much of the start of an input.
pub(super) const SNIFF_BYTES: usize = 256 * 1024;

/// An input opened and sniffed, not yet imported.
pub(super) struct Prepared {
    pub(super) name: String,
    pub(super) head: Vec<u8>,
    pub(super) rest: Box<dyn BufRead + Send>,
    pub(super) format: Format,
    /// Year of the first line when the stamps carry none (given, or worked out).
    pub(super) year: Option<i32>,
    /// The month the file before this one (in the same import) ended in, when the year
    /// continues from it.
    pub(super) continues_month: Option<u32>,
    pub(super) mtime: Option<i64>,
    pub(super) total_bytes: Option<u64>,
    pub(super) compressed: bool,
    /// The regular file read (for its start again); `None` for a stream.
    pub(super) file: Option<std::fs::File>,
    pub(super) first_ts: Option<i64>,
    /// The sending hosts its first lines name: only their stored mail can be split by
    /// importing this log out of order.
    pub(super) hosts: std::collections::BTreeSet<String>,
    /// A compressed input cut short within its first bytes: what came before is imported,
    /// then this is reported.
    pub(super) head_error: Option<ImportError>,
}

pub(super) fn read_head(reader: &mut dyn BufRead, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(64 * 1024));
    reader.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Why an input was not imported.
pub(super) enum Unprepared {
    Empty,
    Failed(ImportError),
}

pub(super) fn prepare(name: &str, opts: &ImportOptions) -> Result<Prepared, Unprepared> {
    let mut inp =
        input::open(name).map_err(|e| Unprepared::Failed(ImportError::Open(Arc::new(e))))?;
    let mut head = Vec::new();
    let head_error = match (&mut inp.reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
    {
        Ok(_) => None,
        // A small truncated .gz ends inside what detection reads: keep what it gave.
        Err(e) if inp.compressed && !head.is_empty() => {
            inp.reader = Box::new(io::empty());
            Some(ImportError::reading(name, true, e))
        }
        Err(e) => {
            return Err(Unprepared::Failed(ImportError::reading(
                name,
                inp.compressed,
                e,
            )));
        }
    };
    if head.is_empty() {
        return Err(Unprepared::Empty);
    }
    let format = match opts.format {
        Format::Auto => detect::detect(&head).ok_or_else(|| {
            let tried: Vec<&str> = detect::TRIED.iter().map(|f| f.as_str()).collect();
            Unprepared::Failed(ImportError::UnknownFormat {
                name: name.to_string(),
                tried: tried.join(", "),
            })
        })?,
        f => f,
    };
    let mtime = inp.mtime;
    let plain_file = inp.file.as_ref().filter(|_| !inp.compressed);
    let first_year = match (opts.year, mtime, plain_file) {
        (None, Some(t), Some(file)) => {
            let first = head.split(|b| *b == b'\n').find_map(timestamp::line_month);
            let last = inp.len.and_then(|len| tail_month(file, len));
            first.zip(last).map(|(f, l)| timestamp::first_year(f, l, t))
        }
        _ => None,
    };
    let year = opts.year.or(first_year);
    let years = year_tracker(year, mtime).in_zone(opts.tz.unwrap_or_default());
    let default_host = opts.host.as_deref().unwrap_or("unknown");
    let (first_ts, hosts) = head_facts(format, years, &head, default_host).ok_or_else(|| {
        Unprepared::Failed(ImportError::Unsupported {
            name: name.to_string(),
            format,
        })
    })?;
    let total_bytes = inp.len.filter(|_| !inp.compressed);
    Ok(Prepared {
        name: name.to_string(),
        head,
        rest: inp.reader,
        format,
        year,
        continues_month: None,
        mtime,
        total_bytes,
        compressed: inp.compressed,
        file: inp.file,
        head_error,
        first_ts,
        hosts,
    })
}

/// The time of the first stamped line in `head`; `None` when the format has no line
/// parser.
pub(super) fn first_stamp(format: Format, years: YearTracker, head: &[u8]) -> Option<Option<i64>> {
    head_facts(format, years, head, "").map(|(ts, _)| ts)
}

/// What the first lines of an input tell before it is imported: the time of its first
/// stamped line, and the sending hosts they name (`default_host` for lines that name
/// none); `None` when the format has no line parser.
fn head_facts(
    format: Format,
    years: YearTracker,
    head: &[u8],
    default_host: &str,
) -> Option<(Option<i64>, std::collections::BTreeSet<String>)> {
    let mut parser = line_parser(format, years)?;
    let mut scratch = Vec::new();
    let mut first_ts = None;
    let mut hosts = std::collections::BTreeSet::new();
    for l in head.split(|b| *b == b'\n').take(detect::SNIFF_LINES) {
        scratch.clear();
        parser.parse_line(l, 0, &mut scratch);
        if first_ts.is_none() {
            first_ts = scratch.first().map(|e| e.ts).filter(|t| *t != 0);
        }
        for e in &scratch {
            let host = if e.host.is_empty() {
                default_host
            } else {
                &e.host
            };
            hosts.insert(host.to_string());
        }
    }
    Some((first_ts, hosts))
}

/// How many rotations old a log's name says it is: `mail.log.2.gz` 2, `mail.log` 0.
pub(super) fn rotation_number(name: &str) -> u32 {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    base.rsplit_once('.')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// The month of the last classic stamp in a plain file (read from its last 64 KiB).
fn tail_month(file: &std::fs::File, len: u64) -> Option<u32> {
    let tail = input::read_tail(file, len, 64 * 1024).ok()?;
    tail.split(|b| *b == b'\n')
        .rev()
        .find_map(timestamp::line_month)
}

pub(super) fn year_tracker(year: Option<i32>, mtime: Option<i64>) -> YearTracker {
    match (year, mtime) {
        (Some(y), _) => YearTracker::given(y),
        (None, Some(t)) => YearTracker::from_reference(t),
        (None, None) => YearTracker::from_reference(chrono::Utc::now().timestamp()),
    }
}
