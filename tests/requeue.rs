//! The re-queue workflow through the real binary: the rules' verdicts as exact sets (on a
//! hand-made log and on a generated one, checked against an independent reading of the
//! delivery records), marks surviving a grown log's re-import, batches never repeating
//! themselves, and exports that are safe to open or run.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TempStore, fixture};
use serde_json::Value;

const LOG: &str = "requeue/mail.log";

fn import(store: &TempStore, path: &std::path::Path) {
    store.run_ok(&["import", "--year", "2026", path.to_str().unwrap()]);
}

fn json(store: &TempStore, args: &[&str]) -> Value {
    serde_json::from_str(&store.run_ok(args)).expect("JSON output")
}

/// recipient → rule ("eligible" or the exclusion's rule), for every failed delivery.
fn verdicts(store: &TempStore) -> BTreeMap<String, String> {
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
            (j["recipient"].as_str().unwrap().to_string(), rule)
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(r, v)| (r.to_string(), v.to_string()))
        .collect()
}

fn marked(store: &TempStore) -> BTreeSet<String> {
    let v = json(store, &["requeue", "list", "--json"]);
    v["marked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["recipient"].as_str().unwrap().to_string())
        .collect()
}

fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn rules_resolutions_marks_and_batches_on_a_real_log() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    let unresolved = [
        ("j.doe.old@gmail.com", "hard_failure"),
        ("former.staff@fabrikam.example", "hard_failure"),
        ("mike.chen@gmial.com", "typo_domain"),
        // Reached later, but by another message (F0A1B2C3D4, its own Message-ID): that
        // is not the mail they are missing.
        ("info@oldharbor.example", "not_resolved"),
        ("dana.white@contoso-corp.example", "not_resolved"),
        ("sam.ortiz@outlook.com", "not_resolved"),
        ("=1+1@contoso-corp.example", "not_resolved"),
        ("buyer@lumen-traders.example", "not_resolved"),
        ("treasury@slowbank.example", "not_resolved"),
    ];
    assert_eq!(verdicts(&store), expect(&unresolved));

    // Fixed at 09:00 on Nov 25: after the expired pair's last attempt (08:50), before the
    // 09:30 attempt of the message still queued.
    let out = store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "microsoft",
        "--host",
        "mta2",
        "--at",
        "2026-11-25T09:00:00Z",
        "--note",
        "delisted",
    ]);
    assert!(
        out.contains("3 failed deliveries in scope: 2 now eligible"),
        "{out}"
    );
    let mut want = expect(&unresolved);
    want.insert("dana.white@contoso-corp.example".into(), "eligible".into());
    want.insert("sam.ortiz@outlook.com".into(), "eligible".into());
    want.insert(
        "=1+1@contoso-corp.example".into(),
        "resolved_before_last_attempt".into(),
    );
    assert_eq!(verdicts(&store), want);

    // A later resolution of the same scope covers the late attempt too; another cause
    // and destination are resolved separately. The note is hostile on purpose.
    store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "Microsoft",
        "--host",
        "mta2/postfix-out2",
        "--note",
        "=cmd|' /C calc'!A0",
    ]);
    store.run_ok(&[
        "resolve",
        "--cause",
        "speeding",
        "--domain",
        "slowbank.example",
        "--note",
        "rate agreed with slowbank",
    ]);
    want.insert("=1+1@contoso-corp.example".into(), "eligible".into());
    want.insert("treasury@slowbank.example".into(), "eligible".into());
    assert_eq!(verdicts(&store), want);

    let out = store.run_ok(&["requeue", "mark", "--eligible"]);
    assert!(out.starts_with("Marked 4 deliveries"), "{out}");
    let basket: BTreeSet<String> = [
        "dana.white@contoso-corp.example",
        "sam.ortiz@outlook.com",
        "=1+1@contoso-corp.example",
        "treasury@slowbank.example",
    ]
    .map(String::from)
    .into();
    assert_eq!(marked(&store), basket);
    assert!(
        store
            .run_ok(&["requeue", "mark", "--eligible"])
            .starts_with("Marked 0 deliveries for re-send (4 eligible ones were already marked)")
    );

    // Postfix: only the two messages still in the queue, one command per queue file.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("requeue.sh");
    let out = store.run(&[
        "requeue",
        "export",
        "--format",
        "postfix",
        "--out",
        script.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("batch 1: 2 deliveries exported as postfix"),
        "{note}"
    );
    assert!(
        note.contains("2 eligible but no longer in the Postfix queue"),
        "{note}"
    );
    let text = std::fs::read_to_string(&script).unwrap();
    let commands: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("post"))
        .collect();
    assert_eq!(
        commands,
        [
            "postmulti -i postfix-out2 -x postqueue -i D093AA5982",
            "postmulti -i postfix-out2 -x postqueue -i E1F2A3B4C5"
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "the script is executable");
    }

    // CSV takes the rest; the two already in batch 1 are not exported twice.
    let out = store.run(&["requeue", "export", "--format", "csv"]);
    let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
    let got: BTreeSet<&str> = rows.iter().map(|r| r["recipient"].as_str()).collect();
    assert_eq!(
        got,
        BTreeSet::from(["dana.white@contoso-corp.example", "sam.ortiz@outlook.com"])
    );
    assert!(rows.iter().all(|r| r["batch"] == "2"
        && r["cause"] == "badreputation"
        && r["queue_id"] == "9C5F661548"
        && r["resolution_note"] == "'=cmd|' /C calc'!A0"));

    // The same marks again: nothing, and no batch recorded.
    let again = store.run(&["requeue", "export", "--format", "csv"]);
    assert!(again.status.success());
    assert!(again.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("nothing to export: 4 marked; 4 excluded (4 already exported)")
    );
    let listed = json(&store, &["requeue", "list", "--json"]);
    assert_eq!(listed["batches"].as_array().unwrap().len(), 2);

    // Again, asked for explicitly: a platform batch still leaves out the two deliveries
    // still in the Postfix queue, unless those are asked for too, and then it warns.
    let out = store.run(&["requeue", "export", "--format", "csv", "--again"]);
    let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "expired"));
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("2 eligible but still in the MTA's queue"),
        "{note}"
    );
    let out = store.run(&[
        "requeue",
        "export",
        "--format",
        "csv",
        "--again",
        "--include-queued",
    ]);
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("warning: 2 deliveries still in the MTA's queue are in this batch"),
        "{note}"
    );
    let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 4);
    // The address column is exact (a platform sends to it); free text is neutralised.
    let hostile = rows.iter().find(|r| r["queue_id"] == "E1F2A3B4C5").unwrap();
    assert_eq!(hostile["recipient"], "=1+1@contoso-corp.example");
    assert_eq!(hostile["sender"], "-x@northwind-sales.example");
    assert_eq!(hostile["status"], "deferred");
    assert_eq!(hostile["batch"], "4");
    assert!(rows.iter().all(|r| r["resolution_note"].is_empty()
        || !r["resolution_note"].starts_with(['=', '+', '-', '@'])));

    // JSON Lines keeps the values as they are (JSON has no formulas).
    let out = store.run_ok(&[
        "requeue",
        "export",
        "--format",
        "jsonl",
        "--again",
        "--include-queued",
    ]);
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .any(|r| r["recipient"] == "=1+1@contoso-corp.example" && r["batch"] == 5)
    );

    // Unmarking by scope empties that part of the basket only.
    store.run_ok(&["requeue", "unmark", "--cause", "speeding"]);
    assert_eq!(marked(&store).len(), 3);
}

