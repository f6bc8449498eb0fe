//! Every delivery browsable by status (`d` on Triage), sorted by any column (`o`, `O`) and
//! filtered (`/`) by the store over the whole list, in a time window `]`/`[` narrow and
//! widen on every screen, and failures by sender (`f`), on a real two-day Postfix log: the
//! store's pages under each sort key, the screens (snapshots at 80×24 and 120×40), and the
//! real binary in tmux.

mod common;

use ratatui::crossterm::event::KeyCode;
use sendlog::app::state::Screen;
use sendlog::model::DeliveryStatus;
use sendlog::model::report::SenderKey;

use sendlog::store::Store;
use sendlog::store::browse::{Anchor, DeliveryFilter, DeliveryRow, Sort, SortKey, StatusFilter};

use common::tui::{Tmux, code, have_tmux, key, press, screen, session_over};

const FIXTURE: &str = "tests/fixtures/postfix/postfix_log_analysis__mail2.log";

fn imported(dir: &tempfile::TempDir) -> String {
    common::tui::imported(&[FIXTURE], dir)
}

/// Every row of a list, paged three at a time forwards and then backwards: both ways
/// must give the same rows once each.
fn page_all(store: &Store, filter: &DeliveryFilter) -> Vec<DeliveryRow> {
    let mut forward: Vec<DeliveryRow> = Vec::new();
    let mut anchor = Anchor::After(i64::MIN);
    loop {
        let page = store.deliveries_page(filter, anchor, 3).unwrap();
        let Some(last) = page.last() else { break };
        anchor = Anchor::After(last.id);
        forward.extend(page);
    }
    let mut backward: Vec<DeliveryRow> = Vec::new();
    let mut anchor = Anchor::Before(i64::MAX);
    loop {
        let mut page = store.deliveries_page(filter, anchor, 3).unwrap();
        let Some(first) = page.first() else { break };
        anchor = Anchor::Before(first.id);
        page.extend(backward);
        backward = page;
    }
    let ids: Vec<i64> = forward.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        backward.iter().map(|r| r.id).collect::<Vec<_>>(),
        "{filter:?}"
    );
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "a row repeated: {filter:?}");
    forward
}

/// The key a row sorts by, as the list shows it (ties go by id).
fn sort_value(r: &DeliveryRow, key: SortKey) -> (i64, String) {
    match key {
        SortKey::Logged => (r.id, String::new()),
        SortKey::LastAttempt => (r.last_attempt.unwrap_or(0), String::new()),
        SortKey::Recipient => (0, r.recipient.clone()),
        SortKey::Domain => (0, r.domain.clone()),
        SortKey::Code => (0, r.code.clone()),
        SortKey::Status => (0, r.status.as_str().to_string()),
        SortKey::Host => (0, r.host.clone()),
        SortKey::Deferrals => (i64::from(r.deferrals), String::new()),
        SortKey::Cause => (0, r.cause.map(|c| c.as_str()).unwrap_or("").to_string()),
        SortKey::Delay => (r.delay.unwrap_or(-1), String::new()),
        SortKey::Attempts => (i64::from(r.attempts), String::new()),
    }
}

