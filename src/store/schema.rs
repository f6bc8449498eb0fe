//! The schema, as numbered migrations. `PRAGMA user_version` records how far a store has
//! come; a store from a newer sendlog is refused rather than guessed at.

/// Each entry moves the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
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
    // 2: bounce reports (DSN/NDR), one row per report recipient, linked to the delivery
    // (message + recipient) they report on, so the TUI can show a delivery's NDR text.
    r#"
CREATE TABLE bounces (
    id                  INTEGER PRIMARY KEY,
    source_id           INTEGER NOT NULL REFERENCES sources(id),
    -- file, file#N (Nth message of an mbox) or the message's path in a Maildir
    report              TEXT NOT NULL,
    -- bounce | feedback | vacation | delivered
    kind                TEXT NOT NULL,
    message_ref         INTEGER REFERENCES messages(id),
    -- how the report found its delivery: message_id | queue_id | recipient | none
    linked_by           TEXT NOT NULL,
    recipient           TEXT NOT NULL,
    status              TEXT,
    reason              TEXT NOT NULL,
    reply_code          INTEGER,
    action              TEXT,
    diagnostic          TEXT NOT NULL,
    remote_mta          TEXT,
    expired             INTEGER NOT NULL,
    original_message_id TEXT,
    reported_at         INTEGER
);
CREATE INDEX bounces_delivery ON bounces(message_ref, recipient);
CREATE INDEX messages_message_id ON messages(message_id);
"#,
    // 3: the re-queue workflow: resolutions, marks, export batches. Marks and batch items
    // name a delivery by (message, recipient), not by its row id: an import that continues
    // a still-queued message rewrites that message's delivery rows with new ids.
    r#"
CREATE TABLE resolutions (
    id          INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL,
    -- a recipient domain or a provider name (Microsoft); NULL: every destination
    destination TEXT,
    -- a sending host as logged (mta2/postfix-out2); NULL: every host
    host        TEXT,
    resolved_at INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX resolutions_reason ON resolutions(reason);

CREATE TABLE marks (
    message_ref INTEGER NOT NULL REFERENCES messages(id),
    recipient   TEXT NOT NULL,
    marked_at   INTEGER NOT NULL,
    PRIMARY KEY (message_ref, recipient)
) WITHOUT ROWID;

CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    format      TEXT NOT NULL,
    -- the file written, or '-' for standard output
    destination TEXT NOT NULL,
    items       INTEGER NOT NULL
);

CREATE TABLE batch_items (
    batch_id    INTEGER NOT NULL REFERENCES batches(id),
    message_ref INTEGER NOT NULL REFERENCES messages(id),
    recipient   TEXT NOT NULL,
    PRIMARY KEY (batch_id, message_ref, recipient)
) WITHOUT ROWID;
CREATE INDEX batch_items_delivery ON batch_items(message_ref, recipient);
"#,
    // 4: indexes for browsing failed deliveries (store/browse.rs). Partial on
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
    // 5: a delivery decided by its only attempt (most mail: sent at the first try) keeps
    // no attempt row, since its delivery row says all that attempt would (store/write.rs
    // decides which). Readers read attempts through this view, which rebuilds them.
    r#"
CREATE VIEW delivery_attempts AS
    SELECT delivery_id, seq, ts, last_ts, repeats, status, code, reply_code, relay, text, counted, source
    FROM attempts
    UNION ALL
    SELECT d.id, 0, d.first_attempt, d.first_attempt, 1, d.status, d.code, d.reply_code, d.relay,
           d.final_text, 1, d.source
    FROM deliveries d
    WHERE d.attempts = 1 AND d.status IN ('sent', 'bounced') AND d.first_attempt IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id);
"#,
    // 6: the TUI pages failed deliveries only, so its (code, id) index need not hold the
    // sent ones: a ninth of the size, and as much less to rebuild after a bulk load.
    r#"
