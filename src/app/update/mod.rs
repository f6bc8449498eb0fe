//! `update`: the one place state changes. Pure: it returns effects as data.
//!
//! Here: the messages from the worker, and which part of the state a key goes to (the
//! overlay on top, else the screen). Each screen's keys are in its own module, the
//! overlays' in `overlay`, what a resolution covers in `resolve`.

mod basket;
mod causes;
mod deliveries;
mod delivery;
mod mouse;
mod overlay;
mod resolve;
mod search;
mod senders;
mod summary;
mod timeline;
mod triage;

use ratatui::crossterm::event::KeyEvent;

use super::keymap::Action;
use super::msg::{Effect, Msg};
use super::state::{AppState, FileProgress, Filter, ImportView, Live, Move, Overlay, Screen};

pub use resolve::{group_scope, resolve_pointless};
pub use triage::{breakdown_text, code_text};

/// The first effects of a session: import the files given, or show what the store holds.
pub fn start(state: &mut AppState, files: Vec<String>) -> Vec<Effect> {
    if state.live.is_some() {
        // Following: the worker's first look imports the files as they are, and each
        // commit after it refreshes the screens; they open at once, on what the store holds.
        state.screen = Screen::Triage;
        return vec![Effect::LoadOverview, Effect::Follow(files)];
    }
    if files.is_empty() {
        state.screen = Screen::Triage;
        vec![Effect::LoadOverview]
    } else {
        state.screen = Screen::Import;
        state.import = Some(ImportView {
            files: files.clone(),
            ..ImportView::default()
        });
        vec![Effect::Import(files)]
    }
}

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let effects = on_msg(state, msg);
    // The explanation follows the selection, whatever moved it.
    triage::sync_panel(state);
    effects
}

