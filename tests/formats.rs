//! Exim, Exchange message tracking, Microsoft 365 trace and PowerMTA inputs, end to end:
//! detection, import into a temporary store, and the delivery records that come out.
//! Fixtures: tests/fixtures/<format>/ (see PROVENANCE.md there).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sendlog::ingest::timestamp::YearTracker;
use sendlog::ingest::{Event, EventKind, Format, LineOutcome, line_parser};
use serde_json::Value;

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn sendlog(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run sendlog")
}

fn import(db: &Path, args: &[&str]) -> String {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = sendlog(db, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn deliveries(db: &Path) -> Vec<Value> {
    let out = sendlog(db, &["export", "deliveries", "--format", "jsonl"]);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Deliveries by recipient (each recipient appears once in the outcome fixtures).
fn by_recipient(db: &Path) -> HashMap<String, Value> {
    deliveries(db)
        .into_iter()
        .map(|d| (d["recipient"].as_str().unwrap().to_string(), d))
        .collect()
}

fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    (dir, db)
}

#[track_caller]
fn assert_outcome(
    d: &HashMap<String, Value>,
    rcpt: &str,
    status: &str,
    code: &str,
    cause: Option<&str>,
    last_deferral_code: Option<&str>,
) {
    let row = d
        .get(rcpt)
        .unwrap_or_else(|| panic!("no delivery for {rcpt}"));
    assert_eq!(row["status"], status, "{rcpt}: {row}");
    assert_eq!(row["code"], code, "{rcpt}: {row}");
    assert_eq!(row["cause"].as_str(), cause, "{rcpt}: {row}");
    assert_eq!(
        row["last_deferral_code"].as_str(),
        last_deferral_code,
        "{rcpt}: {row}"
    );
}

#[test]
fn exim_outcomes() {
    let (_dir, db) = store();
    let out = import(&db, &[&fixture("exim/outcomes.mainlog")]);
    assert!(out.contains(": exim: 11 lines read"), "{out}");
    let d = by_recipient(&db);
    assert_outcome(&d, "quinn@northwind.example", "sent", "2.0.0", None, None);
    assert_outcome(
        &d,
        "nobody@tailspin.example",
        "bounced",
        "5.1.1",
        Some("userunknown"),
        None,
    );
    assert_outcome(
        &d,
        "rae@fabrikam.example",
        "deferred",
        "4.4.1",
        Some("networkerror"),
        Some("4.4.1"),
    );
    // Expired: the cause is the last real deferral (the retry-wait line repeats it).
    assert_outcome(
        &d,
        "pat@outlook.example",
        "expired",
        "4.4.7",
        Some("badreputation"),
        Some("4.7.650"),
    );
    assert_eq!(d["pat@outlook.example"]["attempts"], 1);
    assert!(
        d["pat@outlook.example"]["last_deferral_text"]
            .as_str()
            .unwrap()
            .ends_with(": 421 4.7.650 The mail server [203.0.113.13] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775)")
    );
    // Expired with no deferral logged: nothing to name as the cause.
    assert_outcome(&d, "sam@tailspin.example", "expired", "4.4.7", None, None);
    assert_eq!(d["pat@outlook.example"]["sender"], "news@contoso.example");
    assert_eq!(d["pat@outlook.example"]["message_id"], "e1@contoso.example");
}

#[test]
fn exchange_tracking_log_outcomes() {
    let (_dir, db) = store();
    let out = import(&db, &[&fixture("exchange/MSGTRK20261120-1.LOG")]);
    assert!(out.contains(": exchange: 20 lines read"), "{out}");
    assert!(out.contains(" 0 skipped"), "{out}");
    let d = by_recipient(&db);
    assert_outcome(&d, "alice@northwind.example", "sent", "2.1.5", None, None);
    assert_outcome(
        &d,
        "nobody@tailspin.example",
        "bounced",
        "5.1.1",
        Some("userunknown"),
        None,
    );
    assert_outcome(
        &d,
        "carol@tailspin.example",
        "bounced",
        "5.1.1",
        Some("userunknown"),
        None,
    );
    assert_outcome(
        &d,
        "dave@tailspin.example",
        "deferred",
        "4.4.0",
        Some("hostunknown"),
        Some("4.4.0"),
    );
    // The wrapper says 451 4.4.0; the remote's own reply inside it is 421 4.7.650.
    assert_outcome(
        &d,
        "bob@fabrikam.example",
        "expired",
        "4.4.7",
        Some("badreputation"),
        Some("4.7.650"),
    );
    let bob = &d["bob@fabrikam.example"];
    assert_eq!(bob["attempts"], 2);
    assert_eq!(bob["reply_code"], 421);
    assert_eq!(bob["host"], "EX01");
    assert_eq!(bob["sender"], "news@contoso.example");
    assert_eq!(bob["message_id"], "m2@contoso.example");
    // No DEFER row logged: the FAIL's [Message=…] is the last error.
    assert_outcome(
        &d,
        "erin@tailspin.example",
        "expired",
        "4.4.7",
        Some("hostunknown"),
        Some("4.4.0"),
    );
    assert_eq!(
        d["erin@tailspin.example"]["relay"].as_str(),
        Some("mail.tailspin.example")
    );
}

#[test]
fn get_messagetrackinglog_export_outcomes() {
    let (_dir, db) = store();
    let out = import(&db, &[&fixture("exchange/get-messagetrackinglog.csv")]);
    // The row whose recipients PowerShell printed as System.String[] is counted, not lost.
    assert!(out.contains(": exchange: 7 lines read"), "{out}");
    assert!(out.contains(" 1 skipped"), "{out}");
    let d = by_recipient(&db);
    assert_eq!(d.len(), 2);
    assert_outcome(&d, "frank@northwind.example", "sent", "2.1.5", None, None);
    assert_outcome(
        &d,
        "gina@fabrikam.example",
        "expired",
        "4.4.7",
        Some("badreputation"),
        Some("4.7.650"),
    );
    assert_eq!(d["gina@fabrikam.example"]["host"], "EX02");
    assert_eq!(d["frank@northwind.example"]["host"], "EX02");
}

#[test]
fn m365_exports_in_utf16_and_utf8() {
    let (_dir, db) = store();
    let out = import(
        &db,
        &[
            &fixture("m365/extended-report.csv"),
            &fixture("m365/enhanced-summary-utf16le.csv"),
            &fixture("m365/messagetrace-utf16le-bom.csv"),
        ],
    );
    assert_eq!(out.matches(": m365: ").count(), 3, "{out}");
    assert!(!out.contains("skipped (first"), "{out}");
    let d = by_recipient(&db);
    assert_eq!(d.len(), 8);
    assert_outcome(
        &d,
        "hank@fabrikam.example",
        "expired",
        "4.4.7",
        Some("badreputation"),
        Some("4.7.650"),
    );
    assert_outcome(&d, "ivy@northwind.example", "sent", "2.1.5", None, None);
    for sent in ["jack@northwind.example", "mia@northwind.example"] {
        assert_eq!(d[sent]["status"], "sent", "{sent}");
    }
    for bounced in ["kim@tailspin.example", "ned@tailspin.example"] {
        assert_eq!(d[bounced]["status"], "bounced", "{bounced}");
    }
    for deferred in ["lee@fabrikam.example", "oda@fabrikam.example"] {
        assert_eq!(d[deferred]["status"], "deferred", "{deferred}");
    }
    // Decoded from UTF-16: the summary's sender and the trace's id read as text.
    assert_eq!(d["jack@northwind.example"]["sender"], "ops@contoso.example");
    assert_eq!(
        d["mia@northwind.example"]["message_id"],
        "t1@contoso.example"
    );
    assert!(d.values().all(|r| r["host"] == "exchange-online"));
}

#[test]
fn powermta_outcomes() {
    let (_dir, db) = store();
    let out = import(&db, &[&fixture("powermta/acct-2026-11-20-0000.csv")]);
    assert!(out.contains(": powermta: 8 lines read"), "{out}");
    let d = by_recipient(&db);
    assert_outcome(&d, "quinn@northwind.example", "sent", "2.0.0", None, None);
    assert_outcome(
        &d,
        "nobody@tailspin.example",
        "bounced",
        "5.1.1",
        Some("userunknown"),
        None,
    );
    assert_outcome(
        &d,
        "rae@fabrikam.example",
        "deferred",
        "4.4.1",
        Some("networkerror"),
        Some("4.4.1"),
    );
    assert_outcome(
        &d,
        "pat@outlook.example",
        "expired",
        "4.4.7",
        Some("badreputation"),
        Some("4.7.650"),
    );
    assert_eq!(d["pat@outlook.example"]["attempts"], 2);
    assert_eq!(d["pat@outlook.example"]["host"], "vmta-ip13");
    // bounceCat message-expired with no `t` record: its own diagnostic is the cause.
    assert_outcome(
        &d,
        "sam@tailspin.example",
        "expired",
        "4.4.7",
        Some("hostunknown"),
        Some("4.4.3"),
    );
}

/// A stray quote in a PowerMTA accounting record (a diagnostic whose closing quote was
/// lost) costs that record only: it is counted skipped and every record after it reads as
/// in the intact file.
#[test]
fn a_stray_quote_in_csv_skips_its_record_only() {
    let intact = std::fs::read_to_string(fixture("powermta/acct-2026-11-20-0000.csv")).unwrap();
    let broken = intact.replacen(
        "User unknown in virtual mailbox table\",",
        "User unknown in virtual mailbox table,",
        1,
    );
    assert_ne!(broken, intact);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acct.csv");
    std::fs::write(&path, &broken).unwrap();
    let (_d1, db) = store();
    let out = import(&db, &[path.to_str().unwrap()]);
    assert!(out.contains(": powermta: 8 lines read"), "{out}");
    // Counted where the record was given up (the next line shows it cannot continue).
    assert!(out.contains(" 1 skipped"), "{out}");
    let (_d2, clean) = store();
    import(&clean, &[&fixture("powermta/acct-2026-11-20-0000.csv")]);
    let mut want = by_recipient(&clean);
    want.remove("nobody@tailspin.example");
    let got = by_recipient(&db);
    assert_eq!(got.len(), want.len());
    for (rcpt, d) in &want {
        let mut d = d.clone();
        let mut g = got[rcpt].clone();
        // The two files have different paths, which `source` and `cause_source` name.
        for field in ["source", "cause_source"] {
            d.as_object_mut().unwrap().remove(field);
            g.as_object_mut().unwrap().remove(field);
        }
        assert_eq!(g, d, "{rcpt}");
    }
}

#[test]
fn the_same_cause_groups_alike_across_formats() {
    let (_dir, db) = store();
    import(
        &db,
        &[
            &fixture("exim/outcomes.mainlog"),
            &fixture("exchange/MSGTRK20261120-1.LOG"),
            &fixture("powermta/acct-2026-11-20-0000.csv"),
            &fixture("m365/extended-report.csv"),
        ],
    );
    // Microsoft's reputation deferral behind each expiry, logged four different ways.
    let expired_by_reputation: Vec<Value> = deliveries(&db)
        .into_iter()
        .filter(|d| d["status"] == "expired" && d["reply_code"] == 421)
        .collect();
    let hosts: Vec<&str> = expired_by_reputation
        .iter()
        .map(|d| d["host"].as_str().unwrap())
        .collect();
    assert_eq!(expired_by_reputation.len(), 4, "{hosts:?}");
    for d in &expired_by_reputation {
        assert_eq!(d["code"], "4.4.7", "{d}");
        assert_eq!(d["cause"], "badreputation", "{d}");
        assert_eq!(d["last_deferral_code"], "4.7.650", "{d}");
    }
    // A bounce for an unknown user groups under 5.1.1 / userunknown in each.
    let unknown = deliveries(&db)
        .into_iter()
        .filter(|d| d["recipient"] == "nobody@tailspin.example")
        .inspect(|d| {
            assert_eq!(d["code"], "5.1.1", "{d}");
            assert_eq!(d["cause"], "userunknown", "{d}");
        })
        .count();
    assert_eq!(unknown, 3);
}

#[test]
fn detection_picks_each_format_and_names_the_formats_tried_for_junk() {
    let cases = [
        ("exim/outcomes.mainlog", "exim"),
        ("exim/Debian-VM-__mainlog", "exim"),
        ("exim/Debian-VM-__mainlog.1", "exim"),
        ("exim/exim__testsuite-log-deliveries.log", "exim"),
        ("exim/logstash-patterns-core__exim_spec-lines.log", "exim"),
        ("exchange/MSGTRK20261120-1.LOG", "exchange"),
        ("exchange/get-messagetrackinglog.csv", "exchange"),
        ("exchange/beats__bom8.log", "exchange"),
        (
            "exchange/integrations__test-messagetracking.log",
            "exchange",
        ),
        ("exchange/unresolved-repo__MSGTRKMS-example.log", "exchange"),
        ("m365/extended-report.csv", "m365"),
        ("m365/enhanced-summary-utf16le.csv", "m365"),
        ("m365/messagetrace-utf16le-bom.csv", "m365"),
        ("powermta/acct-2026-11-20-0000.csv", "powermta"),
        (
            "powermta/port25-bouncehandler-issue3__bounce.csv",
            "powermta",
        ),
        ("powermta/unresolved-repo__acct-d-record.csv", "powermta"),
    ];
    for (file, format) in cases {
        let (_dir, db) = store();
        let out = import(&db, &[&fixture(file)]);
        assert!(out.contains(&format!(": {format}: ")), "{file}: {out}");
    }
    let (_dir, db) = store();
    let out = sendlog(&db, &["import", &fixture("junk/notes.txt")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in ["exchange", "m365", "powermta", "postfix", "exim"] {
        assert!(err.contains(name), "{err}");
    }
    assert!(err.contains("--format"), "{err}");
}

#[test]
fn format_can_be_forced() {
    let (_dir, db) = store();
    let out = import(
        &db,
        &["--format", "exim", &fixture("exim/outcomes.mainlog")],
    );
    assert!(out.contains(": exim: "), "{out}");
    // Forcing the wrong format reads nothing into the store and says so by counting.
    let (_dir2, db2) = store();
    let out = import(
        &db2,
        &["--format", "powermta", &fixture("exim/outcomes.mainlog")],
    );
    assert!(out.contains("11 skipped"), "{out}");
    assert!(deliveries(&db2).is_empty());
}

#[test]
fn a_grown_accounting_file_keeps_its_header_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = dir.path().join("acct.csv");
    let full = std::fs::read_to_string(fixture("powermta/acct-2026-11-20-0000.csv")).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    std::fs::write(&log, format!("{}\n", lines[..4].join("\n"))).unwrap();
    import(&db, &[log.to_str().unwrap()]);
    assert_eq!(deliveries(&db).len(), 1);
    std::fs::write(&log, &full).unwrap();
    let out = import(&db, &[log.to_str().unwrap()]);
    assert!(out.contains(" 0 skipped"), "{out}");
    let d = by_recipient(&db);
    assert_eq!(d.len(), 5);
    assert_eq!(d["nobody@tailspin.example"]["status"], "bounced");
}

// ---- every corpus file of these formats, against an independent count ----------------

fn events_of(format: Format, path: &str) -> (Vec<Event<'static>>, u64) {
    let bytes = std::fs::read(path).unwrap();
    let mut parser = line_parser(format, YearTracker::given(2016)).unwrap();
    let mut out = Vec::new();
    let mut skipped = 0;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut events = Vec::new();
        if let LineOutcome::Skipped = parser.parse_line(line, i as u64 + 1, &mut events) {
            skipped += 1;
        }
        out.extend(events.into_iter().map(Event::into_owned));
    }
    (out, skipped)
}

fn count(events: &[Event], kind: EventKind) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

use sendlog::ingest::AttemptStatus::{Bounced, Deferred, Sent};

#[test]
fn exim_corpus_counts() {
    let flag = regex::Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})? (?:\[\d+\] )?\w+-\w+-\w+ (<=|=>|->|>>|==|\*\*|Completed)(.*)$",
    )
    .unwrap();
    for file in [
        "exim/Debian-VM-__mainlog",
        "exim/Debian-VM-__mainlog.1",
        "exim/exim__testsuite-log-deliveries.log",
        "exim/logstash-patterns-core__exim_spec-lines.log",
    ] {
        let path = fixture(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut want: HashMap<&str, usize> = HashMap::new();
        for line in text.lines() {
            if let Some(c) = flag.captures(line) {
                let f = c.get(1).unwrap().as_str();
                let key = match f {
                    "=>" | "->" | ">>" => "sent",
                    "**" if c[2].contains("retry timeout exceeded")
                        || c[2].contains("have been failing for a long time") =>
                    {
                        "expired"
                    }
                    "**" => "bounced",
                    other => other,
                };
                *want.entry(key).or_default() += 1;
            }
        }
        let (ev, skipped) = events_of(Format::Exim, &path);
        let get = |k| want.get(k).copied().unwrap_or(0);
        assert_eq!(skipped, 0, "{file}");
        assert_eq!(count(&ev, EventKind::Created), get("<="), "{file} arrivals");
        assert_eq!(
            count(&ev, EventKind::Attempt(Sent)),
            get("sent"),
            "{file} deliveries"
        );
        assert_eq!(
            count(&ev, EventKind::Attempt(Deferred)),
            get("=="),
            "{file} deferrals"
        );
        assert_eq!(
            count(&ev, EventKind::Attempt(Bounced)),
            get("bounced"),
            "{file} failures"
        );
        assert_eq!(
            count(&ev, EventKind::RecipientExpired),
            get("expired"),
            "{file} expiries"
        );
        assert_eq!(
            count(&ev, EventKind::Removed),
            get("Completed"),
            "{file} completions"
        );

        let (_dir, db) = store();
        let out = import(&db, &[&path]);
        let lines = text.lines().count();
        assert!(
            out.contains(&format!(": exim: {lines} lines read")),
            "{out}"
        );
        assert!(out.contains(" 0 skipped"), "{out}");
    }
}

