//! The search screen's keys: the query typed in its overlay, the hits paged in as the
//! cursor nears the end, Enter to a delivery.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, Move, Overlay, SEARCH_MARGIN, SEARCH_PAGE, Screen};
use super::overlay::typing_guard;
use crate::model::delivery::SearchHit;

/// `s`: the query to type, over the search screen (its last query kept to edit).
pub(super) fn open(state: &mut AppState) -> Vec<Effect> {
    if matches!(state.screen, Screen::Triage | Screen::Search) {
        state.screen = Screen::Search;
        state.overlay = Some(Overlay::Search);
    }
    Vec::new()
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if let Some(effects) = typing_guard(state, &key) {
        return effects;
    }
    let s = &mut state.search;
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            if s.query.is_none() {
                state.screen = Screen::Triage;
            }
        }
        KeyCode::Enter => {
            let query = s.input.trim().to_string();
            if query.is_empty() {
                return Vec::new();
            }
            state.overlay = None;
            s.query = Some(query.clone());
            s.hits.clear();
            s.cursor.reset();
            s.loading = true;
            s.complete = false;
            s.error = None;
            return vec![Effect::Search {
                query,
                before: None,
            }];
        }
        KeyCode::Backspace => {
            s.input.pop();
        }
        KeyCode::Char(c) => s.input.push(c),
        _ => {}
    }
    Vec::new()
}

pub(super) fn on_hits(
    state: &mut AppState,
    query: String,
    before: Option<i64>,
    hits: Result<Vec<SearchHit>, String>,
) -> Vec<Effect> {
    let s = &mut state.search;
    if s.query.as_deref() != Some(query.as_str()) {
        return Vec::new();
    }
    s.loading = false;
    match hits {
        Ok(page) => {
            s.complete = page.len() < SEARCH_PAGE as usize;
            // A page for the last loaded hit only: anything else is a stale reply.
            if before.is_none() {
                s.hits = page;
            } else if before == s.hits.last().map(|h| h.id) {
                s.hits.extend(page);
            }
        }
        Err(e) => {
            s.complete = true;
            s.error = Some(e);
        }
    }
    Vec::new()
}

pub(super) fn move_cursor(state: &mut AppState, mv: Move) -> Vec<Effect> {
    let rows = state.table_rows() as u64;
    let s = &mut state.search;
    s.cursor.step(mv, s.hits.len() as u64);
    s.cursor.keep_visible(rows);
    if s.loading || s.complete || s.cursor.index() + SEARCH_MARGIN < s.hits.len() {
        return Vec::new();
    }
    let (Some(query), Some(last)) = (s.query.clone(), s.hits.last()) else {
        return Vec::new();
    };
    s.loading = true;
    vec![Effect::Search {
        query,
        before: Some(last.id),
    }]
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Open => {
            let Some(id) = state.search.selected().map(|h| h.id) else {
                return Vec::new();
            };
            let d = &mut state.delivery;
            d.id = Some(id);
            d.detail = None;
            d.scroll.offset = 0;
            state.search.opened = true;
            state.screen = Screen::Delivery;
            vec![Effect::LoadDelivery { id }]
        }
        Action::Search => open(state),
        _ => Vec::new(),
    }
}
