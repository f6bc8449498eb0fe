//! Hostile and broken input: nothing reaches the terminal raw, nothing panics, nothing is
//! half-written, and a killed import leaves a store that the next import completes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempStore, fixture};

fn assert_no_raw_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{what} carries a raw control character {c:?}:\n{text}"
        );
    }
}

fn assert_clean_failure(what: &str, out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        stderr.lines().count() <= 1,
        "{what}: one line of error at most: {stderr}"
    );
}

#[test]
fn escape_sequences_in_log_lines_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("evil.log");
    let lines = [
        "Nov 20 09:00:00 mx postfix/qmgr[1]: 1A2B3C4D5E: from=<x\x1b]0;pwned\x07@evil.example>, size=1, nrcpt=1 (queue active)",
        "Nov 20 09:00:01 mx postfix/smtp[2]: 1A2B3C4D5E: to=<u@title\x1b]0;owned\x07.example>, relay=mx.evil.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx said: 550 5.1.1 \x1b[2J\x1b[H cleared \u{202e}txet desrever (in reply to RCPT TO command))",
        "Nov 20 09:00:02 mx postfix/qmgr[1]: 1A2B3C4D5E: removed",
        "Nov 20 09:00:03 mx \x1b[31mredtext\x1b[0m: junk line with \x07 bell",
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let store = TempStore::new();
    let import = store.run(&["import", "--format", "postfix", log.to_str().unwrap()]);
    assert!(import.status.success());
    assert_no_raw_controls("import summary", &import.stdout);
    let report = store.run(&["report"]);
    assert!(report.status.success());
    assert_no_raw_controls("report", &report.stdout);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("title\\x1b]0;owned\\x07.example"),
        "escaped, still readable: {text}"
    );
    // JSON keeps the data exactly, escaped as JSON requires.
    let json = store.run_ok(&["export", "deliveries"]);
    assert_no_raw_controls("jsonl export", json.as_bytes());
    let rec: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(rec["domain"], "title\u{1b}]0;owned\u{7}.example");
}

