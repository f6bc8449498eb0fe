//! The triage TUI: `update()` driven by synthetic keys (no terminal), every screen drawn on
//! a TestBackend and compared with committed snapshots at 80×24 and 120×40, and the real
//! binary run in tmux.

use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use sendlog::app::help;
use sendlog::app::state::{PAGE_ROWS, Pane, Screen, WINDOW_ROWS};
use sendlog::app::{AppState, Effect, Keymap, Msg, start, update};
use sendlog::ingest::Format;
use sendlog::pipeline::{ImportOptions, Progress, import_files};
use sendlog::store::Store;
use sendlog::store::browse::{Anchor, CodeCount, DeliveryFilter, DeliveryRow, Dimension, Overview};
use sendlog::store::report::Totals;
use sendlog::triage::AT_RISK_FRACTION;
use sendlog::tui::Session;
use sendlog::wording::time_span;
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
        tz: None,
    }
}

fn state(w: u16, h: u16) -> AppState {
    AppState::new(
        Keymap::embedded().unwrap(),
        builtin_knowledge(),
        false,
        (w, h),
    )
}

fn overview(codes: &[(&str, u64)]) -> Overview {
    Overview {
        totals: Totals {
            deliveries: codes.iter().map(|c| c.1).sum::<u64>() + 100,
            sent: 100,
            ..Totals::default()
        },
        codes: codes
            .iter()
            .map(|(c, n)| CodeCount {
                code: c.to_string(),
                count: *n,
            })
            .collect(),
    }
}

fn rows(ids: std::ops::Range<i64>) -> Vec<DeliveryRow> {
    ids.map(|id| DeliveryRow {
        id,
        recipient: format!("user{id}@example.com"),
        domain: "example.com".into(),
        host: "mx1".into(),
        status: sendlog::model::DeliveryStatus::Expired,
        attempts: 3,
        last_attempt: Some(1_446_350_000 + id),
        cause: Some(sendlog::model::Reason::NetworkError),
        code: "4.4.7".into(),
        deferrals: 2,
        delay: Some(3600),
    })
    .collect()
}

// ---------------------------------------------------------------- update(), no terminal

#[test]
fn start_imports_files_first_or_loads_the_store() {
    let mut s = state(80, 24);
    assert_eq!(start(&mut s, vec![]), vec![Effect::LoadOverview]);
    let mut s = state(80, 24);
    assert_eq!(
        start(&mut s, vec!["a.log".into()]),
        vec![Effect::Import(vec!["a.log".into()])]
    );
    assert_eq!(s.screen, Screen::Import);
    // Keys are answered during the import.
    update(&mut s, key('?'));
    assert!(s.help_open());
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.help_open());
    let effects = update(&mut s, Msg::ImportDone(Ok(vec![])));
    assert_eq!(effects, vec![Effect::LoadOverview]);
    assert_eq!(s.screen, Screen::Triage);
}

#[test]
fn expiries_lead_the_codes_and_moving_loads_the_selected_codes_panes() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    let effects = update(
        &mut s,
        Msg::Overview(overview(&[("5.1.1", 40), ("4.7.0", 9), ("4.4.7", 3)])),
    );
    assert_eq!(s.selected_code(), Some("4.4.7"));
    assert!(effects.contains(&Effect::LoadBreakdown {
        code: "4.4.7".into(),
        dim: Dimension::Domain
    }));
    assert!(effects.contains(&Effect::LoadCauses {
        code: "4.4.7".into()
    }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadSparklines { .. }))
    );

    let effects = update(&mut s, key('j'));
    assert_eq!(s.selected_code(), Some("5.1.1"));
    assert_eq!(
        effects,
        vec![
            Effect::LoadBreakdown {
                code: "5.1.1".into(),
                dim: Dimension::Domain
            },
            Effect::LoadCauses {
                code: "5.1.1".into()
            }
        ]
    );
    update(&mut s, key('G'));
    assert_eq!(s.selected_code(), Some("4.7.0"));
    update(&mut s, key('g'));
    assert_eq!(s.selected_code(), Some("4.4.7"));

    let effects = update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.triage.dim, Dimension::Provider);
    assert_eq!(
        effects[0],
        Effect::LoadBreakdown {
            code: "4.4.7".into(),
            dim: Dimension::Provider
        }
    );
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.triage.dim, Dimension::Domain);
}