fn on_msg(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            // A key pressed is a look at the screen: what was new is seen.
            if let Some(live) = state.live.as_mut() {
                live.looked();
            }
            on_key(state, key)
        }
        Msg::Mouse(ev) => mouse::on_mouse(state, ev),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            let rows = state.table_rows() as u64;
            if let Some(t) = state.deliveries.table.as_mut() {
                t.cursor.keep_visible(rows);
            }
            let max = super::help::max_scroll(state);
            if let Some(Overlay::Help { scroll }) = state.overlay.as_mut() {
                *scroll = (*scroll).min(max);
            }
            Vec::new()
        }
        Msg::Overview(overview) => {
            if let Some(live) = state.live.as_mut() {
                live.expired_now(overview.totals.expired);
            }
            triage::on_overview(state, overview)
        }
        Msg::SearchHits {
            query,
            before,
            hits,
        } => search::on_hits(state, query, before, hits),
        Msg::Tick(clock) => {
            // The log is live: its time runs on with the clock between lines, and so does
            // the at-risk countdown (unless `--now` fixed the time).
            match state.live.as_ref() {
                Some(Live {
                    last_read: Some(at),
                    log_now: Some(log_now),
                    ..
                }) if state.now.is_none() => vec![Effect::LoadAtRisk {
                    queue_lifetime: state.queue_lifetime,
                    now: Some(log_now + (clock - at).max(0)),
                }],
                _ => Vec::new(),
            }
        }
        Msg::Followed { lines, at, log_now } => {
            if let Some(live) = state.live.as_mut() {
                live.last_read = Some(at);
                live.log_now = log_now;
                live.lines += lines;
            }
            // The overview keeps the selected code by its name, and reloads the at-risk
            // list and the counts after it.
            // The causes too: a new widespread cause is news wherever the user is.
            let mut effects = vec![Effect::LoadOverview, Effect::LoadCauseList];
            // An open list is read again while the user is still on its first row and has
            // no range started: nothing moves under a cursor the user has placed.
            let untouched = state.deliveries.range_start.is_none()
                && state
                    .deliveries
                    .table
                    .as_ref()
                    .is_some_and(|t| t.cursor.selected == 0);
            if state.screen == Screen::Deliveries && untouched {
                effects.extend(deliveries::reopen(state));
            }
            effects
        }
        Msg::AtRisk(at_risk, as_of, frozen) => {
            if let Some(live) = state.live.as_mut() {
                live.at_risk_now(at_risk.len() as u64);
            }
            state.triage.at_risk = at_risk;
            state.triage.at_risk_as_of = as_of;
            state.triage.frozen = frozen;
            Vec::new()
        }
        Msg::Typos(typos) => {
            state.triage.typos = typos
                .into_iter()
                .map(|t| (t.domain, t.suggestion))
                .collect();
            Vec::new()
        }
        Msg::SentCount(sent) => {
            let t = &mut state.triage;
            if let Some(ov) = t.overview.as_mut()
                && !t.sent_counted
            {
                ov.totals.sent = sent;
                ov.totals.deliveries += sent;
                t.sent_counted = true;
            }
            Vec::new()
        }
        Msg::Sparklines(s) => {
            triage::apply_sparklines(state, s);
            Vec::new()
        }
        Msg::Breakdown { code, dim, rows } => {
            // The same list loaded again (a followed log grew) keeps the row under the
            // cursor by its value, wherever its new count puts it.
            let keep = state
                .triage
                .breakdown
                .as_ref()
                .filter(|b| b.code == code && b.dim == dim)
                .and_then(|_| state.triage.selected_breakdown())
                .map(|r| r.value.clone());
            state.triage.breakdown = Some(super::state::BreakdownList { code, dim, rows });
            refresh_views(state);
            let t = &mut state.triage;
            if let (Some(value), Some(b)) = (keep, t.breakdown.as_ref())
                && let Some(at) = t
                    .breakdown_list
                    .view
                    .iter()
                    .position(|m| b.rows.get(m.index).is_some_and(|r| r.value == value))
            {
                t.breakdown_list.cursor.selected = at as u64;
            }
            let list = &mut state.triage.breakdown_list;
            list.cursor.clamp(list.len());
            Vec::new()
        }
        Msg::Causes { code, causes } => {
            state.triage.causes = Some((code, causes));
            // Its first section counts these causes.
            state.triage.panel = None;
            Vec::new()
        }
        Msg::ResolvePrompt(scope) => {
            resolve::open_prompt(state, scope);
            Vec::new()
        }
        Msg::ResolvePreview(Ok(outcome)) => {
            if let Some(Overlay::Note(input)) = state.overlay.as_mut() {
                input.preview = Some(outcome.preview_counts());
            }
            Vec::new()
        }
        Msg::ResolvePreview(Err(why)) => {
            if matches!(state.overlay, Some(Overlay::Note(_))) {
                state.overlay = None;
            }
            state.status = Some(format!("not recorded: {why}"));
            Vec::new()
        }
        Msg::Undone(outcome) => {
            state.status = Some(summary::undone(&outcome));
            let mut effects = vec![Effect::LoadCauseList];
            if state.basket.contents.is_some() {
                effects.push(Effect::LoadBasket);
            }
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Page {
            generation,
            anchor,
            rows,
            total,
            verdicts,
        } => deliveries::apply_page(state, generation, anchor, rows, total, verdicts),
        Msg::Verdicts(verdicts) => {
            if let Some(t) = state.deliveries.table.as_mut() {
                t.verdicts.extend(verdicts);
            }
            Vec::new()
        }
        Msg::Delivery { id, detail } => {
            if state.delivery.id == Some(id) {
                state.delivery.raw = None;
                match detail {
                    Some(d) => {
                        state.delivery.detail = Some(*d);
                        return vec![Effect::LoadRawLines { id }];
                    }
                    None => state.status = Some("that delivery is no longer in the store".into()),
                }
            }
            Vec::new()
        }
        Msg::RawLines { id, raw } => {
            if state.delivery.id == Some(id) {
                state.delivery.raw = Some(raw);
            }
            Vec::new()
        }
        Msg::ImportProgress {
            progress,
            lines_per_sec,
        } => {
            if let Some(view) = state.import.as_mut() {
                if view.progress.len() < progress.file_count {
                    view.progress.resize(
                        progress.file_count,
                        FileProgress {
                            name: String::new(),
                            lines: 0,
                            bytes: 0,
                            total_bytes: None,
                            lines_per_sec: 0.0,
                            done: false,
                        },
                    );
                }
                if let Some(p) = view.progress.get_mut(progress.file_index) {
                    *p = FileProgress {
                        name: progress.file,
                        lines: progress.lines,
                        bytes: progress.bytes,
                        total_bytes: progress.total_bytes,
                        lines_per_sec,
                        done: progress.done,
                    };
                }
            }
            Vec::new()
        }
        Msg::ImportDone(result) => {
            let summary = match &result {
                Ok(reports) => summary::import(reports),
                Err(e) => format!("import failed: {e}"),
            };
            state.status = Some(match &state.warning {
                Some(w) => format!("{w} · {summary}"),
                None => summary,
            });
            if let (Some(view), Ok(reports)) = (state.import.as_mut(), result) {
                view.reports = Some(reports);
            }
            if state.screen == Screen::Import {
                state.screen = Screen::Triage;
            }
            vec![Effect::LoadOverview]
        }
        Msg::Marks { marks, note } => {
            state.marks = marks;
            if note.is_some() {
                state.status = note;
            }
            if state.screen == Screen::Basket {
                return vec![Effect::LoadBasket];
            }
            Vec::new()
        }
        Msg::CauseList { causes, widespread } => {
            if let Some(live) = state.live.as_mut() {
                live.widespread_now(widespread.len() as u64);
            }
            let c = &mut state.causes;
            // A list loaded again keeps the cause under the cursor by what it is.
            let keep = c
                .selected_cause()
                .map(|k| (k.reason, k.destination.clone(), k.host.clone()));
            if let Some(at) = keep.and_then(|(reason, destination, host)| {
                causes.iter().position(|x| {
                    x.reason == reason && x.destination == destination && x.host == host
                })
            }) {
                c.cursor.selected = at as u64;
            }
            c.cursor.clamp(causes.len() as u64);
            c.view = Some(super::state::CausesView { causes, widespread });
            Vec::new()
        }
        Msg::Resolved(outcome) => {
            state.status = Some(summary::resolved(&outcome));
            let mut effects = Vec::new();
            if state.causes.view.is_some() || state.screen == Screen::Causes {
                effects.push(Effect::LoadCauseList);
            }
            if state.basket.contents.is_some() || state.screen == Screen::Basket {
                effects.push(Effect::LoadBasket);
            }
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Basket(basket) => {
            state.basket.cursor.clamp(basket.marked.len() as u64);
            state.basket.contents = Some(*basket);
            Vec::new()
        }
        Msg::Exported(outcome) => {
            state.status = Some(summary::exported(&outcome));
            let mut effects = vec![Effect::LoadBasket];
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Checks { latest, as_of } => {
            state.causes.checks.latest = latest;
            state.causes.checks.as_of = Some(as_of);
            Vec::new()
        }
        Msg::Checked(outcome) => {
            state.causes.checks.running = None;
            state.status = Some(match outcome {
                Ok(results) => summary::checked(&results),
                Err(line) => line,
            });
            vec![Effect::LoadCauseList]
        }
        Msg::Timeline(data) => {
            timeline::on_data(state, *data);
            Vec::new()
        }
        Msg::Window(window) => on_window(state, window),
        Msg::Senders { by, groups } => {
            senders::on_data(state, by, groups);
            Vec::new()
        }
        Msg::Error(e) => {
            state.causes.checks.running = None;
            state.status = Some(e);
            if let Some(t) = state.deliveries.table.as_mut() {
                t.loading = None;
            }
            Vec::new()
        }
    }
}

/// The store counts in another time window: everything counted is counted again (the
/// selected code kept by name), and an open list starts again from its first row.
fn on_window(state: &mut AppState, window: crate::model::report::TimeWindow) -> Vec<Effect> {
    state.time_window = window;
    state.triage.breakdown = None;
    state.triage.causes = None;
    state.triage.panel = None;
    let mut effects = vec![Effect::LoadOverview];
    if state.deliveries.table.is_some() {
        effects.extend(deliveries::reopen(state));
    }
    if state.screen == Screen::Timeline {
        effects.push(timeline::load(state));
    }
    if state.senders.groups.is_some() {
        effects.push(senders::load(state));
    }
    effects
}

/// A resolution or an export may change the verdict on rows already on screen.
fn judge_loaded_rows(state: &AppState) -> Option<Effect> {
    let t = state
        .deliveries
        .table
        .as_ref()
        .filter(|t| !t.rows.is_empty())?;
    Some(Effect::JudgeRows {
        ids: t.rows.iter().map(|r| r.id).collect(),
    })
}

/// Recomputes the filtered views of the lists; the query applies to the focused list only.
fn refresh_views(state: &mut AppState) {
    triage::refresh(state);
}

/// The overlay on top takes the key; without one, the screen does.
fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    match &state.overlay {
        Some(Overlay::Note(_)) => overlay::on_note_key(state, key),
        Some(Overlay::Export(_)) => overlay::on_export_key(state, key),
        Some(Overlay::Filter) => overlay::on_filter_key(state, key),
        Some(Overlay::Search) => search::on_key(state, key),
        Some(Overlay::Help { .. }) => overlay::on_help_key(state, key),
        None => on_screen_key(state, key),
    }
}