DROP INDEX deliveries_code_id;
CREATE INDEX deliveries_code_id ON deliveries(code, id) WHERE status != 'sent';
"#,
    // 7: settings the user gave once and that hold for the store, such as the queue
    // lifetime (`import --queue-lifetime`) that "at risk" is judged by.
    r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
    // 8: Message-IDs are stored bare (`ingest::bare_message_id`): a bounce's `<id@host>`
    // was stored with its brackets, a log's `id@host` without, and the two did not meet.
    r#"
UPDATE messages SET message_id = nullif(ltrim(rtrim(trim(message_id), '>'), '<'), '')
    WHERE message_id LIKE '%<%' OR message_id LIKE '%>%';
UPDATE bounces SET original_message_id = nullif(ltrim(rtrim(trim(original_message_id), '>'), '<'), '')
    WHERE original_message_id LIKE '%<%' OR original_message_id LIKE '%>%';
"#,
    // 9: when the MTA queued each message, as the log tells it (NULL: it does not), so a
    // log that starts after a message arrived still ages it right; and the zone that
    // stamps without one were read in, per source.
    r#"
ALTER TABLE messages ADD COLUMN arrived_at INTEGER;
ALTER TABLE sources ADD COLUMN tz TEXT;
"#,
    // 10: a bounce report that contradicts the log (a failure for a delivery the log has
    // as sent, a recipient the logged message never had) is kept and shown, not applied:
    // the log is the authority for what the server did, and a report can be forged by
    // anyone who saw the Message-ID.
    r#"
ALTER TABLE bounces ADD COLUMN conflict TEXT;

-- closed = 2: a message still open whose deliveries are all decided (a log of delivery
-- lines without `removed` lines). Only the latest of them are taken back by an import.
CREATE INDEX messages_settled ON messages(last_seen) WHERE closed = 2;
UPDATE messages SET closed = 2
    WHERE closed = 0
      AND EXISTS (SELECT 1 FROM deliveries d WHERE d.message_ref = messages.id)
      AND NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.message_ref = messages.id AND d.status = 'deferred');
"#,
    // 11: resolutions can be undone (kept, with when), and what the user did to the
    // re-queue state is kept as a history: resolutions, undos, marks, unmarks, exports;
    // sources keep block hashes of their content.
    // Earlier resolutions and batches start the history. Batch items are also found by
    // recipient, so "already exported" can hold for the same message stored twice.
    r#"
ALTER TABLE resolutions ADD COLUMN undone_at INTEGER;

-- The xxh3 hash of each whole 1 KiB block of what was imported, packed little-endian: an
-- older, shorter copy of a known log is then recognised whatever order they come in.
ALTER TABLE sources ADD COLUMN block_hashes BLOB;

CREATE TABLE history (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('resolve', 'undo', 'mark', 'unmark', 'export')),
    -- the resolution (resolve, undo) or batch (export) it concerns
    ref    INTEGER,
    scope  TEXT NOT NULL DEFAULT '',
    note   TEXT NOT NULL DEFAULT '',
    -- deliveries it concerned: made eligible, marked, unmarked, exported
    count  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO history (at, action, ref, scope, note, count)
    SELECT resolved_at, 'resolve', id,
           reason || coalesce(' at ' || destination, '') || coalesce(' from ' || host, ''), note, 0
    FROM resolutions ORDER BY resolved_at, id;
INSERT INTO history (at, action, ref, scope, note, count)
    SELECT created_at, 'export', id, format || ' to ' || destination, '', items
    FROM batches ORDER BY id;

CREATE INDEX batch_items_recipient ON batch_items(recipient);

-- What importing a bounce looks up, per bounce: whether those bytes were imported
-- before, and its message by queue id or by failed recipient (in any case). Without
-- these each lookup read a whole table, and a mailbox of bounces cost the square of
-- its size and grew with the store.
CREATE INDEX sources_eml_content ON sources(imported_hash, imported_bytes) WHERE format = 'eml';
CREATE INDEX messages_queue_id ON messages(queue_id);
CREATE INDEX deliveries_failed_recipient ON deliveries(lower(recipient)) WHERE status != 'sent';
"#,
    // 12: live checks of causes (`sendlog check`): every result kept, so a cause's
    // history shows when it started and stopped failing; the latest per cause is read
    // by the Causes screen.
    r#"
