//! Every screen drawn at every small size, down to 1×1: something sensible (at worst a
//! "terminal too small" line), never a panic.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use common::tui::{Tmux, code, have_tmux, key, options, press, session_on};
use sendlog::app::{AppState, Keymap, Msg};
use sendlog::store::Store;
use sendlog::tui::Session;
use sendlog::worker::Worker;

const FIXTURE: &str = "tests/fixtures/postfix/postfix_log_analysis__mail2.log";

fn session(dir: &tempfile::TempDir) -> Session<TestBackend> {
    session_on(&[FIXTURE], dir, 80, 24)
}

/// Draws the current screen at every size from 1×1 to 60×14 (and a few wide but short
/// ones), the way a resize reaches the loop, then back at 80×24.
fn draw_at_every_size(s: &mut Session<TestBackend>, what: &str) {
    let sizes = (1..=60u16)
        .step_by(3)
        .chain([1, 2, 4, 5])
        .flat_map(|w| (1..=14u16).map(move |h| (w, h)))
        .chain([(200, 1), (200, 3), (40, 9), (120, 5)]);
    for (w, h) in sizes {
        s.dispatch(Msg::Resize(w, h));
        s.terminal.backend_mut().resize(w, h);
        s.draw()
            .unwrap_or_else(|e| panic!("{what} at {w}x{h}: {e}"));
        let text = s.terminal.backend().to_string();
        assert!(
            text.chars().any(|c| !c.is_whitespace()),
            "{what} at {w}x{h} drew nothing:\n{text}"
        );
    }
    s.dispatch(Msg::Resize(80, 24));
    s.terminal.backend_mut().resize(80, 24);
    s.draw().unwrap();
}

#[test]
fn every_screen_draws_at_every_small_size_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(&dir);
    draw_at_every_size(&mut s, "triage");
    press(&mut s, code(KeyCode::Tab));
    press(&mut s, key('l'));
    draw_at_every_size(&mut s, "triage, second level in focus");
    press(&mut s, key('h'));
    press(&mut s, key('?'));
    draw_at_every_size(&mut s, "help");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('/'));
    draw_at_every_size(&mut s, "filter");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, code(KeyCode::Enter));
    draw_at_every_size(&mut s, "deliveries");
    press(&mut s, key(' '));
    press(&mut s, code(KeyCode::Enter));
    draw_at_every_size(&mut s, "delivery");
    press(&mut s, key('r'));
    draw_at_every_size(&mut s, "resolve note");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('c'));
    draw_at_every_size(&mut s, "causes");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('b'));
    draw_at_every_size(&mut s, "basket");
    press(&mut s, key('e'));
    draw_at_every_size(&mut s, "export confirm");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.state.screen, sendlog::app::state::Screen::Triage);
    press(&mut s, key('d'));
    press(&mut s, key('o'));
    draw_at_every_size(&mut s, "every delivery, sent");
    press(&mut s, key('/'));
    press(&mut s, key('u'));
    draw_at_every_size(&mut s, "every delivery, filtered");
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key(']'));
    press(&mut s, key('f'));
    draw_at_every_size(&mut s, "senders, in a narrowed window");
    s.worker.shutdown(true);
}

#[test]
fn the_import_screen_draws_at_every_small_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("i.db").to_str().unwrap()).unwrap();
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let state = AppState::new(
        Keymap::embedded().unwrap(),
        builtin_knowledge(),
        false,
        (80, 24),
    );
    let mut s = Session::new(terminal, state, rx, worker);
    // The import screen as it first appears, before the worker's first progress report.
    let _ = sendlog::app::start(&mut s.state, vec![FIXTURE.to_string()]);
    draw_at_every_size(&mut s, "import");
    s.worker.shutdown(true);
}

/// What a user sees when shrinking the window: the screen at the smallest size it keeps,
/// then the one line that replaces it below.
#[test]
fn snapshots_at_tiny_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(&dir);
    for (w, h) in [(40u16, 9u16), (32, 8), (31, 8), (1, 1)] {
        s.dispatch(Msg::Resize(w, h));
        s.terminal.backend_mut().resize(w, h);
        s.draw().unwrap();
        insta::assert_snapshot!(format!("triage_{w}x{h}"), s.terminal.backend().to_string());
    }
    s.worker.shutdown(true);
}

/// The real binary in tmux, its window shrunk step by step to 1×1 and grown back: it keeps
/// running (no exit 101), says the terminal is too small, and draws the codes again after.
#[test]
fn resizing_in_tmux_down_to_one_cell_never_panics() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let cmd = format!(
        "env NO_COLOR= SENDLOG_KEYMAP={} {} --db {} --year 2015 {}; echo EXITED=$?; sleep 30",
        dir.path().join("no-keymap.toml").display(),
        env!("CARGO_BIN_EXE_sendlog"),
        db.display(),
        std::path::Path::new(FIXTURE)
            .canonicalize()
            .unwrap()
            .display(),
    );
    let t = Tmux::new(&dir, &cmd);
    let wait_for = |needle: &str| {
        t.wait_until(needle, |text| {
            assert!(!text.contains("EXITED="), "sendlog exited:\n{text}");
            text.contains(needle)
        });
    };
    wait_for("Failed deliveries by code");
    let sizes = [
        (80, 24),
        (40, 9),
        (33, 8),
        (31, 7),
        (20, 5),
        (10, 3),
        (5, 2),
        (1, 1),
        (2, 1),
        (1, 2),
        (120, 40),
    ];
    for (w, h) in sizes {
        let (w, h) = (w.to_string(), h.to_string());
        t.run(&["resize-window", "-t", &t.0, "-x", &w, "-y", &h]);
        // Let the resize reach the loop and a frame be drawn.
        std::thread::sleep(Duration::from_millis(200));
        let text = t.capture();
        assert!(
            !text.contains("EXITED="),
            "sendlog exited at {w}x{h}:\n{text}"
        );
        if w == "31" {
            wait_for("terminal too");
        }
    }
    wait_for("Failed deliveries by code");
}

/// The built-in panels only: a developer's own knowledge directory must not change what
/// a test sees.
fn builtin_knowledge() -> std::sync::Arc<sendlog::knowledge::Knowledge> {
    std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap())
}
