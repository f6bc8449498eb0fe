//! The store's identity rules, on a real log: re-importing adds nothing, a grown log adds
//! only its tail, a rotated (gzipped) copy is recognised, stdin works the same, and the same
//! log with classic or RFC 3339 stamps gives the same deliveries.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{TempStore, fixture};

const LOG: &str = "postfix/postfix_log_analysis__mail2.log";

/// Deliveries without the `source` and `cause_source` fields (they name the file, which
/// differs on purpose).
fn without_source(store: &TempStore) -> Vec<serde_json::Value> {
    store
        .deliveries()
        .into_iter()
        .map(|mut d| {
            d.as_object_mut().unwrap().remove("source");
            d.as_object_mut().unwrap().remove("cause_source");
            d
        })
        .collect()
}

fn sorted(mut v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    v.sort_by_key(|d| d.to_string());
    v
}

#[test]
fn reimporting_the_same_log_adds_nothing() {
    let path = fixture(LOG);
    let store = TempStore::new();
    let first = store.run_ok(&["import", path.to_str().unwrap()]);
    let before = store.deliveries();
    assert!(
        first.contains(&format!("{} deliveries", before.len())),
        "{first}"
    );
    let again = store.run_ok(&["import", path.to_str().unwrap()]);
    assert!(again.contains("already imported: nothing new"), "{again}");
    assert!(again.contains(" 0 lines read"), "{again}");
    assert_eq!(store.deliveries(), before);
}

#[test]
fn a_grown_log_imports_only_its_tail_and_ends_like_a_clean_import() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let cut = 5000;
    let dir = tempfile::tempdir().unwrap();
    let growing = dir.path().join("mail.log");
    std::fs::write(&growing, lines[..cut].join("\n") + "\n").unwrap();
    let store = TempStore::new();
    let first = store.run_ok(&["import", growing.to_str().unwrap()]);
    // The log grows (the same file, more lines appended).
    std::fs::write(&growing, full.as_bytes()).unwrap();
    let second = store.run_ok(&["import", growing.to_str().unwrap()]);
    assert!(
        second.contains(&format!("new lines after line {cut}")),
        "{second}"
    );
    assert!(
        second.contains(&format!("{} lines read", lines.len() - cut)),
        "{second}"
    );
    // What the summaries call new adds up to the store's deliveries; the messages the cut
    // left queued come back as updated.
    let new_in = |summary: &str| -> usize {
        let words: Vec<&str> = summary.split(' ').collect();
        let at = words
            .iter()
            .position(|w| w.starts_with("deliver"))
            .expect(summary);
        words[at - 1 - usize::from(words[at - 1] == "new")]
            .parse()
            .expect(summary)
    };
    assert!(second.contains(" updated,"), "{second}");
    assert_eq!(new_in(&first) + new_in(&second), store.deliveries().len());

    let clean = TempStore::new();
    clean.run_ok(&["import", growing.to_str().unwrap()]);
    assert_eq!(sorted(store.deliveries()), sorted(clean.deliveries()));
    // The timelines too: a message continued from the store (its attempts read back,
    // those the delivery row stands for rebuilt) ends as in one pass.
    assert_eq!(timelines(&store), timelines(&clean));
}

