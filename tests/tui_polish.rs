//! The TUI's rough edges as a newcomer meets them, on a real imported log.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use common::tui::{
    Tmux, builtin_knowledge, code, have_tmux, key, options, press, screen, session_on,
};
use sendlog::app::{AppState, Keymap, Msg};
use sendlog::store::Store;
use sendlog::tui::Session;
use sendlog::worker::Worker;

const FIXTURE: &str = "tests/fixtures/postfix/postfix_log_analysis__mail2.log";

/// `J` stops when the explanation's last line reaches the bottom of its pane: the pane
/// never scrolls into emptiness, and one `K` moves back at once.
#[test]
fn j_stops_at_the_end_of_the_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&[FIXTURE], &dir, 80, 24);
    screen(&mut s);
    let panel = sendlog::app::explain::panel_for(
        &s.state.knowledge,
        "4.4.7",
        s.state.triage.current_causes(),
    );
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
    let max = s.state.triage.explain.max.get();
    assert!(max > 0 && max < 900, "{max}");
    assert_eq!(s.state.triage.explain.offset, max);
    let text = screen(&mut s);
    assert!(
        text.contains(tail.trim()),
        "the last line {last:?} is on screen:\n{text}"
    );
    press(&mut s, key('K'));
    assert_eq!(s.state.triage.explain.offset, max - 3);
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
    let max = s.state.delivery.scroll.max.get();
    assert_eq!(s.state.delivery.scroll.offset, max);
    press(&mut s, key('G'));
    assert_eq!(s.state.delivery.scroll.offset, max);
    s.worker.shutdown(true);
}

/// A code's row on Triage reads as the head of the panel it opens: 4.7.0's row and its
/// panel's title say the same thing.
#[test]
fn a_codes_list_label_is_the_head_of_its_panel_title() {
    use sendlog::app::update::code_text;
    let k = sendlog::knowledge::Knowledge::builtin().unwrap();
    let codes: Vec<String> = std::fs::read_dir("assets/knowledge")
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    assert!(codes.len() > 20);
    for code in &codes {
        let code = code.as_str();
        // A row never ends inside a parenthesis of its title.
        let row = code_text(&k, code);
        assert_eq!(row.matches('(').count(), row.matches(')').count(), "{row}");
        let title = sendlog::app::explain::panel_for(&k, code, None).title;
        assert!(
            title.starts_with(&row),
            "{code}: row {row:?}, panel {title:?}"
        );
    }
    assert_eq!(
        code_text(&k, "4.7.0"),
        sendlog::app::explain::panel_for(&k, "4.7.0", None).title
    );
    // A code without a panel of its own: the registry's label, the same in both places.
    let row = code_text(&k, "5.3.5");
    assert_eq!(row, "5.3.5 System incorrectly configured");
    assert!(
        sendlog::app::explain::panel_for(&k, "5.3.5", None)
            .title
            .contains("System incorrectly configured")
    );
}

/// `r` on a mailbox that does not exist: not offered in the hints, and pressed anyway it
/// says why instead of asking for a note. On an expiry it stays.
#[test]
fn resolve_is_not_offered_on_failures_of_the_address_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&["sample-data/mail.log"], &dir, 120, 40);
    let codes: Vec<String> = s
        .state
        .triage
        .overview
        .as_ref()
        .unwrap()
        .codes
        .iter()
        .map(|c| c.code.clone())
        .collect();
    let at = codes
        .iter()
        .position(|c| c == "5.1.1")
        .expect("5.1.1 in the sample");
    // On 4.4.7 (first) the deliveries offer `r`.
    press(&mut s, code(KeyCode::Enter));
    assert!(screen(&mut s).contains("r resolve"));
    press(&mut s, code(KeyCode::Esc));
    for _ in 0..at {
        press(&mut s, key('j'));
    }
    assert_eq!(s.state.selected_code(), Some("5.1.1"));
    press(&mut s, key('r'));
    assert!(s.state.note_input().is_none());
    let status = s.state.status.clone().unwrap_or_default();
    assert!(
        status.contains("userunknown is a failure of the address itself"),
        "{status}"
    );
    press(&mut s, code(KeyCode::Enter));
    let text = screen(&mut s);
    assert!(text.contains("userunknown"), "{text}");
    assert!(!text.contains("r resolve"), "{text}");
    press(&mut s, key('r'));
    assert!(s.state.note_input().is_none());
    s.worker.shutdown(true);
}