#[test]
fn fuzzy_filter_narrows_the_codes_and_esc_clears_it() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(
        &mut s,
        Msg::Overview(overview(&[("5.1.1", 40), ("4.7.0", 9), ("4.4.7", 3)])),
    );
    update(&mut s, key('/'));
    assert!(s.filter.as_ref().map(|_| s.filter_editing()).unwrap());
    // While typing, 'q' and 'j' are text, not keys.
    for c in "mailbox".chars() {
        update(&mut s, key(c));
    }
    assert!(!s.quit);
    assert_eq!(s.triage.codes.view.len(), 1);
    assert_eq!(s.selected_code(), Some("5.1.1"));
    // "5.1.1 Bad destination mailbox address": the hits are the matched characters.
    let hits = &s.triage.codes.view[0].hits;
    assert_eq!(hits.len(), 7);
    assert_eq!(hits[0], "5.1.1 Bad destination ".len());
    update(&mut s, code(KeyCode::Enter));
    assert!(!s.filter.as_ref().map(|_| s.filter_editing()).unwrap());
    update(&mut s, code(KeyCode::Esc));
    assert!(s.filter.is_none());
    assert_eq!(s.triage.codes.view.len(), 3);
    assert_eq!(
        s.selected_code(),
        Some("5.1.1"),
        "clearing keeps the selection"
    );
    // Ctrl-C quits even while typing a filter.
    update(&mut s, key('/'));
    let effects = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(effects, vec![Effect::Quit]);
    assert!(s.quit);
}

/// The explanation is built when the selection or its causes change, for the selected
/// code, from the knowledge the state was given.
#[test]
fn the_explanation_follows_the_selection_and_its_causes() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(
        &mut s,
        Msg::Overview(overview(&[("4.4.7", 5), ("5.1.1", 2)])),
    );
    let p = s.triage.panel.clone().expect("built with the overview");
    assert_eq!((p.code.as_str(), p.with_causes), ("4.4.7", false));
    assert_eq!(p.panel.sections[0].lines, vec!["loading…"]);
    update(
        &mut s,
        Msg::Causes {
            code: "4.4.7".into(),
            causes: vec![sendlog::store::report::CauseCount {
                cause: Some(sendlog::model::Reason::NetworkError),
                count: 5,
            }],
        },
    );
    let p = s.triage.panel.clone().unwrap();
    assert!(p.with_causes);
    assert_eq!(p.panel.sections[0].lines, vec!["      5  networkerror"]);
    update(&mut s, key('j'));
    let p = s.triage.panel.clone().unwrap();
    assert_eq!((p.code.as_str(), p.with_causes), ("5.1.1", false));
    assert!(p.panel.title.starts_with("5.1.1"), "{}", p.panel.title);
}

/// Opens a 1,000-row group and returns the state with the first page loaded.
fn opened_table(total: u64) -> AppState {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", total)])));
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Deliveries);
    let Some(Effect::LoadPage {
        generation,
        anchor,
        limit,
        filter,
        count,
    }) = effects.into_iter().next()
    else {
        panic!("opening a group loads its first page");
    };
    assert_eq!(anchor, Anchor::After(i64::MIN));
    assert_eq!(filter.code.as_deref(), Some("4.4.7"));
    assert_eq!(limit, PAGE_ROWS);
    // The list's own count is asked for with its first page.
    assert!(count);
    update(
        &mut s,
        Msg::Page {
            generation,
            anchor,
            rows: rows(1..(PAGE_ROWS as i64 + 1)),
            total: None,
            verdicts: Default::default(),
        },
    );
    s
}

