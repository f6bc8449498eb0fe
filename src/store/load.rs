//! Loading one input: its transaction (everything it writes commits together or not at
//! all), the secondary indexes dropped for a big load, the journal of the first load.

use rusqlite::Transaction;

use super::write::MessageWriter;
use super::{Result, Store, StoreError, sql_error};

/// Up to this many deliveries in the store, a bulk load's indexes are sorted in one run in
/// memory (`Load::recreate_indexes`): the largest index's keys (a recipient address and a
/// row id, about 40 bytes) stay within 16 MiB up to about 400 k rows.
const SORTED_IN_MEMORY_DELIVERIES: i64 = 250_000;

/// One input's transaction.
pub(crate) struct Load<'s> {
    pub(super) tx: Transaction<'s>,
    pub(super) path: String,
    /// The search index is kept current row by row during this load. Not on a bulk load
    /// (the index would cost it a third of its time; the first search catches up instead),
    /// nor while the index is behind from one: rows indexed above the gap would hide it.
    pub(super) indexes_search: bool,
}

impl Store {
    /// The id the next delivery row written gets (a rewritten row gets a new id too).
    pub(crate) fn next_delivery_id(&self) -> Result<i64> {
        super::highest_delivery_id(&self.conn)
            .map(|id| id + 1)
            .map_err(|e| self.err(e))
    }

    /// Whether SQLite checks each written row's parent row. Outside a transaction only
    /// (SQLite ignores the setting inside one); statements prepared before are prepared
    /// again under the new setting.
    pub(crate) fn check_foreign_keys(&self, on: bool) -> Result<()> {
        self.conn
            .pragma_update(None, "foreign_keys", on)
            .map_err(|e| self.err(e))
    }

    pub(crate) fn begin_load(&mut self) -> Result<Load<'_>> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql_error(&path, e))?;
        let behind = super::search::search_index_behind(&tx).map_err(|e| sql_error(&path, e))?;
        Ok(Load {
            tx,
            path,
            indexes_search: !behind,
        })
    }

    /// The first load into an empty store goes through a rollback journal instead of the
    /// WAL: every page it writes is new, so the journal stays tiny and each page is
    /// written once, where the WAL writes it twice (to the log, then at the checkpoint).
    /// It is as atomic — an interrupted load leaves the store empty — but readers wait
    /// for it instead of reading alongside, which an empty store does not miss. True when
    /// switched; another open connection keeps the store in WAL (SQLite refuses the
    /// switch then).
    pub(crate) fn first_load_journal(&self) -> Result<bool> {
        let empty: bool = self
            .conn
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM deliveries) AND NOT EXISTS (SELECT 1 FROM bounces)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if !empty {
            return Ok(false);
        }
        let mode = self
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap_or_default();
        Ok(mode.eq_ignore_ascii_case("delete"))
    }

    /// Back to WAL after a first load, so readers read alongside the next writer. Should
    /// another connection prevent it now, the next open of the store does it.
    pub(crate) fn back_to_wal(&self) {
        let _ = self.conn.pragma_update(None, "journal_mode", "WAL");
    }
}

impl Load<'_> {
    pub(super) fn err(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.path, source)
    }

    pub(crate) fn writer(&self) -> Result<MessageWriter<'_>> {
        MessageWriter::new(&self.tx, &self.path, self.indexes_search)
    }

    /// On a bulk load (an input bigger than what the store holds), dropping the secondary
    /// indexes and building them once at the end is several times faster than keeping
    /// them up to date row by row. Inside the input's transaction, so a failure restores
    /// them. The search index is left to the first search then (`Load::indexes_search`).
    pub(crate) fn drop_indexes_for_bulk_load(&mut self, input_bytes: Option<u64>) -> Result<bool> {
        let run = || -> rusqlite::Result<bool> {
            let Some(bytes) = input_bytes else {
                return Ok(false);
            };
            let stored = super::highest_delivery_id(&self.tx)?;
            // About one delivery per 2 KB of log.
            if bytes / 2048 < 4 * stored as u64 + 1000 {
                return Ok(false);
            }
            for (drop, _) in super::schema::BULK_INDEXES {
                self.tx.execute_batch(drop)?;
            }
            Ok(true)
        };
        let bulk = run().map_err(|e| self.err(e))?;
        self.indexes_search &= !bulk;
        Ok(bulk)
    }

    /// Whether the rows written are indexed for search as they are written.
    pub(crate) fn indexes_search(&self) -> bool {
        self.indexes_search
    }

    /// Builds the indexes dropped for a bulk load. How SQLite's sorter is set for it
    /// depends on how much there is to sort:
    ///
    /// * a big table spills to sorted runs on disk whatever the cache; the parsing thread
    ///   is done by now, so the runs are sorted on the other cores too (`PRAGMA threads`:
    ///   on two, 10 M delivery lines' indexes in 4.6 s instead of 7.7 s). Each sorting
    ///   thread holds as much as the page cache, so the cache is cut to 4 MiB meanwhile:
    ///   the indexes are written in order and do not need it, and the import's peak memory
    ///   stays where it was (141 MB on that log, 137 MB with one thread and this cache);
    /// * a small one fits in one run in memory if the cache lets it: split into 4 MiB
    ///   runs and merged, the seven indexes of 102 k deliveries took 0.27-0.30 s, sorted
    ///   whole in 16 MiB 0.22-0.23 s (four rounds each). Its rows are few, so the memory
    ///   they take is too.
    pub(crate) fn recreate_indexes(&self) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let run = || -> rusqlite::Result<()> {
            let deliveries = super::highest_delivery_id(&self.tx)?;
            let (sort_cache_kib, threads) = if deliveries <= SORTED_IN_MEMORY_DELIVERIES {
                (-16_384, 0)
            } else {
                (-4096, cores as i64)
            };
            self.tx.pragma_update(None, "cache_size", sort_cache_kib)?;
            self.tx.pragma_update(None, "threads", threads)?;
            for (_, create) in super::schema::BULK_INDEXES {
                self.tx.execute_batch(create)?;
            }
            self.tx
                .pragma_update(None, "cache_size", super::PAGE_CACHE_KIB)?;
            self.tx.pragma_update(None, "threads", 0)
        };
        run().map_err(|e| self.err(e))
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.index_for_search()?;
        let path = self.path;
        self.tx.commit().map_err(|e| sql_error(&path, e))
    }
}