/// The pane with the focus has a heavy frame (┏━┓), the others a light one, so focus
/// shows at a glance, in colour or not.
#[test]
fn the_focused_pane_has_a_heavy_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&[FIXTURE], &dir, 80, 24);
    let text = screen(&mut s);
    let codes_line = text.lines().nth(1).unwrap();
    assert!(codes_line.contains("┏ Failed deliveries by code"), "{text}");
    let breakdown_line = text
        .lines()
        .find(|l| l.contains(" By destination"))
        .unwrap();
    assert!(breakdown_line.contains("┌ By destination"), "{text}");
    press(&mut s, key('l'));
    let text = screen(&mut s);
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains("┌ Failed deliveries by code"),
        "{text}"
    );
    let breakdown_line = text
        .lines()
        .find(|l| l.contains(" By destination"))
        .unwrap();
    assert!(breakdown_line.contains("┏ By destination"), "{text}");
    s.worker.shutdown(true);
}

fn selected_row_background(s: &mut Session<TestBackend>) -> ratatui::style::Color {
    s.draw().unwrap();
    let buf = s.terminal.backend().buffer().clone();
    let y = (0..buf.area.height)
        .find(|&y| (0..buf.area.width).any(|x| buf[(x, y)].symbol() == "▶"))
        .expect("a selected row");
    let x = (0..buf.area.width)
        .find(|&x| buf[(x, y)].symbol() == "▶")
        .unwrap();
    buf[(x + 2, y)].bg
}

/// Colours follow the background (`SENDLOG_THEME` or `COLORFGBG`, read in `tui::run`); with
/// NO_COLOR there are none whatever the background.
#[test]
fn light_and_dark_colours_and_no_color_still_wins() {
    use ratatui::style::Color;
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&[FIXTURE], &dir, 80, 24);
    assert_eq!(selected_row_background(&mut s), Color::DarkGray);
    s.state.light = true;
    assert_eq!(selected_row_background(&mut s), Color::Gray);
    s.state.no_color = true;
    s.draw().unwrap();
    let buf = s.terminal.backend().buffer().clone();
    for cell in buf.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    s.worker.shutdown(true);
}

/// The real binary on a fresh store in `dir` (HOME there too), with `env` before it.
fn start_binary(dir: &tempfile::TempDir, env: &str, args: &str) -> Option<Tmux> {
    if !have_tmux() {
        return None;
    }
    let cmd = format!(
        "env {env} NO_COLOR= HOME={home} {bin} --db {db} --year 2015 {args}; sleep 30",
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_sendlog"),
        db = dir.path().join("t.db").display(),
    );
    Some(Tmux::new(dir, &cmd))
}

/// A user keymap (here through `SENDLOG_KEYMAP`, in a temp dir) moves keys: `n` goes down
/// instead of `j`, and `?` lists the new key.
#[test]
fn a_user_keymap_overrides_the_built_in_keys_in_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let keymap = dir.path().join("keymap.toml");
    std::fs::write(
        &keymap,
        "[[global]]\naction = \"down\"\nkeys = [\"n\", \"down\"]\ndesc = \"Next row\"\n",
    )
    .unwrap();
    let fixture = std::path::Path::new(FIXTURE).canonicalize().unwrap();
    let Some(t) = start_binary(
        &dir,
        &format!("SENDLOG_KEYMAP={}", keymap.display()),
        &fixture.display().to_string(),
    ) else {
        return;
    };
    t.wait_until("the codes", |s| s.contains("▶ 4.4.7"));
    t.keys(&["j"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(t.capture().contains("▶ 4.4.7"), "j no longer moves");
    t.keys(&["n"]);
    t.wait_until("the cursor on the second code", |s| {
        !s.contains("▶ 4.4.7") && s.contains("▶ ")
    });
    t.keys(&["?"]);
    t.wait_until("help listing n", |s| {
        s.contains("n, down") && s.contains("Next row")
    });
}

/// A keymap with a mistake: the UI opens with the built-in keys and says what is wrong.
#[test]
fn a_broken_user_keymap_is_named_and_the_built_in_keys_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".config/sendlog");
    std::fs::create_dir_all(&config).unwrap();
    // Found in the config dir under HOME (the test's temp dir), as a user would keep it.
    std::fs::write(
        config.join("keymap.toml"),
        "[[global]]\naction = \"down\"\nkeys = [\"hyper-n\"]\n",
    )
    .unwrap();
    let fixture = std::path::Path::new(FIXTURE).canonicalize().unwrap();
    let Some(t) = start_binary(
        &dir,
        "-u XDG_CONFIG_HOME -u SENDLOG_KEYMAP",
        &fixture.display().to_string(),
    ) else {
        return;
    };
    let text = t.wait_until("the keymap's problem", |s| {
        s.contains("using the built-in keys")
    });
    assert!(text.contains("keymap.toml"), "{text}");
    assert!(text.contains("hyper-n"), "{text}");
    // Keys pressed while importing do nothing; wait for the codes.
    t.wait_until("the codes", |s| {
        s.contains("▶ 4.4.7") && s.contains("imported 1 file")
    });
    // Still said once the import's summary is up.
    assert!(t.capture().contains("using the built-in keys"));
    t.keys(&["j"]);
    t.wait_until("j moving down", |s| {
        !s.contains("▶ 4.4.7") && s.contains("▶ ")
    });
}

