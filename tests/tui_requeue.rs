//! The re-queue workflow in the TUI: marking on the Deliveries screen, the Basket with its
//! export confirm step, the Causes screen and resolving a cause. `update()` is driven by
//! synthetic keys (no terminal); the screens are drawn from a real store of the sample data
//! and compared with committed snapshots at 80×24 and 120×40; the real binary runs in tmux.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use sendlog::app::state::{NoteInput, Pane, ResolveScope, Screen};
use sendlog::app::update::group_scope;
use sendlog::app::{AppState, Effect, Keymap, Msg, start, update};
use sendlog::ingest::Format as InputFormat;
use sendlog::pipeline::{ImportOptions, Progress, import_files};
use sendlog::requeue::basket::{self, Basket, Judged, ResolveOutcome};
use sendlog::requeue::export::RequeueFormat;
use sendlog::store::Store;
use sendlog::store::browse::{
    Breakdown, CodeCount, DeliveryFilter, DeliveryRow, Dimension, Overview,
};
use sendlog::store::report::{CauseCount, Totals};
use sendlog::triage::causes::{FailedRow, causes};
use sendlog::triage::requeue::{
    Candidate, CandidateFilter, Exclusion, ResendVerdict, Resolution, Tally,
};
use sendlog::tui::Session;
use sendlog::worker::Worker;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
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
        totals: Totals::default(),
        codes: codes
            .iter()
            .map(|(c, n)| CodeCount {
                code: c.to_string(),
                count: *n,
            })
            .collect(),
    }
}

fn rows(ids: std::ops::RangeInclusive<i64>) -> Vec<DeliveryRow> {
    ids.map(|id| DeliveryRow {
        id,
        recipient: format!("user{id}@example.com"),
        domain: "example.com".into(),
        host: "mx1".into(),
        status: sendlog::model::DeliveryStatus::Expired,
        attempts: 3,
        last_attempt: Some(1_763_000_000 + id),
        cause: Some(sendlog::model::Reason::BadReputation),
        code: "4.4.7".into(),
        deferrals: 3,
        delay: Some(86_400),
    })
    .collect()
}

/// The Deliveries screen of a 4.4.7 group of five rows (ids 1..=5), loaded.
fn deliveries_screen() -> AppState {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 5)])));
    let effects = update(&mut s, code(KeyCode::Enter));
    let Some(Effect::LoadPage {
        generation, anchor, ..
    }) = effects.into_iter().next()
    else {
        panic!("opening a group loads its first page");
    };
    update(
        &mut s,
        Msg::Page {
            generation,
            anchor,
            rows: rows(1..=5),
            total: None,
            verdicts: Default::default(),
        },
    );
    assert_eq!(s.screen, Screen::Deliveries);
    s
}

fn group_filter() -> DeliveryFilter {
    DeliveryFilter::group("4.4.7", None)
}

fn type_text(s: &mut AppState, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(s, key(c))).collect()
}

// ---------------------------------------------------------------- marking

#[test]
fn space_toggles_the_selected_row_and_u_unmarks_it() {
    let mut s = deliveries_screen();
    assert_eq!(
        update(&mut s, key(' ')),
        vec![Effect::Mark { ids: vec![1] }]
    );
    // The mark shows at once, before the store answers.
    assert!(s.marks.contains(&1));
    assert_eq!(
        update(&mut s, key(' ')),
        vec![Effect::Unmark { ids: vec![1] }]
    );
    assert!(s.marks.is_empty());

    update(&mut s, key('j'));
    update(&mut s, key(' '));
    assert_eq!(
        update(&mut s, key('u')),
        vec![Effect::Unmark { ids: vec![2] }]
    );
    // u on a row that is not marked says so and asks nothing of the store.
    assert!(update(&mut s, key('u')).is_empty());
    assert_eq!(s.status.as_deref(), Some("this delivery is not marked"));

    // The store's answer is the truth: it replaces the optimistic set.
    update(
        &mut s,
        Msg::Marks {
            marks: [4, 5].into(),
            note: Some("marked 2 deliveries".into()),
        },
    );
    assert_eq!(s.marks, [4, 5].into());
    assert_eq!(s.status.as_deref(), Some("marked 2 deliveries"));
}

#[test]
fn v_marks_a_range_between_its_two_ends_either_way() {
    let mut s = deliveries_screen();
    update(&mut s, key('G'));
    assert_eq!(s.deliveries.table.as_ref().unwrap().cursor.selected, 4);
    assert!(update(&mut s, key('v')).is_empty());
    assert_eq!(s.deliveries.range_start, Some(5));
    update(&mut s, key('k'));
    update(&mut s, key('k'));
    assert_eq!(
        update(&mut s, key('v')),
        vec![Effect::MarkRange {
            filter: group_filter(),
            from_id: 3,
            to_id: 5
        }]
    );
    assert_eq!(s.deliveries.range_start, None);

    // Esc drops a range in progress with the table.
    update(&mut s, key('v'));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Triage);
    assert_eq!(s.deliveries.range_start, None);
}