#[test]
fn every_status_pages_whole_under_every_sort_key_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&imported(&dir)).unwrap();
    let sent = DeliveryFilter {
        status: StatusFilter::Only(DeliveryStatus::Sent),
        ..DeliveryFilter::default()
    };
    let all_sent = page_all(&store, &sent);
    // The log's 862 deliveries: 856 sent, the rest failed (as the header counts them).
    assert_eq!(all_sent.len(), 856);
    assert_eq!(store.deliveries_count(&sent).unwrap(), 856);
    assert!(all_sent.iter().all(|r| r.status == DeliveryStatus::Sent));
    for status in StatusFilter::BROWSABLE
        .into_iter()
        .chain([StatusFilter::Failed])
    {
        let base = DeliveryFilter {
            status,
            ..DeliveryFilter::default()
        };
        let n = store.deliveries_count(&base).unwrap();
        for key in SortKey::ALL {
            for descending in [false, true] {
                let filter = DeliveryFilter {
                    sort: Sort { key, descending },
                    ..base.clone()
                };
                let rows = page_all(&store, &filter);
                assert_eq!(rows.len() as u64, n, "{filter:?}");
                let keys: Vec<(i64, String, i64)> = rows
                    .iter()
                    .map(|r| {
                        let (a, b) = sort_value(r, key);
                        (a, b, r.id)
                    })
                    .collect();
                let ordered = keys
                    .windows(2)
                    .all(|w| if descending { w[0] > w[1] } else { w[0] < w[1] });
                assert!(ordered, "{filter:?}: {keys:?}");
            }
        }
    }
    // Mail sent after deferrals: sent, each with at least one deferral behind it.
    let cleared = page_all(
        &store,
        &DeliveryFilter {
            status: StatusFilter::SentAfterDeferrals,
            ..DeliveryFilter::default()
        },
    );
    assert!(!cleared.is_empty());
    assert!(
        cleared
            .iter()
            .all(|r| r.status == DeliveryStatus::Sent && r.deferrals > 0 && r.attempts > 1),
        "{cleared:?}"
    );
    assert_eq!(
        cleared.len(),
        all_sent.iter().filter(|r| r.deferrals > 0).count()
    );
}

#[test]
fn the_filter_runs_in_the_store_over_the_whole_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&imported(&dir)).unwrap();
    let sent = DeliveryFilter {
        status: StatusFilter::Only(DeliveryStatus::Sent),
        ..DeliveryFilter::default()
    };
    let all = page_all(&store, &sent);
    // Case aside, and a text with SQL's own wildcards in it is only text.
    for text in ["UFBA", "seaglass.com", "%", "_", "nobody-at-all"] {
        let filter = DeliveryFilter {
            text: Some(text.into()),
            sort: Sort {
                key: SortKey::Recipient,
                descending: false,
            },
            ..sent.clone()
        };
        let want = all
            .iter()
            .filter(|r| r.recipient.to_lowercase().contains(&text.to_lowercase()))
            .count();
        assert_eq!(page_all(&store, &filter).len(), want, "{text}");
        assert_eq!(store.deliveries_count(&filter).unwrap(), want as u64);
    }
    // More matches than a screen loads: the whole list is filtered, not a window of it.
    let many = DeliveryFilter {
        text: Some("seaglass".into()),
        ..sent
    };
    assert!(store.deliveries_count(&many).unwrap() > 600);
}

#[test]
fn a_narrowed_time_window_counts_less_and_widening_gives_all_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&imported(&dir)).unwrap();
    let sent = DeliveryFilter {
        status: StatusFilter::Only(DeliveryStatus::Sent),
        ..DeliveryFilter::default()
    };
    let whole = store.deliveries_count(&sent).unwrap();
    let w = store.step_window(true).unwrap();
    let (first, last) = w.extent.unwrap();
    assert_eq!(w.span, Some((last - first + 1) / 2));
    let half = store.deliveries_count(&sent).unwrap();
    assert!(half < whole, "{half} of {whole}");
    // Every row listed was active in the window: its last attempt at or after its start.
    assert!(
        page_all(&store, &sent)
            .iter()
            .all(|r| r.last_attempt.unwrap() >= last - w.span.unwrap())
    );
    let w = store.step_window(true).unwrap();
    assert!(store.deliveries_count(&sent).unwrap() <= half);
    assert!(store.overview().unwrap().totals.expired <= 3);
    store.step_window(false).unwrap();
    assert_eq!(store.deliveries_count(&sent).unwrap(), half);
    let back = store.step_window(false).unwrap();
    assert_eq!(back.span, None, "{w:?}");
    assert_eq!(store.deliveries_count(&sent).unwrap(), whole);
}

