//! The SQLite store: schema and migrations, batched writes, typed queries. Every SQL
//! parameter is bound; no SQL is built from input.

pub mod browse;
pub mod checks;
mod columns;
pub mod evidence;
pub mod line_counts;
pub(crate) mod links;
pub(crate) mod load;
pub mod raw;
pub mod report;
pub mod requeue;
pub mod schema;
pub mod search;
mod settings;
pub(crate) mod sources;
mod testing;
mod timeline;
mod traffic;
mod typos;
pub use typos::TypoFlag;
pub mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "store {path} was written by a newer sendlog (schema {found}, this one knows {known}); it was not changed"
    )]
    Newer {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path} is not a sendlog store (it holds other tables); it was not changed")]
    Foreign { path: String },
    #[error(
        "store {path} holds {what} that sendlog did not create; it was not used (a store prepared by someone else can run its own code when read)"
    )]
    Tampered { path: String, what: String },
    #[error("store {path} is busy: another sendlog is writing to it; try again when it is done")]
    Busy { path: String },
    #[error("cannot create the store's folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The page cache, as SQLite's `cache_size` takes it (negative: KiB).
pub(crate) const PAGE_CACHE_KIB: i64 = -16_384;

/// The page size of a new store. Twice SQLite's default: a bulk load splits and writes half
/// as many pages and builds each index over half as many (a 1 M-line import 0.89x the time
/// of 4 KiB pages, six alternating pairs; 0.90x by the median of seven rounds, in which
/// 16 KiB pages gave 0.99x). 16 KiB pages made a 10 M-line store's report slower
/// (10.7-11.7 s against 10.2-10.4 s with 4 KiB, 10.1-10.3 s with 8 KiB): its queries that
/// reach rows through an index read a whole page for each, four times the bytes.
pub(crate) const PAGE_BYTES: i64 = 8_192;

/// The highest delivery id in the store (0 when it has none). Every row written next gets
/// an id above it, so it tells how big the table is and which rows a load wrote.
pub(crate) fn highest_delivery_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(id), 0) FROM deliveries", [], |r| {
        r.get(0)
    })
}

/// A SQLite error on the store at `path`; a lock held by another writer reads as "busy".
pub(crate) fn sql_error(path: &str, source: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(e, _) = &source
        && matches!(
            e.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        )
    {
        return StoreError::Busy {
            path: path.to_string(),
        };
    }
    StoreError::Sqlite {
        path: path.to_string(),
        source,
    }
}

pub struct Store {
    conn: Connection,
    pub path: String,
}