#[test]
fn with_a_filter_the_store_filters_the_whole_group_and_all_in_view_is_its_matches() {
    let mut s = deliveries_screen();
    update(&mut s, key('/'));
    // Each key typed asks the store for the group's rows that match, counted.
    let effects = type_text(&mut s, "3");
    let Some(Effect::LoadPage {
        generation,
        anchor,
        filter,
        count: true,
        ..
    }) = effects.last().cloned()
    else {
        panic!("typing reloads the list from the store: {effects:?}");
    };
    assert_eq!(filter.text.as_deref(), Some("3"));
    assert_eq!(filter.code.as_deref(), Some("4.4.7"));
    update(
        &mut s,
        Msg::Page {
            generation,
            anchor,
            rows: rows(3..=3),
            total: Some(1),
            verdicts: Default::default(),
        },
    );
    update(&mut s, code(KeyCode::Enter));
    let t = s.deliveries.table.as_ref().unwrap();
    assert_eq!((t.total, t.selected().unwrap().id), (1, 3));
    let filtered = DeliveryFilter {
        text: Some("3".into()),
        ..group_filter()
    };
    assert_eq!(
        update(&mut s, key('a')),
        vec![Effect::MarkEligible {
            filter: filtered.clone()
        }]
    );
    assert_eq!(
        update(&mut s, key('U')),
        vec![Effect::UnmarkInView { filter: filtered }]
    );
    // Esc drops the filter: the whole group again, counted again.
    let effects = update(&mut s, code(KeyCode::Esc));
    assert!(
        matches!(effects.as_slice(), [Effect::LoadPage { filter, count: true, .. }] if filter.text.is_none()),
        "{effects:?}"
    );
    assert_eq!(s.screen, Screen::Deliveries);
}

#[test]
fn a_marks_all_eligible_in_the_group_and_big_u_unmarks_the_group() {
    let mut s = deliveries_screen();
    assert_eq!(
        update(&mut s, key('a')),
        vec![Effect::MarkEligible {
            filter: group_filter()
        }]
    );
    assert_eq!(
        update(&mut s, key('U')),
        vec![Effect::UnmarkInView {
            filter: group_filter()
        }]
    );
    // Marking keys mean nothing on the triage screen.
    update(&mut s, code(KeyCode::Esc));
    assert!(update(&mut s, key(' ')).is_empty());
    assert!(update(&mut s, key('a')).is_empty());
}

// ---------------------------------------------------------------- basket and export

fn candidate(id: i64, status: &str, format: &str) -> Candidate {
    Candidate {
        delivery_id: id,
        message_ref: id,
        recipient: format!("user{id}@example.com"),
        domain: "example.com".into(),
        provider: None,
        host: "mta1".into(),
        status: status.parse().unwrap(),
        code: "4.4.7".into(),
        cause: Some(sendlog::model::Reason::BadReputation),
        last_attempt: Some(1_763_000_000),
        typo_of: None,
        queue_id: format!("ABC{id}"),
        message_id: None,
        sender: None,
        subject: None,
        format: format.into(),
        later_success: false,
        contradicts_log: None,
        other_message_sent: false,
        exported_in: None,
        marked: true,
    }
}

fn resolution() -> Resolution {
    Resolution {
        id: 1,
        reason: sendlog::model::Reason::BadReputation,
        destination: None,
        host: None,
        resolved_at: 1_763_100_000,
        note: "delisted".into(),
    }
}

/// Three marked: one eligible expired, one eligible still deferred (the only one a
/// postfix script can carry), one already exported.
fn sample_basket() -> Basket {
    let eligible = |c| Judged {
        candidate: c,
        verdict: ResendVerdict::Eligible {
            resolution: resolution(),
        },
    };
    let marked = vec![
        eligible(candidate(1, "expired", "postfix")),
        eligible(candidate(2, "deferred", "postfix")),
        Judged {
            candidate: candidate(3, "expired", "postfix"),
            verdict: ResendVerdict::Excluded {
                exclusion: Exclusion::AlreadyExported { batch: 4 },
            },
        },
    ];
    let mut marked_tally = Tally::default();
    for j in &marked {
        marked_tally.add(&j.verdict);
    }
    Basket {
        marked,
        marked_tally,
        unmarked_tally: Tally::default(),
        batches: Vec::new(),
        resolutions: vec![resolution()],
    }
}

#[test]
fn a_in_the_confirm_step_exports_the_already_exported_again() {
    let mut s = deliveries_screen();
    s.export_dir = PathBuf::from("/exports");
    update(&mut s, key('b'));
    update(&mut s, Msg::Basket(Box::new(sample_basket())));
    update(&mut s, key('e'));
    assert!(
        !s.export_confirm().cloned().unwrap().again,
        "off unless asked for"
    );

    update(&mut s, key('A'));
    assert!(s.export_confirm().cloned().unwrap().again);
    let b = s.basket.contents.as_ref().unwrap();
    let n = sendlog::app::state::export_counts(b, RequeueFormat::Csv, true);
    assert_eq!(
        (
            n.to_export,
            n.exported_again,
            n.already_exported,
            n.excluded
        ),
        (2, 1, 0, 0)
    );
    // The one still deferred is in the Postfix queue: a CSV batch leaves it to the MTA.
    assert_eq!(n.not_in_format, 1);
    // Sent again, a delivery still answers to the other rules: without a resolution
    // covering it, it stays out.
    let mut unresolved = sample_basket();
    unresolved.resolutions.clear();
    let n = sendlog::app::state::export_counts(&unresolved, RequeueFormat::Csv, true);
    assert_eq!((n.to_export, n.exported_again, n.excluded), (1, 0, 1));

    // The count on screen follows the toggle.
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut shown = |s: &AppState| {
        terminal.draw(|f| sendlog::ui::render(f, s)).unwrap();
        terminal.backend().to_string()
    };
    let text = shown(&s);
    assert!(text.contains("To export             2"), "{text}");
    assert!(text.contains("1 exported again"), "{text}");
    update(&mut s, key('A'));
    let text = shown(&s);
    assert!(text.contains("To export             1"), "{text}");
    assert!(text.contains("1 left out  (A: export again)"), "{text}");

    update(&mut s, key('A'));
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::Export {
            format: RequeueFormat::Csv,
            dir: PathBuf::from("/exports"),
            again: true,
        }]
    );
    // The next export starts without it again.
    update(&mut s, key('e'));
    assert!(!s.export_confirm().cloned().unwrap().again);
}