#[test]
fn keyset_paging_keeps_a_bounded_window_and_absolute_position() {
    let total = 1000u64;
    let mut s = opened_table(total);
    let mut loads = 0;
    // Page down through the whole group, answering each page request as the worker would.
    for _ in 0..200 {
        let effects = update(&mut s, code(KeyCode::PageDown));
        for e in effects {
            let Effect::LoadPage {
                generation, anchor, ..
            } = e
            else {
                continue;
            };
            loads += 1;
            let Anchor::After(last) = anchor else {
                panic!("paging down asks for the rows after the window");
            };
            let end = (last + 1 + PAGE_ROWS as i64).min(total as i64 + 1);
            update(
                &mut s,
                Msg::Page {
                    generation,
                    anchor,
                    rows: rows(last + 1..end),
                    total: None,
                    verdicts: Default::default(),
                },
            );
        }
        let t = s.deliveries.table.as_ref().unwrap();
        assert!(t.rows.len() <= WINDOW_ROWS, "the window stays bounded");
        // The row under the cursor is the one at that absolute position.
        assert_eq!(t.selected().unwrap().id as u64, t.cursor.selected + 1);
    }
    let t = s.deliveries.table.as_ref().unwrap();
    assert_eq!(t.cursor.selected, total - 1);
    assert_eq!(loads, 4);

    // Jump to the top: the window is dropped and the first page asked for again.
    let effects = update(&mut s, key('g'));
    let Some(Effect::LoadPage {
        generation: top_gen,
        anchor: Anchor::After(i64::MIN),
        ..
    }) = effects.first().cloned()
    else {
        panic!("g loads the first page: {effects:?}");
    };
    // ...and to the bottom before that page arrives: the top page is now stale.
    let effects = update(&mut s, key('G'));
    let Some(Effect::LoadPage {
        generation: bottom_gen,
        anchor: Anchor::Before(i64::MAX),
        ..
    }) = effects.first().cloned()
    else {
        panic!("G loads the last page: {effects:?}");
    };
    update(
        &mut s,
        Msg::Page {
            generation: top_gen,
            anchor: Anchor::After(i64::MIN),
            rows: rows(1..201),
            total: None,
            verdicts: Default::default(),
        },
    );
    assert!(
        s.deliveries.table.as_ref().unwrap().rows.is_empty(),
        "stale page ignored"
    );
    update(
        &mut s,
        Msg::Page {
            generation: bottom_gen,
            anchor: Anchor::Before(i64::MAX),
            rows: rows(801..1001),
            total: None,
            verdicts: Default::default(),
        },
    );
    let t = s.deliveries.table.as_ref().unwrap();
    assert_eq!((t.start, t.cursor.selected), (800, 999));
    assert_eq!(t.selected().unwrap().id, 1000);
    // Moving up near the window's top asks for the rows before it.
    let mut asked = None;
    for _ in 0..100 {
        for e in update(&mut s, key('k')) {
            asked = Some(e);
        }
    }
    assert!(matches!(
        asked,
        Some(Effect::LoadPage {
            anchor: Anchor::Before(801),
            ..
        })
    ));
}

#[test]
fn a_page_arriving_after_the_cursor_moved_back_never_moves_the_cursor() {
    let mut s = opened_table(5000);
    // Page down, answering every page, until the window is full and has started to slide.
    let mut pending;
    loop {
        pending = update(&mut s, code(KeyCode::PageDown)).into_iter().next();
        let t = s.deliveries.table.as_ref().unwrap();
        if pending.is_some() && t.rows.len() == WINDOW_ROWS && t.start > 0 {
            break;
        }
        if let Some(Effect::LoadPage {
            generation,
            anchor: anchor @ Anchor::After(last),
            ..
        }) = pending.take()
        {
            update(
                &mut s,
                Msg::Page {
                    generation,
                    anchor,
                    rows: rows(last + 1..last + 1 + PAGE_ROWS as i64),
                    total: None,
                    verdicts: Default::default(),
                },
            );
        }
    }
    // The user goes back to the top of the window before the next page comes in.
    for _ in 0..WINDOW_ROWS {
        update(&mut s, key('k'));
    }
    let before = s.deliveries.table.as_ref().unwrap().selected().unwrap().id;
    let Some(Effect::LoadPage {
        generation,
        anchor: anchor @ Anchor::After(last),
        ..
    }) = pending
    else {
        panic!("a page was on its way: {pending:?}")
    };
    update(
        &mut s,
        Msg::Page {
            generation,
            anchor,
            rows: rows(last + 1..last + 1 + PAGE_ROWS as i64),
            total: None,
            verdicts: Default::default(),
        },
    );
    let t = s.deliveries.table.as_ref().unwrap();
    assert_eq!(
        t.selected().unwrap().id,
        before,
        "the cursor stays on its row"
    );
    assert_eq!(t.selected().unwrap().id as u64, t.cursor.selected + 1);
}

#[test]
fn enter_opens_a_delivery_and_esc_goes_back_step_by_step() {
    let mut s = opened_table(300);
    update(&mut s, key('j'));
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::LoadDelivery { id: 2 }]);
    assert_eq!(s.screen, Screen::Delivery);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Deliveries);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Triage);
    assert!(s.deliveries.table.is_none());
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Triage);
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
}

// ---------------------------------------------------------------- real store, TestBackend

fn imported_store(dir: &tempfile::TempDir) -> Store {
    let path = dir.path().join("s.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let reports = import_files(
        &mut store,
        &[FIXTURE.to_string()],
        &options(),
        &mut |_: &Progress| {},
    )
    .unwrap();
    assert!(reports[0].error.is_none());
    store
}

fn session(store: Store, w: u16, h: u16) -> Session<TestBackend> {
    session_with(store, state(w, h))
}

