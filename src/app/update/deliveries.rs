//! The deliveries screen: keyset paging over a list, its order and `/` filter (both run
//! by the store, over the whole list), and marking.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::delivery::{Anchor, DeliveryFilter, DeliveryRow, StatusFilter};
use crate::triage::requeue::ResendVerdict;

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{
    AppState, DeliveryTable, Move, PAGE_MARGIN, PAGE_ROWS, Screen, WINDOW_ROWS,
};
use super::refresh_views;

/// The list again from its first row, as its filter now is: the `/` text typed so far,
/// the sort, the time window. A new generation, so a page still on its way is dropped.
pub(super) fn reopen(state: &mut AppState) -> Vec<Effect> {
    let text = match &state.filter {
        Some(f) if state.screen == Screen::Deliveries && !f.query.is_empty() => {
            Some(f.query.clone())
        }
        _ => None,
    };
    state.deliveries.generation += 1;
    let generation = state.deliveries.generation;
    let sort = state.deliveries.sort;
    let Some(t) = state.deliveries.table.as_mut() else {
        return Vec::new();
    };
    // Elsewhere (a delivery opened from the list) the list keeps the filter it has.
    if state.screen == Screen::Deliveries {
        t.filter.text = text;
    }
    t.filter.sort = sort;
    t.rows.clear();
    t.start = 0;
    t.cursor.reset();
    t.generation = generation;
    t.verdicts.clear();
    state.deliveries.range_start = None;
    vec![load_counted(t)]
}

pub(super) fn move_cursor(state: &mut AppState, mv: Move) -> Vec<Effect> {
    let rows = state.table_rows() as u64;
    state.deliveries.generation += 1;
    let generation = state.deliveries.generation;
    let Some(t) = state.deliveries.table.as_mut() else {
        return Vec::new();
    };
    let effect = move_in_table(t, mv, generation);
    t.cursor.keep_visible(rows);
    effect.into_iter().collect()
}

pub(super) fn load(t: &mut DeliveryTable, anchor: Anchor) -> Effect {
    load_page(t, anchor, false)
}

/// The first page, with the list's rows counted: the count the list was opened with is
/// the group's, which a `/` filter or a time window makes wrong.
pub(super) fn load_counted(t: &mut DeliveryTable) -> Effect {
    load_page(t, Anchor::After(i64::MIN), true)
}

fn load_page(t: &mut DeliveryTable, anchor: Anchor, count: bool) -> Effect {
    t.loading = Some(anchor);
    Effect::LoadPage {
        generation: t.generation,
        filter: t.filter.clone(),
        anchor,
        limit: PAGE_ROWS,
        count,
    }
}

/// Moves the absolute cursor within the loaded window; a jump to either end drops the
/// window and loads that end's page (a new generation, so a page still on its way for
/// the old position is ignored).
fn move_in_table(t: &mut DeliveryTable, mv: Move, generation: u64) -> Option<Effect> {
    if t.total == 0 {
        return None;
    }
    let loaded_end = t.loaded_end();
    match mv {
        Move::Top if t.start > 0 || t.rows.is_empty() => {
            t.rows.clear();
            t.start = 0;
            t.cursor.selected = 0;
            t.generation = generation;
            return Some(load(t, Anchor::After(i64::MIN)));
        }
        Move::Bottom if loaded_end < t.total || t.rows.is_empty() => {
            t.rows.clear();
            t.start = t.total;
            t.cursor.selected = t.total - 1;
            t.generation = generation;
            return Some(load(t, Anchor::Before(i64::MAX)));
        }
        Move::Top | Move::Bottom => t.cursor.selected = t.cursor.target(mv, t.start, loaded_end),
        Move::By(_) => {
            if t.rows.is_empty() {
                return None;
            }
            // Until the next page is in, the cursor stops at the edge of what is loaded.
            t.cursor.selected = t.cursor.target(mv, t.start, loaded_end);
        }
    }
    maybe_fetch(t)
}

fn maybe_fetch(t: &mut DeliveryTable) -> Option<Effect> {
    if t.loading.is_some() || t.rows.is_empty() {
        return None;
    }
    let loaded_end = t.loaded_end();
    if t.cursor.selected + PAGE_MARGIN >= loaded_end && loaded_end < t.total {
        let last = t.rows.last()?.id;
        return Some(load(t, Anchor::After(last)));
    }
    if t.cursor.selected < t.start + PAGE_MARGIN && t.start > 0 {
        let first = t.rows.first()?.id;
        return Some(load(t, Anchor::Before(first)));
    }
    None
}