#[test]
fn exchange_corpus_counts() {
    for file in [
        "exchange/beats__bom8.log",
        "exchange/integrations__test-messagetracking.log",
        "exchange/unresolved-repo__MSGTRKMS-example.log",
    ] {
        let path = fixture(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        // Each outbound row here has one recipient.
        let sends = rows
            .iter()
            .filter(|l| l.contains(",SEND,") || l.contains(",SENDEXTERNAL,"))
            .count();
        let (ev, skipped) = events_of(Format::Exchange, &path);
        assert_eq!(skipped, 0, "{file}");
        assert_eq!(count(&ev, EventKind::Attempt(Sent)), sends, "{file}");
        let (_dir, db) = store();
        let out = import(&db, &[&path]);
        assert!(
            out.contains(&format!(": exchange: {} lines read", text.lines().count())),
            "{out}"
        );
        assert!(out.contains(" 0 skipped"), "{out}");
        let d = deliveries(&db);
        assert_eq!(d.len(), sends, "{file}");
        assert!(d.iter().all(|x| x["status"] == "sent"), "{file}");
    }
}

#[test]
fn exchange_2010_log_with_its_bom_and_2010_rows_without_a_preamble() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // The Beats test file is a UTF-8-BOM case; the corpus copy lost its BOM.
    let with_bom = dir.path().join("MSGTRK20160405-1.LOG");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(std::fs::read(fixture("exchange/beats__bom8.log")).unwrap());
    std::fs::write(&with_bom, &bytes).unwrap();
    let out = import(&db, &[with_bom.to_str().unwrap()]);
    assert!(out.contains(": exchange: 7 lines read"), "{out}");
    assert!(out.contains(" 0 skipped"), "{out}");

    // 26-field (2010) rows cut from their preamble map by their field count.
    let rows = dir.path().join("cut.LOG");
    let row = "2016-04-05T01:00:00.000Z,10.0.0.10,EX10,192.0.2.33,mx.fabrikam.example,,Internet,SMTP,SEND,4242,<a10@contoso.example>,rae@fabrikam.example,250 2.1.5 Recipient OK,1024,1,,,Hi,sales@contoso.example,sales@contoso.example,,Originating,,,,";
    assert_eq!(row.split(',').count(), 26);
    std::fs::write(&rows, format!("{row}\n{row}\n")).unwrap();
    let out = import(&db, &[rows.to_str().unwrap()]);
    assert!(out.contains(": exchange: 2 lines read"), "{out}");
    let d = by_recipient(&db);
    assert_eq!(d["rae@fabrikam.example"]["status"], "sent");
    assert_eq!(d["rae@fabrikam.example"]["host"], "EX10");
    assert_eq!(d["rae@fabrikam.example"]["queue_id"], "4242");
}