#[test]
fn basket_export_confirms_with_counts_and_the_chosen_format() {
    let mut s = deliveries_screen();
    s.export_dir = PathBuf::from("/exports");
    assert_eq!(update(&mut s, key('b')), vec![Effect::LoadBasket]);
    assert_eq!(s.screen, Screen::Basket);
    update(&mut s, Msg::Basket(Box::new(sample_basket())));

    assert!(update(&mut s, key('e')).is_empty());
    let confirm = s
        .export_confirm()
        .cloned()
        .expect("e opens the confirm step");
    assert_eq!(confirm.format, RequeueFormat::Csv);
    let b = s.basket.contents.as_ref().unwrap();
    let n = sendlog::app::state::export_counts(b, RequeueFormat::Csv, false);
    assert_eq!(
        (n.to_export, n.already_exported, n.excluded, n.not_in_format),
        (1, 1, 0, 1)
    );
    let n = sendlog::app::state::export_counts(b, RequeueFormat::Postfix, false);
    assert_eq!((n.to_export, n.not_in_format), (1, 1));

    // Keys in the confirm step choose, they do not act: q does not quit.
    assert!(update(&mut s, key('q')).is_empty());
    assert!(!s.quit);
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(
        s.export_confirm().cloned().unwrap().format,
        RequeueFormat::Postfix
    );
    // The one left out has left the queue: the step says so, in those words.
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    terminal.draw(|f| sendlog::ui::render(f, &s)).unwrap();
    let text = terminal.backend().to_string();
    assert!(
        text.contains("Left out              1 no longer in the Postfix queue"),
        "{text}"
    );
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(
        s.export_confirm().cloned().unwrap().format,
        RequeueFormat::Jsonl
    );
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::Export {
            format: RequeueFormat::Jsonl,
            dir: PathBuf::from("/exports"),
            again: false,
        }]
    );
    assert!(s.export_confirm().is_none());

    // Esc cancels: nothing is asked of the worker.
    update(&mut s, key('e'));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.export_confirm().is_none());
    assert_eq!(s.screen, Screen::Basket);
    assert!(s.status.as_deref().unwrap().contains("cancelled"));

    // u unmarks the basket's selected row; the answer reloads the basket.
    update(&mut s, key('j'));
    assert_eq!(
        update(&mut s, key('u')),
        vec![Effect::Unmark { ids: vec![2] }]
    );
    assert_eq!(
        update(
            &mut s,
            Msg::Marks {
                marks: [1, 3].into(),
                note: None
            }
        ),
        vec![Effect::LoadBasket]
    );

    // Esc goes back where the basket was opened from.
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Deliveries);
}

#[test]
fn an_empty_basket_has_nothing_to_confirm() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 5)])));
    update(&mut s, key('b'));
    update(
        &mut s,
        Msg::Basket(Box::new(Basket {
            marked: Vec::new(),
            marked_tally: Tally::default(),
            unmarked_tally: Tally::default(),
            batches: Vec::new(),
            resolutions: Vec::new(),
        })),
    );
    assert!(update(&mut s, key('e')).is_empty());
    assert!(s.export_confirm().is_none());
    assert!(s.status.as_deref().unwrap().contains("basket is empty"));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Triage);
}

// ---------------------------------------------------------------- causes and resolve

fn failed(cause: &str, domain: &str, provider: Option<&str>, host: &str) -> FailedRow {
    FailedRow {
        cause: cause.parse().unwrap(),
        domain: domain.into(),
        provider: provider.map(String::from),
        host: host.into(),
        status: sendlog::model::DeliveryStatus::Expired,
        first_attempt: Some(1_763_000_000),
        last_attempt: Some(1_763_050_000),
        text: Some("451 4.7.650 rate limited due to IP reputation".into()),
    }
}

#[test]
fn r_on_a_cause_types_a_note_and_records_the_resolution() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 3)])));
    assert_eq!(update(&mut s, key('c')), vec![Effect::LoadCauseList]);
    assert_eq!(s.screen, Screen::Causes);
    let list = causes(
        vec![
            failed("badreputation", "outlook.com", Some("Microsoft"), "mta2"),
            failed(
                "badreputation",
                "contoso.example",
                Some("Microsoft"),
                "mta2",
            ),
            failed("networkerror", "oldharbor.example", None, "mta1"),
        ],
        &[],
    );
    update(
        &mut s,
        Msg::CauseList {
            causes: list,
            widespread: Vec::new(),
        },
    );
    update(&mut s, key('j'));
    assert_eq!(s.causes.selected_cause().unwrap().reason, "networkerror");
    update(&mut s, key('k'));

    assert!(update(&mut s, key('r')).is_empty());
    let scope = ResolveScope {
        reason: sendlog::model::Reason::BadReputation,
        destination: Some("Microsoft".into()),
        host: Some("mta2".into()),
    };
    assert_eq!(
        s.note_input().cloned(),
        Some(NoteInput {
            scope: scope.clone(),
            note: String::new(),
            preview: None,
        })
    );
    // Every key types: none of q, ?, j, b, c, r, Esc-less letters act.
    assert!(type_text(&mut s, "IP delisted qj?bcrx").is_empty());
    assert!(!s.quit && !s.help_open());
    assert_eq!(s.screen, Screen::Causes);
    update(&mut s, code(KeyCode::Backspace));
    update(&mut s, code(KeyCode::Backspace));
    // The first Enter records nothing: it asks what the resolution would do.
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::PreviewResolve {
            scope: scope.clone()
        }]
    );
    assert!(s.note_input().is_some());
    let outcome = ResolveOutcome {
        resolution: resolution(),
        recorded: false,
        in_scope: 3,
        eligible: 2,
        newly_eligible: 2,
        tally: Tally {
            eligible: 2,
            excluded: [("hard_failure", 1)].into(),
        },
    };
    assert!(update(&mut s, Msg::ResolvePreview(Ok(Box::new(outcome.clone())))).is_empty());
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    terminal.draw(|f| sendlog::ui::render(f, &s)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("2 deliveries become eligible, 1 stay excluded (1 hard failure)"),
        "{screen}"
    );
    assert!(screen.contains("enter record · esc cancel"), "{screen}");
    // With the preview on screen, Enter records it.
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::Resolve {
            scope,
            note: "IP delisted qj?bc".into()
        }]
    );
    assert!(s.note_input().is_none());

    // The answer says what became eligible and refreshes the list.
    let outcome = ResolveOutcome {
        recorded: true,
        in_scope: 2,
        tally: Tally {
            eligible: 2,
            ..Tally::default()
        },
        ..outcome
    };
    assert_eq!(
        update(&mut s, Msg::Resolved(Box::new(outcome))),
        vec![Effect::LoadCauseList]
    );
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .starts_with("resolved: 2 of 2 failed deliveries now eligible"),
        "{:?}",
        s.status
    );

    // Esc in the note cancels without recording.
    update(&mut s, key('r'));
    type_text(&mut s, "oops");
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.note_input().is_none());
    assert_eq!(s.screen, Screen::Causes);
    // Ctrl-C still quits from the note.
    update(&mut s, key('r'));
    assert_eq!(
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        vec![Effect::Quit]
    );
}