CREATE TABLE checks (
    id          INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL,
    destination TEXT NOT NULL,
    host        TEXT NOT NULL,
    -- the recipient domain asked about (dns, smtp); NULL for checks of the cause as a whole
    domain      TEXT,
    kind        TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('fixed', 'failing', 'unknown')),
    evidence    TEXT NOT NULL,
    checked_at  INTEGER NOT NULL
);
CREATE INDEX checks_cause ON checks(reason, destination, host, checked_at);
"#,
    // 13: a message the MTA holds frozen (Exim), since when and what the first line that
    // said so said: one frozen for the whole log names no recipient, so it has no
    // delivery row and is listed as a message.
    r#"
ALTER TABLE messages ADD COLUMN frozen_at INTEGER;
ALTER TABLE messages ADD COLUMN frozen TEXT;
"#,
    // 14: what a report on a par with pflogsumm needs that no delivery row holds: each
    // message's size (Postfix qmgr `size=`), and lines counted per hour at import: mail
    // received and refused at intake (smtpd `client=`, pickup; `NOQUEUE: reject`, cleanup
    // rejects), since a refusal never becomes a queued message, and deferral lines, since a
    // run of identical ones is stored as one attempt.
    r#"
ALTER TABLE messages ADD COLUMN size INTEGER;

CREATE TABLE line_counts (
    -- unix seconds at the start of the hour
    hour   INTEGER NOT NULL,
    host   TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('received', 'rejected', 'deferred')),
    -- refusals: SMTP stage (RCPT, MAIL, CONNECT, header, body…), code, shortened reason
    stage  TEXT NOT NULL,
    code   TEXT NOT NULL,
    reason TEXT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (hour, host, kind, stage, code, reason)
) WITHOUT ROWID;
"#,
    // 15: the search index: one row per delivery (its rowid is the delivery's id), words
    // only — contentless, so it costs the words and not a second copy of the text. A load
    // indexes the deliveries it adds as it writes them, a bulk load leaves them to the first
    // search (`Load::indexes_search`); a rewritten message takes its rows with it.
    r#"
CREATE VIRTUAL TABLE search USING fts5(
    recipient, sender, ids, subject, reply,
    content = '', contentless_delete = 1
);
INSERT INTO search(rowid, recipient, sender, ids, subject, reply)
SELECT d.id,
       d.recipient || ' ' || coalesce(d.orig_recipient, ''),
       coalesce(m.sender, ''),
       m.queue_id || ' ' || coalesce(m.message_id, ''),
       coalesce(m.subject, ''),
       concat_ws(' ', d.final_text, d.last_deferral_text)
FROM deliveries d JOIN messages m ON m.id = d.message_ref;
"#,
    // 16: each import asks for the newest logged message of the log's sending hosts (a log
    // older than the store is said so); without this index that read every message of
    // the host, seconds on a store of millions.
    r#"
CREATE INDEX messages_host_seen ON messages(host, last_seen) WHERE format != 'eml';
"#,
    // 17: one index finds a message by queue id, with its host or without (the host
    // second, so a lookup by queue id alone reads a prefix), where two did: each is
    // maintained on every message written and sorted anew after a bulk load.
    r#"
DROP INDEX messages_key;
DROP INDEX messages_queue_id;
CREATE INDEX messages_queue ON messages(queue_id, host);
"#,
    // 18: the status check as comparisons. Written `status IN (…)`, it made SQLite build a
    // temporary table of the four words for every row written: a seventh of a bulk
    // import's time. A check cannot be changed in place, so the table is rebuilt (ids
    // kept: the search index and the attempts refer to them) with its indexes, and the
    // view that reads it is made again. The store opens its migrations with foreign keys
    // off, as SQLite's procedure for rebuilding a table others refer to asks.
    r#"