#[test]
fn exchange_messages_close_when_every_received_recipient_is_final() {
    let (ev, _) = events_of(Format::Exchange, &fixture("exchange/MSGTRK20261120-1.LOG"));
    let closed: Vec<&str> = ev
        .iter()
        .filter(|e| e.kind == EventKind::Removed)
        .map(|e| &*e.queue_id)
        .collect();
    // m1 (delivered) and m2 (expired) were received here; m4 is still deferred, and m3
    // and m6 have no RECEIVE row to say which recipients they had.
    assert_eq!(
        closed,
        [
            "11111111-aaaa-4bbb-8ccc-000000000001",
            "11111111-aaaa-4bbb-8ccc-000000000002"
        ]
    );
}

#[test]
fn powermta_corpus_counts() {
    for file in [
        "powermta/port25-bouncehandler-issue3__bounce.csv",
        "powermta/unresolved-repo__acct-d-record.csv",
    ] {
        let path = fixture(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let bounced = text.lines().filter(|l| l.starts_with("b,")).count();
        let sent = text.lines().filter(|l| l.starts_with("d,")).count();
        let (_dir, db) = store();
        let out = import(&db, &[&path]);
        assert!(out.contains(" 0 skipped"), "{out}");
        let d = deliveries(&db);
        assert_eq!(
            d.iter().filter(|x| x["status"] == "bounced").count(),
            bounced,
            "{file}"
        );
        assert_eq!(
            d.iter().filter(|x| x["status"] == "sent").count(),
            sent,
            "{file}"
        );
        assert_eq!(d.len(), bounced + sent, "{file}");
    }
}

/// An Exim mainlog names no host: `--host` says which server it came from, so that two
/// servers' logs group apart; without it the host is `unknown`.
#[test]
fn a_log_without_host_names_takes_the_given_host() {
    let (_dir, db) = store();
    import(&db, &[&fixture("exim/outcomes.mainlog")]);
    let hosts: std::collections::BTreeSet<String> = deliveries(&db)
        .iter()
        .map(|d| d["host"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hosts, ["unknown".to_string()].into());

    let (_dir2, db2) = store();
    import(&db2, &["--host", "mx1", &fixture("exim/outcomes.mainlog")]);
    let all = deliveries(&db2);
    assert!(!all.is_empty());
    assert!(all.iter().all(|d| d["host"] == "mx1"), "{all:?}");
    // A log that names its host keeps it.
    import(
        &db2,
        &["--host", "mx1", &fixture("postfix/gomaillex__maillog")],
    );
    assert!(deliveries(&db2).iter().any(|d| d["host"] != "mx1"));
}