#[test]
fn a_host_wide_problem_is_called_out_above_the_causes() {
    let rows: Vec<FailedRow> = (0..6)
        .map(|i| failed("badreputation", &format!("d{i}.example"), None, "mta2"))
        .chain([failed("networkerror", "oldharbor.example", None, "mta1")])
        .collect();
    let list = causes(rows, &[]);
    let widespread = sendlog::triage::causes::widespread(&list);
    assert_eq!(widespread.len(), 1);
    let mut s = state(120, 40);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 7)])));
    update(&mut s, key('c'));
    update(
        &mut s,
        Msg::CauseList {
            causes: list,
            widespread,
        },
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| sendlog::ui::render(f, &s)).unwrap();
    let text = terminal.backend().to_string();
    assert!(
        text.contains("Widespread: one sending host's problem"),
        "{text}"
    );
    assert!(
        text.contains("! badreputation from mta2 across 6 domains (6 deliveries"),
        "{text}"
    );
    assert!(text.contains("Causes (7)"), "{text}");
}

#[test]
fn r_on_a_triage_group_resolves_its_main_cause_within_the_selected_row() {
    let mut s = state(80, 24);
    start(&mut s, vec![]);
    update(&mut s, Msg::Overview(overview(&[("4.4.7", 3)])));
    update(
        &mut s,
        Msg::Causes {
            code: "4.4.7".into(),
            causes: vec![
                CauseCount {
                    cause: Some(sendlog::model::Reason::BadReputation),
                    count: 2,
                },
                CauseCount {
                    cause: Some(sendlog::model::Reason::NetworkError),
                    count: 1,
                },
            ],
        },
    );
    update(
        &mut s,
        Msg::Breakdown {
            code: "4.4.7".into(),
            dim: Dimension::Domain,
            rows: vec![Breakdown {
                value: Some("outlook.com".into()),
                count: 2,
            }],
        },
    );
    // On the codes: the code's main cause, everywhere.
    update(&mut s, key('r'));
    assert_eq!(
        s.note_input().unwrap().scope,
        ResolveScope {
            reason: sendlog::model::Reason::BadReputation,
            destination: None,
            host: None
        }
    );
    update(&mut s, code(KeyCode::Esc));
    // On a destination: that group's own main cause (the store knows it), narrowed to it.
    update(&mut s, key('l'));
    assert_eq!(s.triage.pane, Pane::Breakdown);
    assert_eq!(
        update(&mut s, key('r')),
        vec![Effect::PrepareGroupResolve {
            code: "4.4.7".into(),
            dim: Dimension::Domain,
            value: Some("outlook.com".into())
        }]
    );
    assert!(s.note_input().is_none());
    update(
        &mut s,
        Msg::ResolvePrompt(Some(group_scope(
            sendlog::model::Reason::NetworkError,
            Dimension::Domain,
            Some("outlook.com".into()),
        ))),
    );
    let input = s.note_input().cloned().unwrap();
    assert_eq!(input.scope.reason, "networkerror");
    assert_eq!(input.scope.destination.as_deref(), Some("outlook.com"));
    type_text(&mut s, "fixed");
    update(&mut s, code(KeyCode::Enter));
    // A scope the store cannot take closes the step, saying why.
    update(
        &mut s,
        Msg::ResolvePreview(Err("outlok.com: no failed delivery went there".into())),
    );
    assert!(s.note_input().is_none());
    assert!(s.status.as_deref().unwrap().starts_with("not recorded: "));
    update(&mut s, Msg::ResolvePrompt(Some(input.scope.clone())));
    type_text(&mut s, "fixed");
    update(&mut s, code(KeyCode::Enter));
    update(
        &mut s,
        Msg::ResolvePreview(Ok(Box::new(ResolveOutcome {
            resolution: resolution(),
            recorded: false,
            in_scope: 1,
            eligible: 1,
            newly_eligible: 1,
            tally: Tally {
                eligible: 1,
                ..Tally::default()
            },
        }))),
    );
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::Resolve {
            scope: input.scope,
            note: "fixed".into()
        }]
    );
}

// ---------------------------------------------------------------- real store, TestBackend

fn sample(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-data")
        .join(rel)
        .display()
        .to_string()
}

fn options() -> ImportOptions {
    ImportOptions {
        format: InputFormat::Auto,
        year: Some(2026),
        host: None,
        tz: None,
    }
}