fn on_screen_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(action) = state.keymap.action(state.screen.context(), &key) else {
        return Vec::new();
    };
    if let Some(mv) = Move::from_action(action, state.table_rows()) {
        return move_cursor(state, mv);
    }
    match action {
        Action::Quit => quit(state),
        Action::Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Action::Back => back(state),
        Action::Filter => {
            if matches!(state.screen, Screen::Triage | Screen::Deliveries) {
                state.filter = Some(Filter::default());
                state.overlay = Some(Overlay::Filter);
            }
            Vec::new()
        }
        Action::Basket => basket::open(state),
        Action::Search => search::open(state),
        Action::Resolve => resolve::on_resolve(state),
        Action::Timeline => timeline::open(state),
        Action::Senders => senders::open(state),
        Action::NarrowWindow | Action::WidenWindow => vec![Effect::StepWindow {
            narrow: action == Action::NarrowWindow,
        }],
        // Keys of the export's confirm step, which its overlay answers.
        Action::NextFormat | Action::ToggleAgain | Action::EditDir | Action::Confirm => Vec::new(),
        _ => match state.screen {
            Screen::Triage => triage::on_action(state, action),
            Screen::Deliveries => deliveries::on_action(state, action),
            Screen::Causes => causes::on_action(state, action),
            Screen::Basket => basket::on_action(state, action),
            Screen::Timeline => timeline::on_action(state, action),
            Screen::Search => search::on_action(state, action),
            Screen::Senders => senders::on_action(state, action),
            Screen::Import | Screen::Delivery => Vec::new(),
        },
    }
}

