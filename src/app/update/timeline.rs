//! The chart screen's keys: series by code or provider. Its time window is every
//! screen's (`update::window`).

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, Screen};
use crate::model::report::Timeline;

pub(super) fn open(state: &mut AppState) -> Vec<Effect> {
    state.screen = Screen::Timeline;
    vec![load(state)]
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    let t = &mut state.timeline;
    match action {
        Action::SwitchGrouping => t.by = t.by.next(),
        _ => return Vec::new(),
    }
    vec![load(state)]
}

pub(super) fn on_data(state: &mut AppState, data: Timeline) {
    state.timeline.data = Some(data);
}

pub(super) fn load(state: &AppState) -> Effect {
    Effect::LoadTimeline {
        by: state.timeline.by,
        span: state.time_window.span,
        queue_lifetime: state.queue_lifetime,
        now: state.now,
    }
}
