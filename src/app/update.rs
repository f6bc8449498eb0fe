//! `update`: the one place state changes. Pure: it returns effects as data.

use std::collections::{BTreeMap, BTreeSet};

use crate::wording::{deliveries_written, plural_with, thousands};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::classify::EnhancedCode;
use crate::pipeline::FileReport;
use crate::sanitize::for_terminal;
use crate::store::browse::{Anchor, DeliveryFilter, Dimension, Sparklines};
use crate::triage::requeue::Verdict;
use crate::triage::requeue_export::Format;

use super::filter::matches;
use super::keymap::{Action, Context};
use super::msg::{Effect, Msg};
use super::state::{
    AppState, BreakdownList, CausesView, DeliveryTable, ExportConfirm, FileProgress, Filter,
    ImportView, NoteInput, PAGE_MARGIN, PAGE_ROWS, Pane, ResolveScope, SPARK_BUCKETS, Screen,
    WINDOW_ROWS, next_format,
};

/// A resolution note longer than this is cut: it is a line of text, not a document.
const NOTE_MAX_CHARS: usize = 300;

#[derive(Debug, Clone, Copy)]
enum Move {
    By(i64),
    Top,
    Bottom,
}

/// The first effects of a session: import the files given, or show what the store holds.
pub fn start(state: &mut AppState, files: Vec<String>) -> Vec<Effect> {
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
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Mouse(ev) => on_mouse(state, ev),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            let rows = state.table_rows() as u64;
            if let Some(t) = state.table.as_mut() {
                keep_visible(t, rows);
            }
            state.help_scroll = state.help_scroll.min(super::help::max_scroll(state));
            Vec::new()
        }
        Msg::Overview(mut overview) => {
            let keep = state.selected_code().map(str::to_string);
            // Expired mail is what users come for: 4.4.7 leads the list whatever its count.
            let expired = EnhancedCode::EXPIRED.to_string();
            overview.codes.sort_by_key(|c| c.code != expired);
            state.sparks = vec![None; overview.codes.len()];
            state.overview = Some(overview);
            state.sent_counted = false;
            refresh_views(state);
            state.codes_cursor = keep
                .and_then(|k| {
                    state
                        .codes_view
                        .iter()
                        .position(|m| code_at(state, m.index) == Some(k.as_str()))
                })
                .unwrap_or(0);
            // What the first frame needs goes first; the slower counts after.
            let mut effects = selection_effects(state);
            effects.push(Effect::LoadSparklines {
                buckets: SPARK_BUCKETS,
            });
            effects.push(Effect::LoadSentCount);
            effects.push(Effect::LoadAtRisk {
                queue_lifetime: state.queue_lifetime,
                now: state.now,
            });
            effects.push(Effect::LoadTypos);
            effects.push(Effect::LoadMarks);
            effects
        }
        Msg::AtRisk(at_risk, as_of) => {
            state.at_risk = at_risk;
            state.at_risk_as_of = as_of;
            Vec::new()
        }
        Msg::Typos(typos) => {
            state.typos = typos
                .into_iter()
                .map(|t| (t.domain, t.suggestion))
                .collect();
            Vec::new()
        }
        Msg::SentCount(sent) => {
            if let Some(ov) = state.overview.as_mut()
                && !state.sent_counted
            {
                ov.totals.sent = sent;
                ov.totals.deliveries += sent;
                state.sent_counted = true;
            }
            Vec::new()
        }
        Msg::Sparklines(s) => {
            apply_sparklines(state, s);
            Vec::new()
        }
        Msg::Breakdown { code, dim, rows } => {
            state.breakdown = Some(BreakdownList { code, dim, rows });
            refresh_views(state);
            state.breakdown_cursor = state
                .breakdown_cursor
                .min(state.breakdown_view.len().saturating_sub(1));
            Vec::new()
        }
        Msg::Causes { code, causes } => {
            state.causes = Some((code, causes));
            Vec::new()
        }
        Msg::ResolvePrompt(scope) => {
            open_resolve_prompt(state, scope);
            Vec::new()
        }
        Msg::ResolvePreview(Ok(outcome)) => {
            if let Some(input) = state.note_input.as_mut() {
                input.preview = Some(outcome.preview_counts());
            }
            Vec::new()
        }
        Msg::ResolvePreview(Err(why)) => {
            state.note_input = None;
            state.status = Some(format!("not recorded: {why}"));
            Vec::new()
        }
        Msg::Undone(outcome) => {
            let mut s = format!(
                "resolution {} undone ({}): {} no longer eligible",
                outcome.resolution.id,
                outcome.resolution.scope(),
                plural_with(outcome.no_longer_eligible, "delivery", "deliveries")
            );
            if outcome.exported > 0 {
                s.push_str(&format!(
                    "; {} already exported stay exported",
                    thousands(outcome.exported)
                ));
            }
            state.status = Some(s);
            let mut effects = vec![Effect::LoadCauseList];
            if state.basket.is_some() {
                effects.push(Effect::LoadBasket);
            }
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Page {
            generation,
            anchor,
            rows,
            verdicts,
        } => apply_page(state, generation, anchor, rows, verdicts),
        Msg::Verdicts(verdicts) => {
            if let Some(t) = state.table.as_mut() {
                t.verdicts.extend(verdicts);
            }
            Vec::new()
        }
        Msg::Delivery { id, detail } => {
            if state.detail_id == Some(id) {
                match detail {
                    Some(d) => state.detail = Some(*d),
                    None => state.status = Some("that delivery is no longer in the store".into()),
                }
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
                Ok(reports) => import_summary(reports),
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
            state.causes_cursor = state.causes_cursor.min(causes.len().saturating_sub(1));
            state.causes_view = Some(CausesView { causes, widespread });
            Vec::new()
        }
        Msg::Resolved(outcome) => {
            state.status = Some(resolved_summary(&outcome));
            let mut effects = Vec::new();
            if state.causes_view.is_some() || state.screen == Screen::Causes {
                effects.push(Effect::LoadCauseList);
            }
            if state.basket.is_some() || state.screen == Screen::Basket {
                effects.push(Effect::LoadBasket);
            }
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Basket(basket) => {
            state.basket_cursor = state
                .basket_cursor
                .min(basket.marked.len().saturating_sub(1));
            state.basket = Some(*basket);
            Vec::new()
        }
        Msg::Exported(outcome) => {
            state.status = Some(exported_summary(&outcome));
            let mut effects = vec![Effect::LoadBasket];
            effects.extend(judge_loaded_rows(state));
            effects
        }
        Msg::Error(e) => {
            state.status = Some(e);
            if let Some(t) = state.table.as_mut() {
                t.loading = None;
            }
            Vec::new()
        }
    }
}

fn import_summary(reports: &[FileReport]) -> String {
    let failed: Vec<&FileReport> = reports.iter().filter(|r| r.error.is_some()).collect();
    let lines: u64 = reports.iter().map(|r| r.lines_read).sum();
    let deliveries: u64 = reports.iter().map(|r| r.deliveries).sum();
    let updated: u64 = reports.iter().map(|r| r.deliveries_updated).sum();
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    let mut s = format!(
        "imported {}: {}, {}, {} skipped",
        // Files read; a folder's own line (what it held) is not one more file.
        plural_with(
            reports.iter().filter(|r| r.format.is_some()).count() as u64,
            "file",
            "files"
        ),
        plural_with(lines, "line", "lines"),
        deliveries_written(deliveries, updated),
        thousands(skipped),
    );
    if let Some(first) = failed.first() {
        s.push_str(&format!(
            "; {} not imported: {}",
            failed.len(),
            first
                .error
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }
    s
}

fn resolved_summary(o: &crate::triage::basket::ResolveOutcome) -> String {
    let r = &o.resolution;
    // What changed first: a long scope or note must not push it off an 80-column bar.
    let mut s = if o.in_scope == 0 {
        "resolved, but no failed delivery has this cause here (yet)".to_string()
    } else {
        let mut s = format!(
            "resolved: {} of {} now eligible",
            thousands(o.eligible),
            plural_with(o.in_scope, "failed delivery", "failed deliveries")
        );
        if o.tally.excluded_total() > 0 {
            s.push_str(&format!(" ({})", o.tally.describe_excluded()));
        }
        s
    };
    s.push_str(&format!(" · resolution {}: {}", r.id, r.scope()));
    if !r.note.is_empty() {
        s.push_str(&format!(" ({})", r.note));
    }
    s
}

fn exported_summary(o: &crate::triage::basket::ExportOutcome) -> String {
    let t = &o.tally;
    let mut s = match &o.batch {
        Some(b) => format!(
            "batch {}: {} exported as {} to {}",
            b.id,
            plural_with(b.items, "delivery", "deliveries"),
            b.format,
            b.destination
        ),
        None => {
            let marked = t.eligible + t.excluded_total();
            let already = t.excluded.get("already_exported").copied().unwrap_or(0);
            if t.eligible > 0 {
                "nothing to export in this format; no file written".to_string()
            } else if already > 0 {
                format!(
                    "nothing new to export: {} of the {} marked {} already exported; no file written",
                    thousands(already),
                    thousands(marked),
                    if already == 1 { "was" } else { "were" }
                )
            } else {
                format!(
                    "nothing to export: none of the {} marked is eligible; no file written",
                    thousands(marked)
                )
            }
        }
    };
    if t.excluded_total() > 0 {
        s.push_str(&format!(
            "; {} excluded ({})",
            thousands(t.excluded_total()),
            t.describe_excluded()
        ));
    }
    for (why, n) in &o.not_in_format {
        s.push_str(&format!("; {} eligible but {why}", thousands(*n)));
    }
    s
}

fn code_at(state: &AppState, index: usize) -> Option<&str> {
    state
        .overview
        .as_ref()?
        .codes
        .get(index)
        .map(|c| c.code.as_str())
}

fn apply_sparklines(state: &mut AppState, s: Sparklines) {
    let Some(ov) = state.overview.as_ref() else {
        return;
    };
    state.spark_span = s.span;
    state.sparks = ov
        .codes
        .iter()
        .map(|c| {
            s.by_code
                .iter()
                .find(|(code, _)| *code == c.code)
                .map(|(_, v)| v.clone())
                .or_else(|| Some(vec![0; SPARK_BUCKETS]))
        })
        .collect();
}

/// The text a list row shows and the filter matches against: sanitised, so match
/// positions are positions on screen.
pub fn code_text(code: &str) -> String {
    let label = code
        .parse::<EnhancedCode>()
        .map(|c| crate::knowledge::list_label(&c))
        .unwrap_or_default();
    format!("{} {}", for_terminal(code), for_terminal(&label))
}

pub fn breakdown_text(value: Option<&str>) -> String {
    value.map_or_else(|| "(unknown)".to_string(), |v| for_terminal(v).into_owned())
}

/// Recomputes the filtered views of the lists; the query applies to the focused list only.
fn refresh_views(state: &mut AppState) {
    let query = |target: bool| -> String {
        match &state.filter {
            Some(f) if target => f.query.clone(),
            _ => String::new(),
        }
    };
    let on_triage = state.screen == Screen::Triage;
    let q_codes = query(on_triage && state.pane == Pane::Codes);
    let q_breakdown = query(on_triage && state.pane == Pane::Breakdown);
    let q_table = query(state.screen == Screen::Deliveries);

    let code_texts: Vec<String> = state
        .overview
        .as_ref()
        .map(|o| o.codes.iter().map(|c| code_text(&c.code)).collect())
        .unwrap_or_default();
    state.codes_view = matches(&q_codes, code_texts.iter().map(String::as_str));
    state.codes_cursor = state
        .codes_cursor
        .min(state.codes_view.len().saturating_sub(1));

    let breakdown_texts: Vec<String> = state
        .current_breakdown()
        .map(|b| {
            b.rows
                .iter()
                .map(|r| breakdown_text(r.value.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    state.breakdown_view = matches(&q_breakdown, breakdown_texts.iter().map(String::as_str));
    state.breakdown_cursor = state
        .breakdown_cursor
        .min(state.breakdown_view.len().saturating_sub(1));

    if let Some(t) = state.table.as_mut() {
        if q_table.is_empty() {
            t.matched.clear();
        } else {
            let texts: Vec<String> = t
                .rows
                .iter()
                .map(|r| for_terminal(&r.recipient).into_owned())
                .collect();
            t.matched = matches(&q_table, texts.iter().map(String::as_str));
            t.matched_cursor = t.matched_cursor.min(t.matched.len().saturating_sub(1));
        }
    }
}

/// Loads what the panes beside the codes list show for the selected code.
fn selection_effects(state: &AppState) -> Vec<Effect> {
    let Some(code) = state.selected_code() else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if state.current_breakdown().is_none() {
        effects.push(Effect::LoadBreakdown {
            code: code.to_string(),
            dim: state.dim,
        });
    }
    if state.current_causes().is_none() {
        effects.push(Effect::LoadCauses {
            code: code.to_string(),
        });
    }
    effects
}

/// Rows a wheel notch moves.
const WHEEL_ROWS: i64 = 3;

/// The wheel moves the cursor of the list in focus (or scrolls help); a left click on a
/// row of a list selects it, and focuses that list.
fn on_mouse(state: &mut AppState, ev: ratatui::crossterm::event::MouseEvent) -> Vec<Effect> {
    use super::state::ClickList;
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    if state.note_input.is_some()
        || state.export_confirm.is_some()
        || state.filter.as_ref().is_some_and(|f| f.editing)
    {
        return Vec::new();
    }
    let wheel = match ev.kind {
        MouseEventKind::ScrollDown => Some(WHEEL_ROWS),
        MouseEventKind::ScrollUp => Some(-WHEEL_ROWS),
        _ => None,
    };
    if let Some(by) = wheel {
        if state.help {
            let action = if by > 0 { Action::Down } else { Action::Up };
            for _ in 0..by.abs() {
                super::help::scroll(state, action);
            }
            return Vec::new();
        }
        return move_cursor(state, Move::By(by));
    }
    if ev.kind != MouseEventKind::Down(MouseButton::Left) || state.help {
        return Vec::new();
    }
    let hit = state.click_targets.borrow().iter().copied().find(|t| {
        t.rows
            .contains(ratatui::layout::Position::new(ev.column, ev.row))
    });
    let Some(target) = hit else {
        return Vec::new();
    };
    let index = target.top + u64::from(ev.row - target.rows.y);
    let mut effects = Vec::new();
    let current = match target.list {
        ClickList::Codes | ClickList::Breakdown if state.screen == Screen::Triage => {
            let (pane, len, cursor) = if target.list == ClickList::Codes {
                (Pane::Codes, state.codes_view.len(), state.codes_cursor)
            } else {
                (
                    Pane::Breakdown,
                    state.breakdown_view.len(),
                    state.breakdown_cursor,
                )
            };
            if index >= len as u64 {
                return Vec::new();
            }
            if state.pane != pane {
                state.pane = pane;
                clear_filter(state);
                effects = selection_effects(state);
            }
            cursor as u64
        }
        ClickList::Deliveries if state.screen == Screen::Deliveries => {
            let Some(t) = state.table.as_ref() else {
                return Vec::new();
            };
            let filtering = state.filter.as_ref().is_some_and(|f| !f.query.is_empty());
            let (len, cursor) = if filtering {
                (t.matched.len() as u64, t.matched_cursor as u64)
            } else {
                (t.total, t.cursor)
            };
            if index >= len {
                return Vec::new();
            }
            cursor
        }
        _ => return Vec::new(),
    };
    let delta = index as i64 - current as i64;
    if delta != 0 {
        effects.extend(move_cursor(state, Move::By(delta)));
    }
    effects
}

fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if state.note_input.is_some() {
        return on_note_key(state, key);
    }
    if state.export_confirm.is_some() {
        return on_confirm_key(state, key);
    }
    if state.filter.as_ref().is_some_and(|f| f.editing) {
        return on_filter_key(state, key);
    }
    let context = if state.help {
        super::keymap::Context::Global
    } else {
        state.screen.context()
    };
    let Some(action) = state.keymap.action(context, &key) else {
        return Vec::new();
    };
    if state.help {
        match action {
            Action::Quit => return quit(state),
            Action::Help | Action::Back => state.help = false,
            _ => super::help::scroll(state, action),
        }
        return Vec::new();
    }
    match action {
        Action::Quit => quit(state),
        Action::Help => {
            state.help = true;
            state.help_scroll = 0;
            Vec::new()
        }
        Action::Back => back(state),
        Action::Filter => {
            if matches!(state.screen, Screen::Triage | Screen::Deliveries) {
                state.filter = Some(Filter {
                    query: String::new(),
                    editing: true,
                });
            }
            Vec::new()
        }
        Action::Down => move_cursor(state, Move::By(1)),
        Action::Up => move_cursor(state, Move::By(-1)),
        Action::PageDown => move_cursor(state, Move::By(state.table_rows() as i64)),
        Action::PageUp => move_cursor(state, Move::By(-(state.table_rows() as i64))),
        Action::Top => move_cursor(state, Move::Top),
        Action::Bottom => move_cursor(state, Move::Bottom),
        Action::Open => open(state),
        Action::SwitchGrouping => {
            if state.screen != Screen::Triage {
                return Vec::new();
            }
            state.dim = state.dim.next();
            state.breakdown_cursor = 0;
            if state.pane == Pane::Breakdown {
                state.filter = None;
            }
            refresh_views(state);
            selection_effects(state)
        }
        Action::ExplainDown | Action::ExplainUp => {
            state.explain_scroll = if action == Action::ExplainDown {
                state
                    .explain_scroll
                    .saturating_add(3)
                    .min(state.explain_max.get())
            } else {
                state.explain_scroll.saturating_sub(3)
            };
            Vec::new()
        }
        Action::FocusBreakdown | Action::FocusCodes => {
            if state.screen == Screen::Triage {
                state.pane = if action == Action::FocusBreakdown {
                    Pane::Breakdown
                } else {
                    Pane::Codes
                };
                clear_filter(state);
                return selection_effects(state);
            }
            Vec::new()
        }
        Action::ToggleMark => toggle_mark(state),
        Action::RangeMark => range_mark(state),
        Action::MarkEligible | Action::UnmarkInView => {
            let Some(t) = state
                .table
                .as_ref()
                .filter(|_| state.screen == Screen::Deliveries)
            else {
                return Vec::new();
            };
            let filter = t.filter.clone();
            let only = in_view_ids(state);
            if action == Action::MarkEligible {
                vec![Effect::MarkEligible { filter, only }]
            } else {
                vec![Effect::UnmarkInView { filter, only }]
            }
        }
        Action::Unmark => unmark_selected(state),
        Action::Basket => {
            if !matches!(
                state.screen,
                Screen::Triage | Screen::Deliveries | Screen::Causes
            ) {
                return Vec::new();
            }
            state.filter = None;
            state.range_start = None;
            state.basket_from = state.screen;
            state.screen = Screen::Basket;
            refresh_views(state);
            vec![Effect::LoadBasket]
        }
        Action::Causes => {
            if state.screen != Screen::Triage {
                return Vec::new();
            }
            state.filter = None;
            state.screen = Screen::Causes;
            refresh_views(state);
            vec![Effect::LoadCauseList]
        }
        Action::Resolve => {
            if let Some(why) = resolve_pointless(state) {
                state.status = Some(why);
                return Vec::new();
            }
            let scope = match state.screen {
                Screen::Causes => state.selected_cause().map(|c| ResolveScope {
                    reason: c.reason.clone(),
                    destination: Some(c.destination.clone()),
                    host: Some(c.host.clone()),
                }),
                Screen::Triage => {
                    // A group's own cause may differ from its code's main one: ask the store.
                    if state.pane == Pane::Breakdown
                        && let (Some(code), Some(b)) =
                            (state.selected_code(), state.selected_breakdown())
                    {
                        if b.value.is_none() {
                            state.status = Some(format!(
                                "this group has no {} to resolve at: resolve its cause on the Causes screen (c)",
                                state.dim.label()
                            ));
                            return Vec::new();
                        }
                        return vec![Effect::PrepareGroupResolve {
                            code: code.to_string(),
                            dim: state.dim,
                            value: b.value.clone(),
                        }];
                    }
                    code_scope(state)
                }
                Screen::Deliveries => state.table.as_ref().and_then(|t| {
                    let reason = t.selected()?.cause.clone()?;
                    Some(match &t.filter.narrow {
                        Some((dim, value)) => group_scope(reason, *dim, value.clone()),
                        None => ResolveScope {
                            reason,
                            destination: None,
                            host: None,
                        },
                    })
                }),
                _ => return Vec::new(),
            };
            open_resolve_prompt(state, scope);
            Vec::new()
        }
        Action::UndoResolution => {
            if state.screen != Screen::Causes {
                return Vec::new();
            }
            match state
                .selected_cause()
                .and_then(|c| c.resolution.as_ref())
                .map(|r| r.id)
            {
                Some(id) => {
                    state.status = Some(format!("undoing resolution {id}…"));
                    vec![Effect::UndoResolution { id }]
                }
                None => {
                    state.status = Some("this cause has no resolution to undo".into());
                    Vec::new()
                }
            }
        }
        // Keys of the export's confirm step, which `on_confirm_key` answers.
        Action::NextFormat | Action::ToggleAgain | Action::EditDir | Action::Confirm => Vec::new(),
        Action::Export => {
            if state.screen != Screen::Basket {
                return Vec::new();
            }
            match &state.basket {
                Some(b) if !b.marked.is_empty() => {
                    state.export_confirm = Some(ExportConfirm {
                        format: Format::Csv,
                        again: false,
                        dir_input: None,
                    })
                }
                Some(_) => {
                    state.status =
                        Some("the basket is empty: mark deliveries first (space, v, a)".into())
                }
                None => {}
            }
            Vec::new()
        }
    }
}

/// Why resolving the selection's cause cannot make anything eligible, when its cause is a
/// failure of the address itself (a mailbox that does not exist, has moved, is suspended,
/// a domain that does not exist): `r` is then neither offered nor taken.
pub fn resolve_pointless(state: &AppState) -> Option<String> {
    use crate::triage::requeue::hard_failure;
    let (reason, code) = match state.screen {
        Screen::Triage if state.pane == Pane::Codes => (
            code_scope(state)?.reason,
            state.selected_code()?.to_string(),
        ),
        Screen::Deliveries => {
            let t = state.table.as_ref()?;
            (t.selected()?.cause.clone()?, t.filter.code.clone())
        }
        // Without a code a DNS failure may be temporary: only the address's own failures.
        Screen::Causes => (state.selected_cause()?.reason.clone(), String::new()),
        _ => return None,
    };
    hard_failure(Some(&reason), &code).then(|| {
        format!(
            "{} is a failure of the address itself: no fix on your side makes it deliverable, \
             so there is nothing to resolve (correct or drop the address)",
            crate::sanitize::for_terminal(&reason)
        )
    })
}

/// The selected code's scope for a resolution: its most common cause, everywhere.
fn code_scope(state: &AppState) -> Option<ResolveScope> {
    let reason = state
        .current_causes()?
        .iter()
        .find_map(|c| c.cause.clone())?;
    Some(ResolveScope {
        reason,
        destination: None,
        host: None,
    })
}

/// A second-level group's scope: its own main cause, at that destination or from that host.
pub fn group_scope(reason: String, dim: Dimension, value: Option<String>) -> ResolveScope {
    let mut scope = ResolveScope {
        reason,
        destination: None,
        host: None,
    };
    match dim {
        Dimension::Domain | Dimension::Provider => scope.destination = value,
        Dimension::Host => scope.host = value,
    }
    scope
}

fn open_resolve_prompt(state: &mut AppState, scope: Option<ResolveScope>) {
    match scope {
        Some(scope) => {
            state.note_input = Some(NoteInput {
                scope,
                note: String::new(),
                preview: None,
            })
        }
        None => state.status = Some("no known cause here to resolve".into()),
    }
}

/// With a filter, the ids of the matching loaded rows: "in view" is what the filter shows.
fn in_view_ids(state: &AppState) -> Option<Vec<i64>> {
    let t = state.table.as_ref()?;
    let filtering = state.filter.as_ref().is_some_and(|f| !f.query.is_empty());
    filtering.then(|| {
        t.matched
            .iter()
            .filter_map(|m| t.rows.get(m.index))
            .map(|r| r.id)
            .collect()
    })
}

fn selected_delivery(state: &AppState) -> Option<i64> {
    if state.screen != Screen::Deliveries {
        return None;
    }
    state.table.as_ref()?.selected().map(|r| r.id)
}

/// Space: the mark shows at once; the store's answer (`Msg::Marks`) confirms it.
fn toggle_mark(state: &mut AppState) -> Vec<Effect> {
    let Some(id) = selected_delivery(state) else {
        return Vec::new();
    };
    if state.marks.remove(&id) {
        vec![Effect::Unmark { ids: vec![id] }]
    } else {
        state.marks.insert(id);
        vec![Effect::Mark { ids: vec![id] }]
    }
}

fn unmark_selected(state: &mut AppState) -> Vec<Effect> {
    let id = match state.screen {
        Screen::Deliveries => selected_delivery(state),
        Screen::Basket => state
            .basket
            .as_ref()
            .and_then(|b| b.marked.get(state.basket_cursor))
            .map(|j| j.candidate.delivery_id),
        _ => None,
    };
    let Some(id) = id else {
        return Vec::new();
    };
    if !state.marks.remove(&id) && state.screen == Screen::Deliveries {
        state.status = Some("this delivery is not marked".into());
        return Vec::new();
    }
    vec![Effect::Unmark { ids: vec![id] }]
}

/// `v` starts a range at the selected row; `v` again marks every row between the two.
fn range_mark(state: &mut AppState) -> Vec<Effect> {
    let Some(id) = selected_delivery(state) else {
        return Vec::new();
    };
    let Some(start) = state.range_start.take() else {
        state.range_start = Some(id);
        state.status = Some("range started: move, then v to mark every row between".into());
        return Vec::new();
    };
    let (from_id, to_id) = (start.min(id), start.max(id));
    state.status = None;
    if let Some(ids) = in_view_ids(state) {
        let ids: Vec<i64> = ids
            .into_iter()
            .filter(|i| (from_id..=to_id).contains(i))
            .collect();
        state.marks.extend(ids.iter().copied());
        return vec![Effect::Mark { ids }];
    }
    let Some(t) = state.table.as_ref() else {
        return Vec::new();
    };
    vec![Effect::MarkRange {
        filter: t.filter.clone(),
        from_id,
        to_id,
    }]
}

fn on_note_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        if state.keymap.action(state.screen.context(), &key) == Some(Action::Quit) {
            return quit(state);
        }
        return Vec::new();
    }
    let Some(input) = state.note_input.as_mut() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {
            state.note_input = None;
            state.status = Some("resolution not recorded".into());
        }
        // The first Enter asks what the resolution would do; the second, with that on
        // screen, records it.
        KeyCode::Enter if input.preview.is_none() => {
            return vec![Effect::PreviewResolve {
                scope: input.scope.clone(),
            }];
        }
        KeyCode::Enter => {
            let scope = input.scope.clone();
            let note = input.note.trim().to_string();
            state.note_input = None;
            state.status = Some(format!("recording the resolution of {}…", scope.describe()));
            return vec![Effect::Resolve { scope, note }];
        }
        KeyCode::Backspace => {
            input.note.pop();
        }
        KeyCode::Char(c) if input.note.chars().count() < NOTE_MAX_CHARS => input.note.push(c),
        _ => {}
    }
    Vec::new()
}

fn on_confirm_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        if state.keymap.action(state.screen.context(), &key) == Some(Action::Quit) {
            return quit(state);
        }
        return Vec::new();
    }
    let Some(confirm) = state.export_confirm.as_mut() else {
        return Vec::new();
    };
    if let Some(input) = confirm.dir_input.as_mut() {
        match key.code {
            KeyCode::Char(c) => input.push(c),
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Enter => {
                let typed = input.trim();
                if !typed.is_empty() {
                    state.export_dir = typed.into();
                }
                confirm.dir_input = None;
            }
            KeyCode::Esc => confirm.dir_input = None,
            _ => {}
        }
        return Vec::new();
    }
    match state.keymap.own_action(Context::Export, &key) {
        Some(Action::EditDir) => {
            confirm.dir_input = Some(state.export_dir.display().to_string());
        }
        Some(Action::Back) => {
            state.export_confirm = None;
            state.status = Some("export cancelled; nothing written".into());
        }
        Some(Action::NextFormat) => confirm.format = next_format(confirm.format),
        Some(Action::ToggleAgain) => confirm.again = !confirm.again,
        Some(Action::Confirm) => {
            let (format, again) = (confirm.format, confirm.again);
            state.export_confirm = None;
            state.status = Some(format!("exporting as {}…", format.as_str()));
            return vec![Effect::Export {
                format,
                dir: state.export_dir.clone(),
                again,
            }];
        }
        _ => {}
    }
    Vec::new()
}

fn quit(state: &mut AppState) -> Vec<Effect> {
    state.quit = true;
    vec![Effect::Quit]
}

fn on_filter_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let before = state.selected_code().map(str::to_string);
    let ctrl_or_alt = key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if ctrl_or_alt {
        // Ctrl-C must quit from anywhere, typing included.
        if state.keymap.action(state.screen.context(), &key) == Some(Action::Quit) {
            return quit(state);
        }
        return Vec::new();
    }
    let mut effects = Vec::new();
    match key.code {
        KeyCode::Esc => {
            clear_filter(state);
            return Vec::new();
        }
        KeyCode::Enter => {
            if let Some(f) = state.filter.as_mut() {
                f.editing = false;
                if f.query.is_empty() {
                    state.filter = None;
                }
            }
        }
        KeyCode::Backspace => {
            if let Some(f) = state.filter.as_mut() {
                f.query.pop();
            }
        }
        KeyCode::Char(c) => {
            if let Some(f) = state.filter.as_mut() {
                f.query.push(c);
            }
        }
        KeyCode::Down => return move_cursor(state, Move::By(1)),
        KeyCode::Up => return move_cursor(state, Move::By(-1)),
        _ => return Vec::new(),
    }
    refresh_views(state);
    if let Some(t) = state.table.as_mut() {
        t.matched_cursor = 0;
    }
    if state.screen == Screen::Triage {
        if state.pane == Pane::Codes {
            state.codes_cursor = 0;
        } else {
            state.breakdown_cursor = 0;
        }
        if state.selected_code().map(str::to_string) != before {
            effects.extend(selection_effects(state));
        }
    }
    effects
}

