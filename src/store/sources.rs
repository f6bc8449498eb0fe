//! The inputs already imported (`sources`): how far each was read and the fingerprints
//! that recognise it again, grown, rotated or copied.

use rusqlite::{OptionalExtension, params};

use super::load::Load;
use super::{Result, Store};

/// How far a source was read, over every import of it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadSoFar {
    /// Bytes counted as imported, and their hash.
    pub(crate) bytes: u64,
    pub(crate) hash: u64,
    pub(crate) lines: u64,
    pub(crate) events: u64,
    pub(crate) lines_skipped: u64,
}

pub(crate) struct KnownSource {
    pub(crate) id: i64,
    /// How many first bytes identify it, and their hash.
    pub(crate) head: (usize, u64),
    pub(crate) read: ReadSoFar,
    /// The zone its zoneless stamps were read in, when the user gave one (`--tz`).
    pub(crate) tz: Option<String>,
}

/// A known source: id, path, bytes imported, block hashes.
pub(crate) type LongerSource = (i64, String, u64, Vec<u8>);

/// What a log input's import records of it.
pub(crate) struct SourceRecord<'a> {
    pub(crate) path: &'a str,
    pub(crate) format: &'a str,
    pub(crate) head: (usize, u64),
    pub(crate) read: ReadSoFar,
    /// JSON of the skipped lines shown.
    pub(crate) skipped_sample: &'a str,
    pub(crate) imported_at: i64,
    pub(crate) tz: Option<&'a str>,
    /// Bytes of block hashes, read from the reader `record_source` is given.
    pub(crate) block_hashes_len: u64,
}