pub(super) fn apply_page(
    state: &mut AppState,
    generation: u64,
    anchor: Anchor,
    rows: Vec<DeliveryRow>,
    total: Option<u64>,
    verdicts: BTreeMap<i64, ResendVerdict>,
) -> Vec<Effect> {
    let screen_rows = state.table_rows() as u64;
    let Some(t) = state.deliveries.table.as_mut() else {
        return Vec::new();
    };
    if t.generation != generation || t.loading != Some(anchor) {
        return Vec::new();
    }
    t.loading = None;
    if let Some(total) = total {
        t.total = total;
    }
    t.verdicts.extend(verdicts);
    let n = rows.len();
    let short = n < PAGE_ROWS;
    let cursor = t.cursor.selected;
    match anchor {
        Anchor::After(_) => {
            t.rows.extend(rows);
            if short {
                // The end of the group: the count it was opened with may be stale.
                t.total = t.loaded_end();
            }
            // Drop rows from the far end, but never those near the cursor (it may have
            // moved back up while this page was on its way).
            let keep_above = (cursor.saturating_sub(t.start)).saturating_sub(PAGE_MARGIN);
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
                t.cursor.selected = t.loaded_end().saturating_sub(1);
            } else {
                let rel = cursor.saturating_sub(t.start);
                let mut merged = rows;
                merged.append(&mut t.rows);
                t.rows = merged;
                t.start = new_start;
                t.cursor.selected = new_start + n as u64 + rel;
                let needed = (t.cursor.selected - t.start) as usize + PAGE_MARGIN as usize + 1;
                t.rows.truncate(WINDOW_ROWS.max(needed));
            }
        }
    }
    if t.rows.is_empty() {
        t.total = 0;
        t.cursor.selected = 0;
    } else {
        let end = t.loaded_end() - 1;
        t.cursor.selected = t.cursor.selected.clamp(t.start, end);
    }
    // Verdicts go with the rows the window still holds.
    let held: BTreeSet<i64> = t.rows.iter().map(|r| r.id).collect();
    t.verdicts.retain(|id, _| held.contains(id));
    let next = maybe_fetch(t);
    t.cursor.keep_visible(screen_rows);
    next.into_iter().collect()
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Open => open_delivery(state),
        Action::ToggleMark => toggle_mark(state),
        Action::RangeMark => range_mark(state),
        Action::Sort | Action::ReverseSort => {
            let sort = &mut state.deliveries.sort;
            if action == Action::Sort {
                sort.key = sort.key.next();
            } else {
                sort.descending = !sort.descending;
            }
            reopen(state)
        }
        Action::Browse => {
            // On a list of one status, the next status; a triage group stays what it is.
            let Some(t) = state
                .deliveries
                .table
                .as_mut()
                .filter(|t| t.filter.code.is_none())
            else {
                return Vec::new();
            };
            t.filter.status = t.filter.status.next();
            t.title = super::senders::title(&t.filter);
            reopen(state)
        }
        Action::MarkEligible | Action::UnmarkInView => {
            let Some(t) = state.deliveries.table.as_ref() else {
                return Vec::new();
            };
            let filter = t.filter.clone();
            if action == Action::MarkEligible {
                vec![Effect::MarkEligible { filter }]
            } else {
                vec![Effect::UnmarkInView { filter }]
            }
        }
        Action::Unmark => {
            let Some(id) = selected_delivery(state) else {
                return Vec::new();
            };
            if !state.marks.remove(&id) {
                state.status = Some("this delivery is not marked".into());
                return Vec::new();
            }
            vec![Effect::Unmark { ids: vec![id] }]
        }
        _ => Vec::new(),
    }
}

/// Every delivery of one status, over all codes and destinations, in the kept sort.
pub(super) fn open_status(state: &mut AppState, status: StatusFilter) -> Vec<Effect> {
    let filter = DeliveryFilter {
        status,
        sort: state.deliveries.sort,
        ..DeliveryFilter::default()
    };
    let title = super::senders::title(&filter);
    state.deliveries.table = Some(DeliveryTable::new(filter, title, 0, 0));
    state.deliveries.from = None;
    state.filter = None;
    state.screen = Screen::Deliveries;
    reopen(state)
}

fn open_delivery(state: &mut AppState) -> Vec<Effect> {
    let Some(id) = selected_delivery(state) else {
        return Vec::new();
    };
    let d = &mut state.delivery;
    d.id = Some(id);
    d.detail = None;
    d.scroll.offset = 0;
    state.filter = None;
    state.screen = Screen::Delivery;
    refresh_views(state);
    vec![Effect::LoadDelivery { id }]
}

fn selected_delivery(state: &AppState) -> Option<i64> {
    if state.screen != Screen::Deliveries {
        return None;
    }
    state.deliveries.table.as_ref()?.selected().map(|r| r.id)
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

/// `v` starts a range at the selected row; `v` again marks every row between the two, in
/// the list's order (whatever it is sorted by).
fn range_mark(state: &mut AppState) -> Vec<Effect> {
    let Some(id) = selected_delivery(state) else {
        return Vec::new();
    };
    let Some(t) = state.deliveries.table.as_ref() else {
        return Vec::new();
    };
    let at = t.cursor.selected;
    let Some(start) = state.deliveries.range_start.take() else {
        state.deliveries.range_start = Some(id);
        state.deliveries.range_position = at;
        state.status = Some("range started: move, then v to mark every row between".into());
        return Vec::new();
    };
    let (from_id, to_id) = if state.deliveries.range_position <= at {
        (start, id)
    } else {
        (id, start)
    };
    state.status = None;
    vec![Effect::MarkRange {
        filter: t.filter.clone(),
        from_id,
        to_id,
    }]
}