fn sample_store(path: &Path) -> Store {
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let reports = import_files(
        &mut store,
        &[sample("mail.log"), sample("bounces")],
        &options(),
        &mut |_: &Progress| {},
    )
    .unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()));
    store
}

fn session(store: Store, w: u16, h: u16, export_dir: &Path) -> Session<TestBackend> {
    let (tx, rx) = mpsc::channel();
    let worker = Worker::spawn(store, options(), tx).unwrap();
    let terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut st = state(w, h);
    st.export_dir = export_dir.to_path_buf();
    let mut s = Session::new(terminal, st, rx, worker);
    s.start(vec![]);
    assert!(s.settle(Duration::from_secs(10)));
    s
}

fn press(s: &mut Session<TestBackend>, msg: Msg) {
    s.dispatch(msg);
    assert!(s.settle(Duration::from_secs(10)));
}

fn press_keys(s: &mut Session<TestBackend>, text: &str) {
    for c in text.chars() {
        press(s, key(c));
    }
}

fn screen_text(s: &mut Session<TestBackend>) -> String {
    s.draw().unwrap();
    s.terminal.backend().to_string()
}

/// A failed domain that looks like a typo shows the domain meant, on Triage's second level
/// and in the Causes evidence, as the store's typo pass found it.
#[test]
fn typo_domains_show_the_domain_meant_on_triage_and_causes() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(&dir.path().join("s.db"));
    let typos = store.typo_domains().unwrap();
    assert!(!typos.is_empty(), "the sample has a typo domain");
    let typo = typos[0].clone();
    let mut s = session(store, 120, 40, dir.path());
    let mut seen = false;
    for _ in 0..s.state.triage.codes.view.len() {
        if screen_text(&mut s).contains(&format!("{} → {}?", typo.domain, typo.suggestion)) {
            seen = true;
            break;
        }
        press(&mut s, key('j'));
    }
    assert!(seen, "no code's second level shows {typo:?}");
    press(&mut s, key('c'));
    let mut found = false;
    for _ in 0..20 {
        let text = screen_text(&mut s);
        if text.contains(&format!(
            "{} looks like a typo of {}",
            typo.domain, typo.suggestion
        )) {
            found = true;
            break;
        }
        press(&mut s, key('j'));
    }
    assert!(found, "the Causes evidence names the domain meant");
    s.worker.shutdown(true);
}

/// `r` on a destination of a code proposes that destination's own main cause, which can
/// differ from the code's: in the sample, 4.4.7 is mostly badreputation, but the expiry
/// at lumen-traders.example is a DNS failure.
#[test]
fn r_on_a_destination_proposes_its_own_cause_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(&dir.path().join("s.db"));
    // Independently: the causes of that group, from the full delivery records.
    let mut group = Vec::new();
    store
        .for_each_delivery(&[], |d| {
            if d.code == "4.4.7" && d.domain == "lumen-traders.example" {
                group.push(d);
            }
            Ok(())
        })
        .unwrap()
        .unwrap();
    assert_eq!(group.len(), 1);
    let expected = group[0].cause.unwrap();
    let code_main = store.causes_of("4.4.7").unwrap()[0].cause.unwrap();
    assert_ne!(expected, code_main, "the fixture must tell the two apart");

    let mut s = session(store, 120, 40, dir.path());
    assert_eq!(s.state.selected_code(), Some("4.4.7"));
    press(&mut s, key('l'));
    while s
        .state
        .triage
        .selected_breakdown()
        .is_some_and(|b| b.value.as_deref() != Some("lumen-traders.example"))
    {
        let before = s.state.triage.breakdown_list.cursor.index();
        press(&mut s, key('j'));
        assert_ne!(
            before,
            s.state.triage.breakdown_list.cursor.index(),
            "lumen-traders.example not listed"
        );
    }
    press(&mut s, key('r'));
    let input = s.state.note_input().cloned().expect("the note input opens");
    assert_eq!(
        input.scope,
        ResolveScope {
            reason: expected,
            destination: Some("lumen-traders.example".into()),
            host: None
        }
    );
    let text = screen_text(&mut s);
    assert!(text.contains("at lumen-traders.example"), "{text}");
    s.worker.shutdown(true);
}