/// Every delivery's attempts as the readers see them (the `delivery_attempts` view),
/// keyed by message and recipient.
fn timelines(store: &TempStore) -> Vec<String> {
    let conn = rusqlite::Connection::open(store.db()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.host, m.queue_id, m.first_seen, d.recipient, a.seq, a.ts, a.last_ts,
                    a.repeats, a.status, a.code, a.reply_code, a.relay, a.text, a.counted
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
             JOIN messages m ON m.id = d.message_ref",
        )
        .unwrap();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            let cols: Vec<String> = (0..14)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            Ok(cols.join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

#[test]
fn a_delivery_sent_at_the_first_try_keeps_its_attempt_in_its_row() {
    let store = TempStore::new();
    store.run_ok(&["import", fixture(LOG).to_str().unwrap()]);
    let conn = rusqlite::Connection::open(store.db()).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let sent_once = count("SELECT count(*) FROM deliveries WHERE status = 'sent' AND attempts = 1");
    assert!(sent_once > 100, "the corpus log has many: {sent_once}");
    // Those deliveries store no attempt row of their own …
    assert!(
        count("SELECT count(*) FROM attempts") < count("SELECT count(*) FROM delivery_attempts")
    );
    // … yet every delivery with attempts reads back one per counted try at least, and a
    // delivery sent at its only try reads back exactly that try.
    assert_eq!(
        count(
            "SELECT count(*) FROM deliveries d WHERE d.attempts > 0 AND NOT EXISTS
             (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id)"
        ),
        0
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
             WHERE d.status = 'sent' AND d.attempts = 1 AND a.status = 'sent'
               AND a.ts = d.first_attempt AND a.text IS d.final_text AND a.relay IS d.relay"
        ),
        sent_once
    );
    // The first load into an empty store used a rollback journal; the store is back in WAL.
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_rotated_gzipped_copy_is_recognised_by_content() {
    let path = fixture(LOG);
    let dir = tempfile::tempdir().unwrap();
    let rotated = dir.path().join("mail.log.1.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&rotated).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&std::fs::read(&path).unwrap()).unwrap();
    gz.finish().unwrap();

    let store = TempStore::new();
    store.run_ok(&["import", path.to_str().unwrap()]);
    let before = store.deliveries();
    let out = store.run_ok(&["import", rotated.to_str().unwrap()]);
    assert!(out.contains("already imported"), "{out}");
    assert_eq!(store.deliveries(), before);

    // And a .gz alone reads like the plain file.
    let other = TempStore::new();
    other.run_ok(&["import", "--year", "2015", rotated.to_str().unwrap()]);
    let plain = TempStore::new();
    plain.run_ok(&["import", "--year", "2015", path.to_str().unwrap()]);
    assert_eq!(
        sorted(without_source(&other)),
        sorted(without_source(&plain))
    );
}

#[test]
fn stdin_imports_like_a_file_and_is_recognised_again() {
    let path = fixture(LOG);
    let store = TempStore::new();
    let pipe = |store: &TempStore| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .args(["--db", &store.db(), "import", "--year", "2015", "-"])
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&std::fs::read(&path).unwrap())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let first = pipe(&store);
    assert!(
        first.contains(&format!("{} deliveries", store.deliveries().len())),
        "{first}"
    );
    let second = pipe(&store);
    assert!(second.contains("already imported"), "{second}");

    let file = TempStore::new();
    file.run_ok(&["import", "--year", "2015", path.to_str().unwrap()]);
    assert_eq!(
        sorted(without_source(&store)),
        sorted(without_source(&file))
    );
}

/// Rewrites classic stamps (`Nov  1 06:29:49`) as RFC 3339 in UTC, as rsyslog's default
/// file format writes them.
fn to_rfc3339(classic: &str, year: i32) -> String {
    classic
        .lines()
        .map(|l| {
            let stamp = &l[..15];
            let rest = &l[15..];
            let t = chrono::NaiveDateTime::parse_from_str(
                &format!("{year} {stamp}"),
                "%Y %b %e %H:%M:%S",
            )
            .unwrap_or_else(|e| panic!("{stamp}: {e}"));
            format!("{}.000000+00:00{rest}", t.format("%Y-%m-%dT%H:%M:%S"))
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn classic_and_rfc3339_stamps_give_the_same_deliveries() {
    let classic = std::fs::read_to_string(fixture(LOG)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rfc = dir.path().join("mail-rfc3339.log");
    std::fs::write(&rfc, to_rfc3339(&classic, 2015)).unwrap();

    let a = TempStore::new();
    a.run_ok(&["import", "--year", "2015", fixture(LOG).to_str().unwrap()]);
    let b = TempStore::new();
    b.run_ok(&["import", rfc.to_str().unwrap()]);
    let (da, db) = (sorted(without_source(&a)), sorted(without_source(&b)));
    assert!(da.len() > 800);
    assert_eq!(da.len(), db.len());
    for (x, y) in da.iter().zip(&db) {
        assert_eq!(x, y);
    }
    // With TZ=UTC the classic stamps read as UTC, so the times match to the second.
    assert!(
        da.iter()
            .all(|d| d["last_attempt"].as_str().unwrap().starts_with("2015-11-0"))
    );
}

/// Two copies of a log that overlap (the end of one repeated at the start of the other),
/// imported together, give the deliveries of the log itself: the shared lines count once.
#[test]
fn overlapping_copies_imported_together_count_their_shared_lines_once() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let (cut, overlap) = (lines.len() / 2, 400);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.log");
    let second = dir.path().join("second.log");
    std::fs::write(&first, lines[..cut + overlap].join("\n") + "\n").unwrap();
    std::fs::write(&second, lines[cut..].join("\n") + "\n").unwrap();
    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, full.as_bytes()).unwrap();
    let year = "2015";
    let store = TempStore::new();
    let out = store.run_ok(&[
        "import",
        "--year",
        year,
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert!(out.contains("repeated lines counted once"), "{out}");
    let clean = TempStore::new();
    clean.run_ok(&["import", "--year", year, whole.to_str().unwrap()]);
    assert_eq!(
        sorted(without_source(&store)),
        sorted(without_source(&clean))
    );
}

/// A log older than what the store holds is imported, with a note saying that messages
/// spanning both may be split; a newer one gets no note.
#[test]
fn an_older_log_imported_after_a_newer_one_is_noted() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let cut = lines.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    let older = dir.path().join("older.log");
    let newer = dir.path().join("newer.log");
    std::fs::write(&older, lines[..cut].join("\n") + "\n").unwrap();
    std::fs::write(&newer, lines[cut..].join("\n") + "\n").unwrap();
    let in_order = TempStore::new();
    for f in [&older, &newer] {
        let out = in_order.run_ok(&["import", "--year", "2015", f.to_str().unwrap()]);
        assert!(!out.contains("note:"), "{out}");
    }
    let reversed = TempStore::new();
    reversed.run_ok(&["import", "--year", "2015", newer.to_str().unwrap()]);
    let out = reversed.run_ok(&["import", "--year", "2015", older.to_str().unwrap()]);
    assert!(out.contains("note: this log starts at"), "{out}");
}

/// `--status` takes statuses as people type them: any case, spaces after commas.
#[test]
fn export_statuses_are_read_in_any_case_and_spacing() {
    let store = TempStore::new();
    store.run_ok(&["import", "--year", "2015", fixture(LOG).to_str().unwrap()]);
    let count = |status: &str| {
        store
            .run_ok(&["export", "deliveries", "--status", status])
            .lines()
            .count()
    };
    let exact = count("expired,bounced");
    assert!(exact > 0);
    assert_eq!(count("EXPIRED, Bounced"), exact);
}

/// A folder of logs (no emails in it) is read as its log files, not as a Maildir.
#[test]
fn a_folder_of_logs_imports_each_log() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(fixture(LOG), logs.join("mail.log")).unwrap();
    let store = TempStore::new();
    let out = store.run_ok(&["import", "--year", "2015", logs.to_str().unwrap()]);
    assert!(out.contains("mail.log: postfix:"), "{out}");
    let clean = TempStore::new();
    clean.run_ok(&["import", "--year", "2015", fixture(LOG).to_str().unwrap()]);
    assert_eq!(
        sorted(without_source(&store)),
        sorted(without_source(&clean))
    );
}

/// Runs `sendlog import ARGS…` with `input` written to its standard input.
fn import_piped(store: &TempStore, args: &[&str], input: Vec<u8>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .args(["--db", &store.db(), "import"])
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A pipe named as a file (`import <(zcat …)`, `/dev/stdin`) is read once, like `-`: when
/// the store already knows its start, nothing of it is lost to a second opening, and only
/// the lines after the known part are new.
#[test]
fn a_pipe_named_as_a_file_is_read_once_like_stdin() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let cut = lines.len() - 40;
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("mail.log");
    std::fs::write(&earlier, lines[..cut].join("\n") + "\n").unwrap();
    let store = TempStore::new();
    store.run_ok(&["import", "--year", "2015", earlier.to_str().unwrap()]);

    let out = import_piped(
        &store,
        &["--year", "2015", "/dev/stdin"],
        full.as_bytes().to_vec(),
    );
    assert!(
        out.contains(&format!("new lines after line {cut}")),
        "{out}"
    );
    assert!(out.contains("40 lines read"), "{out}");
    assert_same_as_one_import(&store, &fixture(LOG));
}

/// The store holds what one import of `log` into an empty store gives.
fn assert_same_as_one_import(store: &TempStore, log: &std::path::Path) {
    let clean = TempStore::new();
    clean.run_ok(&["import", "--year", "2015", log.to_str().unwrap()]);
    assert_eq!(
        sorted(without_source(store)),
        sorted(without_source(&clean))
    );
}

/// A FIFO is read once, to its end, and imports as the file would.
#[cfg(unix)]
#[test]
fn a_fifo_is_read_once_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("mail.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: skipped");
        return;
    }
    let content = std::fs::read(fixture(LOG)).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .and_then(|mut f| f.write_all(&content))
        })
    };
    let store = TempStore::new();
    let out = store.run_ok(&["import", "--year", "2015", fifo.to_str().unwrap()]);
    writer.join().unwrap().unwrap();
    let lines = std::fs::read_to_string(fixture(LOG))
        .unwrap()
        .lines()
        .count();
    assert!(out.contains(&format!("{lines} lines read")), "{out}");
    assert_same_as_one_import(&store, &fixture(LOG));
}

