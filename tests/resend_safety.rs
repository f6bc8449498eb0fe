//! Never send twice, never re-send the wrong thing: the duplicate-send cases end to end
//! through the real binary (import, resolve, mark, export, re-import, export again), the
//! per-message later-success rule, resolutions previewed, scoped, undone and kept in the
//! history, and where a batch may be written.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TempStore, fixture};
use serde_json::Value;

const LOG: &str = "requeue/mail.log";

fn import(store: &TempStore, path: &std::path::Path) -> String {
    store.run_ok(&["import", "--year", "2026", path.to_str().unwrap()])
}

fn json(store: &TempStore, args: &[&str]) -> Value {
    serde_json::from_str(&store.run_ok(args)).expect("JSON output")
}

/// recipient → (rule, other_message_sent) for every failed delivery.
fn verdicts(store: &TempStore) -> BTreeMap<String, (String, bool)> {
    let v = json(store, &["requeue", "list", "--all", "--json"]);
    v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let rule = match j["verdict"].as_str().unwrap() {
                "eligible" => "eligible".to_string(),
                _ => j["exclusion"]["rule"].as_str().unwrap().to_string(),
            };
            (
                j["recipient"].as_str().unwrap().to_string(),
                (rule, j["other_message_sent"].as_bool().unwrap()),
            )
        })
        .collect()
}

fn csv_recipients(text: &str) -> BTreeSet<String> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    rd.records().map(|r| r.unwrap()[1].to_string()).collect()
}