#[test]
fn bad_inputs_get_one_clear_line_or_counted_skips() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("invalid-utf8.log"), b"Nov 20 09:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<a@b\xff\xfe.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (bad \x00 bytes)\n").unwrap();
    std::fs::write(p("empty.log"), b"").unwrap();
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(p("binary.bin"), &noise).unwrap();
    let mut long = b"Nov 20 09:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<a@b.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    long.extend(b")\nNov 20 09:00:01 mx postfix/qmgr[1]: 1A2B3C4D5E: removed\n");
    std::fs::write(p("ten-mb-line.log"), &long).unwrap();
    std::fs::create_dir(p("a-folder")).unwrap();

    let store = TempStore::new();
    let run = |name: &str, forced: bool| {
        let path = p(name);
        let mut args = vec!["import"];
        if forced {
            args.extend(["--format", "postfix"]);
        }
        args.push(path.to_str().unwrap());
        let out = store.run(&args);
        assert_clean_failure(name, &out);
        out
    };
    let out = run("invalid-utf8.log", false);
    assert!(out.status.success());
    let out = run("ten-mb-line.log", false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run("empty.log", false);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty.log: empty, nothing to import"));
    let out = run("binary.bin", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary.bin: not a sends log"));
    // Forced, a binary file is read as lines that all get skipped and counted.
    let out = run("binary.bin", true);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("skipped (first at lines 1,"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A folder is walked for logs and mail: what is neither is counted and named.
    std::fs::write(p("a-folder").join("notes.txt"), b"not an email").unwrap();
    let out = run("a-folder", false);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("a-folder: folder (1 folder): found 0 logs, 0 email files; skipped 1 file neither a log nor an email"),
        "{stdout}"
    );
    assert!(stdout.contains("a-folder/notes.txt"), "{stdout}");
    let out = run("does-not-exist.log", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.log"));

    let deliveries = store.deliveries();
    let domains: Vec<&str> = deliveries
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert!(
        domains.contains(&"b\u{fffd}\u{fffd}.example"),
        "invalid bytes replaced, line kept: {domains:?}"
    );
    assert!(
        domains.contains(&"b.example"),
        "the 10 MB line still counts: {domains:?}"
    );
}

#[test]
fn a_truncated_gzip_keeps_what_was_readable_and_says_so() {
    let log = std::fs::read(fixture("postfix/postfix_log_analysis__mail2.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&log).unwrap();
    let full = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("mail.log.2.gz");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    let store = TempStore::new();
    let out = store.run(&["import", cut.to_str().unwrap()]);
    assert_clean_failure("truncated gzip", &out);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mail.log.2.gz: the compressed data is truncated or corrupt"),
        "{err}"
    );
    let partial = store.deliveries().len();
    assert!(partial > 0, "the readable part was imported");
    // The whole file later completes it: only the tail is new.
    let whole = dir.path().join("mail.log.2");
    std::fs::write(&whole, &log).unwrap();
    let out = store.run_ok(&["import", whole.to_str().unwrap()]);
    assert!(out.contains("seen before"), "{out}");
    let clean = TempStore::new();
    clean.run_ok(&["import", whole.to_str().unwrap()]);
    assert_eq!(store.deliveries().len(), clean.deliveries().len());

    // Cut within the first kilobytes (inside what format detection reads): the same.
    let short = dir.path().join("short.gz");
    std::fs::write(&short, &full[..2000]).unwrap();
    let small = TempStore::new();
    let out = small.run(&["import", short.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the lines before it were imported"), "{err}");
    assert!(
        !small.deliveries().is_empty(),
        "the readable lines were imported"
    );
}

fn sorted(mut v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    v.sort_by_key(|d| d.to_string());
    v
}

#[test]
fn an_import_killed_midway_is_completed_exactly_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = common::generated_log(dir.path(), "big.log", 4_000, 11);
    // An empty store's first load goes through a rollback journal, a store with data
    // through the WAL: both must come back whole.
    for (signal, preloaded) in [("-KILL", true), ("-INT", false)] {
        let store = TempStore::new();
        // Something already in the store, which must survive untouched.
        if preloaded {
            store.run_ok(&[
                "import",
                fixture("postfix/gomaillex__maillog").to_str().unwrap(),
            ]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .args(["--db", &store.db(), "import", log.to_str().unwrap()])
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it once its load has begun writing: the rollback journal of a first load
        // exists only while it is uncommitted, and a later load writes WAL frames (it
        // commits once, at the end of the file). No sleep to guess the moment.
        let journal = if preloaded { "-wal" } else { "-journal" };
        let writing = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", store.db())).is_ok_and(|m| m.len() > 0)
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !writing(journal) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{signal}: the import ended before it was seen writing"
            );
            assert!(
                Instant::now() < deadline,
                "{signal}: the import never wrote"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "{signal}");
        if !preloaded {
            assert!(
                store.deliveries().is_empty(),
                "{signal}: a half-written load"
            );
        }

        store.run_ok(&["import", log.to_str().unwrap()]);
        let clean = TempStore::new();
        if preloaded {
            clean.run_ok(&[
                "import",
                fixture("postfix/gomaillex__maillog").to_str().unwrap(),
            ]);
        }
        clean.run_ok(&["import", log.to_str().unwrap()]);
        let (a, b) = (sorted(store.deliveries()), sorted(clean.deliveries()));
        assert_eq!(a.len(), b.len(), "{signal}");
        assert!(a == b, "{signal}: deliveries differ from a clean import");
    }
}

#[test]
fn a_store_held_by_another_writer_is_busy_and_readers_read_alongside() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        fixture("postfix/gomaillex__maillog").to_str().unwrap(),
    ]);
    let before = store.deliveries();
    let holder = rusqlite::Connection::open(store.db()).unwrap();
    holder
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM deliveries WHERE 0;")
        .unwrap();

    let started = Instant::now();
    let out = store.run(&[
        "import",
        fixture("postfix/postfix_log_analysis__mail3.log")
            .to_str()
            .unwrap(),
    ]);
    assert_clean_failure("busy store", &out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("busy"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Reading goes on while the writer holds its lock.
    let report = store.run(&["report", "--json"]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.deliveries(), before);
}

#[test]
fn foreign_corrupt_and_newer_stores_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes(x); INSERT INTO notes VALUES (1);")
        .unwrap();
    let corrupt = dir.path().join("corrupt.db");
    let mut junk = b"SQLite format 3\0".to_vec();
    junk.extend((0..8000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(&corrupt, &junk).unwrap();
    let newer = dir.path().join("newer.db");
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 999;")
        .unwrap();
    drop(c);
    for db in [&foreign, &corrupt, &newer] {
        let bytes = std::fs::read(db).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .args(["--db", db.to_str().unwrap(), "report"])
            .output()
            .unwrap();
        assert_clean_failure(&db.display().to_string(), &out);
        assert_eq!(out.status.code(), Some(1));
        assert!(!out.stderr.is_empty());
        assert_eq!(
            std::fs::read(db).unwrap(),
            bytes,
            "{} was changed",
            db.display()
        );
    }
}

/// The contract: a user error exits 1 with one line on stderr; help is not an error.
#[test]
fn usage_errors_are_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["--bogus"][..],
        &["import"],
        &["export"],
        &["export", "deliveries", "--format", "xml"],
        &["report", "extra"],
        &["export", "deliveries", "--status", "nope"],
        &["import", "--year", "99999", "x.log"],
        &["import", "--year", "0", "x.log"],
        &["report", "--queue-lifetime", "0"],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("sendlog: "), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Reading a store that is not there is a mistake to name, not a store to create.
    for args in [
        &["report"][..],
        &["export", "deliveries"],
        &["requeue", "list"],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("no store at"), "{args:?}: {err}");
    }
    let help = run(&["import", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: sendlog import"));
    assert!(
        !db.exists(),
        "a usage error or help must not create a store"
    );
}

/// `sendlog … | head -1` is how people peek at an export: the reader closing the pipe is
/// its choice, so every streaming command stops quietly with status 0.
#[test]
fn a_reader_closing_the_pipe_early_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = common::generated_log(dir.path(), "big.log", 3_000, 11);
    let store = TempStore::new();
    store.run_ok(&["import", log.to_str().unwrap()]);
    for args in [
        &["export", "deliveries", "--format", "csv"][..],
        &["export", "deliveries", "--format", "jsonl"],
        &["report"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .arg("--db")
            .arg(store.db())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn follow_up_work_an_interrupted_import_owed_is_done_by_the_next_one() {
    // A load commits per file; relinking reports and marking typo domains run after it in
    // transactions of their own. Kill an import between the two (here: undo that work and
    // leave the flag as the load left it) and the next import, even of nothing new, does it.
    let store = TempStore::new();
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
    store.run_ok(&["import", log]);
    let flagged = |store: &TempStore| {
        store
            .deliveries()
            .iter()
            .filter(|d| !d["typo_of"].is_null())
            .count()
    };
    let before = flagged(&store);
    assert!(before > 0, "the sample has a typo domain");
    let conn = rusqlite::Connection::open(store.db()).unwrap();
    conn.execute_batch(
        "UPDATE deliveries SET typo_of = NULL;
         INSERT INTO settings (key, value) VALUES ('follow_up_from', '1');",
    )
    .unwrap();
    drop(conn);
    assert_eq!(flagged(&store), 0);
    store.run_ok(&["import", log]);
    assert_eq!(flagged(&store), before, "the owed marking was done");
    assert!(!store.owes_follow_up(), "and no longer owed");
}
