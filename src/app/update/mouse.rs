//! The mouse: the wheel moves the cursor of the list in focus (or scrolls help); a left
//! click on a row of a list selects it, and focuses that list.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, ClickList, Move, Overlay, Pane, Screen};
use super::{move_cursor, triage};

/// Rows a wheel notch moves.
const WHEEL_ROWS: i64 = 3;

pub(super) fn on_mouse(state: &mut AppState, ev: MouseEvent) -> Vec<Effect> {
    let help = match &state.overlay {
        None => false,
        Some(Overlay::Help { .. }) => true,
        // An overlay that types takes no clicks.
        Some(_) => return Vec::new(),
    };
    let wheel = match ev.kind {
        MouseEventKind::ScrollDown => Some(WHEEL_ROWS),
        MouseEventKind::ScrollUp => Some(-WHEEL_ROWS),
        _ => None,
    };
    if let Some(by) = wheel {
        if help {
            let action = if by > 0 { Action::Down } else { Action::Up };
            for _ in 0..by.abs() {
                super::super::help::scroll(state, action);
            }
            return Vec::new();
        }
        return move_cursor(state, Move::By(by));
    }
    if ev.kind != MouseEventKind::Down(MouseButton::Left) || help {
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
            let t = &state.triage;
            let (pane, list) = if target.list == ClickList::Codes {
                (Pane::Codes, &t.codes)
            } else {
                (Pane::Breakdown, &t.breakdown_list)
            };
            if index >= list.len() {
                return Vec::new();
            }
            let cursor = list.cursor.selected;
            if t.pane != pane {
                effects = triage::focus(state, pane);
            }
            cursor
        }
        ClickList::Deliveries if state.screen == Screen::Deliveries => {
            let Some(t) = state.deliveries.table.as_ref() else {
                return Vec::new();
            };
            let (len, cursor) = (t.total, t.cursor.selected);
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