fn back(state: &mut AppState) -> Vec<Effect> {
    if state.filter.is_some() {
        clear_filter(state);
        return Vec::new();
    }
    match state.screen {
        Screen::Delivery => state.screen = Screen::Deliveries,
        Screen::Deliveries => {
            state.screen = Screen::Triage;
            state.range_start = None;
            // A million rows are not kept for a screen no one is looking at.
            state.table = None;
        }
        Screen::Causes => state.screen = Screen::Triage,
        Screen::Basket => state.screen = state.basket_from,
        Screen::Triage | Screen::Import => {}
    }
    refresh_views(state);
    Vec::new()
}

/// Drops the filter; the selected code and second-level row stay selected.
fn clear_filter(state: &mut AppState) {
    let code = state.selected_code().map(str::to_string);
    let value = state.selected_breakdown().map(|b| b.value.clone());
    state.filter = None;
    refresh_views(state);
    if let Some(code) = code
        && let Some(i) = state
            .codes_view
            .iter()
            .position(|m| code_at(state, m.index) == Some(code.as_str()))
    {
        state.codes_cursor = i;
    }
    // The second level's view depends on which code is selected.
    refresh_views(state);
    if let (Some(value), Some(b)) = (value, state.current_breakdown())
        && let Some(i) = state
            .breakdown_view
            .iter()
            .position(|m| b.rows.get(m.index).map(|r| &r.value) == Some(&value))
    {
        state.breakdown_cursor = i;
    }
}