/// A session on `store` started from `st` (its size is the terminal's), settled.
fn session_with(store: Store, st: AppState) -> Session<TestBackend> {
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let (w, h) = st.size;
    let terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut s = Session::new(terminal, st, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    s
}

fn press(s: &mut Session<TestBackend>, msg: Msg) {
    s.dispatch(msg);
    assert!(s.settle(Duration::from_secs(10)));
}

fn screen_text(s: &mut Session<TestBackend>) -> String {
    s.draw().unwrap();
    s.terminal.backend().to_string()
}

#[test]
fn the_first_screen_shows_the_expiries_and_their_cause_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported_store(&dir);
    let causes = store.causes_of("4.4.7").unwrap();
    let mut s = session(store, 80, 24);
    let text = screen_text(&mut s);
    assert!(text.contains("4.4.7 Delivery time expired"), "{text}");
    assert!(text.contains("3 expired"));
    assert!(text.contains("com-gacty.webcam"));
    // The causes behind the expiries, counted from the store.
    assert_eq!(causes.iter().map(|c| c.count).sum::<u64>(), 3);
    for c in &causes {
        let line = format!(
            "{:>7}  {}",
            c.count,
            c.cause
                .map(sendlog::model::Reason::as_str)
                .unwrap_or("(unknown)")
        );
        assert!(text.contains(&line), "{line:?} in {text}");
    }
    assert_eq!(s.state.triage.pane, Pane::Codes);
}

#[test]
fn snapshots_of_every_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(imported_store(&dir));
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let store = Store::open(path.to_str().unwrap()).unwrap();
        let mut s = session(store, w, h);
        let size = format!("{w}x{h}");
        insta::assert_snapshot!(format!("triage_{size}"), screen_text(&mut s));
        press(&mut s, code(KeyCode::Tab));
        press(&mut s, code(KeyCode::Tab));
        press(&mut s, key('j'));
        insta::assert_snapshot!(format!("triage_by_host_{size}"), screen_text(&mut s));
        press(&mut s, key('k'));
        press(&mut s, code(KeyCode::Tab));
        press(&mut s, code(KeyCode::Enter));
        insta::assert_snapshot!(format!("deliveries_{size}"), screen_text(&mut s));
        press(&mut s, key('j'));
        press(&mut s, code(KeyCode::Enter));
        insta::assert_snapshot!(format!("delivery_{size}"), screen_text(&mut s));
        press(&mut s, key('?'));
        insta::assert_snapshot!(format!("help_{size}"), screen_text(&mut s));
        press(&mut s, key('G'));
        let text = screen_text(&mut s);
        insta::assert_snapshot!(format!("help_end_{size}"), text);
        // The last screen's keys are reachable.
        assert!(text.contains("Unmark the selected delivery"), "{text}");
        press(&mut s, code(KeyCode::Esc));
        press(&mut s, code(KeyCode::Esc));
        press(&mut s, code(KeyCode::Esc));
        press(&mut s, key('/'));
        for c in "4.0".chars() {
            press(&mut s, key(c));
        }
        insta::assert_snapshot!(format!("triage_filter_{size}"), screen_text(&mut s));
        s.worker.shutdown(true);
    }
}

/// Mail still deferred past half its queue lifetime shows on Triage with its time left and
/// cause, as `store.at_risk` (what `sendlog report` prints) computes them; a queue lifetime
/// given by the user (`--queue-lifetime`) moves the line.
#[test]
fn mail_near_its_queue_lifetime_shows_on_triage_with_its_time_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let reports = import_files(
        &mut store,
        &["tests/fixtures/requeue/mail.log".to_string()],
        &options(),
        &mut |_: &Progress| {},
    )
    .unwrap();
    assert!(reports[0].error.is_none());
    let expected = store.at_risk(None, AT_RISK_FRACTION, None).unwrap();
    assert!(
        !expected.is_empty(),
        "the fixture has deferred mail at risk"
    );
    drop(store);
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let store = Store::open(path.to_str().unwrap()).unwrap();
        let mut s = session(store, w, h);
        let text = screen_text(&mut s);
        assert!(
            text.contains(&format!("At risk of expiring: {} ", expected.len())),
            "{text}"
        );
        for a in &expected {
            let row = text
                .lines()
                .find(|l| l.contains(&a.recipient))
                .unwrap_or_else(|| panic!("{} in {text}", a.recipient));
            assert!(
                row.contains(&format!("{} left", time_span(a.seconds_left))),
                "{row}"
            );
            if w >= 120 {
                assert!(
                    row.contains(
                        a.cause
                            .map(sendlog::model::Reason::as_str)
                            .unwrap_or("unknown")
                    ),
                    "{row}"
                );
            }
        }
        insta::assert_snapshot!(format!("triage_at_risk_{w}x{h}"), text);
        s.worker.shutdown(true);
    }

    // A lifetime so long that nothing has reached half of it: no at-risk box.
    let store = Store::open(path.to_str().unwrap()).unwrap();
    let mut st = state(120, 40);
    st.queue_lifetime = Some(365 * 86_400);
    let mut s = session_with(store, st);
    let text = screen_text(&mut s);
    assert!(!text.contains("At risk"), "{text}");
    s.worker.shutdown(true);
}

