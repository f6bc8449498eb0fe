//! The SQLite store: schema and migrations, batched writes, typed queries. Every SQL
//! parameter is bound; no SQL is built from input.

pub mod browse;
pub mod evidence;
pub mod report;
pub mod requeue;
pub mod schema;
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
    #[error("store {path} is busy: another sendlog is writing to it; try again when it is done")]
    Busy { path: String },
    #[error("cannot create the store's folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A SQLite error on the store at `path`; a lock held by another writer reads as "busy".
pub fn sql_error(path: &str, source: rusqlite::Error) -> StoreError {
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
    pub conn: Connection,
    pub path: String,
}

/// The default store: the platform data dir (`~/.local/share/sendlog/sendlog.db`).
pub fn default_path() -> PathBuf {
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
        let mut store = Store {
            conn,
            path: path.to_string(),
        };
        store.check_and_migrate()?;
        Ok(store)
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.path, source)
    }

    fn check_and_migrate(&mut self) -> Result<()> {
        // Reading the schema first also tells a foreign or corrupt file from a store
        // before anything is written to it.
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let known = schema::CURRENT_VERSION;
        if version > known {
            return Err(StoreError::Newer {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
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
        }
        if self.path != ":memory:" {
            self.conn
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| self.err(e))?;
        }
        // 16 MiB of page cache. Twice that measured no faster on a 2 M-line import and
        // cost 20 MB of peak memory, which must stay under 150 MB whatever the input.
        self.conn
            .pragma_update(None, "cache_size", -16_384)
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        if version < known {
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
        Ok(())
    }
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
}
