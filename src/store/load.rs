//! Loading one input: its transaction (everything it writes commits together or not at
//! all), the secondary indexes dropped for a big load, the journal of the first load.

use std::cell::{Cell, OnceCell, RefCell};

use rusqlite::Transaction;

use super::typos::DomainCounts;
use super::write::MessageWriter;
use super::{Result, Store, StoreError, sql_error};

/// Up to this many deliveries in the store, a bulk load's indexes are sorted in one run in
/// memory (`Load::recreate_indexes`): the largest index's keys (a recipient address and a
/// row id, about 40 bytes) stay within 16 MiB up to about 400 k rows.
const SORTED_IN_MEMORY_DELIVERIES: i64 = 250_000;

/// From this share of its input read on, a bulk load may build the indexes it dropped
/// while it still reads (`Load::rebuild_next_index_early`).
pub(crate) const EARLY_INDEXES_FROM_READ_SHARE: f64 = 0.5;

/// One input's transaction.
pub(crate) struct Load<'s> {
    pub(super) tx: Transaction<'s>,
    pub(super) path: String,
    /// The search index is kept current row by row during this load. Not on a bulk load
    /// (the index would cost it a third of its time; the first search catches up instead),
    /// nor while the index is behind from one: rows indexed above the gap would hide it.
    pub(super) indexes_search: bool,
    /// How many of the indexes a bulk load dropped (`schema::BULK_INDEXES`, in order) are
    /// built again; all of them outside a bulk load. A cell: they are built between the
    /// writer's batches, while it borrows the transaction.
    indexes_rebuilt: Cell<usize>,
    /// Starts the kernel writing the store's pages out (`start_writeback`); made at the
    /// first call.
    writeback: OnceCell<Option<Writeback>>,
    /// On a load into a store without deliveries: the delivery rows it writes, counted
    /// per domain as the typo pass counts them (`Load::mark_typo_domains`), kept current
    /// by the writer as it inserts and replaces rows.
    pub(super) domain_counts: RefCell<Option<DomainCounts>>,
    /// The newest `last_seen` of the logged messages this load writes, per sending host,
    /// kept by the writer; into `hosts_seen` as the load commits.
    pub(super) hosts_seen: RefCell<HostsSeen>,
}

/// Sending host → the newest `last_seen` among its logged messages (looked up for every
/// message written: the map's quicker hasher).
pub(super) type HostsSeen = hashbrown::HashMap<String, i64>;

