//! The TUI's rough edges as a newcomer meets them, on a real imported log.

use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use sendlog::app::{AppState, Keymap, Msg};
use sendlog::import::{ImportOptions, Progress, import_files};
use sendlog::ingest::Format;
use sendlog::store::Store;
use sendlog::tui::Session;
use sendlog::worker::Worker;

const FIXTURE: &str = "tests/fixtures/postfix/postfix_log_analysis__mail2.log";

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn options() -> ImportOptions {
    ImportOptions {
        format: Format::Auto,
        year: Some(2015),
        host: None,
    }
}

fn session_on(files: &[&str], dir: &tempfile::TempDir, w: u16, h: u16) -> Session<TestBackend> {
    let path = dir.path().join("s.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    let reports = import_files(&mut store, &files, &options(), &mut |_: &Progress| {}).unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()));
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let state = AppState::new(Keymap::embedded().unwrap(), false, (w, h));
    let mut s = Session::new(terminal, state, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    s
}

fn press(s: &mut Session<TestBackend>, msg: Msg) {
    s.dispatch(msg);
    assert!(s.settle(Duration::from_secs(10)));
}

fn screen(s: &mut Session<TestBackend>) -> String {
    s.draw().unwrap();
    s.terminal.backend().to_string()
}

/// `J` stops when the explanation's last line reaches the bottom of its pane: the pane
/// never scrolls into emptiness, and one `K` moves back at once.
#[test]
fn j_stops_at_the_end_of_the_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&[FIXTURE], &dir, 80, 24);
    screen(&mut s);
    let panel = sendlog::app::explain::panel_for("4.4.7", s.state.current_causes());
    let last = panel
        .sections
        .iter()
        .flat_map(|sec| sec.lines.iter())
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .clone();
    let tail: String = last
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    for _ in 0..300 {
        press(&mut s, key('J'));
        screen(&mut s);
    }
    let max = s.state.explain_max.get();
    assert!(max > 0 && max < 900, "{max}");
    assert_eq!(s.state.explain_scroll, max);
    let text = screen(&mut s);
    assert!(
        text.contains(tail.trim()),
        "the last line {last:?} is on screen:\n{text}"
    );
    press(&mut s, key('K'));
    assert_eq!(s.state.explain_scroll, max - 3);
    s.worker.shutdown(true);
}

/// The Delivery screen's text scrolls as far as its last line and no further.
#[test]
fn the_delivery_screen_scrolls_to_its_last_line_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&[FIXTURE], &dir, 80, 24);
    press(&mut s, code(KeyCode::Enter));
    press(&mut s, code(KeyCode::Enter));
    screen(&mut s);
    for _ in 0..200 {
        press(&mut s, key('j'));
        screen(&mut s);
    }
    let max = s.state.detail_max.get();
    assert_eq!(s.state.detail_scroll, max);
    press(&mut s, key('G'));
    assert_eq!(s.state.detail_scroll, max);
    s.worker.shutdown(true);
}