fn move_cursor(state: &mut AppState, mv: Move) -> Vec<Effect> {
    match state.screen {
        Screen::Import | Screen::Timeline => Vec::new(),
        Screen::Triage => triage::move_cursor(state, mv),
        Screen::Deliveries => deliveries::move_cursor(state, mv),
        Screen::Delivery => {
            delivery::scroll(state, mv);
            Vec::new()
        }
        Screen::Causes => {
            let len = state.causes.len();
            state.causes.cursor.step(mv, len);
            Vec::new()
        }
        Screen::Basket => {
            let len = state.basket.len();
            state.basket.cursor.step(mv, len);
            Vec::new()
        }
        Screen::Search => search::move_cursor(state, mv),
        Screen::Senders => {
            let len = state.senders.len();
            state.senders.cursor.step(mv, len);
            Vec::new()
        }
    }
}

fn back(state: &mut AppState) -> Vec<Effect> {
    if state.filter.is_some() {
        triage::clear_filter(state);
        if state.screen == Screen::Deliveries {
            return deliveries::reopen(state);
        }
        return Vec::new();
    }
    match state.screen {
        Screen::Delivery if state.search.opened => {
            state.search.opened = false;
            state.screen = Screen::Search;
        }
        Screen::Delivery => state.screen = Screen::Deliveries,
        Screen::Search => {
            state.screen = Screen::Triage;
            // The hits go; the query stays, to edit next time.
            let input = std::mem::take(&mut state.search.input);
            state.search = Default::default();
            state.search.input = input;
        }
        Screen::Deliveries => {
            state.screen = state.deliveries.from.take().unwrap_or(Screen::Triage);
            state.deliveries.range_start = None;
            // A million rows are not kept for a screen no one is looking at.
            state.deliveries.table = None;
        }
        Screen::Causes | Screen::Timeline | Screen::Senders => state.screen = Screen::Triage,
        Screen::Basket => state.screen = state.basket.from,
        Screen::Triage | Screen::Import => {}
    }
    refresh_views(state);
    Vec::new()
}

fn quit(state: &mut AppState) -> Vec<Effect> {
    state.quit = true;
    vec![Effect::Quit]
}
