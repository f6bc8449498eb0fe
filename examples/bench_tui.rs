//! TUI benchmark over an existing store: time to the first frame, time to answer each
//! key, and memory while scrolling a whole group. Drives the same `Session` as the real
//! binary (state, update, worker thread, render) on a 120×40 TestBackend; `benches/tui.sh`
//! builds the stores and runs it.
//!
//! `bench_tui --db STORE [--scroll-code CODE]`
//! `bench_tui --db STORE --grow-group CODE ROWS` first copies CODE's rows until the group
//! holds ROWS deliveries (a stress store for scrolling), then exits.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use sendlog::app::state::Screen;
use sendlog::app::{AppState, Keymap, Msg};
use sendlog::ingest::Format;
use sendlog::pipeline::ImportOptions;
use sendlog::store::Store;
use sendlog::tui::Session;
use sendlog::worker::Worker;

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Stats(Vec<f64>);

impl Stats {
    fn line(&mut self, name: &str) {
        if self.0.is_empty() {
            println!("{name:<38} (none)");
            return;
        }
        self.0.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| self.0[((self.0.len() - 1) as f64 * q).round() as usize];
        println!(
            "{name:<38} n={:<6} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            self.0.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// Copies the rows of `code` (without their attempts) until the group holds `rows`.
fn grow_group(db: &str, code: &str, rows: i64) {
    let store = Store::open(db).expect("open store");
    let count = || -> i64 {
        store
            .connection_for_tests()
            .query_row(
                "SELECT count(*) FROM deliveries WHERE status != 'sent' AND code = ?1",
                [code],
                |r| r.get(0),
            )
            .expect("count")
    };
    let mut n = count();
    assert!(n > 0, "no deliveries with code {code}");
    while n < rows {
        store
            .connection_for_tests()
            .execute(
                "INSERT INTO deliveries (message_ref, recipient, orig_recipient, domain, provider, host,
                 status, code, reply_code, reason, cause, final_text, last_deferral_code,
                 last_deferral_text, attempts, deferrals, first_attempt, last_attempt, relay,
                 typo_of, source, expired_at, expired_source)
                 SELECT message_ref, recipient, orig_recipient, domain, provider, host, status, code,
                 reply_code, reason, cause, final_text, last_deferral_code, last_deferral_text,
                 attempts, deferrals, first_attempt, last_attempt, relay, typo_of, source,
                 expired_at, expired_source
                 FROM deliveries WHERE status != 'sent' AND code = ?1 LIMIT ?2",
                rusqlite::params![code, rows - n],
            )
            .expect("copy rows");
        n = count();
    }
    store
        .connection_for_tests()
        .execute_batch("ANALYZE")
        .expect("analyze");
    println!("{code}: {n} rows");
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// One key: the time until the frame that answers it is drawn (with whatever the worker
/// has already sent), and the time until everything it asked the worker for is in and drawn.
fn press(s: &mut Session<TestBackend>, msg: Msg) -> (f64, f64) {
    let t = Instant::now();
    s.dispatch(msg);
    s.drain();
    s.draw().expect("draw");
    let answered = ms(t.elapsed());
    s.settle(Duration::from_secs(30));
    s.draw().expect("draw");
    (answered, ms(t.elapsed()))
}

fn main() {
    let started = Instant::now();
    let mut args = std::env::args().skip(1);
    let mut db = None;
    let mut scroll_code = None;
    let mut grow = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next(),
            "--scroll-code" => scroll_code = args.next(),
            "--grow-group" => {
                let code = args.next().expect("--grow-group CODE ROWS");
                let rows: i64 = args
                    .next()
                    .and_then(|r| r.parse().ok())
                    .expect("--grow-group CODE ROWS");
                grow = Some((code, rows));
            }
            _ => {
                eprintln!("usage: bench_tui --db STORE [--scroll-code CODE]");
                std::process::exit(2);
            }
        }
    }
    let db = db.expect("--db STORE");
    if let Some((code, rows)) = grow {
        grow_group(&db, &code, rows);
        return;
    }

    // As `tui::run` does, the explanation panels are loaded once, before the first frame
    // (the built-in ones: a measurement must not depend on the user's own).
    let store = Store::open(&db).expect("open store");
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(
        store,
        ImportOptions {
            format: Format::Auto,
            year: None,
            host: None,
            tz: None,
        },
        tx,
    )
    .expect("worker");
    let terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let state = AppState::new(
        Keymap::embedded().expect("keymap"),
        builtin_knowledge(),
        false,
        (120, 40),
    );
    let mut s = Session::new(terminal, state, rx, worker);
    s.start(vec![]);
    s.draw().expect("draw");
    let first_frame = started.elapsed();
    while s.state.triage.overview.is_none() {
        if let Ok(m) = s.rx.recv() {
            s.dispatch(m);
        }
    }
    s.drain();
    s.draw().expect("draw");
    let first_counts = started.elapsed();
    s.settle(Duration::from_secs(60));
    s.draw().expect("draw");
    let complete = started.elapsed();
    let ov = s.state.triage.overview.clone().expect("overview");
    println!("store: {db}");
    println!(
        "deliveries {} (sent {}, deferred {}, bounced {}, expired {}), failed codes {}",
        ov.totals.deliveries,
        ov.totals.sent,
        ov.totals.deferred,
        ov.totals.bounced,
        ov.totals.expired,
        ov.codes.len()
    );
    println!(
        "first frame {:.1} ms after start; first frame with the codes and counts {:.1} ms; \
         sparklines, second level and causes in {:.1} ms",
        ms(first_frame),
        ms(first_counts),
        ms(complete)
    );

    // Keys on the triage screen: move through the codes and switch groupings.
    let (mut answered, mut settled) = (Stats(Vec::new()), Stats(Vec::new()));
    let mut record = |a: (f64, f64)| {
        answered.0.push(a.0);
        settled.0.push(a.1);
    };
    let codes = ov.codes.len().max(1);
    for _ in 0..3 {
        for _ in 0..codes {
            record(press(&mut s, key(KeyCode::Char('j'))));
        }
        for _ in 0..codes {
            record(press(&mut s, key(KeyCode::Char('k'))));
        }
    }
    for _ in 0..6 {
        record(press(&mut s, key(KeyCode::Tab)));
    }
    record(press(&mut s, key(KeyCode::Char('/'))));
    for c in "4.7".chars() {
        record(press(&mut s, key(KeyCode::Char(c))));
    }
    record(press(&mut s, key(KeyCode::Esc)));
    answered.line("triage keys: frame drawn");
    settled.line("triage keys: all data in and drawn");

    // Open the group to scroll: the given code, else the biggest.
    let target = scroll_code.unwrap_or_else(|| {
        ov.codes
            .iter()
            .max_by_key(|c| c.count)
            .map(|c| c.code.clone())
            .unwrap_or_default()
    });
    while s.state.selected_code() != Some(target.as_str()) {
        let before = s.state.triage.codes.cursor.index();
        press(&mut s, key(KeyCode::Char('j')));
        if s.state.triage.codes.cursor.index() == before {
            eprintln!("code {target} not in the store");
            std::process::exit(1);
        }
    }
    let (mut answered, mut settled) = (Stats(Vec::new()), Stats(Vec::new()));
    let a = press(&mut s, key(KeyCode::Enter));
    println!(
        "open group {target}: first page drawn {:.2} ms after Enter",
        a.1
    );
    assert_eq!(s.state.screen, Screen::Deliveries);
    let total = s.state.deliveries.table.as_ref().map_or(0, |t| t.total);

    // Scroll the whole group with PageDown, then back up with k for a stretch, then jump.
    let rss_start = rss_mb();
    let (mut rss_min, mut rss_max) = (rss_start, rss_start);
    let mut max_window = 0;
    let scroll_started = Instant::now();
    let mut steps = 0u64;
    loop {
        let before = s
            .state
            .deliveries
            .table
            .as_ref()
            .map_or(0, |t| t.cursor.selected);
        let a = press(&mut s, key(KeyCode::PageDown));
        answered.0.push(a.0);
        settled.0.push(a.1);
        steps += 1;
        let t = s.state.deliveries.table.as_ref().expect("table");
        max_window = max_window.max(t.rows.len());
        if steps.is_multiple_of(500) {
            let r = rss_mb();
            rss_min = rss_min.min(r);
            rss_max = rss_max.max(r);
        }
        if t.cursor.selected + 1 >= t.total || t.cursor.selected == before {
            break;
        }
    }
    let scroll_secs = scroll_started.elapsed().as_secs_f64();
    let cursor = s
        .state
        .deliveries
        .table
        .as_ref()
        .map_or(0, |t| t.cursor.selected);
    answered.line("PageDown through the group: frame");
    settled.line("PageDown through the group: settled");
    println!(
        "scrolled {} of {} rows in {steps} PageDowns, {scroll_secs:.1} s; window at most {max_window} rows; \
         RSS {rss_start:.1} MB at the top, {rss_min:.1}..{rss_max:.1} MB while scrolling, {:.1} MB at the end",
        cursor + 1,
        total,
        rss_mb()
    );
    let (mut answered, mut settled) = (Stats(Vec::new()), Stats(Vec::new()));
    for _ in 0..300 {
        let a = press(&mut s, key(KeyCode::Char('k')));
        answered.0.push(a.0);
        settled.0.push(a.1);
    }
    answered.line("k ×300 (paging back up): frame");
    settled.line("k ×300 (paging back up): settled");
    for (name, k) in [
        ("g (top)", KeyCode::Char('g')),
        ("G (bottom)", KeyCode::Char('G')),
        ("g (top)", KeyCode::Char('g')),
        ("Enter (open a delivery)", KeyCode::Enter),
        ("Esc (back to the group)", KeyCode::Esc),
        ("Esc (back to triage)", KeyCode::Esc),
    ] {
        let (a, b) = press(&mut s, key(k));
        println!("{name:<38} frame {a:>7.2} ms  settled {b:>7.2} ms");
    }
    s.worker.shutdown(true);
}

/// The built-in panels only: a developer's own knowledge directory must not change what
/// a test sees.
fn builtin_knowledge() -> std::sync::Arc<sendlog::knowledge::Knowledge> {
    std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap())
}
