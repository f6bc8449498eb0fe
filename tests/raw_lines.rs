//! The log lines behind a delivery are read back from the imported file by their
//! `file:line` sources, and a file that moved, was replaced or truncated says so.

mod common;

use sendlog::store::Store;
use sendlog::store::search::SearchQuery;

use common::{TempStore, fixture};

const LOG: &str = "postfix/postfix_log_analysis__mail2.log";

/// The fixture copied into the store's dir and imported from there, and a delivery with
/// several attempts.
fn setup() -> (TempStore, std::path::PathBuf, i64) {
    let store = TempStore::new();
    let path = store.dir.path().join("maillog");
    std::fs::copy(fixture(LOG), &path).unwrap();
    store.run_ok(&["import", "--year", "2015", path.to_str().unwrap()]);
    let s = Store::open(&store.db()).unwrap();
    let hit = s
        .search(&SearchQuery::parse("status:expired").unwrap(), None, 1)
        .unwrap()
        .remove(0);
    (store, path, hit.id)
}

#[test]
fn each_source_line_is_the_file_s_own_line() {
    let (store, path, id) = setup();
    let s = Store::open(&store.db()).unwrap();
    let detail = s.delivery_detail(id).unwrap().unwrap();
    let raw = s.raw_lines(&detail).unwrap();
    assert!(raw.notes.is_empty(), "{:?}", raw.notes);
    assert!(raw.lines.len() >= 2, "{raw:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let file_lines: Vec<&str> = text.lines().collect();
    for (source, line) in &raw.lines {
        let (p, n) = source.rsplit_once(':').unwrap();
        assert_eq!(p, path.to_str().unwrap());
        let n: usize = n.parse().unwrap();
        assert_eq!(line, file_lines[n - 1]);
    }
    // The expiry's own line is among them, and names the queue id.
    assert!(
        raw.lines.iter().all(|(_, l)| l.contains(&detail.queue_id)),
        "{raw:?}"
    );
}

#[test]
fn a_replaced_truncated_or_moved_file_says_so_instead_of_showing_other_lines() {
    let (store, path, id) = setup();
    let s = Store::open(&store.db()).unwrap();
    let detail = s.delivery_detail(id).unwrap().unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("X{text}")).unwrap();
    let raw = s.raw_lines(&detail).unwrap();
    assert!(raw.lines.is_empty());
    assert!(
        raw.notes[0].contains("not the file that was imported"),
        "{raw:?}"
    );

    let keep: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, keep).unwrap();
    let raw = s.raw_lines(&detail).unwrap();
    assert!(raw.lines.is_empty());
    assert!(
        raw.notes[0].contains("shorter than when it was imported"),
        "{raw:?}"
    );

    std::fs::remove_file(&path).unwrap();
    let raw = s.raw_lines(&detail).unwrap();
    assert!(raw.lines.is_empty());
    assert!(raw.notes[0].contains("moved or rotated away"), "{raw:?}");
}

/// A bounce email's source counts messages, not lines: its line 1 is a header, not the
/// report, so it is named instead of read back.
#[test]
fn a_bounce_report_is_named_not_read_as_a_log_line() {
    let store = TempStore::new();
    let path = store.dir.path().join("report.eml");
    std::fs::copy(fixture("bounces/lhost-postfix/lhost-postfix-01.eml"), &path).unwrap();
    store.run_ok(&["import", path.to_str().unwrap()]);
    let s = Store::open(&store.db()).unwrap();
    let hit = s
        .search(&SearchQuery::parse("status:bounced").unwrap(), None, 1)
        .unwrap()
        .remove(0);
    let detail = s.delivery_detail(hit.id).unwrap().unwrap();
    let raw = s.raw_lines(&detail).unwrap();
    assert!(raw.lines.is_empty(), "{raw:?}");
    assert_eq!(
        raw.notes,
        vec![format!(
            "{}: bounce report, message 1 of the file (its text is the diagnostic above)",
            path.display()
        )]
    );
}
