//! The schema, as numbered migrations. `PRAGMA user_version` records how far a store has
//! come; a store from a newer sendlog is refused rather than guessed at.

/// Each entry moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: sources, messages, deliveries, attempts.
    r#"
CREATE TABLE sources (
    id             INTEGER PRIMARY KEY,
    path           TEXT NOT NULL,
    format         TEXT NOT NULL,
    -- Identity by content: hash of the first head_len bytes (up to 4 KiB).
    head_len       INTEGER NOT NULL,
    head_hash      INTEGER NOT NULL,
    -- How far the content has been imported, and the hash of that prefix, so a grown
    -- log (or its rotated copy) imports only its tail.
    imported_bytes INTEGER NOT NULL,
    imported_hash  INTEGER NOT NULL,
    lines_read     INTEGER NOT NULL,
    events         INTEGER NOT NULL,
    lines_skipped  INTEGER NOT NULL,
    -- JSON array of [line_no, text] for the first skipped lines.
    skipped_sample TEXT NOT NULL DEFAULT '[]',
    imported_at    INTEGER NOT NULL
);
CREATE INDEX sources_head ON sources(head_hash);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    host        TEXT NOT NULL,
    queue_id    TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    message_id  TEXT,
    sender      TEXT,
    subject     TEXT,
    expired_at  INTEGER,
    -- 1 once the queue file is gone (removed / all recipients final): never reopened.
    closed      INTEGER NOT NULL DEFAULT 0,
    format      TEXT NOT NULL
);
CREATE INDEX messages_key ON messages(host, queue_id);
CREATE INDEX messages_open ON messages(closed) WHERE closed = 0;

CREATE TABLE deliveries (
    id                 INTEGER PRIMARY KEY,
    message_ref        INTEGER NOT NULL REFERENCES messages(id),
    recipient          TEXT NOT NULL,
    orig_recipient     TEXT,
    domain             TEXT NOT NULL,
    provider           TEXT,
    host               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('sent','deferred','bounced','expired')),
    code               TEXT NOT NULL,
    reply_code         INTEGER,
    reason             TEXT,
    cause              TEXT,
    final_text         TEXT,
    last_deferral_code TEXT,
    last_deferral_text TEXT,
    attempts           INTEGER NOT NULL,
    deferrals          INTEGER NOT NULL,
    first_attempt      INTEGER,
    last_attempt       INTEGER,
    relay              TEXT,
    typo_of            TEXT,
    -- file:line of the deciding event
    source             TEXT,
    expired_at         INTEGER,
    expired_source     TEXT
);
CREATE INDEX deliveries_message ON deliveries(message_ref);
CREATE INDEX deliveries_group ON deliveries(status, code, domain);
CREATE INDEX deliveries_code_id ON deliveries(code, id);
CREATE INDEX deliveries_recipient ON deliveries(recipient);

-- Every attempt of a delivery, in order: the timeline behind an expiry.
CREATE TABLE attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    seq         INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    -- identical attempts in a row are one row: `repeats` of them, the last at last_ts
    last_ts     INTEGER NOT NULL,
    repeats     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    code        TEXT,
    reply_code  INTEGER,
    relay       TEXT,
    text        TEXT,
    counted     INTEGER NOT NULL,
    source      TEXT,
    PRIMARY KEY (delivery_id, seq)
) WITHOUT ROWID;
"#,
    // 2: indexes for browsing failed deliveries (store/browse.rs). Partial on
    // `status != 'sent'`, so delivered mail costs nothing; each ends with `status` so that
    // the TUI's per-code counts, sparklines, second levels and causes are covering-index
    // scans (SQLite only covers a query whose every column is in the index).
    r#"
CREATE INDEX deliveries_failed_time ON deliveries(code, last_attempt, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_domain ON deliveries(code, domain, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_provider ON deliveries(code, provider, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_host ON deliveries(code, host, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_cause ON deliveries(code, cause, status) WHERE status != 'sent';
"#,
];

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Secondary indexes with text keys that a bulk load drops and rebuilds once at the end
/// (`import.rs`): (drop, create). Each create is the migration's own statement.
pub const BULK_INDEXES: &[(&str, &str)] = &[
    (
        "DROP INDEX IF EXISTS messages_key",
        "CREATE INDEX messages_key ON messages(host, queue_id)",
    ),
    (
        "DROP INDEX IF EXISTS deliveries_group",
        "CREATE INDEX deliveries_group ON deliveries(status, code, domain)",
    ),
    (
        "DROP INDEX IF EXISTS deliveries_code_id",
        "CREATE INDEX deliveries_code_id ON deliveries(code, id)",
    ),
    (
        "DROP INDEX IF EXISTS deliveries_recipient",
        "CREATE INDEX deliveries_recipient ON deliveries(recipient)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_indexes_are_the_migrations_own() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        for (_, create) in BULK_INDEXES {
            let name = create.split_whitespace().nth(2).unwrap();
            let sql: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(&sql, create);
        }
    }
}