/// A device never ends (`/dev/zero`): refused with a clear message, not read forever.
#[cfg(unix)]
#[test]
fn a_device_is_refused() {
    let store = TempStore::new();
    let out = store.run(&["import", "--format", "postfix", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero: is a device"), "{err}");
}

/// A log being written while it is imported ends in a partial line: that line is left
/// (and said to be) for the next import, which reads it whole. Cut in the middle of the
/// `status=sent` line, the delivery would otherwise stay "deferred" for good.
#[test]
fn an_unterminated_last_line_is_read_whole_at_the_next_import() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let sent_at = full
        .find("status=sent")
        .expect("the fixture has a delivered line");
    let line_start = full[..sent_at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = sent_at + full[sent_at..].find('\n').unwrap() + 1;
    let before = full[..line_start].lines().count();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    // Everything up to the middle of the sent line, as a writer leaves it mid-write.
    std::fs::write(&log, &full[..sent_at]).unwrap();
    let store = TempStore::new();
    let first = store.run_ok(&["import", "--year", "2015", log.to_str().unwrap()]);
    assert!(first.contains(&format!("{before} lines read")), "{first}");
    assert!(first.contains("last line has no line end yet"), "{first}");

    std::fs::write(&log, &full[..line_end]).unwrap();
    let second = store.run_ok(&["import", "--year", "2015", log.to_str().unwrap()]);
    assert!(
        second.contains(&format!("new lines after line {before}")),
        "{second}"
    );
    assert!(second.contains("1 line read"), "{second}");
    assert_same_as_one_import(&store, &log);
    assert!(
        store.deliveries().iter().any(|d| d["status"] == "sent"),
        "the delivered line counted"
    );
}

/// A log of delivery lines only (a grep of the `status=` lines: no `removed` lines) leaves
/// its messages open. Their deliveries are decided, so they are stored as settled, and an
/// import split in two ends as the single import does: the messages a cut separates are
/// continued from the store.
#[test]
fn a_delivery_only_log_settles_its_messages_and_continues_across_imports() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let deliveries_only: Vec<&str> = full.lines().filter(|l| l.contains(" status=")).collect();
    assert!(deliveries_only.len() > 500);
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("smtp.log");
    std::fs::write(&whole, deliveries_only.join("\n") + "\n").unwrap();

    let cut = deliveries_only.len() / 2;
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&a, deliveries_only[..cut].join("\n") + "\n").unwrap();
    std::fs::write(&b, deliveries_only[cut..].join("\n") + "\n").unwrap();
    let two = TempStore::new();
    two.run_ok(&["import", "--year", "2015", a.to_str().unwrap()]);
    two.run_ok(&["import", "--year", "2015", b.to_str().unwrap()]);
    assert_same_as_one_import(&two, &whole);

    let conn = rusqlite::Connection::open(two.db()).unwrap();
    let (settled, queued, all): (i64, i64, i64) = conn
        .query_row(
            "SELECT sum(closed = 2), sum(closed = 0), count(*) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let still_deferred: i64 = conn
        .query_row(
            "SELECT count(DISTINCT message_ref) FROM deliveries WHERE status = 'deferred'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        queued, still_deferred,
        "only messages still queued stay plain open"
    );
    assert_eq!(settled + queued, all, "no `removed` line closed any");
    assert!(settled > 0);
}

/// Typo domains are flagged by a small import as by a whole one: the gmial.com bounce,
/// imported on its own after the rest of the log (a small import looks at its own rows
/// against the busiest domains the earlier import kept), ends flagged as in one pass.
#[test]
fn a_small_import_flags_its_typo_domains_as_a_whole_import_does() {
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
    let full = std::fs::read_to_string(log).unwrap();
    let (typo, rest): (Vec<&str>, Vec<&str>) = full.lines().partition(|l| l.contains("CF82994871"));
    assert!(!typo.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("rest.log"), dir.path().join("typo.log"));
    std::fs::write(&a, rest.join("\n") + "\n").unwrap();
    std::fs::write(&b, typo.join("\n") + "\n").unwrap();
    let split = TempStore::new();
    split.run_ok(&["import", "--year", "2026", a.to_str().unwrap()]);
    split.run_ok(&["import", "--year", "2026", b.to_str().unwrap()]);
    let whole = TempStore::new();
    whole.run_ok(&["import", "--year", "2026", log]);
    let want = typo_flags(&whole, |_| true);
    assert!(
        want.contains(&("mike.chen@gmial.com".to_string(), "gmail.com".to_string())),
        "{want:?}"
    );
    assert_eq!(typo_flags(&split, |_| true), want);
}

#[test]
fn a_grown_log_keeps_the_hashes_that_recognise_an_older_copy_of_it() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    let growing = dir.path().join("mail.log");
    std::fs::write(&growing, lines[..3000].join("\n") + "\n").unwrap();
    let store = TempStore::new();
    store.run_ok(&["import", growing.to_str().unwrap()]);
    std::fs::write(&growing, full.as_bytes()).unwrap();
    store.run_ok(&["import", growing.to_str().unwrap()]);
    let deliveries = store.deliveries();
    // Cut past the first import's end: only the hashes the second import wrote over the
    // source's know that part.
    let older = dir.path().join("mail.log.1");
    std::fs::write(&older, lines[..6000].join("\n") + "\n").unwrap();
    let out = store.run_ok(&["import", older.to_str().unwrap()]);
    assert!(
        out.contains("an earlier, shorter copy of") && out.contains("nothing new"),
        "{out}"
    );
    assert_eq!(store.deliveries(), deliveries);
}

