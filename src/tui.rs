//! The terminal side: a guard that restores the terminal on quit, error and panic, an
//! input thread forwarding key presses, and the main loop (generic over the ratatui
//! Backend, so tests and benchmarks drive it with `TestBackend`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event, MouseButton, MouseEventKind};

use crate::app::{self, AppState, Effect, Keymap, Msg};
use crate::pipeline::ImportOptions;
use crate::store::Store;
use crate::worker::Worker;

/// Restores the terminal when dropped: on quit, on an error returned through `?`, and
/// during unwinding. ratatui's init also installs a panic hook that restores first, so a
/// panic message prints on a sane screen.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Nothing useful can be done if restoring fails while already leaving.
        let _ = ratatui::crossterm::execute!(
            std::io::stdout(),
            ratatui::crossterm::event::DisableMouseCapture
        );
        let _ = ratatui::try_restore();
    }
}

/// Forwards key presses (not releases or repeats) and resizes until told to stop or the
/// loop is gone.
fn spawn_input(tx: Sender<Msg>, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("sendlog-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(Duration::from_millis(100)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(_) => break,
                }
                let msg = match event::read() {
                    Ok(Event::Key(k)) if k.is_press() => Msg::Key(k),
                    // Clicks and the wheel; motion would only flood the loop.
                    Ok(Event::Mouse(m))
                        if matches!(
                            m.kind,
                            MouseEventKind::Down(MouseButton::Left)
                                | MouseEventKind::ScrollDown
                                | MouseEventKind::ScrollUp
                        ) =>
                    {
                        Msg::Mouse(m)
                    }
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

/// Opens the TUI over `store`, importing `files` first (in the worker, with progress).
/// How the screens judge and limit what they show (`--queue-lifetime`, `--now`,
/// `--since`/`--until`).
#[derive(Debug, Clone, Default)]
pub struct View {
    pub queue_lifetime: Option<i64>,
    pub now: Option<i64>,
    /// The time window the store's reads are limited to, as the header states it.
    pub window: Option<String>,
    /// `--follow`: keep importing what is appended to the files.
    pub follow: bool,
}

pub fn run(
    store: Store,
    files: Vec<String>,
    options: ImportOptions,
    view: View,
) -> anyhow::Result<()> {
    let (keymap, keymap_problem) = load_keymap()?;
    // The explanation panels (and the user's overrides) are read once, here, and handed
    // to the state: nothing reads them from disk while the screens are up.
    let knowledge = Arc::new(crate::knowledge::Knowledge::for_user());
    let problems = knowledge.problems();
    let status = problems.first().map(|p| {
        format!(
            "knowledge: {p} ({} in your panels)",
            crate::wording::plural(problems.len() as u64, "problem", "problems")
        )
    });
    // Exports land where the user started sendlog.
    let export_dir = std::env::current_dir().context("reading the current directory")?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options, tx.clone()).context("starting the worker")?;
    let terminal = ratatui::try_init().context("setting up the terminal")?;
    let guard = TerminalGuard;
    ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableMouseCapture
    )
    .context("turning on the mouse")?;
    let stop = Arc::new(AtomicBool::new(false));
    spawn_input(tx, stop.clone()).context("starting the input thread")?;
    let size = terminal.size().context("reading the terminal size")?;
    let mut state = AppState::new(keymap, knowledge, no_color, (size.width, size.height));
    state.warning = keymap_problem.clone();
    state.status = keymap_problem.or(status);
    state.light = crate::ui::theme::light_background(
        std::env::var("SENDLOG_THEME").ok().as_deref(),
        std::env::var("COLORFGBG").ok().as_deref(),
    );
    state.queue_lifetime = view.queue_lifetime;
    state.now = view.now;
    state.window = view.window;
    if view.follow {
        state.live = Some(crate::app::state::Live::default());
    }
    state.export_dir = export_dir;
    let mut session = Session::new(terminal, state, rx, worker);
    let result = session.run(files);
    stop.store(true, Ordering::Relaxed);
    let importing = session.importing();
    session.worker.shutdown(!importing);
    drop(guard);
    result
}

/// Environment variable naming the user's keymap file (overrides the config dir's).
pub const KEYMAP_ENV: &str = "SENDLOG_KEYMAP";

