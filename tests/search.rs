//! `sendlog search` on real logs: what it finds agrees with `export deliveries`, pages
//! without gaps or repeats, and a grown log's new deliveries are found after its import.

mod common;

use std::collections::BTreeSet;

use common::{TempStore, fixture};
use serde_json::Value;

const LOG: &str = "postfix/postfix_log_analysis__mail2.log";

fn search(store: &TempStore, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&store.run_ok(&all)).expect("a JSON array")
}

/// A search that succeeded and said nothing on stderr (no indexing to do first).
fn assert_quiet(out: &std::process::Output) {
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn key(d: &Value) -> (String, String, String) {
    (
        d["queue_id"].as_str().unwrap().to_string(),
        d["recipient"].as_str().unwrap().to_string(),
        d["status"].as_str().unwrap().to_string(),
    )
}

/// Each of `deliveries` is among the hits of a search by its own queue id.
fn assert_found_by_queue_id<'a>(store: &TempStore, deliveries: impl Iterator<Item = &'a Value>) {
    for d in deliveries {
        let qid = d["queue_id"].as_str().unwrap();
        let found = search(store, &[&format!("id:{qid}"), "--limit", "100000"]);
        assert!(
            found.iter().any(|f| key(f) == key(d)),
            "{qid} {} not found",
            d["recipient"]
        );
    }
}

#[test]
fn a_recipient_is_found_in_every_status_and_nothing_else_is() {
    let store = TempStore::new();
    store.run_ok(&["import", fixture(LOG).to_str().unwrap()]);
    let all = store.deliveries();
    assert!(all.len() > 100, "{}", all.len());
    // The recipient with the most deliveries, in more than one status if the log has one.
    let mut counts = std::collections::BTreeMap::<String, (usize, BTreeSet<String>)>::new();
    for d in &all {
        let e = counts
            .entry(d["recipient"].as_str().unwrap().to_lowercase())
            .or_default();
        e.0 += 1;
        e.1.insert(d["status"].as_str().unwrap().to_string());
    }
    let (who, (n, statuses)) = counts
        .iter()
        .max_by_key(|(_, (n, s))| (s.len(), *n))
        .unwrap();
    assert!(*n > 1, "{who}: {n}");

    let found = search(&store, &[&format!("to:{who}"), "--limit", "100000"]);
    let expected: BTreeSet<_> = all
        .iter()
        .filter(|d| d["recipient"].as_str().unwrap().eq_ignore_ascii_case(who))
        .map(key)
        .collect();
    let got: BTreeSet<_> = found.iter().map(key).collect();
    assert!(
        got.is_superset(&expected),
        "missing: {:?}",
        expected.difference(&got)
    );
    for d in &found {
        let r = d["recipient"].as_str().unwrap().to_lowercase();
        assert!(r.contains(who.as_str()), "{r} found for {who}");
    }
    let found_statuses: BTreeSet<String> = found
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(&found_statuses, statuses);

    // Narrowed by status, it is exactly that status's share.
    for status in statuses {
        let narrowed = search(
            &store,
            &[
                &format!("to:{who}"),
                &format!("status:{status}"),
                "--limit",
                "100000",
            ],
        );
        assert_eq!(
            narrowed.len(),
            found
                .iter()
                .filter(|d| d["status"] == status.as_str())
                .count(),
            "{status}"
        );
    }
}