fn step(cursor: usize, len: usize, mv: Move) -> usize {
    if len == 0 {
        return 0;
    }
    match mv {
        Move::By(d) => (cursor as i64 + d).clamp(0, len as i64 - 1) as usize,
        Move::Top => 0,
        Move::Bottom => len - 1,
    }
}

fn move_cursor(state: &mut AppState, mv: Move) -> Vec<Effect> {
    match state.screen {
        Screen::Import => Vec::new(),
        Screen::Triage => match state.pane {
            Pane::Codes => {
                let before = state.codes_cursor;
                state.codes_cursor = step(state.codes_cursor, state.codes_view.len(), mv);
                if state.codes_cursor != before {
                    state.breakdown_cursor = 0;
                    state.explain_scroll = 0;
                    refresh_views(state);
                    return selection_effects(state);
                }
                Vec::new()
            }
            Pane::Breakdown => {
                state.breakdown_cursor =
                    step(state.breakdown_cursor, state.breakdown_view.len(), mv);
                Vec::new()
            }
        },
        Screen::Deliveries => {
            let rows = state.table_rows() as u64;
            state.generation += 1;
            let generation = state.generation;
            let filtering = state.filter.as_ref().is_some_and(|f| !f.query.is_empty());
            let Some(t) = state.table.as_mut() else {
                return Vec::new();
            };
            if filtering {
                t.matched_cursor = step(t.matched_cursor, t.matched.len(), mv);
                return Vec::new();
            }
            let effect = move_in_table(t, mv, generation);
            keep_visible(t, rows);
            effect.into_iter().collect()
        }
        Screen::Delivery => {
            let max = if state.detail.is_some() {
                i64::from(state.detail_max.get())
            } else {
                0
            };
            state.detail_scroll = match mv {
                Move::By(d) => (state.detail_scroll as i64 + d).clamp(0, max) as u16,
                Move::Top => 0,
                Move::Bottom => max as u16,
            };
            Vec::new()
        }
        Screen::Causes => {
            let len = state.causes_view.as_ref().map_or(0, |v| v.causes.len());
            state.causes_cursor = step(state.causes_cursor, len, mv);
            Vec::new()
        }
        Screen::Basket => {
            let len = state.basket.as_ref().map_or(0, |b| b.marked.len());
            state.basket_cursor = step(state.basket_cursor, len, mv);
            Vec::new()
        }
    }
}

