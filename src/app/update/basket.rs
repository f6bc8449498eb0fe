//! The basket screen: opening it, unmarking from it, and starting an export.

use crate::requeue::export::RequeueFormat;

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, ExportConfirm, Overlay, Screen};
use super::refresh_views;

/// `b`: the basket, from the screens that mark or resolve; Esc goes back there.
pub(super) fn open(state: &mut AppState) -> Vec<Effect> {
    if !matches!(
        state.screen,
        Screen::Triage | Screen::Deliveries | Screen::Causes
    ) {
        return Vec::new();
    }
    state.filter = None;
    state.deliveries.range_start = None;
    state.basket.from = state.screen;
    state.screen = Screen::Basket;
    refresh_views(state);
    vec![Effect::LoadBasket]
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Unmark => {
            let b = &state.basket;
            let Some(id) = b
                .contents
                .as_ref()
                .and_then(|c| c.marked.get(b.cursor.index()))
                .map(|j| j.candidate.delivery_id)
            else {
                return Vec::new();
            };
            state.marks.remove(&id);
            vec![Effect::Unmark { ids: vec![id] }]
        }
        Action::Export => {
            match &state.basket.contents {
                Some(b) if !b.marked.is_empty() => {
                    state.overlay = Some(Overlay::Export(ExportConfirm {
                        format: RequeueFormat::Csv,
                        again: false,
                        dir_input: None,
                    }))
                }
                Some(_) => {
                    state.status =
                        Some("the basket is empty: mark deliveries first (space, v, a)".into())
                }
                None => {}
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