#[test]
fn help_scrolls_with_the_movement_keys_and_esc_or_question_mark_close_it() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(
        &mut s,
        Msg::Overview(overview(&[("5.1.1", 40), ("4.4.7", 3)])),
    );
    update(&mut s, key('?'));
    assert!(s.help_open());
    assert_eq!(help::scrolled(&s), 0);
    let max = help::max_scroll(&s);
    let page = help::visible_rows(s.size, help::rows(&s).len());
    assert!(max > page, "at 80×24 the help is more than a page: {max}");
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Down));
    assert_eq!(help::scrolled(&s), 2);
    update(&mut s, key('k'));
    assert_eq!(help::scrolled(&s), 1);
    update(&mut s, code(KeyCode::PageDown));
    assert_eq!(help::scrolled(&s), 1 + page);
    update(&mut s, key('G'));
    assert_eq!(help::scrolled(&s), max);
    update(&mut s, key('j'));
    assert_eq!(help::scrolled(&s), max, "never past the last row");
    update(&mut s, code(KeyCode::PageUp));
    assert_eq!(help::scrolled(&s), max - page);
    update(&mut s, key('g'));
    update(&mut s, key('k'));
    assert_eq!(help::scrolled(&s), 0);
    // The screen under the help did not move.
    assert_eq!(s.selected_code(), Some("4.4.7"));

    // A taller terminal shows more, so the scroll shrinks to fit it.
    update(&mut s, code(KeyCode::End));
    update(&mut s, Msg::Resize(120, 60));
    assert_eq!(help::scrolled(&s), help::max_scroll(&s));
    update(&mut s, Msg::Resize(80, 24));

    update(&mut s, key('?'));
    assert!(!s.help_open());
    update(&mut s, key('?'));
    assert_eq!(help::scrolled(&s), 0, "help opens at the top");
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.help_open());
    assert_eq!(s.selected_code(), Some("4.4.7"));
}

#[test]
fn a_long_status_message_leaves_the_key_hints_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(imported_store(&dir));
    let long = "batch 12: 4211 deliveries exported as csv to \
                /home/postmaster/exports/2026-11/sendlog-batch-12.csv; \
                3 excluded (2 hard failure, 1 typo domain)";
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let store = Store::open(path.to_str().unwrap()).unwrap();
        let mut s = session(store, w, h);
        press(&mut s, code(KeyCode::Enter));
        s.state.status = Some(long.to_string());
        let text = screen_text(&mut s);
        insta::assert_snapshot!(format!("status_long_{w}x{h}"), text);
        let lines: Vec<&str> = text.lines().collect();
        let bar = lines[lines.len() - 1];
        // The message's own lines: from below the screen's bottom border to the hints.
        let border = lines.iter().rposition(|l| l.starts_with("\"└")).unwrap();
        let message = lines[border + 1..lines.len() - 1].join("");
        assert!(
            (1..=2).contains(&(lines.len() - 1 - border - 1)),
            "one or two lines: {text}"
        );
        // The file's name is whole on screen: it is what the user needs from this message.
        for words in [
            "batch 12: 4211 deliveries exported as csv to",
            "sendlog-batch-12.csv;",
        ] {
            assert!(message.contains(words), "{words:?} in {text}");
        }
        for hint in ["enter open", "/ filter", "space mark", "? help"] {
            assert!(bar.contains(hint), "{hint:?} in {bar}");
        }
        if w == 80 {
            assert!(
                message.contains('…'),
                "cut where it does not fit: {message}"
            );
        } else {
            assert!(
                message.contains("1 typo domain)"),
                "whole at 120: {message}"
            );
        }

        // Help covers the screen down to the hints: the message waits until it closes.
        press(&mut s, key('?'));
        let text = screen_text(&mut s);
        assert!(!text.contains("batch 12"), "{text}");
        press(&mut s, key('?'));
        assert!(screen_text(&mut s).contains("batch 12"));

        // A short message shares the bar with the hints.
        s.state.status = Some("this delivery is not marked".into());
        let text = screen_text(&mut s);
        let last = text.lines().last().unwrap();
        assert!(
            last.contains("this delivery is not marked") && last.contains("enter open"),
            "{last}"
        );
        s.worker.shutdown(true);
    }
}