/// A thread that asks the kernel to start writing a file's dirty pages out
/// (`sync_file_range`). The call returns once the writes are queued, which is not at once:
/// the first of a 1 M-line import, with tens of megabytes dirty, took 2.5 ms on the test VM
/// when it was quiet and 20 ms when it was busy, time the writing thread is short of. Asked
/// while it is still busy, it goes again once, after.
struct Writeback {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    #[cfg(target_os = "linux")]
    fn start(path: &std::path::Path) -> Option<Writeback> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path).ok()?;
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("store-writeback".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // SAFETY: a plain system call on a descriptor this thread owns; it
                    // touches no memory of ours. Its result does not matter: the commit
                    // syncs.
                    unsafe {
                        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
                    }
                }
            })
            .ok()?;
        Some(Writeback {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn start(_path: &std::path::Path) -> Option<Writeback> {
        None
    }

    fn request(&self) {
        if let Some(wake) = &self.wake {
            // Full: a request is already waiting, and it covers this one.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
        let empty = super::highest_delivery_id(&tx).map_err(|e| sql_error(&path, e))? == 0;
        Ok(Load {
            tx,
            path,
            indexes_search: !behind,
            indexes_rebuilt: Cell::new(super::schema::BULK_INDEXES.len()),
            writeback: OnceCell::new(),
            domain_counts: RefCell::new(empty.then(DomainCounts::new)),
            hosts_seen: RefCell::default(),
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

    /// Brings `hosts_seen` up to the messages this load wrote: a host's row only ever
    /// moves forward, as the newest of its messages does.
    fn record_hosts_seen(&self) -> Result<()> {
        let run = || -> rusqlite::Result<()> {
            let mut upsert = self.tx.prepare_cached(
                "INSERT INTO hosts_seen (host, last_seen) VALUES (?1, ?2)
                 ON CONFLICT (host) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)",
            )?;
            for (host, last_seen) in self.hosts_seen.borrow().iter() {
                upsert.execute(rusqlite::params![host, last_seen])?;
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    pub(crate) fn writer(&self) -> Result<MessageWriter<'_>> {
        MessageWriter::new(
            &self.tx,
            &self.path,
            self.indexes_search,
            &self.domain_counts,
            &self.hosts_seen,
        )
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
        if bulk {
            self.indexes_rebuilt.set(0);
        }
        Ok(bulk)
    }

    /// Whether the rows written are indexed for search as they are written.
    pub(crate) fn indexes_search(&self) -> bool {
        self.indexes_search
    }

    /// Whether indexes dropped for a bulk load are still to be built.
    fn indexes_to_rebuild(&self) -> bool {
        self.indexes_rebuilt.get() < super::schema::BULK_INDEXES.len()
    }

    /// Has the kernel start writing out the pages written to the store so far, without
    /// waiting for them: the commit's `fsync` then waits only for what is left. A bulk load
    /// writes tens of megabytes that the kernel would otherwise hold until that `fsync`;
    /// called when the writing thread waits for the parser, the 1 M-line log's commit took
    /// 0.030 s instead of 0.043-0.046 s (three rounds each). SQLite's own dirty pages go to
    /// the file first (as a full cache would spill them; a rollback still undoes them): the
    /// commit's `fsync` then took 0.019 s instead of 0.023 s, and the import 0.805 instead
    /// of 0.845 s (medians of eight alternating runs). Where a helper thread cannot be
    /// made, or elsewhere than Linux, the commit does it all as before.
    pub(crate) fn start_writeback(&self) {
        // The pages SQLite holds dirty in its cache first: written now, they too are on
        // disk by the commit. (A page that needs the journal synced first stays for it.)
        let _ = self.tx.cache_flush();
        let writeback = self
            .writeback
            .get_or_init(|| Writeback::start(std::path::Path::new(&self.path)));
        if let Some(writeback) = writeback {
            writeback.request();
        }
    }

    /// Builds the next index a bulk load dropped while the input is still being read: the
    /// writing thread does it when it would otherwise wait for the parsing one. Rows written
    /// after it keep it current as they go, which costs more per row than sorting them in
    /// at the end, so only
    ///
    /// * once `read_share` (the part of the input read) is at least half: about as many
    ///   rows follow as the index is built over, the extra cost bounded by the time saved;
    /// * while the deliveries the whole input will hold, projected from those so far, are
    ///   few enough for the in-memory sort (`SORTED_IN_MEMORY_DELIVERIES`): the indexes
    ///   then fit the page cache, and rows added to them do not evict what the writer
    ///   needs. On the 10 M-line log, building early and keeping the bigger indexes current
    ///   made the import 1.07x slower and its peak memory 121 MB instead of 101.
    ///
    /// On the generator's 1 M-line log, whose writer waits for most of its last 40 %
    /// (retries only), six of the seven indexes are built in that wait: the import took
    /// 0.97-1.09 s instead of 1.20-1.22 s (three rounds each). Single-threaded: the parsing
    /// thread has the other core. False when there is nothing to build now, nor later in
    /// this load.
    pub(crate) fn rebuild_next_index_early(&self, read_share: f64) -> Result<bool> {
        if !self.indexes_to_rebuild() || read_share < EARLY_INDEXES_FROM_READ_SHARE {
            return Ok(self.indexes_to_rebuild());
        }
        let deliveries = super::highest_delivery_id(&self.tx).map_err(|e| self.err(e))?;
        if deliveries as f64 / read_share > SORTED_IN_MEMORY_DELIVERIES as f64 {
            return Ok(false);
        }
        self.rebuild_indexes(1, 0)?;
        Ok(self.indexes_to_rebuild())
    }

    /// Builds the indexes dropped for a bulk load that are not built yet, once the input is
    /// read. How SQLite's sorter is set for it depends on how much there is to sort:
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
        self.rebuild_indexes(usize::MAX, cores as i64)
    }

    /// Builds up to `at_most` of the indexes still to build, sorting on `threads` helper
    /// threads when the table is too big to sort in memory.
    fn rebuild_indexes(&self, at_most: usize, threads: i64) -> Result<()> {
        let pending = &super::schema::BULK_INDEXES[self.indexes_rebuilt.get()..];
        if pending.is_empty() {
            return Ok(());
        }
        let run = || -> rusqlite::Result<()> {
            let deliveries = super::highest_delivery_id(&self.tx)?;
            let (sort_cache_kib, threads) = if deliveries <= SORTED_IN_MEMORY_DELIVERIES {
                (-16_384, 0)
            } else {
                (-4096, threads)
            };
            self.tx.pragma_update(None, "cache_size", sort_cache_kib)?;
            self.tx.pragma_update(None, "threads", threads)?;
            for (_, create) in pending.iter().take(at_most) {
                self.tx.execute_batch(create)?;
                self.indexes_rebuilt.set(self.indexes_rebuilt.get() + 1);
            }
            self.tx
                .pragma_update(None, "cache_size", super::PAGE_CACHE_KIB)?;
            self.tx.pragma_update(None, "threads", 0)
        };
        run().map_err(|e| self.err(e))
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.index_for_search()?;
        self.record_hosts_seen()?;
        let path = self.path;
        self.tx.commit().map_err(|e| sql_error(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::BULK_INDEXES;
    use super::*;

    fn indexes_present(load: &Load<'_>) -> usize {
        BULK_INDEXES
            .iter()
            .filter(|(_, create)| {
                let name = create.split_whitespace().nth(2).unwrap();
                load.tx
                    .query_row(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                        [name],
                        |r| r.get::<_, i64>(0),
                    )
                    .unwrap()
                    == 1
            })
            .count()
    }

    fn add_messages(load: &Load<'_>, from: i64, to: i64) {
        for id in from..to {
            load.tx
                .execute(
                    "INSERT INTO messages (id, host, queue_id, first_seen, last_seen, format, message_id)
                     VALUES (?1, 'mta1', 'Q' || ?1, ?1, ?1, 'postfix', 'm' || ?1 || '@x')",
                    [id],
                )
                .unwrap();
            load.tx
                .execute(
                    "INSERT INTO deliveries (id, message_ref, recipient, domain, host, status, code,
                       attempts, deferrals)
                     VALUES (?1, ?1, 'r' || ?1 || '@d.example', 'd.example', 'mta1',
                       CASE WHEN ?1 % 3 = 0 THEN 'bounced' ELSE 'sent' END, '5.1.1', 1, 0)",
                    [id],
                )
                .unwrap();
        }
    }

    /// A new store in its own temporary directory (kept alive with it).
    fn new_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
        (dir, store)
    }

    #[test]
    fn indexes_built_early_are_kept_current_by_the_rows_written_after_them() {
        let (_dir, mut store) = new_store();
        let mut load = store.begin_load().unwrap();
        assert!(load.drop_indexes_for_bulk_load(Some(1 << 30)).unwrap());
        assert_eq!(indexes_present(&load), 0);
        add_messages(&load, 1, 200);

        // Not before half the input is read: more to do later, nothing built now.
        assert!(load.rebuild_next_index_early(0.3).unwrap());
        assert_eq!(indexes_present(&load), 0);
        assert!(load.rebuild_next_index_early(0.5).unwrap());
        assert_eq!(indexes_present(&load), 1);
        add_messages(&load, 200, 300);
        let mut built = 1;
        while load.rebuild_next_index_early(0.8).unwrap() {
            built += 1;
            assert_eq!(indexes_present(&load), built);
        }
        assert_eq!(indexes_present(&load), BULK_INDEXES.len());
        add_messages(&load, 300, 400);
        load.recreate_indexes().unwrap();
        load.commit().unwrap();

        let conn = &store.conn;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        // Rows written before, between and after the early builds, found through them.
        for id in [150, 250, 350] {
            let found: i64 = conn
                .query_row(
                    "SELECT count(*) FROM deliveries INDEXED BY deliveries_recipient
                     WHERE recipient = 'r' || ?1 || '@d.example'",
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(found, 1, "delivery {id}");
            let found: i64 = conn
                .query_row(
                    "SELECT count(*) FROM messages INDEXED BY messages_queue WHERE queue_id = 'Q' || ?1",
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(found, 1, "message {id}");
        }
    }

    #[test]
    fn no_index_is_built_early_for_a_load_too_big_to_sort_in_memory() {
        let (_dir, mut store) = new_store();
        let mut load = store.begin_load().unwrap();
        assert!(load.drop_indexes_for_bulk_load(Some(1 << 40)).unwrap());
        // Deliveries so far, by their highest id: at 60 % read, the load is projected to
        // end above the in-memory sort's limit.
        let so_far = SORTED_IN_MEMORY_DELIVERIES * 6 / 10 + 1;
        add_messages(&load, so_far, so_far + 1);
        assert!(!load.rebuild_next_index_early(0.6).unwrap());
        assert_eq!(indexes_present(&load), 0);
        // Below it, the same call builds one.
        assert!(load.rebuild_next_index_early(0.7).unwrap());
        assert_eq!(indexes_present(&load), 1);
        load.recreate_indexes().unwrap();
        assert_eq!(indexes_present(&load), BULK_INDEXES.len());
    }
}