#[test]
fn statuses_and_codes_alone_count_like_the_export_and_pages_meet_exactly() {
    let store = TempStore::new();
    store.run_ok(&["import", fixture(LOG).to_str().unwrap()]);
    let all = store.deliveries();
    for status in ["sent", "deferred", "bounced", "expired"] {
        let n = all.iter().filter(|d| d["status"] == status).count();
        let found = search(&store, &[&format!("status:{status}"), "--limit", "100000"]);
        assert_eq!(found.len(), n, "{status}");
    }
    let fours = all
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("4."))
        .count();
    assert!(fours > 0);
    assert_eq!(
        search(&store, &["code:4", "--limit", "100000"]).len(),
        fours
    );

    // Pages of 7, each started below the last id of the one before, add up to the whole
    // list: newest first, no gap, no repeat.
    let whole = search(&store, &["status:sent", "--limit", "100000"]);
    let mut paged: Vec<i64> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut args = vec!["status:sent".to_string(), "--limit".into(), "7".into()];
        if let Some(b) = before {
            args.push("--before".into());
            args.push(b.to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let page = search(&store, &refs);
        if page.is_empty() {
            break;
        }
        before = page.last().unwrap()["id"].as_i64();
        paged.extend(page.iter().map(|d| d["id"].as_i64().unwrap()));
    }
    let ids: Vec<i64> = whole.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(paged, ids);
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
}

#[test]
fn a_grown_log_s_new_deliveries_are_found_after_its_import() {
    let text = std::fs::read_to_string(fixture(LOG)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let store = TempStore::new();
    let path = store.dir.path().join("maillog");
    let half = lines.len() / 2;
    std::fs::write(&path, lines[..half].join("\n") + "\n").unwrap();
    store.run_ok(&["import", path.to_str().unwrap()]);
    let before = search(&store, &["status:sent", "--limit", "100000"]).len();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    store.run_ok(&["import", path.to_str().unwrap()]);

    // Every delivery, found by its own queue id, whichever import wrote it.
    let all = store.deliveries();
    assert!(search(&store, &["status:sent", "--limit", "100000"]).len() > before);
    assert_found_by_queue_id(&store, all.iter().step_by(7));
}

#[test]
fn query_syntax_from_the_user_is_words_not_operators() {
    let store = TempStore::new();
    store.run_ok(&["import", fixture(LOG).to_str().unwrap()]);
    for q in [
        "x\"",
        "NEAR(a b)",
        "a* OR b",
        "{recipient}:x",
        "x-y ^z",
        "to:\"\u{1b}[2J",
    ] {
        store.run_ok(&["search", q]);
    }
    let out = store.run(&["search", "status:lost"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is no status"));
    let out = store.run(&["search", "::"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to search for"));
}

#[test]
fn a_bulk_load_leaves_the_index_to_the_first_search_which_finds_every_delivery() {
    let store = TempStore::new();
    let path = common::bulk_log(store.dir.path());
    store.run_ok(&["import", path.to_str().unwrap()]);
    let all = store.deliveries();
    assert!(all.len() > 500, "{}", all.len());

    let first = store.run(&["search", "--json", "status:sent", "--limit", "1"]);
    assert!(first.status.success());
    let note = String::from_utf8_lossy(&first.stderr);
    let indexed: u64 = note
        .split_once("Indexing ")
        .and_then(|(_, rest)| rest.split_once(" deliveries for search"))
        .map(|(n, _)| n.replace(',', "").parse().unwrap())
        .unwrap_or_else(|| panic!("no indexing note: {note}"));
    assert_eq!(indexed, all.len() as u64, "{note}");
    // Caught up once: the next search says nothing of it.
    assert_quiet(&store.run(&["search", "--json", "status:sent", "--limit", "1"]));

    assert_found_by_queue_id(&store, all.iter().step_by(11));

    // A small log imported now is indexed as it is written: the index is current again.
    let small = store.dir.path().join("small.log");
    std::fs::write(
        &small,
        std::fs::read(fixture(
            "postfix/Python-Dashboard-for-Postfix-Logs__maillog",
        ))
        .unwrap(),
    )
    .unwrap();
    store.run_ok(&["import", small.to_str().unwrap()]);
    let after = store.deliveries();
    assert!(after.len() > all.len());
    assert_quiet(&store.run(&["search", "--json", "status:sent", "--limit", "1"]));
    let newest = after.iter().max_by_key(|d| d["id"].as_i64()).unwrap();
    let found = search(
        &store,
        &[&format!("id:{}", newest["queue_id"].as_str().unwrap())],
    );
    assert!(found.iter().any(|f| key(f) == key(newest)));
}
