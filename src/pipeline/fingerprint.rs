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

/// Hashes kept in memory before they move to a temporary file (1 MiB: those of a 128 MiB
/// log). A log's hashes grow with it, 8 bytes a block (26 MB for a 3.4 GB log); the
/// memory of an import must not.
const HASHES_IN_MEMORY: usize = 1 << 20;

/// xxh3 of each whole `BLOCK` of a stream, packed little-endian (8 bytes a block): the
/// latest in memory, the earlier ones in a temporary file.
pub(super) struct BlockHashes {
    current: Vec<u8>,
    packed: Vec<u8>,
    /// Bytes of hashes kept in memory before a spill (`HASHES_IN_MEMORY`).
    spill_at: usize,
    /// The hashes before `packed`, and how many bytes of them; `None` until the first
    /// spill. Should no temporary file be possible, every hash stays in memory.
    spilled: Option<(std::fs::File, u64)>,
    cannot_spill: bool,
}

impl Default for BlockHashes {
    fn default() -> Self {
        BlockHashes {
            current: Vec::new(),
            packed: Vec::new(),
            spill_at: HASHES_IN_MEMORY,
            spilled: None,
            cannot_spill: false,
        }
    }
}

impl BlockHashes {
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.current.is_empty() && bytes.len() >= BLOCK {
                // Whole blocks straight from the caller's buffer, without a copy.
                self.push(xxh3_64(&bytes[..BLOCK]));
                bytes = &bytes[BLOCK..];
                continue;
            }
            let take = (BLOCK - self.current.len()).min(bytes.len());
            self.current.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.current.len() == BLOCK {
                self.push(xxh3_64(&self.current));
                self.current.clear();
            }
        }
    }

    fn push(&mut self, hash: u64) {
        self.packed.extend_from_slice(&hash.to_le_bytes());
        if self.packed.len() >= self.spill_at && !self.cannot_spill {
            self.spill();
        }
    }

    fn spill(&mut self) {
        use std::io::Write;
        if self.spilled.is_none() {
            match tempfile::tempfile() {
                Ok(f) => self.spilled = Some((f, 0)),
                Err(_) => {
                    self.cannot_spill = true;
                    return;
                }
            }
        }
        if let Some((file, len)) = &mut self.spilled {
            match file.write_all(&self.packed) {
                Ok(()) => {
                    *len += self.packed.len() as u64;
                    self.packed.clear();
                }
                // Kept in memory from here on; what the file holds stays valid (a failed
                // write is cut off below).
                Err(_) => {
                    let _ = file.set_len(*len);
                    self.cannot_spill = true;
                }
            }
        }
    }

    /// Bytes of hashes so far (8 a whole block).
    pub(super) fn len(&self) -> u64 {
        self.spilled.as_ref().map_or(0, |(_, n)| *n) + self.packed.len() as u64
    }

    /// The first `limit` bytes of hashes, from the start.
    pub(super) fn read(&mut self, limit: u64) -> io::Result<impl Read + '_> {
        use std::io::SeekFrom;
        let spilled: Box<dyn Read> = match &mut self.spilled {
            Some((file, n)) => {
                file.seek(SeekFrom::Start(0))?;
                Box::new(BufReader::new(&*file).take(*n))
            }
            None => Box::new(io::empty()),
        };
        Ok(spilled.chain(&self.packed[..]).take(limit))
    }

    /// Every hash, in memory.
    fn into_vec(mut self) -> io::Result<Vec<u8>> {
        let mut all = Vec::with_capacity(self.len() as usize);
        self.read(u64::MAX)?.read_to_end(&mut all)?;
        Ok(all)
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
    let count = h.count;
    let mine = &h.blocks.into_vec()?;
    Ok(longer
        .iter()
        .find(|(_, _, imported, blocks)| {
            !mine.is_empty() && count <= *imported && blocks.starts_with(mine)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hashes read back are the same whether they stayed in memory or went to a
    /// file part of the way, and `read` stops at the limit it is given.
    #[test]
    fn spilled_block_hashes_read_back_whole_and_in_order() {
        let data: Vec<u8> = (0..40 * BLOCK + 300).map(|i| (i * 7 % 251) as u8).collect();
        let mut kept = BlockHashes::default();
        let mut spilled = BlockHashes {
            spill_at: 24,
            ..BlockHashes::default()
        };
        // Uneven pieces, as reads come.
        for piece in data.chunks(1000) {
            kept.update(piece);
            spilled.update(piece);
        }
        assert!(spilled.spilled.is_some() && kept.spilled.is_none());
        assert_eq!(kept.len(), 40 * 8);
        assert_eq!(spilled.len(), kept.len());
        let mut a = Vec::new();
        kept.read(u64::MAX).unwrap().read_to_end(&mut a).unwrap();
        let mut b = Vec::new();
        spilled.read(u64::MAX).unwrap().read_to_end(&mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..8], &xxh3_64(&data[..BLOCK]).to_le_bytes());
        let mut first = Vec::new();
        spilled
            .read(13 * 8)
            .unwrap()
            .read_to_end(&mut first)
            .unwrap();
        assert_eq!(first, a[..13 * 8]);
        assert_eq!(spilled.into_vec().unwrap(), a);
    }
}