fn load(t: &mut DeliveryTable, anchor: Anchor) -> Effect {
    t.loading = Some(anchor);
    Effect::LoadPage {
        generation: t.generation,
        filter: t.filter.clone(),
        anchor,
        limit: PAGE_ROWS,
    }
}

/// Moves the absolute cursor within the loaded window; a jump to either end drops the
/// window and loads that end's page (a new generation, so a page still on its way for
/// the old position is ignored).
fn move_in_table(t: &mut DeliveryTable, mv: Move, generation: u64) -> Option<Effect> {
    if t.total == 0 {
        return None;
    }
    let loaded_end = t.start + t.rows.len() as u64;
    match mv {
        Move::Top if t.start > 0 || t.rows.is_empty() => {
            t.rows.clear();
            t.start = 0;
            t.cursor = 0;
            t.generation = generation;
            return Some(load(t, Anchor::After(i64::MIN)));
        }
        Move::Bottom if loaded_end < t.total || t.rows.is_empty() => {
            t.rows.clear();
            t.start = t.total;
            t.cursor = t.total - 1;
            t.generation = generation;
            return Some(load(t, Anchor::Before(i64::MAX)));
        }
        Move::Top => t.cursor = 0,
        Move::Bottom => t.cursor = loaded_end - 1,
        Move::By(d) => {
            if t.rows.is_empty() {
                return None;
            }
            // Until the next page is in, the cursor stops at the edge of what is loaded.
            let target = (t.cursor as i64 + d).clamp(t.start as i64, loaded_end as i64 - 1);
            t.cursor = target as u64;
        }
    }
    maybe_fetch(t)
}