DROP VIEW delivery_attempts;
CREATE TABLE deliveries_rebuilt (
    id                 INTEGER PRIMARY KEY,
    message_ref        INTEGER NOT NULL REFERENCES messages(id),
    recipient          TEXT NOT NULL,
    orig_recipient     TEXT,
    domain             TEXT NOT NULL,
    provider           TEXT,
    host               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status = 'sent' OR status = 'deferred'
                                            OR status = 'bounced' OR status = 'expired'),
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
INSERT INTO deliveries_rebuilt (id, message_ref, recipient, orig_recipient, domain, provider, host,
    status, code, reply_code, reason, cause, final_text, last_deferral_code, last_deferral_text,
    attempts, deferrals, first_attempt, last_attempt, relay, typo_of, source, expired_at,
    expired_source)
SELECT id, message_ref, recipient, orig_recipient, domain, provider, host,
    status, code, reply_code, reason, cause, final_text, last_deferral_code, last_deferral_text,
    attempts, deferrals, first_attempt, last_attempt, relay, typo_of, source, expired_at,
    expired_source
FROM deliveries ORDER BY id;
DROP TABLE deliveries;
ALTER TABLE deliveries_rebuilt RENAME TO deliveries;
CREATE INDEX deliveries_message ON deliveries(message_ref);
CREATE INDEX deliveries_failed_time ON deliveries(code, last_attempt, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_domain ON deliveries(code, domain, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_provider ON deliveries(code, provider, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_host ON deliveries(code, host, status) WHERE status != 'sent';
CREATE INDEX deliveries_failed_cause ON deliveries(code, cause, status) WHERE status != 'sent';
CREATE INDEX deliveries_group ON deliveries(status, code, domain);
CREATE INDEX deliveries_code_id ON deliveries(code, id) WHERE status != 'sent';
CREATE INDEX deliveries_recipient ON deliveries(recipient);
CREATE INDEX deliveries_failed_recipient ON deliveries(lower(recipient)) WHERE status != 'sent';
CREATE VIEW delivery_attempts AS
    SELECT delivery_id, seq, ts, last_ts, repeats, status, code, reply_code, relay, text, counted, source
    FROM attempts
    UNION ALL
    SELECT d.id, 0, d.first_attempt, d.first_attempt, 1, d.status, d.code, d.reply_code, d.relay,
           d.final_text, 1, d.source
    FROM deliveries d
    WHERE d.attempts = 1 AND d.status IN ('sent', 'bounced') AND d.first_attempt IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id);
"#,
    // 19: the newest logged message of each sending host, one row per host that each load
    // brings up to date (`Load::hosts_seen`), in place of the index 16 made over every
    // message: after a bulk load that index was sorted anew, the costliest step left to
    // the import's writing thread for one query.
    r#"
CREATE TABLE hosts_seen (
    host      TEXT PRIMARY KEY,
    last_seen INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO hosts_seen (host, last_seen)
    SELECT host, max(last_seen) FROM messages WHERE format != 'eml' GROUP BY host;
DROP INDEX IF EXISTS messages_host_seen;
"#,
];

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Secondary indexes with text keys that a bulk load drops and rebuilds once at the end
/// (`Load::drop_indexes_for_bulk_load`): (drop, create). Each create is the migration's own
/// statement. The partial indexes of failed deliveries stay and are kept current row by
/// row: they take a tenth of the rows, while building one reads the whole table (dropping
/// `deliveries_code_id` and `deliveries_failed_recipient` too made the 1 M-line import
/// 0.92 s instead of 0.89 s, 1.62 s of CPU instead of 1.59 s; six alternating runs).
pub(crate) const BULK_INDEXES: &[(&str, &str)] = &[
    (
        "DROP INDEX IF EXISTS messages_queue",
        "CREATE INDEX messages_queue ON messages(queue_id, host)",
    ),
    (
        "DROP INDEX IF EXISTS deliveries_group",
        "CREATE INDEX deliveries_group ON deliveries(status, code, domain)",
    ),
    (
        "DROP INDEX IF EXISTS deliveries_recipient",
        "CREATE INDEX deliveries_recipient ON deliveries(recipient)",
    ),
    (
        "DROP INDEX IF EXISTS messages_message_id",
        "CREATE INDEX messages_message_id ON messages(message_id)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_8_strips_the_brackets_of_stored_message_ids() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..7] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO sources (id, path, format, head_len, head_hash, imported_bytes,
                                  imported_hash, lines_read, events, lines_skipped, imported_at)
                 VALUES (1, 'b.eml', 'eml', 0, 0, 0, 0, 1, 1, 0, 0);
             INSERT INTO messages (id, host, queue_id, first_seen, last_seen, message_id, format)
                 VALUES (1, 'mta1', 'A1', 0, 0, '<a@mta1.example>', 'postfix'),
                        (2, 'mta1', 'A2', 0, 0, 'b@mta1.example', 'postfix'),
                        (3, 'bounce', 'c@x', 0, 0, ' <c@x> ', 'eml'),
                        (4, 'mta1', 'A4', 0, 0, '<>', 'postfix'),
                        (5, 'mta1', 'A5', 0, 0, NULL, 'postfix');
             INSERT INTO bounces (source_id, report, kind, linked_by, recipient, reason,
                                  diagnostic, expired, original_message_id)
                 VALUES (1, 'b.eml', 'bounce', 'none', 'r@x', 'blocked', '', 0, '<c@x>'),
                        (1, 'b.eml', 'bounce', 'none', 'r@x', 'blocked', '', 0, NULL);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[7]).unwrap();
        let ids: Vec<Option<String>> = conn
            .prepare("SELECT message_id FROM messages ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            ids,
            [
                Some("a@mta1.example".to_string()),
                Some("b@mta1.example".to_string()),
                Some("c@x".to_string()),
                None,
                None
            ]
        );
        let originals: Vec<Option<String>> = conn
            .prepare("SELECT original_message_id FROM bounces ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(originals, [Some("c@x".to_string()), None]);
    }

    #[test]
    fn migration_11_starts_the_history_from_earlier_resolutions_and_batches() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..10] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO resolutions (id, reason, destination, host, resolved_at, note)
                 VALUES (1, 'badreputation', 'Microsoft', 'mta2', 100, 'delisted'),
                        (2, 'speeding', NULL, NULL, 50, '');
             INSERT INTO batches (id, created_at, format, destination, items)
                 VALUES (1, 200, 'csv', 'resend.csv', 3);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[10]).unwrap();
        let rows: Vec<(i64, String, Option<i64>, String, String, i64)> = conn
            .prepare("SELECT at, action, ref, scope, note, count FROM history ORDER BY id")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    50,
                    "resolve".into(),
                    Some(2),
                    "speeding".into(),
                    "".into(),
                    0
                ),
                (
                    100,
                    "resolve".into(),
                    Some(1),
                    "badreputation at Microsoft from mta2".into(),
                    "delisted".into(),
                    0
                ),
                (
                    200,
                    "export".into(),
                    Some(1),
                    "csv to resend.csv".into(),
                    "".into(),
                    3
                ),
            ]
        );
        let undone: Option<i64> = conn
            .query_row("SELECT undone_at FROM resolutions WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(undone, None);
    }

    #[test]
    fn one_index_finds_a_message_by_queue_id_with_or_without_its_host() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'
                 AND sql LIKE '%queue_id%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(indexes, ["messages_queue"]);
        for lookup in [
            "SELECT id FROM messages WHERE queue_id = ?1 AND format != 'eml'",
            "SELECT id FROM messages WHERE host = ?1 AND queue_id = ?2 AND format = 'eml'",
        ] {
            let plan = crate::store::query_plan(&conn, lookup);
            assert!(
                plan.iter()
                    .any(|step| step.contains("INDEX messages_queue")),
                "{lookup}: {plan:?}"
            );
        }
    }

    #[test]
    fn migration_19_keeps_each_hosts_newest_logged_message() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..18] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO messages (id, host, queue_id, first_seen, last_seen, format)
                 VALUES (1, 'mx1', 'A1', 0, 100, 'postfix'),
                        (2, 'mx1', 'A2', 0, 300, 'postfix'),
                        (3, 'mx2', 'B1', 0, 200, 'exim'),
                        (4, 'mx1', 'r@x', 0, 900, 'eml'),
                        (5, 'bounce', 'r@y', 0, 900, 'eml');",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[18]).unwrap();
        let hosts: Vec<(String, i64)> = conn
            .prepare("SELECT host, last_seen FROM hosts_seen ORDER BY host")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(hosts, [("mx1".into(), 300), ("mx2".into(), 200)]);
        let index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'messages_host_seen'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 0);
    }

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

    #[test]
    fn migration_18_keeps_every_delivery_and_checks_the_status_without_a_temporary_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v17.db");
        let path = path.to_str().unwrap();
        {
            let conn = rusqlite::Connection::open(path).unwrap();
            for m in &MIGRATIONS[..17] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 17;
                 INSERT INTO messages (id, host, queue_id, first_seen, last_seen, format)
                     VALUES (1, 'mta1', 'A1', 0, 0, 'postfix');
                 INSERT INTO deliveries (id, message_ref, recipient, domain, host, status, code,
                                         attempts, deferrals, first_attempt, final_text, source)
                     VALUES (7, 1, 'a@x.example', 'x.example', 'mta1', 'expired', '4.4.7', 3, 3,
                             10, NULL, 'mail.log:9'),
                            (9, 1, 'b@y.example', 'y.example', 'mta1', 'sent', '2.0.0', 1, 0,
                             4, '250 ok', 'mail.log:4');
                 INSERT INTO attempts (delivery_id, seq, ts, last_ts, repeats, status, counted,
                                       source)
                     VALUES (7, 0, 10, 20, 3, 'deferred', 1, 'mail.log:5');",
            )
            .unwrap();
        }
        // What the command line says before the pause of migrating: the highest id.
        assert_eq!(crate::store::Store::older_store_deliveries(path), Some(9));
        crate::store::Store::open(path).unwrap();
        assert_eq!(crate::store::Store::older_store_deliveries(path), None);
        let missing = dir.path().join("none.db");
        assert_eq!(
            crate::store::Store::older_store_deliveries(missing.to_str().unwrap()),
            None
        );
        assert!(!missing.exists());
        let conn = rusqlite::Connection::open(path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, CURRENT_VERSION);
        let rows: Vec<(i64, String, String)> = conn
            .prepare("SELECT id, recipient, status FROM deliveries ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (7, "a@x.example".to_string(), "expired".to_string()),
                (9, "b@y.example".to_string(), "sent".to_string())
            ]
        );
        // The attempts still find their delivery, and the view still reads both tables.
        let orphans: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(orphans, 0);
        let timeline: i64 = conn
            .query_row("SELECT count(*) FROM delivery_attempts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(timeline, 2);
        // Writing a row builds no temporary table; a status outside the four is refused.
        let insert = "INSERT INTO deliveries (message_ref, recipient, domain, host, status, code,
                          attempts, deferrals) VALUES (1, 'c@z', 'z', 'mta1', ?1, '5.1.1', 1, 0)";
        let program: Vec<String> = conn
            .prepare(&format!("EXPLAIN {insert}"))
            .unwrap()
            .query_map(["bounced"], |r| r.get(1))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(program.iter().any(|op| op == "Insert"), "{program:?}");
        assert!(
            !program.iter().any(|op| op == "OpenEphemeral"),
            "{program:?}"
        );
        conn.execute(insert, ["bounced"]).unwrap();
        assert!(conn.execute(insert, ["lost"]).is_err());
    }
}
