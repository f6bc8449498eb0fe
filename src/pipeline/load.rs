//! One log input into the store: skip what is already imported, parse on one thread,
//! write on another, record the source; one transaction.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use xxhash_rust::xxh3::xxh3_64;

use crate::ingest::line_parser;
use crate::ingest::timestamp::{YearTracker, Zone};
use crate::store::Store;
use crate::store::load::EARLY_INDEXES_FROM_READ_SHARE;
use crate::store::sources::{KnownSource, ReadSoFar, SourceRecord};

use super::detect::{Prepared, SNIFF_BYTES, read_head, year_tracker};
use super::fingerprint::{
    BLOCK, HashRead, Replay, candidates, copy_of, longer_sources, prefix_matches,
};
use super::read::{BATCH, BatchSink, Finished, ParseStage, ParseStats};
use super::{
    Failure, FileReport, HEAD_ID_LEN, ImportError, ImportOptions, ImportParts, Progress,
    SourceState,
};

/// One input loaded.
pub(super) struct Loaded {
    pub(super) report: FileReport,
    /// Where the year of a yearless log ended, for the next file to continue from.
    pub(super) year_ended: Option<crate::ingest::timestamp::YearPosition>,
    /// The import's follow-up work was done in this load's transaction.
    pub(super) followed_up: bool,
}