#[test]
fn marks_survive_a_grown_log_and_follow_the_delivery() {
    let full = std::fs::read_to_string(fixture(LOG)).unwrap();
    let cut = full
        .lines()
        .position(|l| {
            l.contains("9C5F661548: from=<outreach@northwind-sales.example>, status=expired")
        })
        .unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, lines[..cut].join("\n") + "\n").unwrap();

    let store = TempStore::new();
    import(&store, &log);
    store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--at",
        "2026-11-25T09:00:00Z",
    ]);
    store.run_ok(&["requeue", "mark", "--eligible", "--cause", "badreputation"]);
    let before = json(&store, &["requeue", "list", "--json"]);
    let statuses: BTreeSet<(&str, &str)> = before["marked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["recipient"].as_str().unwrap(),
                j["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from([
            ("dana.white@contoso-corp.example", "deferred"),
            ("sam.ortiz@outlook.com", "deferred")
        ])
    );

    // The log grows: the queued message expires. Its delivery rows are rewritten, and
    // the marks stay with them.
    std::fs::write(&log, full.as_bytes()).unwrap();
    import(&store, &log);
    let after = json(&store, &["requeue", "list", "--json"]);
    let statuses: BTreeSet<(&str, &str, &str)> = after["marked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["recipient"].as_str().unwrap(),
                j["status"].as_str().unwrap(),
                j["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from([
            ("dana.white@contoso-corp.example", "expired", "eligible"),
            ("sam.ortiz@outlook.com", "expired", "eligible")
        ])
    );
    assert_eq!(
        verdicts(&store)["=1+1@contoso-corp.example"],
        "resolved_before_last_attempt"
    );
}