/// The user's keymap file: `$SENDLOG_KEYMAP`, else `keymap.toml` in sendlog's config dir
/// (`~/.config/sendlog/keymap.toml` on Linux).
pub fn user_keymap_path() -> Option<std::path::PathBuf> {
    match std::env::var_os(KEYMAP_ENV) {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(v.into()),
        None => directories::ProjectDirs::from("", "", "sendlog")
            .map(|d| d.config_dir().join("keymap.toml")),
    }
}

/// The built-in keymap with the user's laid over it. A broken user keymap does not keep
/// the UI from opening: its problem is said on the status bar, and the built-in keys apply.
fn load_keymap() -> anyhow::Result<(Keymap, Option<String>)> {
    let builtin = Keymap::embedded().map_err(anyhow::Error::msg)?;
    let Some(path) = user_keymap_path() else {
        return Ok((builtin, None));
    };
    let text = match std::fs::metadata(&path) {
        Err(_) => return Ok((builtin, None)),
        Ok(m) if m.len() > 1 << 20 => Err("larger than 1 MiB".to_string()),
        Ok(_) => std::fs::read_to_string(&path).map_err(|e| e.to_string()),
    };
    let problem = match text.and_then(|t| builtin.clone().with_overrides(&t)) {
        Ok(keymap) => return Ok((keymap, None)),
        // toml's messages span several lines; the status bar has one.
        Err(e) => e.lines().next().unwrap_or_default().to_string(),
    };
    Ok((
        builtin,
        Some(format!(
            "{}: {problem}; using the built-in keys",
            path.display()
        )),
    ))
}

/// One TUI session: state, the terminal it draws on, the worker and the message channel.
pub struct Session<B: Backend> {
    pub terminal: Terminal<B>,
    pub state: AppState,
    pub rx: Receiver<Msg>,
    pub worker: Worker,
}

impl<B: Backend> Session<B>
where
    B::Error: Send + Sync + 'static,
{
    pub fn new(terminal: Terminal<B>, state: AppState, rx: Receiver<Msg>, worker: Worker) -> Self {
        Session {
            terminal,
            state,
            rx,
            worker,
        }
    }

    /// Applies the first effects of a session (import, or load the overview).
    pub fn start(&mut self, files: Vec<String>) {
        let effects = app::start(&mut self.state, files);
        self.carry_out(effects);
    }

    pub fn importing(&self) -> bool {
        self.state.screen == app::state::Screen::Import
    }

    pub fn draw(&mut self) -> anyhow::Result<()> {
        let state = &self.state;
        self.terminal
            .draw(|f| crate::ui::render(f, state))
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!(e))
    }

    pub fn dispatch(&mut self, msg: Msg) {
        let effects = app::update(&mut self.state, msg);
        self.carry_out(effects);
    }

    fn carry_out(&mut self, effects: Vec<Effect>) {
        for e in effects {
            if e != Effect::Quit {
                self.worker.send(e);
            }
        }
    }

    /// Applies every message waiting, without blocking. True if there was any.
    pub fn drain(&mut self) -> bool {
        let mut any = false;
        while let Ok(msg) = self.rx.try_recv() {
            self.dispatch(msg);
            any = true;
        }
        any
    }

    /// Applies replies until the worker has answered everything asked of it (or the
    /// timeout passes): what tests and benchmarks wait for before looking at a frame.
    pub fn settle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain();
            if self.worker.idle() {
                // Its last reply was sent before it went idle.
                self.drain();
                if self.worker.idle() {
                    return true;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.rx.recv_timeout(left.min(Duration::from_millis(5))) {
                Ok(msg) => self.dispatch(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// The main loop: draw, block for a message, apply it and everything else already
    /// waiting (so a burst of keys or replies costs one frame), draw again.
    pub fn run(&mut self, files: Vec<String>) -> anyhow::Result<()> {
        self.start(files);
        self.draw()?;
        while !self.state.quit {
            let Ok(msg) = self.rx.recv() else {
                break;
            };
            self.dispatch(msg);
            self.drain();
            if self.state.quit {
                break;
            }
            self.draw()?;
        }
        Ok(())
    }
}
