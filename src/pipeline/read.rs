//! The reading half of a log import: lines → events → assembled messages, handed in
//! batches to the writing thread.

use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use xxhash_rust::xxh3::xxh3_64;

use crate::ingest::input::LineReader;
use crate::ingest::{Event, LineOutcome, LineParser};
use crate::model::{DeliveryOutcome, MessageSink, MessageState};
use crate::triage::Assembler;

use super::ImportError;
use super::PROGRESS_EVERY_LINES;
use super::dedupe::RecentLines;
use super::fingerprint::HashRead;
use super::report::SKIPPED_SAMPLE;

/// An empty list for another line's events, in the memory of `events` (which is emptied):
/// collecting into the same element layout reuses the allocation.
fn reuse<'b>(mut events: Vec<Event<'_>>) -> Vec<Event<'b>> {
    events.clear();
    events
        .into_iter()
        .map(|_| unreachable!("emptied"))
        .collect()
}

/// Messages handed from the parsing thread to the writing thread at a time.
pub(super) const BATCH: usize = 256;

/// A finished message with its delivery rows, when they were derived on the parsing side.
/// Deriving them (classifying each reply) goes to whichever thread has room: the parsing
/// one while the writer also feeds the search index, the writer on a bulk load, which
/// leaves the index to the first search.
pub(super) type Finished = (MessageState, Option<Vec<DeliveryOutcome>>);

/// Sends finished messages to the writing thread in batches.
pub(super) struct BatchSink {
    pub(super) batch: Vec<Finished>,
    pub(super) out: SyncSender<Vec<Finished>>,
    /// Batches the writer is done with, messages still in them: freed here, where they
    /// were allocated, and their memory reused for the next batch.
    pub(super) written: Receiver<Vec<Finished>>,
    /// Derive each message's rows here (see `Finished`).
    pub(super) derive_rows: bool,
}

/// The writing side hung up (it failed): stop parsing.
pub(super) struct WriterGone;

impl BatchSink {
    pub(super) fn flush(&mut self) -> Result<(), WriterGone> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut next = None;
        while let Ok(mut written) = self.written.try_recv() {
            written.clear();
            next.get_or_insert(written);
        }
        let next = next.unwrap_or_else(|| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
        self.out.send(batch).map_err(|_| WriterGone)
    }
}

impl MessageSink for BatchSink {
    type Error = WriterGone;
    fn write(&mut self, msg: &mut MessageState) -> Result<(), WriterGone> {
        let rows = self.derive_rows.then(|| msg.rows());
        self.batch
            .push((std::mem::replace(msg, MessageState::placeholder()), rows));
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

#[derive(Default)]
pub(super) struct ParseStats {
    pub(super) lines: u64,
    pub(super) events: u64,
    pub(super) skipped: u64,
    pub(super) duplicates: u64,
    pub(super) sample: Vec<(u64, String)>,
    pub(super) read_error: Option<ImportError>,
    /// An unterminated last line was left unread.
    pub(super) held_back: bool,
}

/// The reading half of an import: lines → events → assembled messages.
pub(super) struct ParseStage<'a, R: Read> {
    pub(super) seen: &'a mut RecentLines,
    pub(super) reader: &'a mut HashRead<R>,
    pub(super) first_line: u64,
    pub(super) parser: &'a mut dyn LineParser,
    pub(super) lines_done: &'a AtomicU64,
    pub(super) bytes_done: &'a AtomicU64,
    pub(super) name: &'a str,
    pub(super) compressed: bool,
    /// Leave an unterminated last line for the next import.
    pub(super) hold_partial: bool,
}

/// Lines parsed before their events are pushed: the assembler then starts loading the
/// messages and deliveries of all of them at once (`Assembler::push_chunk`), so their cache
/// misses overlap instead of following one another.
const CHUNK_LINES: usize = 32;

/// A line kept for parsing: where its bytes are in the chunk, its number, its hash.
struct ChunkLine {
    start: usize,
    end: usize,
    number: u64,
    hash: u64,
}

impl<R: Read> ParseStage<'_, R> {
    pub(super) fn run(self, assembler: &mut Assembler, sink: &mut BatchSink) -> ParseStats {
        let mut st = ParseStats::default();
        let mut lines = LineReader::new(BufReader::with_capacity(256 * 1024, &mut *self.reader));
        lines.line_no = self.first_line;
        let mut buf = Vec::new();
        // A chunk's lines are copied together: their events borrow them until pushed.
        let mut chunk_bytes: Vec<u8> = Vec::new();
        let mut chunk: Vec<ChunkLine> = Vec::with_capacity(CHUNK_LINES);
        // Events borrow their chunk: a new list per chunk, in the last one's memory.
        let mut spare: Vec<Event<'static>> = Vec::new();
        let mut read_all = false;
        while !read_all {
            chunk_bytes.clear();
            chunk.clear();
            while chunk.len() < CHUNK_LINES {
                let line = match lines.next_line(&mut buf) {
                    Ok(Some(l)) => l,
                    Ok(None) => {
                        read_all = true;
                        break;
                    }
                    Err(e) => {
                        st.read_error = Some(
                            ImportError::reading(self.name, self.compressed, e)
                                .after_line(lines.line_no),
                        );
                        read_all = true;
                        break;
                    }
                };
                if !line.complete && self.hold_partial {
                    st.held_back = true;
                    read_all = true;
                    break;
                }
                st.lines += 1;
                if st.lines % PROGRESS_EVERY_LINES == 0 {
                    self.lines_done.store(st.lines, Ordering::Relaxed);
                    self.bytes_done.store(line.end, Ordering::Relaxed);
                }
                if line.bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let hash = xxh3_64(line.bytes);
                self.seen.prefetch(hash, chunk.len());
                let start = chunk_bytes.len();
                chunk_bytes.extend_from_slice(line.bytes);
                chunk.push(ChunkLine {
                    start,
                    end: chunk_bytes.len(),
                    number: line.number,
                    hash,
                });
            }
            let mut events = reuse(std::mem::take(&mut spare));
            for line in &chunk {
                let bytes = &chunk_bytes[line.start..line.end];
                let before = events.len();
                if let LineOutcome::Skipped =
                    self.parser.parse_line(bytes, line.number, &mut events)
                {
                    st.skipped += 1;
                    if st.sample.len() < SKIPPED_SAMPLE {
                        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]);
                        st.sample.push((line.number, text.into_owned()));
                    }
                }
                // The same line twice (overlapping or concatenated log copies) is one event:
                // it would otherwise count a delivery again, even in another inferred year.
                if events.len() > before && !self.seen.insert(line.hash) {
                    st.duplicates += 1;
                    events.truncate(before);
                }
            }
            // Counted as handed over: should the writer fail, the import fails with it.
            st.events += events.len() as u64;
            if assembler.push_chunk(&mut events, sink).is_err() {
                return st;
            }
            spare = reuse(events);
        }
        let mut events = Vec::new();
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