fn mouse(kind: ratatui::crossterm::event::MouseEventKind, column: u16, row: u16) -> Msg {
    Msg::Mouse(ratatui::crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

/// Where `needle` is drawn: (column, row).
fn find(s: &mut Session<TestBackend>, needle: &str) -> (u16, u16) {
    let text = screen(s);
    for (y, line) in text.lines().enumerate() {
        // The backend's lines are quoted; columns count characters after the quote.
        let line = line.trim_start_matches('"');
        if let Some(at) = line.find(needle) {
            return (line[..at].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle} not on screen:\n{text}");
}

/// A click selects the row under it (and focuses its list); the wheel moves the cursor.
#[test]
fn a_click_selects_a_row_and_the_wheel_scrolls() {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&["sample-data/mail.log"], &dir, 120, 40);
    let click = MouseEventKind::Down(MouseButton::Left);
    let (x, y) = find(&mut s, "5.1.1 Bad destination");
    press(&mut s, mouse(click, x, y));
    assert_eq!(s.state.selected_code(), Some("5.1.1"));
    // The wheel: three rows a notch, down then up.
    let at = s.state.triage.codes.cursor.index();
    press(&mut s, mouse(MouseEventKind::ScrollUp, x, y));
    assert_eq!(s.state.triage.codes.cursor.index(), at.saturating_sub(3));
    press(&mut s, mouse(MouseEventKind::ScrollDown, x, y));
    assert_eq!(
        s.state.triage.codes.cursor.index(),
        at.saturating_sub(3) + 3
    );
    // A click in the second level focuses it.
    let (x, y) = find(&mut s, "4.4.7 Delivery time expired");
    press(&mut s, mouse(click, x, y));
    assert_eq!(s.state.selected_code(), Some("4.4.7"));
    let second = s.state.triage.current_breakdown().unwrap().rows[1]
        .value
        .clone()
        .unwrap();
    let (x, y) = find(&mut s, &second);
    press(&mut s, mouse(click, x, y));
    assert_eq!(s.state.triage.pane, sendlog::app::state::Pane::Breakdown);
    assert_eq!(s.state.triage.breakdown_list.cursor.index(), 1);
    // On the deliveries, a click on the third row selects it; outside any list, nothing.
    press(&mut s, key('h'));
    press(&mut s, code(KeyCode::Enter));
    let third = s.state.deliveries.table.as_ref().unwrap().rows[2]
        .recipient
        .clone();
    let (x, y) = find(&mut s, &third);
    press(&mut s, mouse(click, x, y));
    assert_eq!(
        s.state.deliveries.table.as_ref().unwrap().cursor.selected,
        2
    );
    press(&mut s, mouse(click, 0, 0));
    assert_eq!(
        s.state.deliveries.table.as_ref().unwrap().cursor.selected,
        2
    );
    s.worker.shutdown(true);
}

/// The sparklines carry their time reference: the first and last day at the ends of the
/// column, and the span in full under the codes.
#[test]
fn the_sparkline_has_a_time_reference() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(&["sample-data/mail.log"], &dir, 200, 40);
    let (from, to) = s.state.triage.spark_span.expect("a span");
    let day = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%m-%d")
            .to_string()
    };
    assert_ne!(day(from), day(to));
    let text = screen(&mut s);
    let header = text
        .lines()
        .find(|l| l.contains("code") && l.contains("count"))
        .unwrap();
    assert!(
        header.contains(&day(from)) && header.contains(&day(to)),
        "{header}"
    );
    assert!(header.find(&day(from)) < header.find(&day(to)));
    let stamp = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%m-%d %H:%M")
            .to_string()
    };
    assert!(
        text.contains(&format!("when: {} → {} UTC", stamp(from), stamp(to))),
        "{text}"
    );
    s.worker.shutdown(true);
}

