//! Importing inputs into the store: format detection, content fingerprints (so a re-read
//! or rotated log never duplicates anything and a grown log imports only its tail),
//! streaming parse, assembly, and one transaction per input.

use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::time::Instant;

use rusqlite::{OptionalExtension, params};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::ingest::detect;
use crate::ingest::input::{self, LineReader};
use crate::ingest::timestamp::{self, YearTracker, Zone};
use crate::ingest::{Format, LineOutcome, LineParser, line_parser};
use crate::model::{MessageSink, MessageState};
use crate::store::write::MessageWriter;
use crate::store::{Store, StoreError, sql_error};
use crate::triage::Assembler;

/// Identity of an input is the hash of its first bytes (up to this many).
const HEAD_ID_LEN: usize = 4096;
/// Detection reads this much of the start of an input.
const SNIFF_BYTES: usize = 256 * 1024;
/// Skipped lines kept (with their numbers) to show the user.
pub const SKIPPED_SAMPLE: usize = 20;
const PROGRESS_EVERY_LINES: u64 = 1 << 16;
/// Event lines remembered (as hashes) to drop exact repeats: bounded, so memory stays flat.
const RECENT_LINES_REMEMBERED: usize = 1 << 18;

/// A bounded set of recent line hashes (oldest forgotten first): an open-addressing table
/// of the hashes themselves (at most half full) and a ring of them in arrival order. The
/// hashes are xxh3 already, so their low bits place them; one probe each way touches one
/// cache line where a general-purpose set touches several: this runs once per log line.
struct RecentLines {
    slots: Vec<u64>,
    ring: Vec<u64>,
    cap: usize,
    next: usize,
}

impl RecentLines {
    fn new(cap: usize) -> Self {
        RecentLines {
            slots: vec![0; (2 * cap).next_power_of_two()],
            ring: Vec::with_capacity(cap),
            cap: cap.max(1),
            next: 0,
        }
    }

    /// False when `h` was seen recently.
    fn insert(&mut self, h: u64) -> bool {
        // 0 marks an empty slot.
        let h = h.max(1);
        if self.find(h).is_ok() {
            return false;
        }
        if self.ring.len() < self.cap {
            self.ring.push(h);
        } else {
            let oldest = std::mem::replace(&mut self.ring[self.next], h);
            self.next = (self.next + 1) % self.cap;
            self.remove(oldest);
        }
        if let Err(empty) = self.find(h) {
            self.slots[empty] = h;
        }
        true
    }

