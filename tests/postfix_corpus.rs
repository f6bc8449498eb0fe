//! Every Postfix file of the shared corpus (copied to tests/fixtures/postfix) imports
//! without a panic, and its outcome counts equal an independent, deliberately simple count.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::{TempStore, fixture};
use regex::Regex;

const FILES: &[&str] = &[
    "ASO__random-sample-logs-regex-check.log",
    "Postfix-Maillog-Dump__maillog",
    "Postfix-Maillog-Dump__mailog2",
    "Python-Dashboard-for-Postfix-Logs__maillog",
    "github-issues__pasted-lines.log",
    "gomaillex__maillog",
    "intake-formats__postfix-tests-input.jsonl",
    "postfix-grok-patterns__test-data.txt",
    "postfix_log_analysis__mail.log",
    "postfix_log_analysis__mail2.log",
    "postfix_log_analysis__mail3.log",
];

/// sent / deferred / bounced / expired per (queue id, recipient), counted with a few regexes
/// and none of sendlog's code: the last word wins in the order sent > bounced > expired
/// > deferred, and a qmgr expiry covers every recipient of its queue id not sent or bounced.
fn independent_counts(text: &str) -> BTreeMap<&'static str, usize> {
    let delivery =
        Regex::new(r"\b([0-9A-Za-z]{5,}): to=<?([^>,\s]*)>?,.*? status=(sent|deferred|bounced) ")
            .unwrap();
    let expiry =
        Regex::new(r"\b([0-9A-Za-z]{5,}): from=<[^>]*>, status=(?:force-)?expired").unwrap();
    let removed = Regex::new(r"\b([0-9A-Za-z]{5,}): removed$").unwrap();
    // A queue id names a new message after each `removed`; an exact repeat of a line is
    // the same line, not a new event.
    let mut generation: HashMap<String, u32> = HashMap::new();
    let mut seen_lines: HashSet<&str> = HashSet::new();
    let mut outcome: HashMap<(String, u32, String), &'static str> = HashMap::new();
    let mut expired: HashSet<(String, u32)> = HashSet::new();
    for raw in text.lines() {
        if !seen_lines.insert(raw) {
            continue;
        }
        let line = if raw.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            v["message"].as_str().unwrap_or("").to_string()
        } else {
            raw.to_string()
        };
        let generation_of = |qid: &str, g: &HashMap<String, u32>| g.get(qid).copied().unwrap_or(0);
        if let Some(c) = removed.captures(&line) {
            *generation.entry(c[1].to_string()).or_default() += 1;
        } else if let Some(c) = delivery.captures(&line) {
            let key = (
                c[1].to_string(),
                generation_of(&c[1], &generation),
                c[2].to_string(),
            );
            let status = match &c[3] {
                "sent" => "sent",
                "bounced" => "bounced",
                _ => "deferred",
            };
            let e = outcome.entry(key).or_insert(status);
            if *e == "deferred" || status == "sent" {
                *e = status;
            }
        } else if let Some(c) = expiry.captures(&line) {
            expired.insert((c[1].to_string(), generation_of(&c[1], &generation)));
        }
    }
    let mut counts = BTreeMap::from([("sent", 0), ("deferred", 0), ("bounced", 0), ("expired", 0)]);
    for ((qid, generation, _), status) in outcome {
        let status = if status == "deferred" && expired.contains(&(qid, generation)) {
            "expired"
        } else {
            status
        };
        *counts.get_mut(status).unwrap() += 1;
    }
    counts
}

fn sendlog_counts(store: &TempStore) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::from([("sent", 0), ("deferred", 0), ("bounced", 0), ("expired", 0)]);
    for d in store.deliveries() {
        let s = d["status"].as_str().unwrap();
        let key = *counts.keys().find(|k| **k == s).expect("known status");
        *counts.get_mut(key).unwrap() += 1;
    }
    counts
}