/// Scrolls the view only as far as needed to keep the cursor on screen.
fn keep_visible(t: &mut DeliveryTable, rows: u64) {
    if t.cursor < t.top {
        t.top = t.cursor;
    } else if t.cursor >= t.top + rows {
        t.top = t.cursor + 1 - rows;
    }
}

fn maybe_fetch(t: &mut DeliveryTable) -> Option<Effect> {
    if t.loading.is_some() || t.rows.is_empty() {
        return None;
    }
    let loaded_end = t.start + t.rows.len() as u64;
    if t.cursor + PAGE_MARGIN >= loaded_end && loaded_end < t.total {
        let last = t.rows.last()?.id;
        return Some(load(t, Anchor::After(last)));
    }
    if t.cursor < t.start + PAGE_MARGIN && t.start > 0 {
        let first = t.rows.first()?.id;
        return Some(load(t, Anchor::Before(first)));
    }
    None
}

fn apply_page(
    state: &mut AppState,
    generation: u64,
    anchor: Anchor,
    rows: Vec<crate::store::browse::DeliveryRow>,
    verdicts: BTreeMap<i64, Verdict>,
) -> Vec<Effect> {
    let Some(t) = state.table.as_mut() else {
        return Vec::new();
    };
    if t.generation != generation || t.loading != Some(anchor) {
        return Vec::new();
    }
    t.loading = None;
    t.verdicts.extend(verdicts);
    let n = rows.len();
    let short = n < PAGE_ROWS;
    match anchor {
        Anchor::After(_) => {
            t.rows.extend(rows);
            if short {
                // The end of the group: the count it was opened with may be stale.
                t.total = t.start + t.rows.len() as u64;
            }
            // Drop rows from the far end, but never those near the cursor (it may have
            // moved back up while this page was on its way).
            let keep_above = (t.cursor.saturating_sub(t.start)).saturating_sub(PAGE_MARGIN);
            let excess = t
                .rows
                .len()
                .saturating_sub(WINDOW_ROWS)
                .min(keep_above as usize);
            t.rows.drain(..excess);
            t.start += excess as u64;
        }
        Anchor::Before(_) => {
            let new_start = if short {
                0
            } else {
                t.start.saturating_sub(n as u64)
            };
            if t.rows.is_empty() {
                t.rows = rows;
                t.start = new_start;
                if short {
                    t.total = n as u64;
                }
                t.cursor = (t.start + t.rows.len() as u64).saturating_sub(1);
            } else {
                let rel = t.cursor.saturating_sub(t.start);
                let mut merged = rows;
                merged.append(&mut t.rows);
                t.rows = merged;
                t.start = new_start;
                t.cursor = new_start + n as u64 + rel;
                let needed = (t.cursor - t.start) as usize + PAGE_MARGIN as usize + 1;
                t.rows.truncate(WINDOW_ROWS.max(needed));
            }
        }
    }
    if t.rows.is_empty() {
        t.total = 0;
        t.cursor = 0;
    } else {
        let end = t.start + t.rows.len() as u64 - 1;
        t.cursor = t.cursor.clamp(t.start, end);
    }
    // Verdicts go with the rows the window still holds.
    let held: BTreeSet<i64> = t.rows.iter().map(|r| r.id).collect();
    t.verdicts.retain(|id, _| held.contains(id));
    let next = maybe_fetch(t);
    let rows = state.table_rows() as u64;
    if let Some(t) = state.table.as_mut() {
        keep_visible(t, rows);
    }
    refresh_views(state);
    next.into_iter().collect()
}