impl Store {
    /// Every known source, longest import first.
    pub(crate) fn known_sources(&self) -> Result<Vec<KnownSource>> {
        let run = || -> rusqlite::Result<Vec<KnownSource>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, head_len, head_hash, imported_bytes, imported_hash, lines_read, events, lines_skipped, tz
                 FROM sources ORDER BY imported_bytes DESC",
            )?;
            stmt.query_map([], |r| {
                Ok(KnownSource {
                    id: r.get(0)?,
                    head: (r.get::<_, i64>(1)? as usize, r.get::<_, i64>(2)? as u64),
                    read: ReadSoFar {
                        bytes: r.get::<_, i64>(3)? as u64,
                        hash: r.get::<_, i64>(4)? as u64,
                        lines: r.get::<_, i64>(5)? as u64,
                        events: r.get::<_, i64>(6)? as u64,
                        lines_skipped: r.get::<_, i64>(7)? as u64,
                    },
                    tz: r.get(8)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// Known sources whose block hashes begin with `first` (the hash of a first block),
    /// longest import first.
    pub(crate) fn sources_by_first_block(&self, first: &[u8]) -> Result<Vec<LongerSource>> {
        let run = || -> rusqlite::Result<Vec<LongerSource>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, path, imported_bytes, block_hashes FROM sources
                 WHERE substr(block_hashes, 1, 8) = ?1 ORDER BY imported_bytes DESC",
            )?;
            stmt.query_map([first], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64, r.get(3)?))
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The last time logged mail of sending host `host` was seen.
    pub(crate) fn newest_logged(&self, host: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(NEWEST_LOGGED, [host], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}

/// One row, however many messages the host has (`Load::hosts_seen` keeps it).
const NEWEST_LOGGED: &str = "SELECT last_seen FROM hosts_seen WHERE host = ?1";

impl Load<'_> {
    /// Records a log input: a new source, or the known source `known` read further.
    pub(crate) fn record_source(
        &self,
        known: Option<i64>,
        s: &SourceRecord<'_>,
        block_hashes: &mut dyn std::io::Read,
    ) -> Result<()> {
        match known {
            Some(id) => self.tx.execute(
                "UPDATE sources SET path = ?2, imported_bytes = ?3, imported_hash = ?4, lines_read = ?5,
                 events = ?6, lines_skipped = ?7, imported_at = ?8, tz = coalesce(?9, tz),
                 block_hashes = zeroblob(?10) WHERE id = ?1",
                params![
                    id,
                    s.path,
                    s.read.bytes as i64,
                    s.read.hash as i64,
                    s.read.lines as i64,
                    s.read.events as i64,
                    s.read.lines_skipped as i64,
                    s.imported_at,
                    s.tz,
                    s.block_hashes_len as i64
                ],
            ),
            None => self.tx.execute(
                "INSERT INTO sources (path, format, head_len, head_hash, imported_bytes, imported_hash,
                 lines_read, events, lines_skipped, skipped_sample, imported_at, tz, block_hashes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, zeroblob(?13))",
                params![
                    s.path,
                    s.format,
                    s.head.0 as i64,
                    s.head.1 as i64,
                    s.read.bytes as i64,
                    s.read.hash as i64,
                    s.read.lines as i64,
                    s.read.events as i64,
                    s.read.lines_skipped as i64,
                    s.skipped_sample,
                    s.imported_at,
                    s.tz,
                    s.block_hashes_len as i64
                ],
            ),
        }
        .map_err(|e| self.err(e))?;
        // The hashes grow with the log (19 MB for a 10 M-line one): written into the
        // zeroed blob a piece at a time, never whole in memory.
        let row = known.unwrap_or_else(|| self.tx.last_insert_rowid());
        let mut blob = self
            .tx
            .blob_open(rusqlite::MAIN_DB, "sources", "block_hashes", row, false)
            .map_err(|e| self.err(e))?;
        // A hash file that cannot be read is a value that cannot be stored.
        let unreadable =
            |e: std::io::Error| self.err(rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
        let mut piece = vec![0u8; 1 << 16];
        let mut at = 0usize;
        loop {
            let n = block_hashes.read(&mut piece).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            blob.write_at(&piece[..n], at).map_err(|e| self.err(e))?;
            at += n;
        }
        if at as u64 != s.block_hashes_len {
            return Err(unreadable(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the import's block hashes ended early",
            )));
        }
        blob.close().map_err(|e| self.err(e))
    }

    /// Whether a bounce email of this many bytes with this hash was imported already.
    pub(crate) fn email_known(&self, hash: u64, bytes: u64) -> Result<bool> {
        self.tx
            .prepare_cached(
                "SELECT id FROM sources WHERE format = 'eml' AND imported_hash = ?1 AND imported_bytes = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![hash as i64, bytes as i64], |r| r.get::<_, i64>(0))
                    .optional()
            })
            .map(|found| found.is_some())
            .map_err(|e| self.err(e))
    }

    /// Records one bounce email (`label` names it) as a source; its id.
    pub(crate) fn add_email_source(
        &self,
        label: &str,
        head: (usize, u64),
        bytes: u64,
        hash: u64,
        recipients: u64,
        imported_at: i64,
    ) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO sources (path, format, head_len, head_hash, imported_bytes, imported_hash,
                 lines_read, events, lines_skipped, imported_at)
                 VALUES (?1, 'eml', ?2, ?3, ?4, ?5, 1, ?6, 0, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    label,
                    head.0 as i64,
                    head.1 as i64,
                    bytes as i64,
                    hash as i64,
                    recipients as i64,
                    imported_at
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(self.tx.last_insert_rowid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::MessageState;

    fn message(host: &str, queue_id: &str, format: &'static str, last_seen: i64) -> MessageState {
        MessageState {
            host: host.into(),
            queue_id: queue_id.into(),
            format,
            first_seen: last_seen - 10,
            last_seen,
            ..MessageState::placeholder()
        }
    }

    /// Writes `messages` in one load, as an import does.
    fn load(store: &mut Store, messages: &mut [MessageState]) {
        let load = store.begin_load().unwrap();
        {
            let mut writer = load.writer().unwrap();
            for m in messages.iter_mut() {
                writer.write_with_rows(m, &[]).unwrap();
            }
        }
        load.commit().unwrap();
    }

    #[test]
    fn the_newest_logged_message_of_each_host_is_kept_as_loads_write_them() {
        let mut store = Store::open(":memory:").unwrap();
        assert_eq!(store.newest_logged("mx1").unwrap(), None);
        let mut first = [
            message("mx1", "A1", "postfix", 1_000),
            message("mx1", "A2", "postfix", 3_000),
            message("mx1", "A3", "postfix", 2_000),
            message("mx2", "B1", "exim", 500),
            // A bounce report is no logged mail of its host.
            message("mx1", "r@x", "eml", 9_000),
        ];
        load(&mut store, &mut first);
        assert_eq!(store.newest_logged("mx1").unwrap(), Some(3_000));
        assert_eq!(store.newest_logged("mx2").unwrap(), Some(500));
        assert_eq!(store.newest_logged("mx3").unwrap(), None);

        // An older log imported later does not move a host back; a message continued past
        // the newest one moves it on.
        let mut older = [message("mx1", "C1", "postfix", 100)];
        load(&mut store, &mut older);
        assert_eq!(store.newest_logged("mx1").unwrap(), Some(3_000));
        first[3].last_seen = 4_000;
        load(&mut store, &mut first[3..4]);
        assert_eq!(store.newest_logged("mx2").unwrap(), Some(4_000));

        // What an index over the messages would say.
        let by_messages: Vec<(String, i64)> = store
            .conn
            .prepare(
                "SELECT host, max(last_seen) FROM messages WHERE format != 'eml'
                 GROUP BY host ORDER BY host",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(by_messages, [("mx1".into(), 3_000), ("mx2".into(), 4_000)]);
    }

    #[test]
    fn a_load_that_fails_leaves_the_hosts_as_they_were() {
        let mut store = Store::open(":memory:").unwrap();
        load(&mut store, &mut [message("mx1", "A1", "postfix", 1_000)]);
        {
            let load = store.begin_load().unwrap();
            let mut writer = load.writer().unwrap();
            writer
                .write_with_rows(&mut message("mx1", "A2", "postfix", 5_000), &[])
                .unwrap();
            // Dropped without a commit, as a failed import is.
        }
        assert_eq!(store.newest_logged("mx1").unwrap(), Some(1_000));
    }
}