/// Resolve the biggest cause on the Causes screen, mark the 4.4.7 group's eligible
/// deliveries, export them from the basket, then export again: the whole flow against a
/// real store, with snapshots of each new screen.
#[test]
fn resolve_mark_and_export_on_the_sample_data() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let exports = dir.path().join("out");
        std::fs::create_dir(&exports).unwrap();
        let store = sample_store(&db);
        let mut s = session(store, w, h, Path::new("."));
        let size = format!("{w}x{h}");

        press(&mut s, key('c'));
        let text = screen_text(&mut s);
        insta::assert_snapshot!(format!("causes_{size}"), text);
        let top = s.state.causes.selected_cause().unwrap().clone();
        assert_eq!(
            (top.reason.as_str(), top.destination.as_str(), top.count),
            ("badreputation", "Microsoft", 2)
        );
        assert!(text.contains("unresolved"), "{text}");

        press(&mut s, key('r'));
        press_keys(&mut s, "IP 203.0.113.13 delisted");
        insta::assert_snapshot!(format!("resolve_note_{size}"), screen_text(&mut s));
        press(&mut s, code(KeyCode::Enter));
        // The confirm step: what it would make eligible, from the store, nothing recorded.
        let text = screen_text(&mut s);
        assert!(text.contains("2 deliveries become eligible"), "{text}");
        assert!(
            s.state
                .causes
                .selected_cause()
                .unwrap()
                .resolution
                .is_none()
        );
        press(&mut s, code(KeyCode::Enter));
        let text = screen_text(&mut s);
        assert!(
            text.contains("resolved: 2 of 2 failed deliveries now eligible"),
            "{text}"
        );
        assert_eq!(
            s.state.causes.selected_cause().unwrap().state.as_str(),
            "resolved"
        );

        // The 4.4.7 group: `a` marks exactly its eligible deliveries.
        press(&mut s, code(KeyCode::Esc));
        press(&mut s, code(KeyCode::Enter));
        press(&mut s, key('a'));
        let check = Store::open(db.to_str().unwrap()).unwrap();
        let eligible: Vec<i64> = basket::judge_all(&check, &CandidateFilter::default(), false)
            .unwrap()
            .into_iter()
            .filter(|j| j.candidate.code == "4.4.7" && j.verdict.is_eligible())
            .map(|j| j.candidate.delivery_id)
            .collect();
        assert_eq!(eligible.len(), 2);
        assert_eq!(s.state.marks, eligible.iter().copied().collect());
        assert_eq!(check.marked_ids().unwrap(), s.state.marks);
        // One more, not eligible (cause not resolved), by hand.
        press(&mut s, key('G'));
        press(&mut s, key(' '));
        assert_eq!(s.state.marks.len(), 3);
        insta::assert_snapshot!(format!("deliveries_marked_{size}"), screen_text(&mut s));

        press(&mut s, key('b'));
        insta::assert_snapshot!(format!("basket_{size}"), screen_text(&mut s));
        press(&mut s, key('e'));
        insta::assert_snapshot!(format!("export_confirm_{size}"), screen_text(&mut s));

        s.state.export_dir = exports.clone();
        press(&mut s, code(KeyCode::Enter));
        let file = exports.join("sendlog-batch-1.csv");
        let csv = std::fs::read_to_string(&file).expect("the export was written");
        #[cfg(unix)]
        {
            // The export is a file like any other the user makes there, not a private
            // temporary file (0600).
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            let ordinary = exports.join("made-by-hand");
            std::fs::File::create(&ordinary).unwrap();
            assert_eq!(mode(&file), mode(&ordinary));
            std::fs::remove_file(&ordinary).unwrap();
        }
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let recipients: Vec<String> = reader
            .records()
            .map(|r| r.unwrap().get(1).unwrap().to_string())
            .collect();
        let mut expected: Vec<String> =
            basket::judge_all(&check, &CandidateFilter::default(), false)
                .unwrap()
                .into_iter()
                .filter(|j| eligible.contains(&j.candidate.delivery_id))
                .map(|j| j.candidate.recipient)
                .collect();
        expected.sort();
        let mut got = recipients.clone();
        got.sort();
        assert_eq!(got, expected);
        let text = screen_text(&mut s);
        assert!(text.contains("batch 1: 2 deliveries exported"), "{text}");
        assert_eq!(check.batches().unwrap().len(), 1);

        // The same marks again: nothing new, no file, no batch.
        press(&mut s, key('e'));
        press(&mut s, code(KeyCode::Enter));
        let text = screen_text(&mut s);
        assert!(
            text.contains("nothing new to export: 2 of the 3 marked were already exported"),
            "{text}"
        );
        assert!(!exports.join("sendlog-batch-2.csv").exists());
        assert_eq!(check.batches().unwrap().len(), 1);

        // Asked for, they go out again: a second batch with the same two.
        press(&mut s, key('e'));
        press(&mut s, key('A'));
        press(&mut s, code(KeyCode::Enter));
        let again = std::fs::read_to_string(exports.join("sendlog-batch-2.csv"))
            .expect("the export again was written");
        let mut again: Vec<String> = csv::Reader::from_reader(again.as_bytes())
            .records()
            .map(|r| r.unwrap().get(1).unwrap().to_string())
            .collect();
        again.sort();
        assert_eq!(again, expected);
        assert_eq!(check.batches().unwrap().len(), 2);
        s.worker.shutdown(true);

        // Marks are in the store: the next session starts with them.
        let mut again = session(
            Store::open(db.to_str().unwrap()).unwrap(),
            w,
            h,
            Path::new("."),
        );
        assert_eq!(again.state.marks.len(), 3);
        assert!(screen_text(&mut again).contains("● 3 marked"));
        again.worker.shutdown(true);
    }
}

