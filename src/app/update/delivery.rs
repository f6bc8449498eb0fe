//! The delivery screen: its text scrolls.

use super::super::state::{AppState, Move};

pub(super) fn scroll(state: &mut AppState, mv: Move) {
    let d = &mut state.delivery;
    if d.detail.is_some() {
        d.scroll.scroll(mv);
    } else {
        // Nothing to scroll until the detail is in.
        d.scroll.offset = 0;
    }
}