#[test]
fn snapshot_of_import_progress() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut st = state(w, h);
        start(&mut st, vec!["mail.log".into(), "mail.log.1.gz".into()]);
        update(
            &mut st,
            Msg::ImportProgress {
                progress: Progress {
                    file: "mail.log.1.gz".into(),
                    file_index: 0,
                    file_count: 2,
                    bytes: 52_000_000,
                    total_bytes: None,
                    lines: 250_000,
                    done: true,
                },
                lines_per_sec: 512_000.0,
            },
        );
        update(
            &mut st,
            Msg::ImportProgress {
                progress: Progress {
                    file: "mail.log".into(),
                    file_index: 1,
                    file_count: 2,
                    bytes: 30_000_000,
                    total_bytes: Some(120_000_000),
                    lines: 131_072,
                    done: false,
                },
                lines_per_sec: 480_500.0,
            },
        );
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| sendlog::ui::render(f, &st)).unwrap();
        insta::assert_snapshot!(format!("import_{w}x{h}"), term.backend().to_string());
    }
}

#[test]
fn matched_characters_are_highlighted_on_screen() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(
        &mut s,
        Msg::Overview(overview(&[("5.1.1", 40), ("4.4.7", 3)])),
    );
    update(&mut s, key('/'));
    for c in "mailbox".chars() {
        update(&mut s, key(c));
    }
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| sendlog::ui::render(f, &s)).unwrap();
    let buf = term.backend().buffer();
    let text = term.backend().to_string();
    assert!(text.contains("/mailbox"), "the query is shown: {text}");
    // Row 3 holds the only match; its text starts after the border and the "▶ " symbol.
    let row: String = (0..80).map(|x| buf[(x, 3)].symbol().to_string()).collect();
    let at = row.find("mailbox").unwrap();
    let x = row[..at].chars().count() as u16;
    use ratatui::style::Modifier;
    for dx in 0..7 {
        assert!(
            buf[(x + dx, 3)].modifier.contains(Modifier::UNDERLINED),
            "matched char {dx} highlighted"
        );
    }
    assert!(!buf[(x - 2, 3)].modifier.contains(Modifier::UNDERLINED));
}

#[test]
fn hostile_text_from_a_log_is_shown_not_obeyed() {
    let mut s = state(120, 40);
    start(&mut s, vec![]);
    let evil = "evil\x1b]0;pwned\x07.example";
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 1)])));
    update(
        &mut s,
        Msg::Breakdown {
            code: "4.4.7".into(),
            dim: Dimension::Domain,
            rows: vec![sendlog::store::browse::Breakdown {
                value: Some(evil.into()),
                count: 1,
            }],
        },
    );
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| sendlog::ui::render(f, &s)).unwrap();
    let buf = term.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| !c.symbol().chars().any(|ch| ch.is_control())),
        "no control character reaches the terminal"
    );
    assert!(
        term.backend()
            .to_string()
            .contains("evil\\x1b]0;pwned\\x07.example")
    );
}

#[test]
fn no_color_uses_no_colours() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported_store(&dir);
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let st = AppState::new(
        Keymap::embedded().unwrap(),
        builtin_knowledge(),
        true,
        (80, 24),
    );
    let mut s = Session::new(terminal, st, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    s.draw().unwrap();
    let buf = s.terminal.backend().buffer();
    use ratatui::style::Color;
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    // The selection is still visible, by reverse video.
    let selected_row = (0..24)
        .find(|y| buf[(1, *y)].symbol() == "▶")
        .expect("a selected row");
    assert!(
        buf[(3, selected_row)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

// ---------------------------------------------------------------- browse queries

#[test]
fn keyset_pages_cover_every_group_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported_store(&dir);
    let ov = store.overview().unwrap();
    let failed: u64 = ov.codes.iter().map(|c| c.count).sum();
    assert_eq!(
        failed,
        ov.totals.deferred + ov.totals.bounced + ov.totals.expired
    );
    let sparks = store.sparklines(24).unwrap();
    for c in &ov.codes {
        let (_, counts) = sparks.by_code.iter().find(|(k, _)| *k == c.code).unwrap();
        assert_eq!(counts.len(), 24);
        assert_eq!(
            counts.iter().sum::<u64>(),
            c.count,
            "sparkline of {}",
            c.code
        );
        let causes: u64 = store
            .causes_of(&c.code)
            .unwrap()
            .iter()
            .map(|x| x.count)
            .sum();
        assert_eq!(causes, c.count);
        for dim in [Dimension::Domain, Dimension::Provider, Dimension::Host] {
            let rows = store.breakdown(&c.code, dim, 500).unwrap();
            assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), c.count);
            for b in rows {
                let filter = DeliveryFilter::group(c.code.clone(), Some((dim, b.value.clone())));
                let ids = page_all(&store, &filter);
                assert_eq!(ids.len() as u64, b.count, "{filter:?}");
            }
        }
        let filter = DeliveryFilter::group(c.code.clone(), None);
        let ids = page_all(&store, &filter);
        assert_eq!(ids.len() as u64, c.count);
    }
}