/// The rules, read independently from the delivery records (`export deliveries`).
fn expected_rule(d: &Value, all: &[Value], rep_host: &str, net_at: &str) -> &'static str {
    let s = |k: &str| d[k].as_str().unwrap_or("");
    if !d["typo_of"].is_null() {
        return "typo_domain";
    }
    let cause = s("cause");
    if matches!(cause, "userunknown" | "hasmoved" | "suspend")
        || (cause == "hostunknown" && s("code").starts_with('5'))
    {
        return "hard_failure";
    }
    // The same message: the same queue file, or the same Message-ID.
    let same_message = |o: &Value| {
        (o["host"] == d["host"] && o["queue_id"] == d["queue_id"])
            || (!d["message_id"].is_null() && o["message_id"] == d["message_id"])
    };
    let later = all.iter().any(|o| {
        o["status"] == "sent"
            && o["recipient"] == d["recipient"]
            && o["last_attempt"].as_str().unwrap_or("") > s("last_attempt")
            && same_message(o)
    });
    if later {
        return "later_success";
    }
    if cause == "badreputation" && s("host") == rep_host {
        return "eligible";
    }
    if cause == "networkerror" {
        return if s("last_attempt") <= net_at {
            "eligible"
        } else {
            "resolved_before_last_attempt"
        };
    }
    "not_resolved"
}

#[test]
fn exact_sets_on_a_generated_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = common::generated_log(dir.path(), "mail.log", 2500, 3);
    let store = TempStore::new();
    import(&store, &log);
    let all = store.deliveries();
    let failed: Vec<&Value> = all.iter().filter(|d| d["status"] != "sent").collect();

    // Resolve networkerror at the median last attempt: half before, half after.
    let mut net: Vec<&str> = failed
        .iter()
        .filter(|d| d["cause"] == "networkerror")
        .map(|d| d["last_attempt"].as_str().unwrap())
        .collect();
    net.sort_unstable();
    assert!(net.len() >= 10, "the generator makes dead MX hosts");
    let net_at = net[net.len() / 2].to_string();
    store.run_ok(&["resolve", "--cause", "networkerror", "--at", &net_at]);
    store.run_ok(&["resolve", "--cause", "badreputation", "--host", "mx1"]);

    let key = |d: &Value| {
        format!(
            "{} {}",
            d["queue_id"].as_str().unwrap(),
            d["recipient"].as_str().unwrap()
        )
    };
    let want: BTreeMap<String, &str> = failed
        .iter()
        .map(|d| (key(d), expected_rule(d, &all, "mx1", &net_at)))
        .collect();
    let listed = json(&store, &["requeue", "list", "--all", "--json"]);
    let got: BTreeMap<String, &str> = listed["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let rule = match j["verdict"].as_str().unwrap() {
                "eligible" => "eligible",
                _ => j["exclusion"]["rule"].as_str().unwrap(),
            };
            (key(j), rule)
        })
        .collect();
    assert_eq!(got, want);
    let kinds: BTreeSet<&str> = want.values().copied().collect();
    for rule in [
        "eligible",
        "typo_domain",
        "hard_failure",
        "not_resolved",
        "resolved_before_last_attempt",
    ] {
        assert!(kinds.contains(rule), "no {rule} in the generated log");
    }

    // Marking takes exactly the eligible set; exporting it twice gives it once.
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let eligible: BTreeSet<String> = want
        .iter()
        .filter(|(_, r)| **r == "eligible")
        .map(|(k, _)| k.clone())
        .collect();
    let out = store.run_ok(&["requeue", "export", "--format", "jsonl"]);
    let exported: BTreeSet<String> = out
        .lines()
        .map(|l| key(&serde_json::from_str::<Value>(l).unwrap()))
        .collect();
    assert_eq!(exported, eligible);
    assert!(
        store
            .run_ok(&["requeue", "export", "--format", "jsonl"])
            .is_empty()
    );

    // Widespread: Microsoft's reputation block reaches many company domains from each
    // host; the counts come from the delivery records.
    let mut domains: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in failed.iter().filter(|d| d["cause"] == "badreputation") {
        domains
            .entry(d["host"].as_str().unwrap())
            .or_default()
            .insert(d["domain"].as_str().unwrap());
    }
    let want_wide: BTreeSet<(String, u64)> = domains
        .iter()
        .filter(|(_, ds)| ds.len() >= 5)
        .map(|(h, ds)| (h.to_string(), ds.len() as u64))
        .collect();
    assert!(!want_wide.is_empty());
    let causes = json(&store, &["requeue", "causes", "--json"]);
    let got_wide: BTreeSet<(String, u64)> = causes["widespread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"] == "badreputation")
        .map(|w| {
            (
                w["host"].as_str().unwrap().to_string(),
                w["domains"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_wide, want_wide);
}

#[test]
fn exchange_script_for_the_message_still_queued() {
    let store = TempStore::new();
    import(&store, &fixture("exchange/MSGTRK20261120-1.LOG"));
    store.run_ok(&[
        "resolve",
        "--cause",
        "hostunknown",
        "--domain",
        "tailspin.example",
    ]);
    // The 4.4.7 expiry behind a DNS failure and the deferral still queued; the unknown
    // users of the same domain stay out.
    assert_eq!(
        verdicts(&store),
        expect(&[
            ("bob@fabrikam.example", "not_resolved"),
            ("nobody@tailspin.example", "hard_failure"),
            ("carol@tailspin.example", "hard_failure"),
            ("dave@tailspin.example", "eligible"),
            ("erin@tailspin.example", "eligible"),
        ])
    );
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let out = store.run(&["requeue", "export", "--format", "exchange"]);
    let script = String::from_utf8(out.stdout).unwrap();
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("-Server"))
        .collect();
    assert_eq!(
        commands,
        [
            "Retry-Queue -Server 'EX01' -Filter \"NextHopDomain -eq 'tailspin.example' -and Status -eq 'Retry'\" -Confirm:$false",
            "Resume-Message -Server 'EX01' -Filter \"InternetMessageId -eq '<m4@contoso.example>' -and Status -eq 'Suspended'\" -Confirm:$false",
        ]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("1 eligible but no longer in the Exchange queue")
    );
    // The expired one is still to be exported for a sending platform; the queued one is
    // in batch 1 already.
    let rows = csv_rows(&store.run_ok(&["requeue", "export", "--format", "csv"]));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["recipient"].as_str(), r["batch"].as_str()))
        .collect();
    assert_eq!(got, [("erin@tailspin.example", "2")]);
}