    /// Starts loading the slots `insert(h)` will touch (its own and the oldest hash's),
    /// so that the cache misses overlap with parsing the line.
    fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let mask = self.slots.len() - 1;
            let mut homes = [h.max(1) as usize & mask, 0];
            let oldest = self.ring.get(self.next).copied();
            if let Some(o) = oldest {
                homes[1] = o as usize & mask;
            }
            for home in &homes[..1 + usize::from(oldest.is_some())] {
                // SAFETY: prefetching only hints the cache; the pointer is in bounds.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(*home).cast()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// The slot holding `h`, or else the empty slot that ends its run. The table holds
    /// at most `cap` hashes in at least twice as many slots, so a run always ends.
    fn find(&self, h: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                0 => return Err(i),
                v if v == h => return Ok(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn remove(&mut self, h: u64) {
        let mask = self.slots.len() - 1;
        let Ok(i) = self.find(h) else {
            return;
        };
        // Backward-shift deletion: a later entry of the same run moves into the hole when
        // the hole lies between its home slot and where it sits, so lookups never stop at
        // a hole short of it.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let v = self.slots[j];
            if v == 0 {
                break;
            }
            let home = v as usize & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = v;
                hole = j;
            }
        }
        self.slots[hole] = 0;
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub format: Format,
    pub year: Option<i32>,
    /// The sending host for logs that do not name one (an Exim mainlog, pasted lines).
    pub host: Option<String>,
    /// The zone of stamps that carry none (`--tz`); `None`: the one remembered for the
    /// source, else this machine's.
    pub tz: Option<crate::ingest::timestamp::Zone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Content never seen before.
    New,
    /// Seen before: only the lines after `from_line` were imported.
    Grown { from_line: u64 },
    /// Nothing new in it.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub format: Option<Format>,
    pub state: SourceState,
    pub lines_read: u64,
    pub events: u64,
    /// Delivery rows written, new or updated.
    pub deliveries: u64,
    /// Of those, deliveries already in the store that this input changed.
    pub deliveries_updated: u64,
    pub skipped: u64,
    pub skipped_sample: Vec<(u64, String)>,
    /// Lines that repeated an earlier line exactly and were not counted again.
    pub duplicates: u64,
    pub seconds: f64,
    pub error: Option<String>,
    /// Not an error, but nothing was imported (an empty, freshly rotated log).
    pub note: Option<String>,
}

impl FileReport {
    pub(crate) fn failed(name: &str, error: String) -> Self {
        FileReport {
            name: name.to_string(),
            format: None,
            state: SourceState::New,
            lines_read: 0,
            events: 0,
            deliveries: 0,
            deliveries_updated: 0,
            skipped: 0,
            skipped_sample: Vec::new(),
            duplicates: 0,
            seconds: 0.0,
            error: Some(error),
            note: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub file: String,
    pub file_index: usize,
    pub file_count: usize,
    pub bytes: u64,
    pub total_bytes: Option<u64>,
    pub lines: u64,
    pub done: bool,
}

/// An input opened and sniffed, not yet imported.
struct Prepared {
    name: String,
    head: Vec<u8>,
    rest: Box<dyn BufRead + Send>,
    format: Format,
    /// Year of the first line when the stamps carry none (given, or worked out).
    year: Option<i32>,
    /// The month the file before this one (in the same import) ended in, when the year
    /// continues from it.
    continues_month: Option<u32>,
    mtime: Option<i64>,
    total_bytes: Option<u64>,
    compressed: bool,
    /// The regular file read (for its start again); `None` for a stream.
    file: Option<std::fs::File>,
    first_ts: Option<i64>,
    /// The sending hosts its first lines name: only their stored mail can be split by
    /// importing this log out of order.
    hosts: std::collections::BTreeSet<String>,
    /// A compressed input cut short within its first bytes: what came before is imported,
    /// then this is reported.
    head_error: Option<String>,
}

fn read_head(reader: &mut dyn BufRead, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(64 * 1024));
    reader.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Why an input was not imported.
enum Unprepared {
    Empty,
    Failed(String),
}

impl From<String> for Unprepared {
    fn from(e: String) -> Self {
        Unprepared::Failed(e)
    }
}

fn read_error(name: &str, compressed: bool, e: &io::Error) -> String {
    if compressed
        && matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        )
    {
        format!("{name}: the compressed data is truncated or corrupt ({e})")
    } else {
        format!("{name}: {e}")
    }
}

fn prepare(name: &str, opts: &ImportOptions) -> Result<Prepared, Unprepared> {
    let mut inp = input::open(name).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let head_error = match (&mut inp.reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
    {
        Ok(_) => None,
        // A small truncated .gz ends inside what detection reads: keep what it gave.
        Err(e) if inp.compressed && !head.is_empty() => {
            inp.reader = Box::new(io::empty());
            Some(read_error(name, true, &e))
        }
        Err(e) => return Err(read_error(name, inp.compressed, &e).into()),
    };
    if head.is_empty() {
        return Err(Unprepared::Empty);
    }
    let format = match opts.format {
        Format::Auto => detect::detect(&head).ok_or_else(|| {
            let tried: Vec<&str> = detect::TRIED.iter().map(|f| f.as_str()).collect();
            format!(
                "{name}: not a sends log sendlog knows (tried: {}); use --format to force one",
                tried.join(", ")
            )
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
    let (first_ts, hosts) = head_facts(format, years, &head, default_host)
        .ok_or_else(|| format!("{name}: reading {format} input is not supported yet"))?;
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
fn first_stamp(format: Format, years: YearTracker, head: &[u8]) -> Option<Option<i64>> {
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
fn rotation_number(name: &str) -> u32 {
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

fn year_tracker(year: Option<i32>, mtime: Option<i64>) -> YearTracker {
    match (year, mtime) {
        (Some(y), _) => YearTracker::given(y),
        (None, Some(t)) => YearTracker::from_reference(t),
        (None, None) => YearTracker::from_reference(chrono::Utc::now().timestamp()),
    }
}

struct KnownSource {
    id: i64,
    imported_bytes: u64,
    imported_hash: u64,
    lines_read: u64,
    events: u64,
    lines_skipped: u64,
    /// The zone its zoneless stamps were read in, when the user gave one (`--tz`).
    tz: Option<String>,
}

/// Sources whose first bytes are this input's first bytes: the same log, maybe grown or
/// rotated. Longest import first.
fn candidates(store: &Store, head: &[u8]) -> Result<Vec<KnownSource>, StoreError> {
    let run = || -> rusqlite::Result<Vec<KnownSource>> {
        let mut stmt = store.conn.prepare_cached(
            "SELECT id, head_len, head_hash, imported_bytes, imported_hash, lines_read, events, lines_skipped, tz
             FROM sources ORDER BY imported_bytes DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(1)? as usize,
                r.get::<_, i64>(2)? as u64,
                KnownSource {
                    id: r.get(0)?,
                    imported_bytes: r.get::<_, i64>(3)? as u64,
                    imported_hash: r.get::<_, i64>(4)? as u64,
                    lines_read: r.get::<_, i64>(5)? as u64,
                    events: r.get::<_, i64>(6)? as u64,
                    lines_skipped: r.get::<_, i64>(7)? as u64,
                    tz: r.get(8)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (len, hash, src) = row?;
            if len <= head.len() && xxh3_64(&head[..len]) == hash {
                out.push(src);
            }
        }
        Ok(out)
    };
    run().map_err(|e| store.err(e))
}

/// Hashes everything read through it, whole and per block of `BLOCK` bytes.
struct HashRead<R> {
    inner: R,
    hasher: Xxh3,
    count: u64,
    /// Length and hash of what was read up to its last line end: what counts as imported
    /// when an unterminated last line is left for the next import.
    line_end: (u64, Xxh3),
    blocks: BlockHashes,
}

impl<R> HashRead<R> {
    fn new(inner: R) -> Self {
        HashRead {
            inner,
            hasher: Xxh3::new(),
            count: 0,
            line_end: (0, Xxh3::new()),
            blocks: BlockHashes::default(),
        }
    }
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        match memchr::memrchr(b'\n', chunk) {
            Some(i) => {
                self.hasher.update(&chunk[..=i]);
                self.line_end = (self.count + i as u64 + 1, self.hasher.clone());
                self.hasher.update(&chunk[i + 1..]);
            }
            None => self.hasher.update(chunk),
        }
        self.blocks.update(chunk);
        self.count += n as u64;
        Ok(n)
    }
}

/// The block a source's content is hashed by, to tell an older, shorter copy of a log
/// already imported: every whole block of the copy must hash as the known log's does.
/// What follows the last whole block (less than a block) is taken on trust, since only
/// whole blocks are kept; a log only grows at its end, so a copy that matches the known
/// log up to there is that log, cut earlier.
const BLOCK: usize = 1024;

/// xxh3 of each whole `BLOCK` of a stream, packed little-endian (8 bytes a block).
#[derive(Default)]
struct BlockHashes {
    current: Vec<u8>,
    packed: Vec<u8>,
}

impl BlockHashes {
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.current.is_empty() && bytes.len() >= BLOCK {
                // Whole blocks straight from the caller's buffer, without a copy.
                self.packed
                    .extend_from_slice(&xxh3_64(&bytes[..BLOCK]).to_le_bytes());
                bytes = &bytes[BLOCK..];
                continue;
            }
            let take = (BLOCK - self.current.len()).min(bytes.len());
            self.current.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.current.len() == BLOCK {
                self.packed
                    .extend_from_slice(&xxh3_64(&self.current).to_le_bytes());
                self.current.clear();
            }
        }
    }
}

/// A known source: id, path, bytes imported, block hashes.
type LongerSource = (i64, String, u64, Vec<u8>);

/// A known source whose content begins with the same first block as `head`, and that
/// was imported further than `head` is long: the candidates of which this input may be
/// an older, shorter copy. (id, path, imported bytes, block hashes.)
fn longer_sources(store: &Store, head: &[u8]) -> Result<Vec<LongerSource>, StoreError> {
    if head.len() < BLOCK {
        return Ok(Vec::new());
    }
    let first = xxh3_64(&head[..BLOCK]).to_le_bytes();
    let run = || -> rusqlite::Result<Vec<LongerSource>> {
        let mut stmt = store.conn.prepare_cached(
            "SELECT id, path, imported_bytes, block_hashes FROM sources
             WHERE substr(block_hashes, 1, 8) = ?1 ORDER BY imported_bytes DESC",
        )?;
        stmt.query_map([&first[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64, r.get(3)?))
        })?
        .collect()
    };
    run().map_err(|e| store.err(e))
}

/// The known source `reader`'s whole content is an earlier, shorter copy of, if any.
fn copy_of(reader: impl Read, longer: &[LongerSource]) -> io::Result<Option<&str>> {
    let mut h = HashRead::new(reader);
    io::copy(&mut h, &mut io::sink())?;
    let mine = &h.blocks.packed;
    Ok(longer
        .iter()
        .find(|(_, _, imported, blocks)| {
            !mine.is_empty() && h.count <= *imported && blocks.starts_with(mine)
        })
        .map(|(_, path, _, _)| path.as_str()))
}

/// Whether the first `len` bytes of `reader` hash to `hash` (reads at most `len` bytes).
fn prefix_matches(reader: impl Read, len: u64, hash: u64) -> io::Result<bool> {
    let mut h = HashRead::new(reader.take(len));
    io::copy(&mut h, &mut io::sink())?;
    Ok(h.count == len && h.hasher.digest() == hash)
}

/// A re-readable copy of an input: the file itself (as opened the first time), or a
/// stream spooled to a temp file.
enum Replay<'a> {
    File(&'a std::fs::File),
    Spooled(std::fs::File),
}

impl Replay<'_> {
    fn open(&mut self) -> io::Result<Box<dyn BufRead + Send>> {
        match self {
            Replay::File(file) => input::rewind(file),
            Replay::Spooled(f) => {
                f.rewind()?;
                Ok(Box::new(BufReader::new(f.try_clone()?)))
            }
        }
    }
}

/// Imports `names` in the order of their first timestamps (so `mail.log*` works whatever
/// order the shell gave), continuing messages across files and across imports.
pub fn import_files(
    store: &mut Store,
    names: &[String],
    opts: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<FileReport>, StoreError> {
    let mut reports = Vec::new();
    let mut prepared = Vec::new();
    // Bounce emails are imported after the logs, so they can join the deliveries the
    // logs hold (src/import_bounces.rs).
    let mut bounce_inputs = Vec::new();
    // A folder is what it holds, subfolders too: its logs imported as logs, its emails,
    // mboxes and Maildirs as bounces, and a line saying what was found and skipped.
    let mut expanded: Vec<String> = Vec::new();
    for name in names {
        let path = std::path::Path::new(name);
        match opts.format {
            Format::Auto
                if name != "-"
                    && path.is_dir()
                    && !crate::ingest::bounce::mailbox::is_maildir(path) =>
            {
                let scan = crate::ingest::bounce::mailbox::scan_folder(path);
                reports.push(FileReport {
                    error: None,
                    note: Some(scan.describe()),
                    ..FileReport::failed(name, String::new())
                });
                expanded.extend(scan.logs);
                expanded.extend(scan.bounces);
            }
            _ => expanded.push(name.clone()),
        }
    }
    let names = &expanded;
    for name in names {
        if crate::import_bounces::wants(name, opts.format) {
            bounce_inputs.push(name);
            continue;
        }
        match prepare(name, opts) {
            Ok(p) => prepared.push(p),
            Err(Unprepared::Failed(e)) => reports.push(FileReport::failed(name, e)),
            Err(Unprepared::Empty) => reports.push(FileReport {
                error: None,
                note: Some("empty, nothing to import".into()),
                ..FileReport::failed(name, String::new())
            }),
        }
    }
    prepared.sort_by_key(|p| p.first_ts.unwrap_or(i64::MAX));
    let yearless = |p: &Prepared| {
        p.head
            .split(|b| *b == b'\n')
            .find_map(timestamp::line_month)
            .is_some()
    };
    if opts.year.is_some() && prepared.len() > 1 && prepared.iter().all(yearless) {
        // `--year` is the year of the first line of the oldest file; every file read with
        // it would sort a January after the December before it, so the order comes from
        // the rotation (`mail.log.1` before `mail.log`), then the files' last writes, and
        // each file continues the year where the one before ended.
        prepared.sort_by_key(|p| {
            (
                std::cmp::Reverse(rotation_number(&p.name)),
                p.mtime.unwrap_or(i64::MAX),
            )
        });
    }
    let mut carried_year: Option<crate::ingest::timestamp::YearPosition> = None;
    // Delivery rows written from here on are this import's (a rewritten row gets a new id).
    let first_new: i64 = store
        .conn
        .query_row("SELECT coalesce(max(id), 0) + 1 FROM deliveries", [], |r| {
            r.get(0)
        })
        .map_err(|e| store.err(e))?;
    // What follows the loads (relinking stand-alone reports, marking typo domains) runs in
    // transactions of its own. The flag says it is owed from which delivery on, so an
    // import killed between a load's commit and that work has it done by the next one.
    let owed = follow_up_owed(store, first_new)?;
    let first_new = owed.map_or(first_new, |from| from.min(first_new));
    let file_count = prepared.len();
    let mut assembler = Assembler::new("postfix");
    assembler.resume(store.open_messages()?);
    // One window of recent lines across the files of an import: overlapping copies of a
    // log (the end of one repeated at the start of the next) count their lines once.
    let mut seen = RecentLines::new(RECENT_LINES_REMEMBERED);
    for (index, mut p) in prepared.into_iter().enumerate() {
        let name = p.name.clone();
        if let Some((year, month)) = carried_year {
            p.year = Some(year);
            p.continues_month = month;
            let years = YearTracker::continuing(year, month).in_zone(opts.tz.unwrap_or_default());
            p.first_ts = first_stamp(p.format, years, &p.head).flatten();
        }
        let parts = ImportParts {
            assembler: &mut assembler,
            seen: &mut seen,
        };
        match import_one(store, p, opts, parts, index, file_count, progress) {
            Ok((r, ended)) => {
                if opts.year.is_some() {
                    carried_year = ended;
                }
                reports.push(r)
            }
            Err(ImportError::Input(e)) => {
                // The transaction was rolled back: take back the open messages as stored.
                assembler = Assembler::new("postfix");
                assembler.resume(store.open_messages()?);
                seen = RecentLines::new(RECENT_LINES_REMEMBERED);
                reports.push(FileReport::failed(&name, e));
            }
            Err(ImportError::Store(e)) => return Err(e),
        }
    }
    if owed.is_some() || reports.iter().any(|r| r.deliveries > 0) {
        crate::import_bounces::relink_standalone_reports(store)?;
    }
    for name in bounce_inputs {
        reports.push(crate::import_bounces::import_bounce_input(store, name)?);
    }
    mark_typo_domains(store, first_new)?;
    store
        .conn
        .execute("DELETE FROM settings WHERE key = 'follow_up_from'", [])
        .map_err(|e| store.err(e))?;
    // Order reports as the user gave the files.
    reports.sort_by_key(|r| {
        names
            .iter()
            .position(|n| *n == r.name)
            .unwrap_or(usize::MAX)
    });
    Ok(reports)
}

enum ImportError {
    Input(String),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

/// What the files of one import share.
struct ImportParts<'a> {
    assembler: &'a mut Assembler,
    seen: &'a mut RecentLines,
}

fn import_one(
    store: &mut Store,
    mut p: Prepared,
    opts: &ImportOptions,
    parts: ImportParts<'_>,
    file_index: usize,
    file_count: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(FileReport, Option<crate::ingest::timestamp::YearPosition>), ImportError> {
    let started = Instant::now();
    let name = p.name.clone();
    let head_len = p.head.len().min(HEAD_ID_LEN);
    let head_hash = xxh3_64(&p.head[..head_len]);
    let known = candidates(store, &p.head)?;
    let longer = longer_sources(store, &p.head)?;

    // Work out how much of this content is already in the store.
    let mut skip: Option<&KnownSource> = None;
    if !known.is_empty() || !longer.is_empty() {
        let mut replay = if let Some(file) = &p.file {
            Replay::File(file)
        } else {
            let mut f =
                tempfile::tempfile().map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
            f.write_all(&p.head)
                .and_then(|_| io::copy(&mut p.rest, &mut f).map(|_| ()))
                .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
            Replay::Spooled(f)
        };
        for k in &known {
            let r = replay
                .open()
                .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
            if prefix_matches(r, k.imported_bytes, k.imported_hash).unwrap_or(false) {
                skip = Some(k);
                break;
            }
        }
        if skip.is_none() && !longer.is_empty() {
            let r = replay
                .open()
                .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
            if let Some(of) = copy_of(r, &longer).unwrap_or(None) {
                let mut report = FileReport::failed(&name, String::new());
                report.error = None;
                report.format = Some(p.format);
                report.state = SourceState::Unchanged;
                report.note = Some(format!(
                    "an earlier, shorter copy of {of}, already imported: nothing new"
                ));
                report.seconds = started.elapsed().as_secs_f64();
                return Ok((report, None));
            }
        }
        // Read again from the start: the head was consumed by detection.
        let mut r = replay
            .open()
            .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
        p.head = read_head(&mut r, SNIFF_BYTES)
            .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
        p.rest = r;
    }

    // A log older than what the store holds cannot join the messages already stored
    // after it: a message spanning both would be split. Said, not refused.
    let older_note = match (skip, p.first_ts) {
        (None, Some(first)) => {
            let mut newest: Option<i64> = None;
            for host in &p.hosts {
                let n: Option<i64> = store
                    .conn
                    .query_row(
                        "SELECT max(last_seen) FROM messages WHERE format != 'eml' AND host = ?1",
                        [host],
                        |r| r.get(0),
                    )
                    .map_err(|e| sql_error(&store.path, e))?;
                newest = newest.max(n);
            }
            newest.filter(|n| first + 60 < *n).map(|n| {
                format!(
                    "this log starts at {}, before mail already in the store (up to {}): messages \
                     spanning both may show twice; import older logs first, or all together",
                    crate::ingest::timestamp::format_rfc3339(first),
                    crate::ingest::timestamp::format_rfc3339(n)
                )
            })
        }
        _ => None,
    };

    // The already imported part is skipped unparsed, but its header rows (a CSV's column
    // names) still map the new rows: the parser is shown them below.
    let imported_head = match skip {
        Some(k) => p.head[..p.head.len().min(k.imported_bytes as usize)].to_vec(),
        None => Vec::new(),
    };
    let mut reader = HashRead::new(io::Cursor::new(std::mem::take(&mut p.head)).chain(p.rest));
    let (skip_bytes, first_line) = match skip {
        Some(k) => (k.imported_bytes, k.lines_read),
        None => (0, 0),
    };
    if skip_bytes > 0 {
        io::copy(&mut (&mut reader).take(skip_bytes), &mut io::sink())
            .map_err(|e| ImportError::Input(format!("{name}: {e}")))?;
    }

    // The zone given now, else the one this source was read in before.
    let zone = match (opts.tz, skip.and_then(|k| k.tz.as_deref())) {
        (Some(z), _) => z,
        (None, Some(saved)) => Zone::parse(saved).unwrap_or_default(),
        (None, None) => Zone::Local,
    };
    let years = match p.continues_month {
        Some(_) if skip.is_none() => {
            YearTracker::continuing(p.year.unwrap_or(1970), p.continues_month)
        }
        _ => year_tracker(if skip.is_some() { opts.year } else { p.year }, p.mtime),
    }
    .in_zone(zone);
    let mut parser = line_parser(p.format, years).expect("prepare checked the format has a parser");
    for line in imported_head.split(|b| *b == b'\n') {
        parser.observe_header(line.strip_suffix(b"\r").unwrap_or(line));
    }
    let ImportParts { assembler, seen } = parts;
    assembler.format = p.format.as_str();
    assembler.source_name = Arc::from(name.as_str());
    assembler.default_host = opts.host.clone().unwrap_or_else(|| "unknown".into());

    let path = store.path.clone();
    let rollback_journal = p.total_bytes.is_some()
        && first_load_journal(&store.conn).map_err(|e| sql_error(&path, e))?;
    let tx = store.conn.transaction().map_err(|e| sql_error(&path, e))?;
    let bulk = drop_indexes_for_bulk_load(&tx, p.total_bytes).map_err(|e| sql_error(&path, e))?;
    let mut writer = MessageWriter::new(&tx, &path)?;

    // Two stages on two threads: this one writes to the store while the other reads,
    // parses and assembles; finished messages cross over in batches.
    let lines_done = AtomicU64::new(0);
    let bytes_done = AtomicU64::new(0);
    let stats = std::thread::scope(|scope| -> Result<ParseStats, ImportError> {
        // Room for 64 batches (16k messages): bursts of finishing messages on one side and
        // slow pages on the other then overlap instead of stalling each other.
        let (batches, finished) = std::sync::mpsc::sync_channel::<Vec<Finished>>(64);
        let stage = ParseStage {
            seen,
            reader: &mut reader,
            first_line,
            parser: parser.as_mut(),
            lines_done: &lines_done,
            bytes_done: &bytes_done,
            name: &name,
            compressed: p.compressed,
            // A plain file may be being written: its unterminated last line is read
            // whole next time. A stream or a compressed file is read to its end now.
            hold_partial: p.file.is_some() && !p.compressed,
        };
        let assembler = &mut *assembler;
        let parsing = scope.spawn(move || {
            let mut sink = BatchSink {
                batch: Vec::with_capacity(BATCH),
                out: batches,
            };
            let stats = stage.run(assembler, &mut sink);
            let _ = sink.flush();
            stats
        });
        let mut write_error = None;
        'receive: loop {
            match finished.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(batch) => {
                    for mut m in batch {
                        let rows = m.rows();
                        if let Err(e) = writer.write_with_rows(&mut m, &rows) {
                            write_error = Some(e);
                            break 'receive;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            progress(&Progress {
                file: name.clone(),
                file_index,
                file_count,
                bytes: skip_bytes + bytes_done.load(Ordering::Relaxed),
                total_bytes: p.total_bytes,
                lines: lines_done.load(Ordering::Relaxed),
                done: false,
            });
        }
        // Stops the parser early if writing failed.
        drop(finished);
        let stats = parsing
            .join()
            .map_err(|_| ImportError::Input(format!("{name}: the parser stopped unexpectedly")))?;
        match write_error {
            Some(e) => Err(e.into()),
            None => Ok(stats),
        }
    })?;
    let year_ended = parser.year_position();
    assembler.checkpoint(&mut writer)?;
    let deliveries = writer.deliveries_written;
    let deliveries_updated = writer.deliveries_updated;
    drop(writer);
    if bulk {
        recreate_indexes(&tx).map_err(|e| sql_error(&path, e))?;
    }
    let ParseStats {
        lines: n_lines,
        events: n_events,
        skipped: n_skipped,
        duplicates: n_duplicates,
        sample,
        read_error,
        held_back,
    } = stats;

    let (imported_bytes, imported_hash) = match (held_back, skip) {
        (true, Some(k)) if reader.line_end.0 < k.imported_bytes => {
            (k.imported_bytes, k.imported_hash)
        }
        (true, _) => (reader.line_end.0, reader.line_end.1.digest()),
        (false, _) => (reader.count, reader.hasher.digest()),
    };
    let held_note = held_back.then(|| {
        "its last line has no line end yet (still being written?): it is read whole at the \
         next import"
            .to_string()
    });
    // Whole blocks of what counts as imported: a held-back last line is not.
    let mut block_hashes = std::mem::take(&mut reader.blocks.packed);
    block_hashes.truncate((imported_bytes / BLOCK as u64) as usize * 8);
    let sample_json = serde_json::to_string(&sample).unwrap_or_else(|_| "[]".into());
    let now = chrono::Utc::now().timestamp();
    let state = match skip {
        Some(_) if n_lines == 0 => SourceState::Unchanged,
        Some(k) => SourceState::Grown {
            from_line: k.lines_read,
        },
        None => SourceState::New,
    };
    let tz_name = opts.tz.map(|z| z.name());
    let write_source = || -> rusqlite::Result<()> {
        match skip {
            Some(k) => {
                tx.execute(
                    "UPDATE sources SET path = ?2, imported_bytes = ?3, imported_hash = ?4, lines_read = ?5,
                     events = ?6, lines_skipped = ?7, imported_at = ?8, tz = coalesce(?9, tz),
                     block_hashes = ?10 WHERE id = ?1",
                    params![
                        k.id,
                        name,
                        imported_bytes as i64,
                        imported_hash as i64,
                        (k.lines_read + n_lines) as i64,
                        (k.events + n_events) as i64,
                        (k.lines_skipped + n_skipped) as i64,
                        now,
                        tz_name,
                        block_hashes
                    ],
                )?;
            }
            None => {
                tx.execute(
                    "INSERT INTO sources (path, format, head_len, head_hash, imported_bytes, imported_hash,
                     lines_read, events, lines_skipped, skipped_sample, imported_at, tz, block_hashes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        name,
                        p.format.as_str(),
                        head_len as i64,
                        head_hash as i64,
                        imported_bytes as i64,
                        imported_hash as i64,
                        n_lines as i64,
                        n_events as i64,
                        n_skipped as i64,
                        sample_json,
                        now,
                        tz_name,
                        block_hashes
                    ],
                )?;
            }
        }
        Ok(())
    };
    write_source().map_err(|e| sql_error(&path, e))?;
    tx.commit().map_err(|e| sql_error(&path, e))?;
    if rollback_journal {
        // Back to WAL, so readers read alongside the next writer. Should another
        // connection prevent it now, the next open of the store does it.
        let _ = store.conn.pragma_update(None, "journal_mode", "WAL");
    }
    progress(&Progress {
        file: name.clone(),
        file_index,
        file_count,
        bytes: imported_bytes,
        total_bytes: p.total_bytes,
        lines: n_lines,
        done: true,
    });
    Ok((
        FileReport {
            name,
            format: Some(p.format),
            state,
            lines_read: n_lines,
            events: n_events,
            deliveries,
            deliveries_updated,
            skipped: n_skipped,
            skipped_sample: sample,
            duplicates: n_duplicates,
            seconds: started.elapsed().as_secs_f64(),
            error: read_error.or_else(|| {
                p.head_error.map(|e| {
                    format!("{e} (after line {n_lines}; the lines before it were imported)")
                })
            }),
            note: match (older_note, held_note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            },
        },
        year_ended,
    ))
}

/// Messages handed from the parsing thread to the writing thread at a time.
const BATCH: usize = 256;

/// A finished message. Its delivery rows (classifying each reply) are derived on the
/// writing thread: reading and assembling is the busier side.
type Finished = MessageState;

/// Sends finished messages to the writing thread in batches.
struct BatchSink {
    batch: Vec<Finished>,
    out: SyncSender<Vec<Finished>>,
}

/// The writing side hung up (it failed): stop parsing.
struct WriterGone;

impl BatchSink {
    fn flush(&mut self) -> Result<(), WriterGone> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.out.send(batch).map_err(|_| WriterGone)
    }
}

impl MessageSink for BatchSink {
    type Error = WriterGone;
    fn write(&mut self, msg: &mut MessageState) -> Result<(), WriterGone> {
        self.batch
            .push(std::mem::replace(msg, MessageState::placeholder()));
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct ParseStats {
    lines: u64,
    events: u64,
    skipped: u64,
    duplicates: u64,
    sample: Vec<(u64, String)>,
    read_error: Option<String>,
    /// An unterminated last line was left unread.
    held_back: bool,
}

/// The reading half of an import: lines → events → assembled messages.
struct ParseStage<'a, R: Read> {
    seen: &'a mut RecentLines,
    reader: &'a mut HashRead<R>,
    first_line: u64,
    parser: &'a mut dyn LineParser,
    lines_done: &'a AtomicU64,
    bytes_done: &'a AtomicU64,
    name: &'a str,
    compressed: bool,
    /// Leave an unterminated last line for the next import.
    hold_partial: bool,
}

impl<R: Read> ParseStage<'_, R> {
    fn run(self, assembler: &mut Assembler, sink: &mut BatchSink) -> ParseStats {
        let mut st = ParseStats::default();
        let mut lines = LineReader::new(BufReader::with_capacity(256 * 1024, &mut *self.reader));
        lines.line_no = self.first_line;
        let mut buf = Vec::new();
        let mut events = Vec::new();
        loop {
            let line = match lines.next_line(&mut buf) {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    st.read_error = Some(format!(
                        "{} (after line {}; the lines before it were imported)",
                        read_error(self.name, self.compressed, &e),
                        lines.line_no
                    ));
                    break;
                }
            };
            if !line.complete && self.hold_partial {
                st.held_back = true;
                break;
            }
            st.lines += 1;
            let line_no = lines.line_no;
            if st.lines % PROGRESS_EVERY_LINES == 0 {
                self.lines_done.store(st.lines, Ordering::Relaxed);
                self.bytes_done.store(lines.offset, Ordering::Relaxed);
            }
            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line_hash = xxh3_64(line.bytes);
            self.seen.prefetch(line_hash);
            events.clear();
            if let LineOutcome::Skipped = self.parser.parse_line(line.bytes, line_no, &mut events) {
                st.skipped += 1;
                if st.sample.len() < SKIPPED_SAMPLE {
                    let text = String::from_utf8_lossy(&line.bytes[..line.bytes.len().min(300)]);
                    st.sample.push((line_no, text.into_owned()));
                }
            }
            // The same line twice (overlapping or concatenated log copies) is one event: it
            // would otherwise count a delivery again, even in another inferred year.
            if !events.is_empty() && !self.seen.insert(line_hash) {
                st.duplicates += 1;
                events.clear();
            }
            for ev in events.drain(..) {
                st.events += 1;
                if assembler.push(ev, sink).is_err() {
                    return st;
                }
            }
        }
        events.clear();
        if let LineOutcome::Skipped = self.parser.finish(&mut events) {
            st.skipped += 1;
        }
        for ev in events.drain(..) {
            st.events += 1;
            if assembler.push(ev, sink).is_err() {
                return st;
            }
        }
        self.lines_done.store(st.lines, Ordering::Relaxed);
        self.bytes_done.store(lines.offset, Ordering::Relaxed);
        st
    }
}

/// On a bulk load (an input bigger than what the store holds), dropping the secondary
/// indexes and building them once at the end is several times faster than keeping them
/// up to date row by row. Inside the input's transaction, so a failure restores them.
fn drop_indexes_for_bulk_load(
    tx: &rusqlite::Transaction<'_>,
    input_bytes: Option<u64>,
) -> rusqlite::Result<bool> {
    let Some(bytes) = input_bytes else {
        return Ok(false);
    };
    let stored: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM deliveries", [], |r| {
        r.get(0)
    })?;
    // About one delivery per 2 KB of log.
    if bytes / 2048 < 4 * stored as u64 + 1000 {
        return Ok(false);
    }
    for (drop, _) in crate::store::schema::BULK_INDEXES {
        tx.execute_batch(drop)?;
    }
    Ok(true)
}

/// The first load into an empty store goes through a rollback journal instead of the WAL:
/// every page it writes is new, so the journal stays tiny and each page is written once,
/// where the WAL writes it twice (to the log, then at the checkpoint). It is as atomic —
/// an interrupted load leaves the store empty — but readers wait for it instead of
/// reading alongside, which an empty store does not miss. True when switched; another
/// open connection keeps the store in WAL (SQLite refuses the switch then).
fn first_load_journal(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM deliveries) AND NOT EXISTS (SELECT 1 FROM bounces)",
        [],
        |r| r.get(0),
    )?;
    if !empty {
        return Ok(false);
    }
    let mode = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap_or_default();
    Ok(mode.eq_ignore_ascii_case("delete"))
}

fn recreate_indexes(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    for (_, create) in crate::store::schema::BULK_INDEXES {
        tx.execute_batch(create)?;
    }
    Ok(())
}

/// The delivery id from which an earlier, interrupted import still owes its follow-up
/// work, if it does; records `first_new` as owed otherwise (the earlier id is kept).
fn follow_up_owed(store: &mut Store, first_new: i64) -> Result<Option<i64>, StoreError> {
    let owed: Option<i64> = store
        .conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'follow_up_from'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| store.err(e))?;
    if owed.is_none() {
        store
            .conn
            .execute(
                "INSERT INTO settings (key, value) VALUES ('follow_up_from', ?1)",
                [first_new.to_string()],
            )
            .map_err(|e| store.err(e))?;
    }
    Ok(owed)
}