/// The default store: the platform data dir (`~/.local/share/sendlog/sendlog.db`).
pub(crate) fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "sendlog")
        .map(|d| d.data_dir().join("sendlog.db"))
        .unwrap_or_else(|| PathBuf::from("sendlog.db"))
}

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`; `:memory:` is a
    /// throwaway store.
    pub fn open(path: &str) -> Result<Store> {
        let sql = |source| StoreError::Sqlite {
            path: path.to_string(),
            source,
        };
        let conn = if path == ":memory:" {
            Connection::open_in_memory().map_err(sql)?
        } else {
            if let Some(dir) = Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sql)?
        };
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .map_err(sql)?;
        harden(&conn).map_err(sql)?;
        let mut store = Store {
            conn,
            path: path.to_string(),
        };
        store.check_and_migrate()?;
        Ok(store)
    }

    /// How many deliveries a store made by an older sendlog holds, read without changing
    /// it: opening it migrates it, which on a big store takes a while (schema 18 rebuilds
    /// the deliveries table, ≈ 15 s a million). `None` for a current store, a new path, or
    /// anything unreadable (opening it says what is wrong).
    pub fn older_store_deliveries(path: &str) -> Option<i64> {
        if path == ":memory:" || !Path::new(path).exists() {
            return None;
        }
        let (conn, version) = open_for_reading(&file_uri(path)).ok()?;
        if version == 0 || version >= schema::CURRENT_VERSION {
            return None;
        }
        highest_delivery_id(&conn).ok()
    }

    /// Opens an existing store for reading only: nothing is written, so it works on a
    /// read-only disk. A store from an older sendlog is migrated first (opened once for
    /// writing), since this version cannot read the older schema.
    pub(crate) fn open_read_only(path: &str) -> Result<Store> {
        if path == ":memory:" {
            return Store::open(path);
        }
        let sql = |source| sql_error(path, source);
        let uri = file_uri(path);
        let (conn, version) = match open_for_reading(&uri) {
            Ok(c) => c,
            // A store in WAL mode needs its shared-memory file, which a read-only folder
            // cannot hold: read it as immutable there (nothing else can be writing).
            Err(_) => open_for_reading(&format!("{uri}?immutable=1")).map_err(sql)?,
        };
        if version < schema::CURRENT_VERSION {
            drop(conn);
            drop(Store::open(path)?);
            return Store::open_read_only(path);
        }
        let store = Store {
            conn,
            path: path.to_string(),
        };
        store.check_version(version)?;
        store.check_objects(version)?;
        store
            .conn
            .pragma_update(None, "query_only", true)
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.path, source)
    }

    fn check_version(&self, version: i64) -> Result<()> {
        let known = schema::CURRENT_VERSION;
        if version > known {
            return Err(StoreError::Newer {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        Ok(())
    }

    /// Refuses a store holding a table, index, view or trigger that sendlog's migrations
    /// up to `version` did not create, or one of theirs with another definition: someone
    /// else's trigger or view runs whenever sendlog writes or reads through it.
    fn check_objects(&self, version: i64) -> Result<()> {
        if version == 0 {
            return Ok(());
        }
        let found = schema_objects(&self.conn).map_err(|e| self.err(e))?;
        let expected = &expected_objects()[version as usize];
        let stranger = found
            .iter()
            .find(|o| !expected.contains(*o))
            .or_else(|| expected.iter().find(|o| !found.contains(*o)));
        match stranger {
            None => Ok(()),
            Some((kind, name, _)) => Err(StoreError::Tampered {
                path: self.path.clone(),
                what: format!("{} {}", kind, crate::sanitize::for_terminal(name)),
            }),
        }
    }

    fn check_and_migrate(&mut self) -> Result<()> {
        // Reading the schema first also tells a foreign or corrupt file from a store
        // before anything is written to it.
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = schema::CURRENT_VERSION;
        self.check_version(version)?;
        self.check_objects(version)?;
        if version == 0 {
            let tables: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if tables > 0 {
                return Err(StoreError::Foreign {
                    path: self.path.clone(),
                });
            }
            // A new file only: SQLite fixes the page size at the first write (WAL mode
            // included), and changing it later means rewriting the whole file.
            self.conn
                .pragma_update(None, "page_size", PAGE_BYTES)
                .map_err(|e| self.err(e))?;
        }
        // A new file stays in the rollback journal until its first load has ended
        // (`Store::back_to_wal`), or until it is opened again: that load would switch to
        // the journal anyway (`Store::first_load_journal`), and each switch is a
        // transaction of its own, with its syncs (the 1 M-line import into a new store
        // began parsing at 17 ms instead of 25 ms).
        if self.path != ":memory:" && version > 0 {
            self.conn
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| self.err(e))?;
        }
        // 16 MiB of page cache. Twice that measured no faster on a 2 M-line import and
        // cost 20 MB of peak memory, which must stay under 150 MB whatever the input.
        self.conn
            .pragma_update(None, "cache_size", PAGE_CACHE_KIB)
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.err(e))?;
        if version < known {
            // A migration may rebuild a table others refer to (18 does): SQLite's procedure
            // for that runs with foreign keys off (the rows keep their ids). On after.
            self.conn
                .pragma_update(None, "foreign_keys", "OFF")
                .map_err(|e| self.err(e))?;
            let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            for migration in &schema::MIGRATIONS[version as usize..] {
                tx.execute_batch(migration)
                    .map_err(|e| StoreError::Sqlite {
                        path: self.path.clone(),
                        source: e,
                    })?;
            }
            tx.pragma_update(None, "user_version", known)
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
            tx.commit().map_err(|e| self.err(e))?;
        }
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// A store's file opened read-only and hardened, with its schema version.
fn open_for_reading(uri: &str) -> rusqlite::Result<(Connection, i64)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    harden(&conn)?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((conn, version))
}

/// Turns off what lets a prepared database file run code of its author's choosing: SQL
/// functions with side effects called from its views and triggers (`trusted_schema`), and
/// writes that corrupt the file on purpose (defensive mode).
fn harden(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    Ok(())
}

/// `file:` URI of a path, with the characters a URI gives meaning to escaped.
fn file_uri(path: &str) -> String {
    format!(
        "file:{}",
        path.replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23")
    )
}

type SchemaObject = (String, String, Option<String>);

/// Every table, index, view and trigger, with its definition. A table is known by its
/// name only: SQLite rewrites a table's text when a column is added or dropped, and a
/// table runs nothing when read; views, triggers and indexes are compared whole.
fn schema_objects(conn: &Connection) -> rusqlite::Result<std::collections::BTreeSet<SchemaObject>> {
    let mut stmt = conn.prepare(
        // The statistics tables ANALYZE (or `PRAGMA optimize`) writes are SQLite's own: only
        // the query planner reads them, they run nothing, and a user may well analyse a store.
        "SELECT type, name, CASE WHEN type = 'table' THEN NULL ELSE sql END FROM sqlite_master
         WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'",
    )?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

/// For each schema version, the objects sendlog's migrations leave: found by running them
/// on an empty database, once per process.
fn expected_objects() -> &'static [std::collections::BTreeSet<SchemaObject>] {
    static EXPECTED: std::sync::OnceLock<Vec<std::collections::BTreeSet<SchemaObject>>> =
        std::sync::OnceLock::new();
    EXPECTED.get_or_init(|| {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        let mut out = vec![std::collections::BTreeSet::new()];
        for m in schema::MIGRATIONS {
            conn.execute_batch(m).expect("the migrations run");
            out.push(schema_objects(&conn).expect("its schema reads"));
        }
        out
    })
}

/// The steps of SQLite's plan for `sql`, its parameters left unbound (a plan does not
/// depend on their values).
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("the query prepares");
    let unbound = vec![rusqlite::types::Value::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(unbound), |r| r.get(3))
        .and_then(|rows| rows.collect())
        .expect("the plan reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_refuse_newer_or_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let p = path.to_str().unwrap();
        drop(Store::open(p).unwrap());
        // Second open is a no-op migration.
        let s = Store::open(p).unwrap();
        s.conn
            .pragma_update(None, "user_version", schema::CURRENT_VERSION + 1)
            .unwrap();
        drop(s);
        assert!(matches!(Store::open(p), Err(StoreError::Newer { .. })));

        let foreign = dir.path().join("other.db");
        let c = Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE t(x)").unwrap();
        drop(c);
        assert!(matches!(
            Store::open(foreign.to_str().unwrap()),
            Err(StoreError::Foreign { .. })
        ));

        let junk = dir.path().join("junk.db");
        std::fs::write(
            &junk,
            b"this is not a database at all, just some text bytes here",
        )
        .unwrap();
        assert!(Store::open(junk.to_str().unwrap()).is_err());
        assert_eq!(
            std::fs::read(&junk).unwrap(),
            b"this is not a database at all, just some text bytes here"
        );
    }

    /// A new store waits in the rollback journal for its first load (which would switch
    /// to it); opened again, it reads alongside writers in WAL.
    #[test]
    fn a_new_store_takes_wal_from_its_second_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let p = path.to_str().unwrap();
        let mode = |s: &Store| -> String {
            s.conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap()
        };
        let first = Store::open(p).unwrap();
        assert_eq!(mode(&first), "delete");
        assert!(first.first_load_journal().unwrap());
        drop(first);
        let again = Store::open(p).unwrap();
        assert_eq!(mode(&again), "wal");
    }

    #[test]
    fn a_new_store_has_large_pages_and_an_older_one_keeps_its_own() {
        let page_size = |p: &str| -> i64 {
            let c = Connection::open(p).unwrap();
            c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        let new = new.to_str().unwrap();
        drop(Store::open(new).unwrap());
        assert_eq!(page_size(new), PAGE_BYTES);

        // A store written by a build that left SQLite's default: opened, migrated from an
        // older schema and written to, it keeps its pages (a new size would need a rewrite).
        let old = dir.path().join("old.db");
        let old = old.to_str().unwrap();
        let c = Connection::open(old).unwrap();
        c.pragma_update(None, "page_size", 4096).unwrap();
        for m in &schema::MIGRATIONS[..17] {
            c.execute_batch(m).unwrap();
        }
        c.pragma_update(None, "user_version", 17).unwrap();
        drop(c);
        let s = Store::open(old).unwrap();
        s.conn
            .execute("INSERT INTO settings (key, value) VALUES ('k', 'v')", [])
            .unwrap();
        drop(s);
        assert_eq!(page_size(old), 4096);
    }

    #[test]
    fn objects_sendlog_did_not_create_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, sql) in [
            (
                "trigger",
                "CREATE TRIGGER evil AFTER INSERT ON resolutions BEGIN DELETE FROM marks; END",
            ),
            ("table", "CREATE TABLE extra (x)"),
            (
                "view",
                "DROP VIEW delivery_attempts; CREATE VIEW delivery_attempts AS SELECT 1 AS x",
            ),
        ] {
            let path = dir.path().join(format!("{name}.db"));
            let p = path.to_str().unwrap();
            drop(Store::open(p).unwrap());
            let c = Connection::open(p).unwrap();
            c.execute_batch(sql).unwrap();
            drop(c);
            for opened in [Store::open(p), Store::open_read_only(p)] {
                match opened {
                    Err(StoreError::Tampered { what, .. }) => assert!(
                        what.contains(name) || what.contains("delivery_attempts"),
                        "{name}: {what}"
                    ),
                    Err(e) => panic!("{name}: {e}"),
                    Ok(_) => panic!("{name}: opened"),
                }
            }
        }
        // A store sendlog made itself, migrated or not, opens; so does one analysed since.
        let fine = dir.path().join("fine.db");
        drop(Store::open(fine.to_str().unwrap()).unwrap());
        assert!(Store::open(fine.to_str().unwrap()).is_ok());
        let c = Connection::open(&fine).unwrap();
        c.execute_batch("INSERT INTO settings VALUES ('k', 'v'); ANALYZE")
            .unwrap();
        drop(c);
        assert!(Store::open(fine.to_str().unwrap()).is_ok());
        assert!(Store::open_read_only(fine.to_str().unwrap()).is_ok());
    }

    #[test]
    fn a_prepared_store_runs_no_code_of_its_author() {
        let s = Store::open(":memory:").unwrap();
        let trusted: i64 = s
            .conn
            .query_row("PRAGMA trusted_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(trusted, 0);
        // Defensive mode: the schema cannot be rewritten from SQL.
        assert!(s.conn.execute_batch("PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'x' WHERE name = 'marks'").is_err());
    }

    #[test]
    fn read_only_opening_writes_nothing_and_works_without_a_writable_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let p = path.to_str().unwrap();
        drop(Store::open(p).unwrap());
        let before = std::fs::read(&path).unwrap();
        let s = Store::open_read_only(p).unwrap();
        assert!(
            s.conn
                .execute("INSERT INTO settings (key, value) VALUES ('a', 'b')", [])
                .is_err()
        );
        assert!(s.history().unwrap().is_empty());
        drop(s);
        // SQLite cannot make the store's shared-memory file here (as on a read-only
        // disk, whoever runs it): the store is still read.
        let shm = dir.path().join("s.db-shm");
        let _ = std::fs::remove_file(&shm);
        let _ = std::fs::remove_file(dir.path().join("s.db-wal"));
        std::fs::create_dir(&shm).unwrap();
        let s = Store::open_read_only(p).unwrap();
        assert!(s.resolutions().unwrap().is_empty());
        drop(s);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