#[test]
fn a_failed_write_records_no_batch() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    store.run_ok(&["resolve", "--cause", "badreputation"]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/resend.csv");
    let a_file = dir.path().join("notes.txt");
    std::fs::write(&a_file, "mine\n").unwrap();
    let under_a_file = a_file.join("resend.csv");
    for path in [&missing, &under_a_file] {
        let given = path.to_str().unwrap();
        let out = store.run(&["requeue", "export", "--format", "csv", "--out", given]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        // The path the user gave, not the temporary file beside it.
        assert!(
            err.starts_with(&format!("sendlog: cannot write {given}: ")),
            "{err}"
        );
        let rest = err.replacen(given, "", 1);
        assert!(!rest.contains(".tmp") && !rest.contains("at path"), "{err}");
        assert!(!path.exists());
    }
    let listed = json(&store, &["requeue", "list", "--json"]);
    assert!(listed["batches"].as_array().unwrap().is_empty());
    // Nothing was used up: the next export has all three (the one still queued only
    // when asked for).
    let rows =
        csv_rows(&store.run_ok(&["requeue", "export", "--format", "csv", "--include-queued"]));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["batch"] == "1"));
}

/// The next command `resolve` suggests marks what it made eligible: the same scope.
#[test]
fn the_mark_hint_after_resolve_keeps_the_domain_and_host_given() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    let out = store.run_ok(&[
        "resolve",
        "--cause",
        "badreputation",
        "--domain",
        "microsoft",
        "--host",
        "mta2",
    ]);
    let hint = out
        .lines()
        .find_map(|l| l.strip_prefix("Mark them with: "))
        .unwrap_or_else(|| panic!("a hint in {out}"));
    assert_eq!(
        hint,
        "sendlog requeue mark --eligible --cause badreputation --domain microsoft --host mta2"
    );
    let args: Vec<&str> = hint.split(' ').skip(1).collect();
    assert!(store.run_ok(&args).starts_with("Marked 3 deliveries"));
    // Marking where nothing is resolved yet suggests the fix for the same scope.
    let out = store.run_ok(&[
        "requeue",
        "mark",
        "--eligible",
        "--cause",
        "hostunknown",
        "--domain",
        "lumen-traders.example",
    ]);
    assert!(
        out.contains(
            "Record a fix first: sendlog resolve --cause hostunknown --domain lumen-traders.example [--host H] --note TEXT"
        ),
        "{out}"
    );
}

