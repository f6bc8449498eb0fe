//! The triage screen's keys and replies: the codes list, the second level beside it, and
//! the explanation of the selected code.

use crate::classify::EnhancedCode;
use crate::knowledge::Knowledge;
use crate::model::delivery::{DeliveryFilter, Overview, Sparklines};
use crate::sanitize::for_terminal;

use super::super::explain::panel_for;
use super::super::filter::matches;
use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::triage::ShownPanel;
use super::super::state::{AppState, DeliveryTable, Move, Pane, SPARK_BUCKETS, Screen};
use super::{deliveries, refresh_views};

/// The text a code's row shows and the filter matches against: sanitised, so match
/// positions are positions on screen.
pub fn code_text(knowledge: &Knowledge, code: &str) -> String {
    let label = code
        .parse::<EnhancedCode>()
        .map(|c| knowledge.list_label(&c))
        .unwrap_or_default();
    format!("{} {}", for_terminal(code), for_terminal(&label))
}

pub fn breakdown_text(value: Option<&str>) -> String {
    value.map_or_else(|| "(unknown)".to_string(), |v| for_terminal(v).into_owned())
}

pub(super) fn on_overview(state: &mut AppState, mut overview: Overview) -> Vec<Effect> {
    let keep = state.selected_code().map(str::to_string);
    // Expired mail is what users come for: 4.4.7 leads the list whatever its count.
    let expired = EnhancedCode::EXPIRED.to_string();
    overview.codes.sort_by_key(|c| c.code != expired);
    let t = &mut state.triage;
    t.sparks = vec![None; overview.codes.len()];
    t.code_texts = overview
        .codes
        .iter()
        .map(|c| code_text(&state.knowledge, &c.code))
        .collect();
    t.overview = Some(overview);
    t.sent_counted = false;
    refresh_views(state);
    let t = &mut state.triage;
    t.codes.cursor.selected = keep
        .and_then(|k| {
            t.codes
                .view
                .iter()
                .position(|m| t.code_at(m.index) == Some(k.as_str()))
        })
        .unwrap_or(0) as u64;
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

pub(super) fn apply_sparklines(state: &mut AppState, s: Sparklines) {
    let t = &mut state.triage;
    let Some(ov) = t.overview.as_ref() else {
        return;
    };
    t.spark_span = s.span;
    t.sparks = ov
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

/// Rebuilds the explanation when the selected code, or whether its causes are in, changed.
pub(super) fn sync_panel(state: &mut AppState) {
    let t = &state.triage;
    let Some(code) = t.selected_code() else {
        state.triage.panel = None;
        return;
    };
    let causes = t.current_causes();
    let fresh = t
        .panel
        .as_ref()
        .is_some_and(|p| p.code == code && p.with_causes == causes.is_some());
    if fresh {
        return;
    }
    let shown = ShownPanel {
        code: code.to_string(),
        with_causes: causes.is_some(),
        panel: panel_for(&state.knowledge, code, causes),
    };
    state.triage.panel = Some(shown);
}

/// Recomputes the codes and second-level lists as the filter narrows them (the query
/// applies to the focused one).
pub(super) fn refresh(state: &mut AppState) {
    let on_triage = state.screen == Screen::Triage;
    let query = |pane: Pane| -> &str {
        match &state.filter {
            Some(f) if on_triage && state.triage.pane == pane => &f.query,
            _ => "",
        }
    };
    let (q_codes, q_breakdown) = (
        query(Pane::Codes).to_string(),
        query(Pane::Breakdown).to_string(),
    );
    let t = &mut state.triage;
    t.codes.view = matches(&q_codes, t.code_texts.iter().map(String::as_str));
    t.codes.cursor.clamp(t.codes.len());

    let breakdown_texts: Vec<String> = t
        .current_breakdown()
        .map(|b| {
            b.rows
                .iter()
                .map(|r| breakdown_text(r.value.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    t.breakdown_list.view = matches(&q_breakdown, breakdown_texts.iter().map(String::as_str));
    t.breakdown_list.cursor.clamp(t.breakdown_list.len());
}

/// Loads what the panes beside the codes list show for the selected code.
pub(super) fn selection_effects(state: &AppState) -> Vec<Effect> {
    let t = &state.triage;
    let Some(code) = t.selected_code() else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if t.current_breakdown().is_none() {
        effects.push(Effect::LoadBreakdown {
            code: code.to_string(),
            dim: t.dim,
        });
    }
    if t.current_causes().is_none() {
        effects.push(Effect::LoadCauses {
            code: code.to_string(),
        });
    }
    effects
}

pub(super) fn move_cursor(state: &mut AppState, mv: Move) -> Vec<Effect> {
    let t = &mut state.triage;
    match t.pane {
        Pane::Codes => {
            if t.codes.cursor.step(mv, t.codes.len()) {
                t.breakdown_list.cursor.reset();
                t.explain.offset = 0;
                refresh_views(state);
                return selection_effects(state);
            }
            Vec::new()
        }
        Pane::Breakdown => {
            t.breakdown_list.cursor.step(mv, t.breakdown_list.len());
            Vec::new()
        }
    }
}

/// Drops the filter; the selected code and second-level row stay selected.
pub(super) fn clear_filter(state: &mut AppState) {
    let code = state.selected_code().map(str::to_string);
    let value = state.triage.selected_breakdown().map(|b| b.value.clone());
    state.filter = None;
    refresh_views(state);
    let t = &mut state.triage;
    if let Some(code) = code
        && let Some(i) = t
            .codes
            .view
            .iter()
            .position(|m| t.code_at(m.index) == Some(code.as_str()))
    {
        t.codes.cursor.selected = i as u64;
    }
    // The second level's view depends on which code is selected.
    refresh_views(state);
    let t = &mut state.triage;
    if let (Some(value), Some(b)) = (value, t.current_breakdown())
        && let Some(i) = t
            .breakdown_list
            .view
            .iter()
            .position(|m| b.rows.get(m.index).map(|r| &r.value) == Some(&value))
    {
        t.breakdown_list.cursor.selected = i as u64;
    }
}

/// Focuses the codes or the second level; the other list's filter does not follow.
pub(super) fn focus(state: &mut AppState, pane: Pane) -> Vec<Effect> {
    state.triage.pane = pane;
    clear_filter(state);
    selection_effects(state)
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Open => open_group(state),
        Action::SwitchGrouping => {
            let t = &mut state.triage;
            t.dim = t.dim.next();
            t.breakdown_list.cursor.reset();
            if t.pane == Pane::Breakdown {
                state.filter = None;
            }
            refresh_views(state);
            selection_effects(state)
        }
        Action::ExplainDown => {
            let e = &mut state.triage.explain;
            e.offset = e.offset.saturating_add(3).min(e.max.get());
            Vec::new()
        }
        Action::ExplainUp => {
            let e = &mut state.triage.explain;
            e.offset = e.offset.saturating_sub(3);
            Vec::new()
        }
        Action::FocusBreakdown => focus(state, Pane::Breakdown),
        Action::FocusCodes => focus(state, Pane::Codes),
        Action::Browse => super::deliveries::open_status(
            state,
            crate::model::delivery::StatusFilter::default().next(),
        ),
        Action::Causes => {
            state.filter = None;
            state.screen = Screen::Causes;
            refresh_views(state);
            vec![Effect::LoadCauseList]
        }
        _ => Vec::new(),
    }
}

/// Enter: the deliveries of the selected code, or of its selected second-level group.
fn open_group(state: &mut AppState) -> Vec<Effect> {
    let t = &state.triage;
    let Some(code) = t.selected_code().map(str::to_string) else {
        return Vec::new();
    };
    let label = code
        .parse::<EnhancedCode>()
        .map(|c| c.label())
        .unwrap_or("");
    let (narrow, total, title) = match t.pane {
        Pane::Codes => {
            let total = t
                .overview
                .as_ref()
                .and_then(|o| o.codes.iter().find(|c| c.code == code))
                .map_or(0, |c| c.count);
            (None, total, format!("{} {label}", for_terminal(&code)))
        }
        Pane::Breakdown => {
            let Some(b) = t.selected_breakdown() else {
                return Vec::new();
            };
            let title = format!(
                "{} {label} · {} {}",
                for_terminal(&code),
                t.dim.label(),
                breakdown_text(b.value.as_deref())
            );
            (Some((t.dim, b.value.clone())), b.count, title)
        }
    };
    state.deliveries.generation += 1;
    let mut table = DeliveryTable::new(
        DeliveryFilter {
            sort: state.deliveries.sort,
            ..DeliveryFilter::group(code, narrow)
        },
        title,
        total,
        state.deliveries.generation,
    );
    let effect = deliveries::load_counted(&mut table);
    state.deliveries.table = Some(table);
    state.deliveries.from = None;
    state.filter = None;
    state.screen = Screen::Deliveries;
    vec![effect]
}
