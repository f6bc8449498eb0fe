//! The log lines behind a delivery, read back from their files by the `file:line` sources
//! the store keeps. A file is checked against the fingerprint its import recorded (the hash
//! of its first bytes), so a file that moved, rotated away or was replaced says so instead
//! of showing some other line.

use std::collections::BTreeMap;
use std::io::BufRead;

use xxhash_rust::xxh3::xxh3_64;

use super::{Result, Store};
use crate::model::delivery::{DeliveryDetail, RawLines};

/// More lines than this are not read back: a delivery retried for days has hundreds.
const MAX_LINES: usize = 200;
/// A line is cut here: a log line is not a document.
const MAX_LINE_BYTES: usize = 4096;

/// `file:line` split at its last colon; None for anything else.
fn split_source(source: &str) -> Option<(&str, u64)> {
    let (path, line) = source.rsplit_once(':')?;
    let n: u64 = line.parse().ok()?;
    (n > 0 && !path.is_empty()).then_some((path, n))
}

impl Store {
    /// The (length, hash) of the first bytes of each import of `path`.
    fn heads_of(&self, path: &str) -> Result<Vec<(usize, u64)>> {
        let run = || -> rusqlite::Result<Vec<(usize, u64)>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT head_len, head_hash FROM sources WHERE path = ?1")?;
            stmt.query_map([path], |r| {
                Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Whether `path` was imported as bounce emails: its sources count messages, not lines.
    fn is_mail_source(&self, path: &str) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sources WHERE path = ?1 AND format = 'eml')",
            )
            .and_then(|mut stmt| stmt.query_row([path], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// The log lines behind `detail`: its attempts', its deciding event's and its expiry's.
    pub fn raw_lines(&self, detail: &DeliveryDetail) -> Result<RawLines> {
        let mut wanted: Vec<String> = detail
            .attempts
            .iter()
            .filter_map(|a| a.source.clone())
            .chain(detail.source.clone())
            .chain(detail.expired_source.clone())
            .collect();
        let mut seen = std::collections::HashSet::new();
        wanted.retain(|s| seen.insert(s.clone()));
        let mut out = RawLines::default();
        if wanted.len() > MAX_LINES {
            out.notes.push(format!(
                "{} log lines; the first {MAX_LINES} are shown",
                wanted.len()
            ));
            wanted.truncate(MAX_LINES);
        }
        let mut by_file: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for s in &wanted {
            if let Some((path, n)) = split_source(s) {
                by_file.entry(path).or_default().push(n);
            }
        }
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        for (path, numbers) in by_file {
            if self.is_mail_source(path)? {
                // Line N of a mailbox is one of its headers, not the report.
                for n in numbers {
                    out.notes.push(format!(
                        "{}: bounce report, message {n} of the file (its text is the diagnostic above)",
                        crate::sanitize::for_terminal(path)
                    ));
                }
                continue;
            }
            let heads = self.heads_of(path)?;
            match read_lines(path, &numbers, &heads) {
                Ok(lines) => {
                    for (n, text) in lines {
                        found.insert(format!("{path}:{n}"), text);
                    }
                }
                Err(note) => out.notes.push(note),
            }
        }
        for s in wanted {
            if let Some(text) = found.remove(&s) {
                out.lines.push((s, text));
            }
        }
        Ok(out)
    }
}

/// Lines `numbers` of `path`, after checking its first bytes against an import's; the
/// reason in words when the file cannot be trusted or read.
fn read_lines(
    path: &str,
    numbers: &[u64],
    heads: &[(usize, u64)],
) -> std::result::Result<Vec<(u64, String)>, String> {
    let shown = crate::sanitize::for_terminal(path).into_owned();
    if path == "-" || path.starts_with("stdin") {
        return Err(format!(
            "{shown}: read from standard input, so not kept to read back"
        ));
    }
    let mut input = crate::ingest::input::open(path).map_err(|_| {
        format!("{shown}: not found where it was imported from — moved or rotated away since")
    })?;
    let last = numbers.iter().copied().max().unwrap_or(0);
    let wanted: std::collections::HashSet<u64> = numbers.iter().copied().collect();
    let mut head: Vec<u8> = Vec::new();
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0u64;
    while n < last {
        buf.clear();
        let read = input
            .reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{shown}: cannot be read ({e})"))?;
        if read == 0 {
            break;
        }
        n += 1;
        if head.len() < 4096 {
            head.extend_from_slice(&buf[..buf.len().min(4096 - head.len())]);
        }
        if wanted.contains(&n) {
            let end = buf.len().min(MAX_LINE_BYTES);
            let text = String::from_utf8_lossy(&buf[..end]);
            lines.push((n, text.trim_end_matches(['\n', '\r']).to_string()));
        }
    }
    // The head may reach past the last line wanted.
    while head.len() < 4096 {
        buf.clear();
        match input.reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => head.extend_from_slice(&buf[..buf.len().min(4096 - head.len())]),
        }
    }
    if n < last {
        return Err(format!(
            "{shown}: shorter than when it was imported (truncated or replaced since)"
        ));
    }
    let same = heads
        .iter()
        .any(|&(len, hash)| len <= head.len() && xxh3_64(&head[..len]) == hash);
    if !same {
        return Err(format!(
            "{shown}: not the file that was imported (its first bytes differ: replaced or rotated since)"
        ));
    }
    Ok(lines)
}