#[test]
fn an_export_never_overwrites_a_file_it_takes_the_next_free_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut store = sample_store(&db);
    let (list, _) = basket::list_causes(&store).unwrap();
    let top = &list[0];
    basket::resolve(
        &mut store,
        top.reason,
        Some(&top.destination),
        Some(&top.host),
        2_000_000_000,
        "fixed",
    )
    .unwrap();
    basket::mark_eligible(&mut store, &CandidateFilter::default(), 2_000_000_000).unwrap();
    let taken = dir.path().join("sendlog-batch-1.csv");
    std::fs::write(&taken, "mine\n").unwrap();
    std::fs::write(dir.path().join("sendlog-batch-1-2.csv"), "mine too\n").unwrap();
    let mut s = session(store, 120, 40, dir.path());
    press(&mut s, key('b'));
    press(&mut s, key('e'));
    press(&mut s, code(KeyCode::Enter));
    let text = screen_text(&mut s);
    assert!(text.contains("sendlog-batch-1-3.csv"), "{text}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine\n");
    let written = dir.path().join("sendlog-batch-1-3.csv");
    let csv = std::fs::read_to_string(&written).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let check = Store::open(db.to_str().unwrap()).unwrap();
    let batches = check.batches().unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].destination, written.display().to_string());
    s.worker.shutdown(true);
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

    fn literal(&self, text: &str) {
        let status = std::process::Command::new("tmux")
            .args(["send-keys", "-l", "-t", &self.name, text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.capture();
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            if std::time::Instant::now() > deadline {
                panic!("timed out waiting for {needles:?}; the pane shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
fn resolve_mark_and_export_in_tmux() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: tmux is not installed; skipping the end-to-end re-queue test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e2e.db");
    let name = format!("sendlog-requeue-{}", std::process::id());
    // Started in the temp dir: that is where the export must land.
    let cmd = format!(
        "cd {} && env NO_COLOR= SENDLOG_KEYMAP={} {} --db {} --year 2026 {} {}; sleep 5",
        dir.path().display(),
        // Never the developer's own keymap.
        dir.path().join("no-keymap.toml").display(),
        env!("CARGO_BIN_EXE_sendlog"),
        db.display(),
        sample("mail.log"),
        sample("bounces")
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
    // The log and the folder's two bounce emails.
    t.wait_for(&["imported 3 files", "▶ 4.4.7 Delivery time expired"]);

    // Causes, then resolve the biggest with a note (letters that are keys elsewhere).
    t.keys(&["c"]);
    t.wait_for(&["Causes (", "badreputation", "unresolved", "Evidence"]);
    t.keys(&["r"]);
    t.wait_for(&["Resolve a cause", "Scope  badreputation at Microsoft"]);
    t.literal("delisted; q b e");
    t.wait_for(&["delisted; q b e▏"]);
    t.keys(&["Enter"]);
    t.wait_for(&["2 deliveries become eligible", "enter record"]);
    t.keys(&["Enter"]);
    t.wait_for(&[
        "resolved: 2 of 2 failed deliveries now eligible",
        "— delisted; q b e",
    ]);

    // The 4.4.7 group: mark all eligible.
    t.keys(&["Escape"]);
    t.wait_for(&["Failed deliveries by code"]);
    t.keys(&["Enter"]);
    t.wait_for(&["4.4.7 Delivery time expired ─"]);
    t.keys(&["a"]);
    t.wait_for(&["● 2 marked", "marked 2 eligible deliveries"]);

    // The basket, its confirm step and the export.
    t.keys(&["b"]);
    t.wait_for(&["Basket", "Marked (2)", "eligible"]);
    t.keys(&["e"]);
    t.wait_for(&["Export the basket", "[csv]", "sendlog-batch-1.csv"]);
    t.keys(&["Enter"]);
    t.wait_for(&["batch 1: 2 deliveries exported as csv"]);
    let file = dir.path().join("sendlog-batch-1.csv");
    let csv = std::fs::read_to_string(&file).expect("the export is in the start directory");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().all(|r| r.contains(",badreputation,")), "{csv}");
    assert!(rows.iter().all(|r| r.contains("delisted; q b e")), "{csv}");

    // Again: nothing to export, and no second file.
    t.keys(&["e"]);
    t.wait_for(&["Already exported      2"]);
    t.keys(&["Enter"]);
    t.wait_for(&["nothing new to export: 2 of the 2 marked were already exported"]);
    assert!(!dir.path().join("sendlog-batch-2.csv").exists());
    t.keys(&["q"]);
}

#[test]
fn the_delivery_screen_shows_its_linked_bounce_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(&dir.path().join("s.db"));
    let mut s = session(store, 120, 40, dir.path());
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
    let at = codes.iter().position(|c| c == "5.1.1").unwrap();
    for _ in 0..at {
        press(&mut s, key('j'));
    }
    press(&mut s, code(KeyCode::Enter));
    press(&mut s, code(KeyCode::Enter));
    let text = screen_text(&mut s);
    assert!(text.contains("j.doe.old@gmail.com"), "{text}");
    // The Postfix DSN in sample-data/bounces names this delivery by its Message-ID.
    assert!(
        text.contains(
            "Bounce report bounce · 550 5.1.1 · userunknown · matched by message_id · 2026-11-20 09:02:03"
        ),
        "{text}"
    );
    assert!(text.contains("  File        "), "{text}");
    assert!(
        text.contains("sample-data/bounces/postfix-dsn-gmail.eml"),
        "{text}"
    );
    assert!(
        text.contains("Diagnostic  550-5.1.1 The email account that you tried to reach"),
        "{text}"
    );
    assert!(!text.contains("none linked"), "{text}");
    s.worker.shutdown(true);
}

/// The worker's side of marking on a narrowed group (4.4.7 at the provider Microsoft):
/// `a` marks exactly the eligible ones of that group, `U` unmarks the group, a `v` range
/// over the whole group marks every row of it, eligible or not.
#[test]
fn marking_keys_act_on_the_narrowed_group_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut store = sample_store(&db);
    basket::resolve(
        &mut store,
        sendlog::model::Reason::BadReputation,
        None,
        Some("mta2"),
        2_000_000_000,
        "",
    )
    .unwrap();
    let judged = basket::judge_all(&store, &CandidateFilter::default(), false).unwrap();
    let in_group = |j: &&Judged| {
        j.candidate.code == "4.4.7" && j.candidate.provider.as_deref() == Some("Microsoft")
    };
    let group: std::collections::BTreeSet<i64> = judged
        .iter()
        .filter(in_group)
        .map(|j| j.candidate.delivery_id)
        .collect();
    let eligible: std::collections::BTreeSet<i64> = judged
        .iter()
        .filter(in_group)
        .filter(|j| j.verdict.is_eligible())
        .map(|j| j.candidate.delivery_id)
        .collect();
    // Two from mta2 are covered by the resolution; the one from Exchange Online is not.
    assert_eq!((group.len(), eligible.len()), (3, 2));

    let mut s = session(store, 120, 40, dir.path());
    press(&mut s, code(KeyCode::Tab));
    assert_eq!(s.state.triage.dim, Dimension::Provider);
    press(&mut s, key('l'));
    let rows = &s.state.triage.breakdown.as_ref().unwrap().rows;
    let at = rows
        .iter()
        .position(|r| r.value.as_deref() == Some("Microsoft"))
        .unwrap();
    for _ in 0..at {
        press(&mut s, key('j'));
    }
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.state.deliveries.table.as_ref().unwrap().total, 3);

    press(&mut s, key('a'));
    assert_eq!(s.state.marks, eligible);
    assert!(
        s.state
            .status
            .as_deref()
            .unwrap()
            .starts_with("marked 2 eligible deliveries; 1 not eligible: 1 not resolved"),
        "{:?}",
        s.state.status
    );
    press(&mut s, key('U'));
    assert!(s.state.marks.is_empty());

    press(&mut s, key('v'));
    press(&mut s, key('G'));
    press(&mut s, key('v'));
    assert_eq!(s.state.marks, group);
    let check = Store::open(db.to_str().unwrap()).unwrap();
    assert_eq!(check.marked_ids().unwrap(), group);
    let text = screen_text(&mut s);
    // Every row of the group shows its mark (the header's "●" names the column).
    let marked_rows = text
        .lines()
        .filter(|l| l.contains("● ") && l.contains('@'))
        .count();
    assert_eq!(marked_rows, 3, "{text}");
    s.worker.shutdown(true);
}

/// Each row of a group shows the re-queue rules' verdict on it, as the store judges it;
/// resolving a cause elsewhere turns the rows it covers eligible without reopening the group.
#[test]
fn deliveries_rows_show_their_re_send_verdict_and_follow_a_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = sample_store(&db);
    let mut s = session(store, 120, 40, dir.path());
    assert_eq!(s.state.selected_code(), Some("4.4.7"));
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.state.screen, Screen::Deliveries);

    let labels_by_store = |db: &Path| -> std::collections::BTreeMap<i64, &'static str> {
        let check = Store::open(db.to_str().unwrap()).unwrap();
        basket::judge_all(&check, &CandidateFilter::default(), false)
            .unwrap()
            .into_iter()
            .filter(|j| j.candidate.code == "4.4.7")
            .map(|j| (j.candidate.delivery_id, j.verdict.label()))
            .collect()
    };
    let shown = |s: &Session<TestBackend>| -> std::collections::BTreeMap<i64, &'static str> {
        let t = s.state.deliveries.table.as_ref().unwrap();
        t.rows
            .iter()
            .map(|r| {
                (
                    r.id,
                    t.verdicts.get(&r.id).expect("every row judged").label(),
                )
            })
            .collect()
    };
    let before = labels_by_store(&db);
    assert!(!before.is_empty());
    assert_eq!(shown(&s), before);
    assert!(before.values().all(|l| *l != "eligible"), "{before:?}");
    let text = screen_text(&mut s);
    assert!(
        text.contains("re-send") && text.contains("not resolved"),
        "{text}"
    );

    // r on a badreputation row resolves that cause (the group is not narrowed: everywhere).
    let t = s.state.deliveries.table.as_ref().unwrap();
    let row = t
        .rows
        .iter()
        .position(|r| r.cause == Some(sendlog::model::Reason::BadReputation));
    for _ in 0..row.expect("the 4.4.7 group has a badreputation row") {
        press(&mut s, key('j'));
    }
    press(&mut s, key('r'));
    assert_eq!(
        s.state.note_input().expect("the note input opens").scope,
        ResolveScope {
            reason: sendlog::model::Reason::BadReputation,
            destination: None,
            host: None
        }
    );
    press_keys(&mut s, "delisted");
    insta::assert_snapshot!("deliveries_resolve_note_120x40", screen_text(&mut s));
    press(&mut s, code(KeyCode::Enter));
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.state.screen, Screen::Deliveries);
    let after = labels_by_store(&db);
    let t = s.state.deliveries.table.as_ref().unwrap();
    let badreputation: Vec<i64> = t
        .rows
        .iter()
        .filter(|r| r.cause == Some(sendlog::model::Reason::BadReputation))
        .map(|r| r.id)
        .collect();
    assert!(badreputation.len() >= 2);
    for (id, label) in &after {
        assert_eq!(*label == "eligible", badreputation.contains(id), "row {id}");
    }
    assert_eq!(shown(&s), after, "the loaded rows were judged again");
    insta::assert_snapshot!("deliveries_after_resolve_120x40", screen_text(&mut s));
    s.worker.shutdown(true);
}

