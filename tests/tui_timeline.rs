//! The chart screen (`t` on Triage) on a real two-day Postfix log: failed attempts over
//! time with labelled axes, queue ages, providers; `Tab` switches the series, `]` and `[`
//! narrow and widen the window. Snapshots at 80×24 and 120×40.

mod common;

use ratatui::crossterm::event::KeyCode;
use sendlog::app::state::Screen;

use common::fixture;
use common::tui::{code, key, press, screen, session_on};

const LOG: &str = "postfix/postfix_log_analysis__mail2.log";

#[test]
fn the_chart_screen_charts_failures_over_time_with_labelled_axes() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture(LOG).display().to_string();
    let mut s = session_on(&[&log], &dir, 120, 40);
    press(&mut s, key('t'));
    assert_eq!(s.state.screen, Screen::Timeline);
    let t = s.state.timeline.data.clone().expect("chart data loaded");
    // Two days of log: charted per hour, by code.
    assert_eq!(t.bucket, 3600);
    let failed: u64 = t.series.iter().flat_map(|s| s.1.iter()).sum();
    // 134 deferral lines and 1 bounce line (pflogsumm's "134 deferrals", "1 bounced"), and
    // 3 expiries.
    assert_eq!(failed, 134 + 1 + 3);
    let text = screen(&mut s);
    for label in [
        "Failed attempts per hour by code",
        "UTC",
        "failed",
        "11-01 ",
        "11-02 ",
    ] {
        assert!(text.contains(label), "{label:?} missing:\n{text}");
    }
    assert!(text.contains("Still deferred: age / 5d"), "{text}");
    assert!(text.contains("Failed by provider"), "{text}");
    assert!(text.contains("846 delivered"), "{text}");
    insta::assert_snapshot!("timeline_120x40", text);

    press(&mut s, code(KeyCode::Tab));
    let text = screen(&mut s);
    assert!(text.contains("by provider"), "{text}");
    let by_provider: u64 = s
        .state
        .timeline
        .data
        .as_ref()
        .unwrap()
        .series
        .iter()
        .flat_map(|s| s.1.iter())
        .sum();
    assert_eq!(by_provider, failed);

    // `]` halves the window: fewer hours, ending at the last line.
    let before = s.state.timeline.data.as_ref().unwrap().series[0].1.len();
    press(&mut s, key(']'));
    let narrowed = s.state.timeline.data.clone().unwrap();
    assert!(narrowed.series[0].1.len() < before, "{before}");
    assert_eq!(narrowed.end, t.end);
    assert!(screen(&mut s).contains("last "));
    // `[` widens it back to everything.
    press(&mut s, key('['));
    assert_eq!(s.state.time_window.span, None);
    assert_eq!(
        s.state.timeline.data.as_ref().unwrap().series[0].1.len(),
        before
    );
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.state.screen, Screen::Triage);
    s.worker.shutdown(true);
}

#[test]
fn the_chart_screen_fits_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture(LOG).display().to_string();
    let mut s = session_on(&[&log], &dir, 80, 24);
    press(&mut s, key('t'));
    let text = screen(&mut s);
    assert!(text.contains("Failed attempts per hour"), "{text}");
    insta::assert_snapshot!("timeline_80x24", text);
    s.worker.shutdown(true);
}