/// A fix recorded in the future would make eligible what fails until then: refused, as a
/// usage error.
#[test]
fn resolve_at_a_future_time_is_a_usage_error() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    let out = store.run(&[
        "resolve",
        "--cause",
        "badreputation",
        "--at",
        "2999-01-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sendlog: ") && err.contains("in the future"),
        "{err}"
    );
    let listed = json(&store, &["requeue", "causes", "--json"]);
    assert!(
        listed["causes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["resolution"].is_null()),
        "nothing recorded"
    );
}

/// The queue lifetime given with `import` is saved and judges "at risk" in later reports;
/// `report --queue-lifetime` overrides it once; mail past the lifetime shows as overdue
/// instead of vanishing; a zero lifetime is refused.
#[test]
fn the_queue_lifetime_given_at_import_holds_for_later_reports() {
    let left = |store: &TempStore, args: &[&str]| -> BTreeMap<String, i64> {
        let mut cmd = vec!["report", "--json"];
        cmd.extend_from_slice(args);
        json(store, &cmd)["at_risk"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["recipient"].as_str().unwrap().to_string(),
                    a["seconds_left"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let day = 86_400;
    let defaults = TempStore::new();
    import(&defaults, &fixture(LOG));
    let by_default = left(&defaults, &[]);
    assert!(!by_default.is_empty(), "the fixture has mail at risk");

    let store = TempStore::new();
    let out = store.run_ok(&[
        "import",
        "--queue-lifetime",
        "4d",
        fixture(LOG).to_str().unwrap(),
    ]);
    assert!(out.contains("queue lifetime 4d0h saved"), "{out}");
    // Postfix's default is 5 days: a day less everywhere.
    let saved = left(&store, &[]);
    for (rcpt, secs) in &by_default {
        assert_eq!(saved.get(rcpt), Some(&(secs - day)), "{rcpt}");
    }
    // Once shorter than the mail's age, it is overdue, not gone.
    let once = left(&store, &["--queue-lifetime", "2d"]);
    for (rcpt, secs) in &by_default {
        let overdue = secs - 3 * day;
        assert!(overdue < 0);
        assert_eq!(once.get(rcpt), Some(&overdue), "{rcpt}");
    }
    let text = store.run_ok(&["report", "--queue-lifetime", "2d"]);
    assert!(text.contains("overdue"), "{text}");
    // The override was for that report only.
    assert_eq!(left(&store, &[]), saved);

    let refused = store.run(&["report", "--queue-lifetime", "0"]);
    assert_eq!(refused.status.code(), Some(1));
}

/// Every time in sendlog's JSON reads the same way: RFC 3339 text, never unix seconds.
#[test]
fn json_outputs_write_every_time_as_rfc3339() {
    let store = TempStore::new();
    import(&store, &fixture(LOG));
    store.run_ok(&["resolve", "--cause", "badreputation", "--note", "delisted"]);
    store.run_ok(&["requeue", "mark", "--eligible"]);
    let out = store.dir.path().join("batch.csv");
    store.run_ok(&[
        "requeue",
        "export",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    fn check(path: &str, v: &Value, seen: &mut usize) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let timed = ["_at", "_since", "_seen", "_attempt"]
                        .iter()
                        .any(|s| k.ends_with(s));
                    if timed && !v.is_null() {
                        let text = v.as_str().unwrap_or_else(|| panic!("{path}.{k} = {v}"));
                        assert!(
                            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                            "{path}.{k} = {text}"
                        );
                        *seen += 1;
                    }
                    check(&format!("{path}.{k}"), v, seen);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| check(path, v, seen)),
            _ => {}
        }
    }
    let mut seen = 0;
    for args in [
        &["report", "--json"][..],
        &["requeue", "list", "--all", "--json"],
        &["requeue", "causes", "--json"],
    ] {
        check(&args.join(" "), &json(&store, args), &mut seen);
    }
    assert!(seen > 10, "only {seen} times checked");
}