/// Flags failed deliveries whose domain is a small edit away from a mailbox provider or
/// from a domain that received mail in this store. An import that is a sizeable part of
/// the store (or the first one) looks at the whole store and keeps the domains that
/// received the most mail; a small one (a grown log's tail, a few lines) looks at its own
/// rows only (from delivery id `first_new`), against those kept domains, so that its cost
/// follows what it imported, not the store's size.
pub fn mark_typo_domains(store: &mut Store, first_new: i64) -> Result<(), StoreError> {
    let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        let (new_rows, all_rows): (i64, i64) = tx.query_row(
            "SELECT (SELECT count(*) FROM deliveries WHERE id >= ?1),
                    (SELECT coalesce(max(id), 0) FROM deliveries)",
            [first_new],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let saved: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE key = 'typo_popular'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let saved: Option<Vec<String>> = saved.and_then(|v| serde_json::from_str(&v).ok());
        if new_rows == 0 {
            return Ok(());
        }
        let (failed, popular, only_new) = match saved {
            Some(popular) if new_rows * 20 < all_rows => {
                // This import's failed domains that no kept domain is (the kept ones
                // received mail) and none of whose new failures reached a mail server of
                // their own: those are no typo.
                let mut stmt = tx.prepare(
                    "SELECT domain FROM deliveries WHERE id >= ?1 AND status != 'sent'
                     GROUP BY domain HAVING sum(coalesce(relay, '') NOT IN ('', 'none')
                            AND coalesce(reason, '') != 'hostunknown'
                            AND coalesce(cause, '') != 'hostunknown') = 0",
                )?;
                let failed: Vec<String> = stmt
                    .query_map([first_new], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?
                    .into_iter()
                    .filter(|d| !popular.contains(d))
                    .collect();
                (failed, popular, true)
            }
            _ => {
                // One pass over the store: per domain, how many deliveries went out and failed.
                let mut tally: Vec<(String, i64, i64)> = {
                    let mut stmt = tx.prepare(
                        // `reached`: failures where a mail server of the domain was found
                        // and answered or was tried (a relay other than `none`, for a reason
                        // other than a DNS failure): the domain exists with a mail host, so
                        // it is no typo.
                        "SELECT domain, sum(status = 'sent'), sum(status != 'sent'),
                                sum(status != 'sent' AND coalesce(relay, '') NOT IN ('', 'none')
                                    AND coalesce(reason, '') != 'hostunknown'
                                    AND coalesce(cause, '') != 'hostunknown')
                         FROM deliveries GROUP BY domain",
                    )?;
                    stmt.query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?))
                    })?
                    .map(|row| {
                        // A domain with any reached failure is out entirely.
                        row.map(|(d, sent, failed, reached)| {
                            (d, sent, if reached > 0 { 0 } else { failed })
                        })
                    })
                    .collect::<rusqlite::Result<_>>()?
                };
                // Only domains none of whose mail reached a server of their own, and none
                // of whose mail was delivered.
                let failed: Vec<String> = tally
                    .iter()
                    .filter(|(_, sent, unreached)| *unreached > 0 && *sent == 0)
                    .map(|(d, _, _)| d.clone())
                    .collect();
                // The busiest delivered domains are the ones people mean; comparing with
                // every domain that ever received mail would grow with the square of the store.
                tally.retain(|(_, sent, _)| *sent >= 3);
                tally.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                tally.truncate(2000);
                let popular: Vec<String> = tally.into_iter().map(|(d, _, _)| d).collect();
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES ('typo_popular', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [serde_json::to_string(&popular).unwrap_or_else(|_| "[]".into())],
                )?;
                tx.execute(
                    // Only failed rows carry a suggestion (read through their partial indexes).
                    "UPDATE deliveries SET typo_of = NULL WHERE status != 'sent' AND typo_of IS NOT NULL",
                    [],
                )?;
                (failed, popular, false)
            }
        };
        let mut known: Vec<&str> = crate::classify::provider::well_known_domains().collect();
        known.extend(popular.iter().map(String::as_str));
        let mut suggestions: Vec<(&str, &str)> = Vec::new();
        for d in &failed {
            if d.is_empty() {
                continue;
            }
            if let Some(s) = crate::classify::typo::suggest(d, known.iter().copied()) {
                suggestions.push((d, s));
            }
        }
        {
            let mut update = tx.prepare(
                "UPDATE deliveries SET typo_of = ?2
                 WHERE domain = ?1 AND status != 'sent' AND id >= ?3",
            )?;
            let from = if only_new { first_new } else { 0 };
            for (d, s) in &suggestions {
                update.execute(params![d, s, from])?;
            }
        }
        tx.commit()
    };
    let path = store.path.clone();
    run(&mut store.conn).map_err(|e| sql_error(&path, e))
}

#[cfg(test)]
mod tests {
    use super::RecentLines;
    use std::collections::{HashSet, VecDeque};

    /// The table against the obvious model (a set and a queue), with a small window and
    /// hashes crowded into few home slots so that runs wrap around and deletions shift.
    #[test]
    fn recent_lines_match_a_set_with_a_queue() {
        for cap in [1, 2, 3, 7, 16, 100] {
            let mut table = RecentLines::new(cap);
            let mut set = HashSet::new();
            let mut queue = VecDeque::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for step in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct values, sharing low bits: many repeats and collisions;
                // 0 (the empty marker) included.
                let h = (x % 23) << 40 | (x % 5);
                let h = if step % 997 == 0 { 0 } else { h };
                let model = {
                    let h = h.max(1);
                    if set.contains(&h) {
                        false
                    } else {
                        set.insert(h);
                        queue.push_back(h);
                        if queue.len() > cap {
                            set.remove(&queue.pop_front().unwrap());
                        }
                        true
                    }
                };
                assert_eq!(
                    table.insert(h),
                    model,
                    "cap {cap}, step {step}, hash {h:#x}"
                );
            }
        }
    }
}
