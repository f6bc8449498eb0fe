//! The search screen on a real log: `s` on Triage, a recipient typed, its deliveries of every
//! status listed, Enter opens one and Esc comes back; the same in the real binary in tmux.

mod common;

use ratatui::crossterm::event::KeyCode;
use sendlog::app::state::{Overlay, Screen};

use sendlog::store::Store;
use sendlog::store::search::SearchQuery;

use common::tui::{Tmux, code, have_tmux, key, press, screen, session_over};

const FIXTURE: &str = "tests/fixtures/postfix/postfix_log_analysis__mail2.log";

fn imported(dir: &tempfile::TempDir) -> String {
    common::tui::imported(&[FIXTURE], dir)
}

/// A bulk load (which leaves the search index to the first search) into a store in `dir`.
fn bulk_imported(dir: &tempfile::TempDir) -> String {
    let log = common::bulk_log(dir.path());
    common::tui::imported(&[log.to_str().unwrap()], dir)
}

/// The recipient of the newest expired delivery, and how many deliveries it has.
fn expired_recipient(path: &str) -> (String, usize) {
    let store = Store::open(path).unwrap();
    let q = SearchQuery::parse("status:expired").unwrap();
    let who = store.search(&q, None, 1).unwrap()[0].recipient.clone();
    let all = store
        .search(
            &SearchQuery::parse(&format!("to:{who}")).unwrap(),
            None,
            10_000,
        )
        .unwrap();
    let exact = all
        .iter()
        .filter(|h| h.recipient.eq_ignore_ascii_case(&who))
        .count();
    (who, exact)
}

#[test]
fn s_searches_a_recipient_and_enter_opens_its_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    let (who, n) = expired_recipient(&path);
    assert!(n >= 1);
    let mut s = session_over(Store::open(&path).unwrap(), 120, 40);

    press(&mut s, key('s'));
    assert_eq!(s.state.screen, Screen::Search);
    assert_eq!(s.state.overlay, Some(Overlay::Search));
    // Typed keys are the query's, not the screen's: `q` does not quit.
    for c in format!("to:{who} q").chars() {
        press(&mut s, key(c));
    }
    assert!(!s.state.quit);
    for _ in 0..2 {
        press(&mut s, code(KeyCode::Backspace));
    }
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.state.overlay, None);
    let hits = &s.state.search.hits;
    assert!(
        hits.iter()
            .filter(|h| h.recipient.eq_ignore_ascii_case(&who))
            .count()
            == n,
        "{hits:?}"
    );
    let text = screen(&mut s);
    assert!(text.contains(&who), "{text}");
    assert!(text.contains("expired"), "{text}");
    insta::assert_snapshot!("search_120x40", text);

    // The newest first: the expired one is found by its recipient; open it.
    let at = s
        .state
        .search
        .hits
        .iter()
        .position(|h| h.recipient == who && h.status.as_str() == "expired")
        .unwrap();
    for _ in 0..at {
        press(&mut s, key('j'));
    }
    let id = s.state.search.selected().unwrap().id;
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.state.screen, Screen::Delivery);
    assert_eq!(s.state.delivery.id, Some(id));
    let text = screen(&mut s);
    assert!(text.contains(&who), "{text}");
    // The raw log lines, read back from the fixture, at the end of the delivery.
    press(&mut s, key('G'));
    let text = screen(&mut s);
    let queue_id = s.state.delivery.detail.as_ref().unwrap().queue_id.clone();
    assert!(text.contains("Log lines ("), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("postfix/smtp") && l.contains(&queue_id)),
        "{text}"
    );
    insta::assert_snapshot!("search_delivery_raw_lines_120x40", text);
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.state.screen, Screen::Search);
    assert_eq!(s.state.search.selected().map(|h| h.id), Some(id));
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.state.screen, Screen::Triage);
}

#[test]
fn a_query_that_cannot_run_says_why_and_one_that_matches_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    let mut s = session_over(Store::open(&path).unwrap(), 80, 24);
    press(&mut s, key('s'));
    for c in "status:lost".chars() {
        press(&mut s, key(c));
    }
    press(&mut s, code(KeyCode::Enter));
    assert!(screen(&mut s).contains("is no status"));
    press(&mut s, key('s'));
    for _ in 0.."status:lost".len() {
        press(&mut s, code(KeyCode::Backspace));
    }
    for c in "zzqqxxnothing".chars() {
        press(&mut s, key(c));
    }
    press(&mut s, code(KeyCode::Enter));
    assert!(screen(&mut s).contains("No delivery matches."));
}

#[test]
fn the_real_binary_searches_a_recipient_and_opens_its_delivery_in_tmux() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    let (who, _) = expired_recipient(&path);
    let cmd = format!(
        "env NO_COLOR= HOME={home} {bin} --db {path}; sleep 30",
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_sendlog"),
    );
    let t = Tmux::new(&dir, &cmd);
    t.wait_until("the triage screen", |s| {
        s.contains("Failed deliveries by code")
    });
    t.keys(&["s"]);
    t.wait_until("the search box", |s| s.contains("Search: words"));
    t.keys(&["-l", &format!("to:{who} status:expired")]);
    t.keys(&["Enter"]);
    let found = t.wait_until("the hits", |s| s.contains(&who) && s.contains("found"));
    assert!(found.contains("expired"), "{found}");
    t.keys(&["Enter"]);
    let delivery = t.wait_until("the delivery", |s| {
        s.contains("Outcome") && s.contains("Timeline")
    });
    assert!(delivery.contains(&who), "{delivery}");
    t.keys(&["G"]);
    t.wait_until("the raw log lines", |s| {
        s.contains("Log lines (") && s.contains("postfix/")
    });
    t.keys(&["Escape"]);
    t.wait_until("the hits again", |s| s.contains("Deliveries found"));
    t.keys(&["q"]);
}

#[test]
fn the_first_search_after_a_bulk_load_indexes_its_deliveries_and_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = bulk_imported(&dir);
    let lag = Store::open(&path).unwrap().search_index_lag().unwrap();
    assert!(lag > 500, "{lag}");
    let (who, n) = {
        let store = Store::open(&path).unwrap();
        let q = SearchQuery::parse("status:expired").unwrap();
        let who = store.search(&q, None, 1).unwrap()[0].recipient.clone();
        let n = store
            .search(&q, None, 10_000)
            .unwrap()
            .iter()
            .filter(|h| h.recipient.eq_ignore_ascii_case(&who))
            .count();
        (who, n)
    };

    let mut s = session_over(Store::open(&path).unwrap(), 120, 40);
    press(&mut s, key('s'));
    for c in format!("to:{who} status:expired").chars() {
        press(&mut s, key(c));
    }
    press(&mut s, code(KeyCode::Enter));
    let found = s
        .state
        .search
        .hits
        .iter()
        .filter(|h| h.recipient.eq_ignore_ascii_case(&who))
        .count();
    assert_eq!(found, n, "{:?}", s.state.search.hits);
    assert!(screen(&mut s).contains(&who));
    assert_eq!(Store::open(&path).unwrap().search_index_lag().unwrap(), 0);
}

#[test]
fn an_idle_session_catches_the_search_index_up_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = bulk_imported(&dir);
    assert!(Store::open(&path).unwrap().search_index_behind().unwrap());

    let s = session_over(Store::open(&path).unwrap(), 120, 40);
    // Nothing is asked of the session: its worker indexes while the user reads.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while Store::open(&path).unwrap().search_index_behind().unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "still behind after 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(Store::open(&path).unwrap().search_index_lag().unwrap(), 0);
    drop(s);
}