#[test]
fn every_corpus_file_imports_with_independently_counted_outcomes() {
    for name in FILES {
        let path = fixture(&format!("postfix/{name}"));
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let store = TempStore::new();
        let out = store.run(&[
            "import",
            "--format",
            "postfix",
            "--year",
            "2015",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = independent_counts(&text);
        assert!(
            expected.values().sum::<usize>() > 0,
            "{name}: the fixture has deliveries"
        );
        assert_eq!(sendlog_counts(&store), expected, "{name}");
    }
}

#[test]
fn auto_detection_recognises_every_syslog_variant() {
    for name in FILES {
        let path = fixture(&format!("postfix/{name}"));
        let store = TempStore::new();
        let out = store.run_ok(&["import", path.to_str().unwrap()]);
        assert!(out.contains(": postfix"), "{name}: {out}");
    }
}

fn expired(store: &TempStore) -> Vec<serde_json::Value> {
    store
        .deliveries()
        .into_iter()
        .filter(|d| d["status"] == "expired")
        .collect()
}

/// The `dsn=` and text of the last `status=deferred` line of `qid` in `text`.
fn last_deferral_in_log(text: &str, qid: &str) -> (String, String) {
    let re = Regex::new(&format!(
        r"{qid}: to=.*dsn=([0-9.]+), status=deferred \((.*)\)$"
    ))
    .unwrap();
    text.lines()
        .filter_map(|l| re.captures(l))
        .next_back()
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .expect("the expired message was deferred first")
}

#[test]
fn kdent_mail2_expiries_come_out_as_4_4_7_with_their_cause() {
    let path = fixture("postfix/postfix_log_analysis__mail2.log");
    let text = std::fs::read_to_string(&path).unwrap();
    let store = TempStore::new();
    store.run_ok(&["import", path.to_str().unwrap()]);
    let exp = expired(&store);
    let queue_ids: HashSet<&str> = exp
        .iter()
        .map(|d| d["queue_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        queue_ids,
        HashSet::from(["99379242BC", "E70F1242A6", "5C087242AB"])
    );
    for d in &exp {
        let (dsn, reply) = last_deferral_in_log(&text, d["queue_id"].as_str().unwrap());
        assert_eq!(d["code"], "4.4.7");
        assert_eq!(d["reason"], "expired");
        assert_eq!(d["last_deferral_code"], dsn.as_str(), "{d}");
        assert_eq!(d["last_deferral_text"], reply.as_str());
        // The DNS "try again" failure is a hostunknown cause, a timeout a networkerror.
        let expected_cause = if reply.contains("Host or domain name not found") {
            "hostunknown"
        } else {
            "networkerror"
        };
        assert_eq!(d["cause"], expected_cause, "{d}");
        assert!(d["attempts"].as_u64().unwrap() > 1);
        assert!(
            d["source"].as_str().unwrap().ends_with(".log:5709")
                || d["source"].as_str().unwrap().ends_with(".log:5711")
                || d["source"].as_str().unwrap().ends_with(".log:5713"),
            "{d}"
        );
    }
}

#[test]
fn gomaillex_expiries_keep_their_different_causes() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        fixture("postfix/gomaillex__maillog").to_str().unwrap(),
    ]);
    let exp = expired(&store);
    let by_qid: HashMap<&str, &serde_json::Value> = exp
        .iter()
        .map(|d| (d["queue_id"].as_str().unwrap(), d))
        .collect();
    assert_eq!(by_qid.len(), 3);
    // A Facebook 421 4.7.1 deferral and two connection timeouts to typo domains.
    assert_eq!(by_qid["08EF07C54C9"]["last_deferral_code"], "4.7.1");
    assert_eq!(by_qid["A70E07C5646"]["cause"], "networkerror");
    assert_eq!(by_qid["A70E07C5646"]["typo_of"], "hotmail.com");
    assert_eq!(by_qid["DC45E7C3131"]["typo_of"], "outlook.com");
    for d in exp {
        assert_eq!(d["code"], "4.4.7");
        assert_eq!(d["sender"], "no-reply@grooveshark.com");
    }
}

#[test]
fn report_shows_expired_mail_under_4_4_7_with_causes() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        fixture("postfix/gomaillex__maillog").to_str().unwrap(),
    ]);
    let text = store.run_ok(&["report"]);
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("4.4.7"))
        .take(4)
        .collect();
    assert!(
        block[0].contains("Delivery time expired") && block[0].contains(" 3 "),
        "{text}"
    );
    assert!(
        block
            .iter()
            .any(|l| l.contains("hotmal.com") && l.contains("networkerror")),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&store.run_ok(&["report", "--json"])).unwrap();
    assert_eq!(json["totals"]["expired"], 3);
    let g: Vec<&serde_json::Value> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] == "4.4.7")
        .collect();
    assert_eq!(
        g.iter().map(|g| g["count"].as_u64().unwrap()).sum::<u64>(),
        3
    );
}

/// Each cause's text says when it was seen as the JSON does: one moment once, a span as
/// "A to B".
#[test]
fn report_causes_say_when_they_were_seen_as_the_json_does() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        fixture("postfix/gomaillex__maillog").to_str().unwrap(),
    ]);
    let text = store.run_ok(&["report"]);
    let json: serde_json::Value =
        serde_json::from_str(&store.run_ok(&["report", "--json"])).unwrap();
    let causes = json["causes"].as_array().unwrap();
    assert!(!causes.is_empty());
    let mut kinds = std::collections::BTreeSet::new();
    for c in causes {
        let (first, last) = (
            c["first_seen"].as_str().unwrap(),
            c["last_seen"].as_str().unwrap(),
        );
        let expected = if first == last {
            format!("      seen {first}\n")
        } else {
            format!("      seen {first} to {last}\n")
        };
        kinds.insert(first == last);
        assert!(text.contains(&expected), "{expected:?} not in\n{text}");
    }
    assert!(
        kinds.contains(&true),
        "the fixture must have a cause seen at one moment only"
    );
}