/// The same logs imported into two stores (two runs of sendlog) give the same records in
/// the same order: ids follow the logs, so exports, reports' ties and saved selections
/// agree between a store and its rebuild.
#[test]
fn the_same_logs_imported_twice_give_the_same_records_in_the_same_order() {
    let inputs = [
        fixture(LOG),
        fixture("postfix/gomaillex__maillog"),
        fixture("exim/Debian-VM-__mainlog"),
        fixture("m365/messagetrace-utf16le-bom.csv"),
    ];
    let args: Vec<&str> = std::iter::once("import")
        .chain(inputs.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let export = || {
        let store = TempStore::new();
        store.run_ok(&args);
        store.run_ok(&["export", "deliveries", "--format", "jsonl"])
    };
    let first = export();
    assert!(first.lines().count() > 100, "{first}");
    assert_eq!(export(), first);
}

/// A log imported alone gets its typo flags in its own transaction; imported with bounce
/// emails, after them, in one of their own. Both ways flag the same deliveries of the
/// log, on a bulk load too (the flags read the indexes it builds again), and leave no
/// follow-up work owed.
#[test]
fn typo_flags_are_the_same_set_with_the_load_or_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = common::generated_log(dir.path(), "generated.log", 2_000, 5);
    assert!(
        std::fs::metadata(&log).unwrap().len() > 2_100_000,
        "a bulk load"
    );
    let log = log.to_str().unwrap();
    let bounce = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample-data/bounces/postfix-dsn-gmail.eml"
    );
    let alone = TempStore::new();
    alone.run_ok(&["import", "--year", "2026", log]);
    let with_bounce = TempStore::new();
    with_bounce.run_ok(&["import", "--year", "2026", log, bounce]);
    let from_log = |d: &serde_json::Value| {
        d["source"]
            .as_str()
            .is_some_and(|s| s.contains("generated.log"))
    };
    let want = typo_flags(&with_bounce, from_log);
    assert!(want.len() >= 5, "{want:?}");
    assert_eq!(typo_flags(&alone, from_log), want);
    for store in [&alone, &with_bounce] {
        assert!(!store.owes_follow_up());
    }
}

/// The deliveries `keep` keeps that carry a typo flag, as (recipient, domain meant), sorted.
fn typo_flags(
    store: &TempStore,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<(String, String)> {
    let mut flags: Vec<(String, String)> = store
        .deliveries()
        .into_iter()
        .filter(|d| !d["typo_of"].is_null() && keep(d))
        .map(|d| {
            (
                d["recipient"].as_str().unwrap().to_string(),
                d["typo_of"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    flags.sort();
    flags
}