/// `u` on the Causes screen undoes the selected cause's resolution, through the worker on
/// a real store: the cause is unresolved again, the history keeps both.
#[test]
fn u_on_a_resolved_cause_undoes_its_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = sample_store(&db);
    let mut s = session(store, 100, 30, Path::new("."));
    press(&mut s, key('c'));
    press(&mut s, key('u'));
    assert_eq!(
        s.state.status.as_deref(),
        Some("this cause has no resolution to undo")
    );
    press(&mut s, key('r'));
    press_keys(&mut s, "delisted");
    press(&mut s, code(KeyCode::Enter));
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.state.causes.selected_cause().unwrap().state.as_str(),
        "resolved"
    );
    press(&mut s, key('u'));
    let text = screen_text(&mut s);
    assert_eq!(
        s.state.status.as_deref(),
        Some(
            "resolution 1 undone (badreputation at Microsoft from mta2/postfix-out2): \
             2 deliveries no longer eligible"
        ),
        "{text}"
    );
    assert_eq!(
        s.state.causes.selected_cause().unwrap().state.as_str(),
        "unresolved"
    );
    let check = Store::open(db.to_str().unwrap()).unwrap();
    let actions: Vec<String> = check
        .history()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["resolve", "undo"]);
    assert!(check.resolutions().unwrap().is_empty());
}

/// The built-in panels only: a developer's own knowledge directory must not change what
/// a test sees.
fn builtin_knowledge() -> std::sync::Arc<sendlog::knowledge::Knowledge> {
    std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap())
}
