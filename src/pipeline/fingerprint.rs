//! Content fingerprints: which known source an input continues (a grown or rotated log),
//! or is an older, shorter copy of.

use std::io::{self, BufRead, BufReader, Read, Seek};

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::ingest::input;
use crate::store::sources::{KnownSource, LongerSource};
use crate::store::{Store, StoreError};

/// Sources whose first bytes are this input's first bytes: the same log, maybe grown or
/// rotated. Longest import first.
pub(super) fn candidates(store: &Store, head: &[u8]) -> Result<Vec<KnownSource>, StoreError> {
    let mut known = store.known_sources()?;
    known.retain(|k| k.head.0 <= head.len() && xxh3_64(&head[..k.head.0]) == k.head.1);
    Ok(known)
}

/// Hashes everything read through it, whole and per block of `BLOCK` bytes.
pub(super) struct HashRead<R> {
    pub(super) inner: R,
    pub(super) hasher: Xxh3,
    pub(super) count: u64,
    /// Length and hash of what was read up to its last line end: what counts as imported
    /// when an unterminated last line is left for the next import.
    pub(super) line_end: (u64, Xxh3),
    pub(super) blocks: BlockHashes,
}

impl<R> HashRead<R> {
    pub(super) fn new(inner: R) -> Self {
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
pub(super) const BLOCK: usize = 1024;

/// xxh3 of each whole `BLOCK` of a stream, packed little-endian (8 bytes a block).
#[derive(Default)]
pub(super) struct BlockHashes {
    pub(super) current: Vec<u8>,
    pub(super) packed: Vec<u8>,
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

/// A known source whose content begins with the same first block as `head`, and that
/// was imported further than `head` is long: the candidates of which this input may be
/// an older, shorter copy. (id, path, imported bytes, block hashes.)
pub(super) fn longer_sources(store: &Store, head: &[u8]) -> Result<Vec<LongerSource>, StoreError> {
    if head.len() < BLOCK {
        return Ok(Vec::new());
    }
    let first = xxh3_64(&head[..BLOCK]).to_le_bytes();
    store.sources_by_first_block(&first)
}

/// The known source `reader`'s whole content is an earlier, shorter copy of, if any.
pub(super) fn copy_of(reader: impl Read, longer: &[LongerSource]) -> io::Result<Option<&str>> {
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
pub(super) fn prefix_matches(reader: impl Read, len: u64, hash: u64) -> io::Result<bool> {
    let mut h = HashRead::new(reader.take(len));
    io::copy(&mut h, &mut io::sink())?;
    Ok(h.count == len && h.hasher.digest() == hash)
}

/// A re-readable copy of an input: the file itself (as opened the first time), or a
/// stream spooled to a temp file.
pub(super) enum Replay<'a> {
    File(&'a std::fs::File),
    Spooled(std::fs::File),
}

impl Replay<'_> {
    pub(super) fn open(&mut self) -> io::Result<Box<dyn BufRead + Send>> {
        match self {
            Replay::File(file) => input::rewind(file),
            Replay::Spooled(f) => {
                f.rewind()?;
                Ok(Box::new(BufReader::new(f.try_clone()?)))
            }
        }
    }
}