pub(super) fn import_one(
    store: &mut Store,
    mut p: Prepared,
    opts: &ImportOptions,
    parts: ImportParts<'_>,
    file_index: usize,
    file_count: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Loaded, Failure> {
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
                tempfile::tempfile().map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
            f.write_all(&p.head)
                .and_then(|_| io::copy(&mut p.rest, &mut f).map(|_| ()))
                .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
            Replay::Spooled(f)
        };
        for k in &known {
            let r = replay
                .open()
                .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
            if prefix_matches(r, k.read.bytes, k.read.hash).unwrap_or(false) {
                skip = Some(k);
                break;
            }
        }
        if skip.is_none() && !longer.is_empty() {
            let r = replay
                .open()
                .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
            if let Some(of) = copy_of(r, &longer).unwrap_or(None) {
                let mut report = FileReport::noted(
                    &name,
                    format!("an earlier, shorter copy of {of}, already imported: nothing new"),
                );
                report.format = Some(p.format);
                report.state = SourceState::Unchanged;
                report.seconds = started.elapsed().as_secs_f64();
                return Ok(Loaded {
                    report,
                    year_ended: None,
                    followed_up: false,
                });
            }
        }
        // Read again from the start: the head was consumed by detection.
        let mut r = replay
            .open()
            .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
        p.head = read_head(&mut r, SNIFF_BYTES)
            .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
        p.rest = r;
    }

    // A log older than what the store holds cannot join the messages already stored
    // after it: a message spanning both would be split. Said, not refused.
    let older_note = match (skip, p.first_ts) {
        (None, Some(first)) => {
            let mut newest: Option<i64> = None;
            for host in &p.hosts {
                let n = store.newest_logged(host)?;
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
        Some(k) => p.head[..p.head.len().min(k.read.bytes as usize)].to_vec(),
        None => Vec::new(),
    };
    let mut reader = HashRead::new(io::Cursor::new(std::mem::take(&mut p.head)).chain(p.rest));
    let (skip_bytes, first_line) = match skip {
        Some(k) => (k.read.bytes, k.read.lines),
        None => (0, 0),
    };
    if skip_bytes > 0 {
        io::copy(&mut (&mut reader).take(skip_bytes), &mut io::sink())
            .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
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
    let ImportParts {
        assembler,
        seen,
        follow_up_from,
    } = parts;
    assembler.format = p.format.as_str();
    assembler.source_name = Arc::from(name.as_str());
    assembler.default_host = Arc::from(opts.host.as_deref().unwrap_or("unknown"));

    let rollback_journal = p.total_bytes.is_some() && store.first_load_journal()?;
    let mut load = store.begin_load()?;
    let bulk = load.drop_indexes_for_bulk_load(p.total_bytes)?;
    let mut writer = load.writer()?;

    // Two stages on two threads: this one writes to the store while the other reads,
    // parses and assembles; finished messages cross over in batches.
    let lines_done = AtomicU64::new(0);
    let bytes_done = AtomicU64::new(0);
    let stats = std::thread::scope(|scope| -> Result<ParseStats, Failure> {
        // Room for 64 batches (16k messages): a burst of sending (many messages finished,
        // the writer behind) is followed by hours of retries (nothing finished, the writer
        // idle); the parser runs ahead through the burst instead of waiting, and the writer
        // catches up meanwhile. On the generator's log, whose last 40 % is retries only,
        // 0.91x the import's time against 16 batches; peak memory 92 MB instead of 72 at
        // 1 M lines, 108 MB instead of 105 at 10 M, and 133 instead of 131 MB at 9 M lines
        // that never close their messages (handed over in bursts of thousands). 256: no faster.
        let (batches, finished) = std::sync::mpsc::sync_channel::<Vec<Finished>>(64);
        // Written batches go back to be freed by the thread that allocated their messages:
        // freed on this one, every block crossed threads, a cost to both (the 1 M-line
        // import took 0.72 s instead of 0.74 s, 1.25 s of CPU instead of 1.285 s; medians
        // of ten alternating runs). Never waited for: when the parser takes none (it is
        // done), a batch is freed here.
        let (give_back, written) = std::sync::mpsc::sync_channel::<Vec<Finished>>(64);
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
        let derive_rows = load.indexes_search();
        let parsing = scope.spawn(move || {
            let mut sink = BatchSink {
                batch: Vec::with_capacity(BATCH),
                out: batches,
                written,
                derive_rows,
            };
            let stats = stage.run(assembler, &mut sink);
            let _ = sink.flush();
            stats
        });
        let mut write_error = None;
        // The share of the input read, for building indexes while the parser still runs.
        let read_share = || match p.total_bytes {
            Some(total) if total > 0 => bytes_done.load(Ordering::Relaxed) as f64 / total as f64,
            _ => 0.0,
        };
        let mut build_early = bulk;
        'receive: loop {
            // While indexes may be built early, a moment without a batch is used for one;
            // until they may, the wait is short, so that the first build starts as soon as
            // enough is read. (Waiting 100 ms, the writer slept through the first tenth of
            // the generator's log it could have built in.)
            let wait = match build_early {
                true if read_share() >= EARLY_INDEXES_FROM_READ_SHARE => Duration::ZERO,
                true => Duration::from_millis(5),
                false => Duration::from_millis(100),
            };
            match finished.recv_timeout(wait) {
                Ok(mut batch) => {
                    for (m, rows) in &mut batch {
                        let rows = rows.take().unwrap_or_else(|| m.rows());
                        if let Err(e) = writer.write_with_rows(m, &rows) {
                            write_error = Some(e);
                            break 'receive;
                        }
                    }
                    let _ = give_back.try_send(batch);
                }
                // Nothing to write: an index is built, and the kernel writes out what is
                // written so far.
                Err(RecvTimeoutError::Timeout) if bulk => {
                    if build_early {
                        match load.rebuild_next_index_early(read_share()) {
                            Ok(more) => build_early = more,
                            Err(e) => {
                                write_error = Some(e);
                                break 'receive;
                            }
                        }
                    }
                    load.start_writeback();
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
            .map_err(|_| Failure::Input(ImportError::ParserStopped { name: name.clone() }))?;
        match write_error {
            Some(e) => Err(e.into()),
            None => Ok(stats),
        }
    })?;
    let year_ended = parser.year_position();
    load.add_line_counts(&parser.take_line_counts())?;
    assembler.checkpoint(&mut writer)?;
    let deliveries = writer.deliveries_written;
    let deliveries_updated = writer.deliveries_updated;
    drop(writer);
    if bulk {
        load.recreate_indexes()?;
        // The indexes' pages go out while the source record and the typo pass are made:
        // from there to the commit's end, 40-45 ms instead of 46-51 ms (1 M lines, four
        // runs each).
        load.start_writeback();
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
        (true, Some(k)) if reader.line_end.0 < k.read.bytes => (k.read.bytes, k.read.hash),
        (true, _) => (reader.line_end.0, reader.line_end.1.digest()),
        (false, _) => (reader.count, reader.hasher.digest()),
    };
    let held_note = held_back.then(|| {
        "its last line has no line end yet (still being written?): it is read whole at the \
         next import"
            .to_string()
    });
    // Whole blocks of what counts as imported: a held-back last line is not.
    let block_hashes_len = (imported_bytes / BLOCK as u64 * 8).min(reader.blocks.len());
    let sample_json = serde_json::to_string(&sample).unwrap_or_else(|_| "[]".into());
    let now = chrono::Utc::now().timestamp();
    let state = match skip {
        Some(_) if n_lines == 0 => SourceState::Unchanged,
        Some(k) => SourceState::Grown {
            from_line: k.read.lines,
        },
        None => SourceState::New,
    };
    let tz_name = opts.tz.map(|z| z.name());
    let tz_name = tz_name.as_deref();
    let before = skip.map(|k| k.read).unwrap_or_default();
    let record = SourceRecord {
        path: &name,
        format: p.format.as_str(),
        head: (head_len, head_hash),
        read: ReadSoFar {
            bytes: imported_bytes,
            hash: imported_hash,
            lines: before.lines + n_lines,
            events: before.events + n_events,
            lines_skipped: before.lines_skipped + n_skipped,
        },
        skipped_sample: &sample_json,
        imported_at: now,
        tz: tz_name,
        block_hashes_len,
    };
    let mut block_hashes = reader
        .blocks
        .read(block_hashes_len)
        .map_err(|e| Failure::Input(ImportError::read(&name, e)))?;
    load.record_source(skip.map(|k| k.id), &record, &mut block_hashes)?;
    drop(block_hashes);
    // Nothing but the follow-up work comes after this load: it commits with it, unless
    // reports are waiting to be relinked first (`import_files` does that after the loads).
    let followed_up = match follow_up_from {
        Some(first_new) if load.standalone_reports()?.is_empty() => {
            load.mark_typo_domains(first_new)?;
            load.follow_up_done()?;
            true
        }
        _ => false,
    };
    load.commit()?;
    if rollback_journal {
        store.back_to_wal();
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
    Ok(Loaded {
        report: FileReport {
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
            error: read_error.or_else(|| p.head_error.map(|e| e.after_line(n_lines))),
            note: match (older_note, held_note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            },
        },
        year_ended,
        followed_up,
    })
}