/// The export asks where to write: the current directory by default, `d` to type
/// another; the batch lands there.
#[test]
fn the_export_asks_for_the_directory_with_the_current_one_as_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["import", "--year", "2026", "sample-data/mail.log"]);
    cli(&["resolve", "--cause", "badreputation", "--note", "delisted"]);
    cli(&["requeue", "mark", "--eligible"]);
    let store = Store::open(db.to_str().unwrap()).unwrap();
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut state = AppState::new(
        Keymap::embedded().unwrap(),
        builtin_knowledge(),
        true,
        (100, 30),
    );
    let start_dir = dir.path().join("started-here");
    let chosen = dir.path().join("chosen");
    std::fs::create_dir_all(&start_dir).unwrap();
    std::fs::create_dir_all(&chosen).unwrap();
    state.export_dir = start_dir.clone();
    let mut s = Session::new(terminal, state, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    press(&mut s, key('b'));
    press(&mut s, key('e'));
    let text = screen(&mut s);
    assert!(
        text.contains("started-here"),
        "the default is shown:\n{text}"
    );
    assert!(text.contains("d: write into another folder"), "{text}");
    press(&mut s, key('d'));
    // Clear what is there, type the new folder.
    for _ in 0..start_dir.display().to_string().chars().count() {
        press(&mut s, code(KeyCode::Backspace));
    }
    for c in chosen.display().to_string().chars() {
        press(&mut s, key(c));
    }
    let text = screen(&mut s);
    assert!(
        text.contains("Folder") && text.contains("chosen▏"),
        "{text}"
    );
    press(&mut s, code(KeyCode::Enter));
    assert!(screen(&mut s).contains("chosen"));
    press(&mut s, code(KeyCode::Enter));
    let written: Vec<_> = std::fs::read_dir(&chosen).unwrap().collect();
    assert_eq!(written.len(), 1, "{:?}", s.state.status);
    assert_eq!(std::fs::read_dir(&start_dir).unwrap().count(), 0);
    s.worker.shutdown(true);
}

/// A delivery known only from an Exchange NDR: its Message-ID is not shown as a queue id,
/// the report's Remote-MTA is named as the remote server (not as who reported), and the
/// last error the report quotes is marked as reported, not as a deferral of this log.
#[test]
fn the_delivery_screen_says_what_came_from_a_bounce_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session_on(
        &["sample-data/mail.log", "sample-data/bounces"],
        &dir,
        120,
        40,
    );
    press(&mut s, code(KeyCode::Enter));
    let at = s
        .state
        .deliveries
        .table
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .position(|r| r.recipient == "kim.lee@fabrikam-partners.example")
        .expect("the NDR's delivery in 4.4.7");
    for _ in 0..at {
        press(&mut s, key('j'));
    }
    press(&mut s, code(KeyCode::Enter));
    let text = screen(&mut s);
    assert!(
        text.contains("queue id unknown (no log line) · Message-ID"),
        "{text}"
    );
    assert!(
        !text.contains("queue id AM9PR04MB8123A1B2C3D4E5F6@"),
        "{text}"
    );
    assert!(
        text.contains("Remote MTA  fabrikam-partners-example.mail.protection.outlook.com"),
        "{text}"
    );
    assert!(!text.contains("Reported by"), "{text}");
    let timeline: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("Timeline ("))
        .collect();
    assert!(
        timeline
            .iter()
            .any(|l| l.contains("  reported 550 4.7.650")),
        "{text}"
    );
    assert!(
        !timeline.iter().any(|l| l.contains("  deferred ")),
        "{text}"
    );
    s.worker.shutdown(true);
}