/// Pages through a group two rows at a time, forwards and backwards; both must list
/// every row once, in id order.
fn page_all(store: &Store, filter: &DeliveryFilter) -> Vec<i64> {
    let mut forward = Vec::new();
    let mut anchor = Anchor::After(i64::MIN);
    loop {
        let page = store.deliveries_page(filter, anchor, 2).unwrap();
        let Some(last) = page.last() else { break };
        anchor = Anchor::After(last.id);
        forward.extend(page.iter().map(|r| r.id));
    }
    let mut backward = Vec::new();
    let mut anchor = Anchor::Before(i64::MAX);
    loop {
        let page = store.deliveries_page(filter, anchor, 2).unwrap();
        let Some(first) = page.first() else { break };
        anchor = Anchor::Before(first.id);
        let mut ids: Vec<i64> = page.iter().map(|r| r.id).collect();
        ids.extend(backward);
        backward = ids;
    }
    assert!(
        forward.windows(2).all(|w| w[0] < w[1]),
        "ascending, no repeats"
    );
    assert_eq!(forward, backward);
    for id in forward.iter().take(3) {
        let d = store.delivery_detail(*id).unwrap().unwrap();
        assert_eq!(Some(d.code), filter.code);
        assert_ne!(d.status, "sent");
    }
    forward
}

// ---------------------------------------------------------------- the real binary in tmux

struct Tmux {
    name: String,
}