fn history_actions(store: &TempStore) -> Vec<(String, i64)> {
    json(store, &["history", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The fixture with `from` replaced by `to` (which must occur), written into `dir`.
fn fixture_with(dir: &std::path::Path, from: &str, to: &str) -> std::path::PathBuf {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let changed = full.replace(from, to);
    assert_ne!(changed, full, "{from:?} is in the fixture");
    let log = dir.join("mail.log");
    std::fs::write(&log, changed).unwrap();
    log
}

/// The fixture's lines, cut before the first line containing `marker`.
fn lines_before(marker: &str) -> String {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let cut = lines.iter().position(|l| l.contains(marker)).unwrap();
    lines[..cut].join("\n") + "\n"
}

#[test]
fn a_shorter_older_copy_and_a_second_import_never_hand_out_a_delivery_twice() {
    let store = TempStore::new();
    let dir = tempfile::tempdir().unwrap();
    import(&store, &fixture(LOG));
    let deliveries = store.deliveries().len();
    store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "Microsoft",
        "--note",
        "delisted",
    ]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let first = dir.path().join("first.csv");
    store.run_ok(&[
        "requeue",
        "export",
        "--format",
        "csv",
        "--out",
        first.to_str().unwrap(),
    ]);
    let sent = csv_recipients(&std::fs::read_to_string(&first).unwrap());
    assert_eq!(
        sent,
        BTreeSet::from([
            "dana.white@contoso-corp.example".to_string(),
            "sam.ortiz@outlook.com".to_string()
        ])
    );

    // An older, shorter copy of the same log (rotated while it was being written),
    // imported after the full one: nothing in it is new.
    let older = dir.path().join("mail.log.1");
    std::fs::write(
        &older,
        lines_before("9C5F661548: from=<outreach@northwind-sales.example>, status=expired"),
    )
    .unwrap();
    import(&store, &older);
    // The same log once more, under another name.
    let copy = dir.path().join("copy.log");
    std::fs::copy(fixture(LOG), &copy).unwrap();
    import(&store, &copy);
    assert_eq!(
        store.deliveries().len(),
        deliveries,
        "no delivery came in twice"
    );

    // Marking and exporting again hands out nothing already handed out.
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let again = store.run(&["requeue", "export", "--format", "csv"]);
    assert!(again.status.success());
    let second = csv_recipients(&String::from_utf8(again.stdout).unwrap());
    assert!(second.is_disjoint(&sent), "{second:?}");
    let listed = json(&store, &["requeue", "list", "--json"]);
    assert_eq!(listed["batches"].as_array().unwrap().len(), 1);
}

#[test]
fn already_exported_holds_for_every_stored_copy_of_a_message() {
    let store = TempStore::new();
    let dir = tempfile::tempdir().unwrap();
    // The older part first, then the whole log as a separate file whose start differs
    // (a header line an admin added): the store holds the early messages twice.
    let older = dir.path().join("older.log");
    let early = lines_before("Nov 25 09:20:00 mta1 postfix/qmgr");
    std::fs::write(&older, &early).unwrap();
    import(&store, &older);
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let other = dir.path().join("other.log");
    std::fs::write(
        &other,
        format!("Nov 20 08:59:59 mta1 postfix/master[1]: daemon started -- version 3.8.6\n{full}"),
    )
    .unwrap();
    import(&store, &other);
    let once = TempStore::new();
    import(&once, &fixture(LOG));
    assert!(
        store.deliveries().len() > once.deliveries().len(),
        "the store holds some messages twice"
    );
    store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "Microsoft",
    ]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let first = store.run(&["requeue", "export", "--format", "csv", "--include-queued"]);
    let sent = csv_recipients(&String::from_utf8(first.stdout).unwrap());
    assert!(!sent.is_empty());
    // Whatever copies of these (message, recipient) pairs the store holds, none is
    // eligible once one was exported.
    for (recipient, (rule, _)) in verdicts(&store) {
        if sent.contains(&recipient) {
            assert_ne!(rule, "eligible", "{recipient}");
        }
    }
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let again = store.run(&["requeue", "export", "--format", "csv", "--include-queued"]);
    let second = csv_recipients(&String::from_utf8(again.stdout).unwrap());
    assert!(second.is_disjoint(&sent), "{second:?}");
}

#[test]
fn later_success_counts_the_same_message_only() {
    let store = TempStore::new();
    let dir = tempfile::tempdir().unwrap();
    import(&store, &fixture(LOG));
    // F0A1B2C3D4 reached info@oldharbor later, but it is another message: shown, not
    // an exclusion.
    let v = verdicts(&store);
    assert_eq!(v["info@oldharbor.example"], ("not_resolved".into(), true));
    assert!(!v["dana.white@contoso-corp.example"].1);
    let text = store.run_ok(&["requeue", "list", "--all"]);
    assert!(
        text.lines().any(|l| l.contains("info@oldharbor.example")
            && l.contains("another message reached this recipient later")),
        "{text}"
    );

    // The same log where the later queue file carries the expired message's own
    // Message-ID (the message put back in the queue and delivered): now it got there.
    let log = fixture_with(
        dir.path(),
        "F0A1B2C3D4: message-id=<20261125100000.F0A1B2C3D4@northwind-sales.example>",
        "F0A1B2C3D4: message-id=<20261120092000.BE71883760@northwind-sales.example>",
    );
    let store = TempStore::new();
    import(&store, &log);
    // (Another message reaching them is said only when it is not this one.)
    assert_eq!(
        verdicts(&store)["info@oldharbor.example"],
        ("later_success".into(), false)
    );
}

#[test]
fn resolutions_are_previewed_scoped_undone_and_kept_in_the_history() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    let scope = [
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "Microsoft",
        "--host",
        "mta2",
        "--at",
        "2026-11-25T09:00:00Z",
    ];
    let preview = store.run_ok(&[&scope[..], &["--dry-run"]].concat());
    assert_eq!(
        preview.trim(),
        "Dry run, nothing recorded: this resolves badreputation at Microsoft from mta2: \
         2 deliveries become eligible, 1 stay excluded (1 resolved before last attempt)"
    );
    assert!(history_actions(&store).is_empty());
    assert!(
        verdicts(&store)
            .values()
            .all(|(rule, _)| rule != "eligible"),
        "a dry run records nothing"
    );

    // Typo domains and names the store has never seen are refused, with the closest.
    for (args, said) in [
        (
            vec!["--domain", "gmial.com"],
            "gmial.com looks like a typo of gmail.com",
        ),
        (
            vec!["--domain", "contoso-crop.example"],
            "no failed delivery went to contoso-crop.example; did you mean contoso-corp.example?",
        ),
        (vec!["--domain", "Micrsoft"], "did you mean Microsoft?"),
        (
            vec!["--host", "MTA3"],
            "no failed delivery was sent from host MTA3; did you mean mta1, mta2?",
        ),
    ] {
        let out = store.run(&[&["resolve", "--cause", "badreputation"][..], &args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{args:?}: {err}");
        assert!(err.contains("nothing was recorded"), "{err}");
    }
    assert!(history_actions(&store).is_empty());

    let out = store.run_ok(&[&scope[..], &["--note", "delisted"]].concat());
    assert!(out.starts_with("Resolution 1 recorded"), "{out}");
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let undone = store.run_ok(&["resolve", "--undo", "1", "--note", "listed again"]);
    assert_eq!(
        undone.trim(),
        "Resolution 1 undone: badreputation at Microsoft from mta2; 2 deliveries are no \
         longer eligible (2 in the basket stay marked, now excluded)"
    );
    let v = verdicts(&store);
    assert_eq!(v["dana.white@contoso-corp.example"].0, "not_resolved");
    // Nothing to export after the undo.
    let out = store.run(&["requeue", "export", "--format", "csv"]);
    assert!(out.stdout.is_empty());
    // Undone twice, or a resolution that does not exist: an error, nothing recorded.
    for id in ["1", "9"] {
        assert_eq!(store.run(&["resolve", "--undo", id]).status.code(), Some(1));
    }
    assert_eq!(
        history_actions(&store),
        [
            ("resolve".to_string(), 2),
            ("mark".to_string(), 2),
            ("undo".to_string(), 2)
        ]
    );
    let text = store.run_ok(&["history"]);
    assert!(text.contains("undo of resolution 1"), "{text}");
    assert!(text.contains("— listed again"), "{text}");
}

#[test]
fn batches_go_to_regular_files_or_standard_output_and_are_in_the_history() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    store.run_ok(&["resolve", "--cause", "badreputation"]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("theirs.csv");
    std::fs::write(&target, "theirs\n").unwrap();
    let link = dir.path().join("link.csv");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for out in [
        link.to_str().unwrap(),
        dir.path().to_str().unwrap(),
        "/dev/null",
    ] {
        let r = store.run(&["requeue", "export", "--format", "csv", "--out", out]);
        assert_eq!(r.status.code(), Some(1), "{out}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains("cannot write"), "{out}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
    assert!(history_actions(&store).iter().all(|(a, _)| a != "export"));

    // `-` is standard output, recorded as such.
    let r = store.run(&["requeue", "export", "--format", "csv", "--out", "-"]);
    assert!(r.status.success());
    assert_eq!(
        csv_recipients(&String::from_utf8(r.stdout).unwrap()).len(),
        2
    );
    assert!(!std::path::Path::new("-").exists());
    let listed = json(&store, &["requeue", "list", "--json"]);
    assert_eq!(listed["batches"][0]["destination"], "-");
    assert!(
        history_actions(&store).contains(&("export".to_string(), 2)),
        "{:?}",
        history_actions(&store)
    );
}

#[test]
fn queue_lifetimes_need_a_unit_and_stay_in_bounds() {
    let store = TempStore::new();
    for bad in ["5", "30m", "31d", "99999999999999999d"] {
        let out = store.run(&[
            "import",
            "--queue-lifetime",
            bad,
            fixture(LOG).to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
    }
    assert!(
        !std::path::Path::new(&store.db()).exists(),
        "nothing imported"
    );
    let help = String::from_utf8(store.run(&["import", "--help"]).stdout).unwrap();
    assert!(help.contains("a bare number is refused"), "{help}");
    assert!(help.contains("from 1h to 30d"), "{help}");
}

#[test]
fn an_empty_store_path_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .args(["import", fixture(LOG).to_str().unwrap()])
        .env("SENDLOG_DB", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the store path is empty"));
    let store = TempStore::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .args(["--db", "", "report"])
        .current_dir(store.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_outputs_escape_what_a_terminal_would_obey() {
    let store = TempStore::new();
    let dir = tempfile::tempdir().unwrap();
    // A real line whose reply text carries DEL, a C1 CSI, a bidi override and U+2028.
    let log = fixture_with(
        dir.path(),
        "Recipient address rejected: Greylisted",
        "Recipient address rejected: Grey\u{7f}\u{9b}31m\u{202e}listed\u{2028}x",
    );
    import(&store, &log);
    let raw = store.run_ok(&["export", "deliveries", "--format", "jsonl"]);
    for c in ['\u{7f}', '\u{9b}', '\u{202e}', '\u{2028}'] {
        assert!(!raw.contains(c), "{c:?} raw in the JSON");
    }
    assert!(raw.contains("Grey\\u007f\\u009b31m\\u202elisted\\u2028x"));
    // Still the same text once parsed.
    let texts: Vec<String> = raw
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|v| v["last_deferral_text"].as_str().map(String::from))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Grey\u{7f}\u{9b}31m\u{202e}listed\u{2028}x"))
    );
    let report = store.run_ok(&["report", "--json"]);
    assert!(!report.contains('\u{202e}') && !report.contains('\u{2028}'));
}

/// The store fails to record a batch after its file was written (here a deferred
/// constraint fails the commit, as a full disk would): the file never appears under its
/// name, no temporary file is left, and nothing is used up.
#[test]
fn a_batch_the_store_could_not_record_leaves_no_file() {
    use sendlog::requeue::basket;
    use sendlog::requeue::export::{Existing, Pending, RequeueFormat, stage_file};
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    store.run_ok(&["resolve", "--cause", "badreputation"]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("resend.csv");

    let mut s = sendlog::store::Store::open(&store.db()).unwrap();
    s.connection_for_tests()
        .execute_batch(
            "PRAGMA defer_foreign_keys = ON;
             CREATE TEMP TRIGGER fail_commit AFTER UPDATE ON main.batches BEGIN
                 INSERT INTO batch_items (batch_id, message_ref, recipient)
                 VALUES (NEW.id, 999999, 'nobody');
             END;",
        )
        .unwrap();
    let result = basket::export(
        &mut s,
        RequeueFormat::Csv,
        basket::ExportOptions::default(),
        1_790_000_000,
        |_, bytes| -> anyhow::Result<Pending> {
            Ok(Pending::File(stage_file(
                RequeueFormat::Csv,
                &path,
                &bytes,
                Existing::Replace,
            )?))
        },
    );
    assert!(result.is_err(), "the commit failed");
    assert!(!path.exists(), "no batch file without its record");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    drop(s);
    let listed = json(&store, &["requeue", "list", "--json"]);
    assert!(listed["batches"].as_array().unwrap().is_empty());
    assert!(history_actions(&store).iter().all(|(a, _)| a != "export"));
    // Nothing was used up.
    let r = store.run_ok(&["requeue", "export", "--format", "csv"]);
    assert_eq!(csv_recipients(&r).len(), 2);
}