#[test]
fn d_lists_sent_mail_o_sorts_it_by_delay_and_the_window_narrows_every_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        let mut s = session_over(Store::open(&path).unwrap(), w, h);
        press(&mut s, key('d'));
        assert_eq!(s.state.screen, Screen::Deliveries);
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert_eq!(t.total, 856);
        assert_eq!(t.title, "Every delivery · sent");
        // o eight times: as logged → recipient → domain → code → status → host → attempts →
        // last attempt → delay.
        for _ in 0..8 {
            press(&mut s, key('o'));
        }
        press(&mut s, key('O'));
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert_eq!(t.filter.sort.key, SortKey::Delay);
        assert!(t.filter.sort.descending);
        let delays: Vec<i64> = t.rows.iter().map(|r| r.delay.unwrap()).collect();
        assert!(delays.windows(2).all(|w| w[0] >= w[1]), "{delays:?}");
        // The longest delay is the mail sent after a deferral, 8 minutes after it came in.
        assert_eq!(t.rows[0].recipient, "ufba3f588@ipsbocaraton.com");
        let text = screen(&mut s);
        assert!(text.contains("order: delay ↓"), "{text}");
        assert!(text.contains("8m"), "{text}");
        insta::assert_snapshot!(format!("sent_by_delay_{w}x{h}"), text);

        // d again: the next status, sent after deferrals, kept in the same order.
        press(&mut s, key('d'));
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert_eq!(t.title, "Every delivery · sent after deferrals");
        assert!(t.rows.iter().all(|r| r.deferrals > 0));
        assert_eq!(t.filter.sort.key, SortKey::Delay);

        // `/` filters the whole list in the store, counted.
        press(&mut s, key('d'));
        press(&mut s, key('d'));
        press(&mut s, key('d'));
        press(&mut s, key('d'));
        assert_eq!(
            s.state.deliveries.table.as_ref().unwrap().title,
            "Every delivery · sent"
        );
        press(&mut s, key('/'));
        for c in "ufba".chars() {
            press(&mut s, key(c));
        }
        press(&mut s, code(KeyCode::Enter));
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert!(t.total > 0 && t.total < 856, "{}", t.total);
        assert!(t.rows.iter().all(|r| r.recipient.contains("ufba")));
        let filtered = t.total;
        let text = screen(&mut s);
        assert!(text.contains("recipient ~ \"ufba\""), "{text}");
        insta::assert_snapshot!(format!("sent_filtered_{w}x{h}"), text);

        // `]` narrows the window: the list and the counts on Triage shrink; `[` gives
        // them back.
        press(&mut s, key(']'));
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert!(t.total < filtered, "{} of {filtered}", t.total);
        assert!(t.filter.text.is_some(), "the filter stays");
        press(&mut s, code(KeyCode::Esc));
        press(&mut s, code(KeyCode::Esc));
        assert_eq!(s.state.screen, Screen::Triage);
        let narrowed = s.state.triage.overview.clone().unwrap().totals;
        assert!(narrowed.deliveries < 862, "{narrowed:?}");
        let text = screen(&mut s);
        assert!(text.contains(" sendlog · last 19h"), "{text}");
        insta::assert_snapshot!(format!("triage_window_{w}x{h}"), text);
        press(&mut s, key('['));
        let all = s.state.triage.overview.clone().unwrap().totals;
        assert_eq!((all.deliveries, all.expired), (862, 3));
        assert!(!screen(&mut s).contains("· last "));
        s.worker.shutdown(true);
    }
}