impl Tmux {
    fn capture(&self) -> String {
        let out = std::process::Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = std::process::Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits until one capture of the pane shows all of `needles` (the binary answers
    /// asynchronously, and a capture may catch a frame half drawn).
    fn wait_for(&self, needles: &[&str]) -> String {
        self.wait_until(|text| needles.iter().all(|n| text.contains(n)), &needles)
    }

    fn wait_until(&self, ok: impl Fn(&str) -> bool, what: &dyn std::fmt::Debug) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.capture();
            if ok(&text) {
                return text;
            }
            if std::time::Instant::now() > deadline {
                panic!("timed out waiting for {what:?}; the pane shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self) -> bool {
        std::process::Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

#[test]
fn end_to_end_in_tmux() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: tmux is not installed; skipping the end-to-end TUI test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e2e.db");
    // A hostile recipient domain: an OSC title sequence must not retitle the terminal.
    let hostile = dir.path().join("hostile.log");
    std::fs::write(
        &hostile,
        "Nov  3 10:00:00 conch postfix/smtp[1]: AAAA1111: to=<x@evil\x1b]2;PWNED\x07.example>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to evil.example[192.0.2.1]:25: Connection timed out)\n",
    )
    .unwrap();
    let name = format!("sendlog-e2e-{}", std::process::id());
    let cmd = format!(
        "env NO_COLOR= SENDLOG_KEYMAP={} {} --db {} --year 2015 {} {}; sleep 5",
        // Never the developer's own keymap.
        dir.path().join("no-keymap.toml").display(),
        env!("CARGO_BIN_EXE_sendlog"),
        db.display(),
        std::path::Path::new(FIXTURE)
            .canonicalize()
            .unwrap()
            .display(),
        hostile.display()
    );
    let status = std::process::Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            &name,
            &cmd,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let t = Tmux { name };

    // The import runs, then the triage screen with the expiries first, and the causes
    // behind them as counted in the store.
    t.wait_for(&["imported 2 files"]);
    let causes = Store::open(db.to_str().unwrap())
        .unwrap()
        .causes_of("4.4.7")
        .unwrap();
    let line = format!(
        "{:>7}  {}",
        causes[0].count,
        causes[0]
            .cause
            .map(sendlog::model::Reason::as_str)
            .unwrap_or("(unknown)")
    );
    t.wait_for(&[
        "▶ 4.4.7 Delivery time expired",
        "3 expired",
        "the causes behind these expiries",
        &line,
    ]);

    // Tab: the second level by provider, then by sending host.
    t.keys(&["Tab", "Tab"]);
    t.wait_for(&["By sending host", "│  conch"]);
    t.keys(&["Tab"]);
    t.wait_for(&["By destination domain", "│  com-gacty.webcam"]);

    // Enter: the three expired deliveries, with the scrollbar's position.
    t.keys(&["Enter"]);
    t.wait_until(
        |text| text.contains("1 / 3") && text.matches("u8a796957@com-gacty.webcam").count() == 3,
        &"three expired deliveries",
    );
    t.keys(&["j", "Enter"]);
    // The timeline lists the deferrals behind the expiry.
    t.wait_for(&[
        "Timeline (",
        "  deferred ",
        "Last deferral",
        "expired · 4.4.7",
    ]);

    // Back to triage, filter to the hostile domain's code: shown escaped, not obeyed.
    t.keys(&["Escape"]);
    t.wait_for(&["2 / 3"]);
    t.keys(&["Escape"]);
    t.wait_for(&["Failed deliveries by code"]);
    t.keys(&["/", "4.4.1"]);
    t.wait_for(&["/4.4.1"]);
    t.keys(&["Enter", "l"]);
    // Domains are stored lower-cased.
    let text = t.wait_for(&["evil\\x1b]2;pwned\\x07.example"]);
    assert!(!text.contains('\x1b'));
    let title = std::process::Command::new("tmux")
        .args(["display-message", "-p", "-t", &t.name, "#{pane_title}"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&title.stdout)
            .to_lowercase()
            .contains("pwned"),
        "the terminal title was not changed"
    );

    // Help is generated from the keymap.
    t.keys(&["?"]);
    t.wait_for(&[
        "Keys (? or esc to close)",
        "Second level by domain / provider / sending host",
    ]);
    t.keys(&["Escape"]);

    // q quits and the terminal is restored (the shell's `sleep` keeps the pane for us).
    t.keys(&["q"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = t.capture();
        if !text.contains("Failed deliveries by code") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(t.alive());
}

/// `--since` limits the screens to a window (the store's reads go through it, and the
/// header says so), and `--now` moves the time at-risk is judged at, shown on its box.
#[test]
fn a_time_window_and_now_are_stated_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    import_files(
        &mut store,
        &["tests/fixtures/requeue/mail.log".to_string()],
        &options(),
        &mut |_: &Progress| {},
    )
    .unwrap();
    let all = store.totals().unwrap().deliveries;
    let since = sendlog::ingest::timestamp::TimeSpec::At(1_448_236_800); // 2015-11-23
    store.restrict_to_window(Some(since), None).unwrap();
    let windowed = store.totals().unwrap().deliveries;
    assert!(0 < windowed && windowed < all, "{windowed} of {all}");
    let mut st = state(120, 40);
    st.window = Some("since 2015-11-23T00:00:00Z".into());
    st.now = Some(1_448_452_800); // 2015-11-25T12:00:00Z
    let mut s = session_with(store, st);
    let text = screen_text(&mut s);
    assert!(
        text.contains(&format!("{windowed} deliveries"))
            && text.contains("only since 2015-11-23T00:00:00Z"),
        "{text}"
    );
    assert!(text.contains("as of 2015-11-25T12:00:00Z"), "{text}");
    s.worker.shutdown(true);
}

/// The built-in panels only: a developer's own knowledge directory must not change what
/// a test sees.
fn builtin_knowledge() -> std::sync::Arc<sendlog::knowledge::Knowledge> {
    std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap())
}

/// A message Exim kept frozen for the whole log names no recipient, so it has no row of
/// its own: triage says it is there, under the at-risk list. A message never tried (only
/// "retry time not reached" lines) says on its Delivery screen where its cause came from.
#[test]
fn frozen_and_never_tried_mail_show_on_triage_and_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let reports = import_files(
        &mut store,
        &["tests/fixtures/exim/Debian-VM-__mainlog".to_string()],
        &options(),
        &mut |_: &Progress| {},
    )
    .unwrap();
    assert!(reports[0].error.is_none());
    assert_eq!(store.frozen_recipients_unknown().unwrap().len(), 1);
    // 1cImRR-0001OU-02 was never tried here: its "retry time not reached" lines repeat
    // another message's failure, and its Delivery screen says so.
    let waiting = (1..=20)
        .filter_map(|id| store.delivery_detail(id).unwrap())
        .find(|d| d.queue_id == "1cImRR-0001OU-02")
        .expect("1cImRR in the store");
    let mut s = session(store, 120, 40);
    let text = screen_text(&mut s);
    assert!(text.contains("1 frozen, recipients unknown"), "{text}");
    s.worker.shutdown(true);

    let store = Store::open(path.to_str().unwrap()).unwrap();
    let mut s = session(store, 120, 40);
    s.state.screen = Screen::Delivery;
    s.state.delivery.id = Some(waiting.id);
    s.state.delivery.detail = Some(waiting);
    let text = screen_text(&mut s);
    let line = text
        .lines()
        .find(|l| l.contains("Cause from"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("an earlier attempt, not this message's: it was not tried"),
        "{line}"
    );
    s.worker.shutdown(true);
}