/// A resolution or an export may change the verdict on rows already on screen.
fn judge_loaded_rows(state: &AppState) -> Option<Effect> {
    let t = state.table.as_ref().filter(|t| !t.rows.is_empty())?;
    Some(Effect::JudgeRows {
        ids: t.rows.iter().map(|r| r.id).collect(),
    })
}

fn open(state: &mut AppState) -> Vec<Effect> {
    match state.screen {
        Screen::Triage => {
            let Some(code) = state.selected_code().map(str::to_string) else {
                return Vec::new();
            };
            let label = code
                .parse::<EnhancedCode>()
                .map(|c| c.label())
                .unwrap_or("");
            let (narrow, total, title) = match state.pane {
                Pane::Codes => {
                    let total = state
                        .overview
                        .as_ref()
                        .and_then(|o| o.codes.iter().find(|c| c.code == code))
                        .map_or(0, |c| c.count);
                    (None, total, format!("{} {label}", for_terminal(&code)))
                }
                Pane::Breakdown => {
                    let Some(b) = state.selected_breakdown() else {
                        return Vec::new();
                    };
                    let title = format!(
                        "{} {label} · {} {}",
                        for_terminal(&code),
                        state.dim.label(),
                        breakdown_text(b.value.as_deref())
                    );
                    (Some((state.dim, b.value.clone())), b.count, title)
                }
            };
            state.generation += 1;
            let mut table = DeliveryTable {
                filter: DeliveryFilter { code, narrow },
                title,
                total,
                start: 0,
                rows: Vec::new(),
                cursor: 0,
                top: 0,
                loading: None,
                generation: state.generation,
                matched: Vec::new(),
                matched_cursor: 0,
                verdicts: BTreeMap::new(),
            };
            let effect = load(&mut table, Anchor::After(i64::MIN));
            state.table = Some(table);
            state.filter = None;
            state.screen = Screen::Deliveries;
            vec![effect]
        }
        Screen::Deliveries => {
            let Some(id) = state
                .table
                .as_ref()
                .and_then(|t| t.selected())
                .map(|r| r.id)
            else {
                return Vec::new();
            };
            state.detail_id = Some(id);
            state.detail = None;
            state.detail_scroll = 0;
            state.filter = None;
            state.screen = Screen::Delivery;
            refresh_views(state);
            vec![Effect::LoadDelivery { id }]
        }
        Screen::Import | Screen::Delivery | Screen::Causes | Screen::Basket => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::exported_summary;
    use crate::store::requeue::Batch;
    use crate::triage::basket::ExportOutcome;
    use crate::triage::requeue::Tally;

    fn outcome(batch: Option<Batch>, tally: Tally) -> ExportOutcome {
        ExportOutcome {
            batch,
            records: Vec::new(),
            tally,
            not_in_format: Default::default(),
        }
    }

    #[test]
    fn export_summaries_count_in_the_singular_or_plural() {
        let mut tally = Tally::default();
        tally.excluded.insert("already_exported", 1);
        assert_eq!(
            exported_summary(&outcome(None, tally.clone())),
            "nothing new to export: 1 of the 1 marked was already exported; no file written; \
             1 excluded (1 already exported)"
        );
        let batch = Batch {
            id: 3,
            created_at: 0,
            format: "csv".into(),
            destination: "b.csv".into(),
            items: 4211,
        };
        tally.eligible = 4211;
        tally.excluded.insert("hard_failure", 2);
        assert!(
            exported_summary(&outcome(Some(batch), tally)).starts_with(
                "batch 3: 4,211 deliveries exported as csv to b.csv; 3 excluded (2 hard failures, 1 already"
            )
        );
    }
}