#[test]
fn in_tmux_sent_mail_sorts_by_delay_and_a_narrowed_window_changes_the_counts() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    let bin = env!("CARGO_BIN_EXE_sendlog");
    let t = Tmux::new(&dir, &format!("'{bin}' --db '{path}'"));
    t.wait_until("triage", |s| s.contains("862 deliveries"));
    t.keys(&["d"]);
    t.wait_until("the sent list", |s| {
        s.contains("Every delivery · sent") && s.contains("1 / 856")
    });
    for _ in 0..8 {
        t.keys(&["o"]);
    }
    t.keys(&["O"]);
    let text = t.wait_until("sorted by delay", |s| {
        s.contains("order: delay ↓") && s.contains('▶') && s.contains("1 / 856")
    });
    let first = text
        .lines()
        .find(|l| l.contains('▶'))
        .expect("a selected row");
    assert!(
        first.contains("ufba3f588@ipsbocaraton.com") && first.contains("8m"),
        "{text}"
    );
    t.keys(&["Escape"]);
    t.wait_until("triage again", |s| {
        s.contains("Failed deliveries by code (6)")
    });
    t.keys(&["]", "]"]);
    let text = t.wait_until("the narrowed counts", |s| {
        s.contains("sendlog · last 9h") && s.contains("Failed deliveries by code (2)")
    });
    assert!(!text.contains("862 deliveries"), "{text}");
    t.keys(&["[", "["]);
    t.wait_until("all again", |s| {
        s.contains("862 deliveries") && s.contains("Failed deliveries by code (6)")
    });
    t.keys(&["q"]);
}

#[test]
fn each_senders_group_opens_exactly_its_failed_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&imported(&dir)).unwrap();
    for by in [
        SenderKey::Sender,
        SenderKey::SenderDomain,
        SenderKey::Host,
        SenderKey::Campaign,
    ] {
        let groups = store.sender_groups(by, 500).unwrap();
        assert!(!groups.is_empty());
        for g in &groups {
            let filter = DeliveryFilter {
                sender: Some((by, g.key.clone())),
                ..DeliveryFilter::default()
            };
            let failed = g.deferred + g.bounced + g.expired;
            assert_eq!(
                store.deliveries_count(&filter).unwrap(),
                failed,
                "{by:?} {g:?}"
            );
            assert_eq!(page_all(&store, &filter).len() as u64, failed);
            let sent = DeliveryFilter {
                status: StatusFilter::Only(DeliveryStatus::Sent),
                ..filter
            };
            assert_eq!(
                store.deliveries_count(&sent).unwrap(),
                g.sent,
                "{by:?} {g:?}"
            );
        }
    }
}

#[test]
fn f_lists_failures_by_sender_and_enter_opens_the_senders_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let path = imported(&dir);
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        let mut s = session_over(Store::open(&path).unwrap(), w, h);
        press(&mut s, key('f'));
        assert_eq!(s.state.screen, Screen::Senders);
        let groups = s.state.senders.groups.clone().unwrap();
        // The null sender's bounces and expiries come first: most failed.
        assert_eq!(groups[0].key, "<>");
        assert_eq!(groups[0].deliveries - groups[0].sent, 5);
        let text = screen(&mut s);
        assert!(text.contains("Senders by sender (tab)"), "{text}");
        insta::assert_snapshot!(format!("senders_{w}x{h}"), text);
        press(&mut s, code(KeyCode::Tab));
        assert_eq!(s.state.senders.by, SenderKey::SenderDomain);
        assert!(screen(&mut s).contains("cure-your-ed.win"));
        press(&mut s, code(KeyCode::Enter));
        assert_eq!(s.state.screen, Screen::Deliveries);
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert_eq!(t.total, 5);
        assert!(t.rows.iter().all(|r| r.status != DeliveryStatus::Sent));
        assert!(screen(&mut s).contains("failed · sender-domain <>"));
        // d: the same sender's mail of each status in turn.
        press(&mut s, key('d'));
        let t = s.state.deliveries.table.as_ref().unwrap();
        assert_eq!(t.title, "sent · sender-domain <>");
        assert_eq!(t.total, 1);
        // Esc goes back to the senders it was opened from.
        press(&mut s, code(KeyCode::Esc));
        assert_eq!(s.state.screen, Screen::Senders);
        press(&mut s, code(KeyCode::Esc));
        assert_eq!(s.state.screen, Screen::Triage);
        s.worker.shutdown(true);
    }
}
