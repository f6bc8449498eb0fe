//! Importing inputs into the store: format detection, content fingerprints (so a re-read
//! or rotated log never duplicates anything and a grown log imports only its tail),
//! streaming parse, assembly, and one transaction per input; bounce emails join the
//! deliveries the logs hold.

mod bounces;
mod dedupe;
mod detect;
mod error;
mod fingerprint;
pub mod follow;
mod join;
mod load;
mod read;
mod report;

pub use bounces::{import_bounce_input, is_bounce_input, wants};
pub use error::ImportError;
pub use join::relink_standalone_reports;
pub use report::{FileReport, ImportOptions, Progress, SKIPPED_SAMPLE, SourceState};

use crate::ingest::Format;
use crate::ingest::timestamp::{self, YearTracker};
use crate::store::{Store, StoreError};
use crate::triage::Assembler;

use dedupe::{RECENT_LINES_REMEMBERED, RecentLines};
use detect::{Prepared, Unprepared, first_stamp, prepare, rotation_number};
use load::import_one;

/// Identity of an input is the hash of its first bytes (up to this many).
const HEAD_ID_LEN: usize = 4096;
const PROGRESS_EVERY_LINES: u64 = 1 << 16;

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
    // logs hold (see `bounces`).
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
                reports.push(FileReport::noted(name, scan.describe()));
                expanded.extend(scan.logs);
                expanded.extend(scan.bounces);
            }
            _ => expanded.push(name.clone()),
        }
    }
    let names = &expanded;
    for name in names {
        if crate::pipeline::wants(name, opts.format) {
            bounce_inputs.push(name);
            continue;
        }
        match prepare(name, opts) {
            Ok(p) => prepared.push(p),
            Err(Unprepared::Failed(e)) => reports.push(FileReport::failed(name, e)),
            Err(Unprepared::Empty) => reports.push(FileReport::noted(
                name,
                "empty, nothing to import".to_string(),
            )),
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
    let first_new = store.next_delivery_id()?;
    // What follows the loads (relinking stand-alone reports, marking typo domains) runs in
    // transactions of its own, or in the last load's (`ImportParts::follow_up_from`). The
    // flag says it is owed from which delivery on, so an import killed between a load's
    // commit and that work has it done by the next one.
    let owed = store.follow_up_owed(first_new)?;
    let first_new = owed.map_or(first_new, |from| from.min(first_new));
    let file_count = prepared.len();
    let mut assembler = Assembler::new("postfix");
    assembler.resume(store.open_messages()?);
    // One window of recent lines across the files of an import: overlapping copies of a
    // log (the end of one repeated at the start of the next) count their lines once.
    let mut seen = RecentLines::new(RECENT_LINES_REMEMBERED);
    let mut followed_up = false;
    for (index, mut p) in prepared.into_iter().enumerate() {
        let name = p.name.clone();
        if let Some((year, month)) = carried_year {
            p.year = Some(year);
            p.continues_month = month;
            let years = YearTracker::continuing(year, month).in_zone(opts.tz.unwrap_or_default());
            p.first_ts = first_stamp(p.format, years, &p.head).flatten();
        }
        let last = index + 1 == file_count && bounce_inputs.is_empty();
        let parts = ImportParts {
            assembler: &mut assembler,
            seen: &mut seen,
            follow_up_from: last.then_some(first_new),
        };
        // The writer inserts every message before its deliveries and every delivery before
        // its attempts, so looking up each row's parent only costs (about 5 % of the
        // writing thread on the generator's log). On again for everything else.
        store.check_foreign_keys(false)?;
        let loaded = import_one(store, p, opts, parts, index, file_count, progress);
        store.check_foreign_keys(true)?;
        match loaded {
            Ok(loaded) => {
                if opts.year.is_some() {
                    carried_year = loaded.year_ended;
                }
                followed_up = loaded.followed_up;
                reports.push(loaded.report)
            }
            Err(Failure::Input(e)) => {
                // The transaction was rolled back: take back the open messages as stored.
                assembler = Assembler::new("postfix");
                assembler.resume(store.open_messages()?);
                seen = RecentLines::new(RECENT_LINES_REMEMBERED);
                reports.push(FileReport::failed(&name, e));
            }
            Err(Failure::Store(e)) => return Err(e),
        }
    }
    // Every log is in: what they kept open is in the store, and the memory goes back
    // before the follow-up work below needs its own.
    drop(assembler);
    drop(seen);
    if !followed_up {
        if owed.is_some() || reports.iter().any(|r| r.deliveries > 0) {
            crate::pipeline::relink_standalone_reports(store)?;
        }
        for name in bounce_inputs {
            reports.push(crate::pipeline::import_bounce_input(store, name)?);
        }
        store.mark_typo_domains(first_new)?;
        store.follow_up_done()?;
    }
    // Order reports as the user gave the files.
    reports.sort_by_key(|r| {
        names
            .iter()
            .position(|n| *n == r.name)
            .unwrap_or(usize::MAX)
    });
    Ok(reports)
}

/// How importing one input failed: the input alone, or the store (which stops the
/// whole import).
enum Failure {
    Input(ImportError),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// What the files of one import share.
struct ImportParts<'a> {
    assembler: &'a mut Assembler,
    seen: &'a mut RecentLines,
    /// Set on the import's last load when no bounce input follows it: the delivery id the
    /// follow-up work (typo flags) starts from, which that load then does in its own
    /// transaction. Done separately, the flags rewrote pages the load had just written,
    /// through the write-ahead log and its checkpoint (about 0.05 s of a 1 M-line import).
    follow_up_from: Option<i64>,
}

/// The store's writer takes the messages the assembler finishes, their outcomes decided here:
/// it writes rows, it does not decide them.
impl crate::model::MessageSink for crate::store::write::MessageWriter<'_> {
    type Error = crate::store::StoreError;
    fn write(&mut self, msg: &mut crate::model::MessageState) -> Result<(), Self::Error> {
        let rows = msg.rows();
        self.write_with_rows(msg, &rows)
    }
}
