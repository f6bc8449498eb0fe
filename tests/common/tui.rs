//! Helpers for TUI tests: synthetic keys, a session over an imported store drawn on a
//! TestBackend, and the real binary in tmux.

use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use sendlog::app::{AppState, Keymap, Msg};
use sendlog::ingest::Format;
use sendlog::pipeline::{ImportOptions, Progress, import_files};
use sendlog::store::Store;
use sendlog::tui::Session;
use sendlog::worker::Worker;

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

/// Classic syslog stamps of the fixtures read as 2015.
pub fn options() -> ImportOptions {
    ImportOptions {
        format: Format::Auto,
        year: Some(2015),
        ..ImportOptions::default()
    }
}

/// `files` imported into a store `s.db` in `dir`, each without an error; the store's path.
pub fn imported(files: &[&str], dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("s.db").display().to_string();
    let mut store = Store::open(&path).unwrap();
    let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    let reports = import_files(&mut store, &files, &options(), &mut |_: &Progress| {}).unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()));
    path
}

/// `files` imported into a store in `dir`, then a session over it, settled.
pub fn session_on(files: &[&str], dir: &tempfile::TempDir, w: u16, h: u16) -> Session<TestBackend> {
    session_over(Store::open(&imported(files, dir)).unwrap(), w, h)
}

pub fn session_over(store: Store, w: u16, h: u16) -> Session<TestBackend> {
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let state = AppState::new(
        Keymap::embedded().unwrap(),
        builtin_knowledge(),
        false,
        (w, h),
    );
    let mut s = Session::new(terminal, state, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    s
}

pub fn press(s: &mut Session<TestBackend>, msg: Msg) {
    s.dispatch(msg);
    assert!(s.settle(Duration::from_secs(10)));
}

pub fn screen(s: &mut Session<TestBackend>) -> String {
    s.draw().unwrap();
    s.terminal.backend().to_string()
}

pub fn have_tmux() -> bool {
    let there = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok();
    if !there {
        eprintln!("NOTICE: tmux is not installed; skipping");
    }
    there
}

/// A tmux session running a shell command at 120×40, killed when dropped.
pub struct Tmux(pub String);

impl Tmux {
    /// The session is named after the temp dir, which keeps parallel tests apart.
    pub fn new(dir: &tempfile::TempDir, cmd: &str) -> Tmux {
        let name = format!(
            "sendlog-t-{}",
            dir.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "")
        );
        let ok = std::process::Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                "-s",
                &name,
                cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        Tmux(name)
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.0])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.capture();
            if ok(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

/// The built-in panels only: a developer's own knowledge directory must not change what
/// a test sees.
pub fn builtin_knowledge() -> std::sync::Arc<sendlog::knowledge::Knowledge> {
    std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap())
}
