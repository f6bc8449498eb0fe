//! The senders screen's keys: `Tab` groups by the next key, `Enter` opens the selected
//! group's failed deliveries (`d` there goes through its other statuses).

use crate::model::delivery::{DeliveryFilter, StatusFilter};
use crate::model::report::{SenderGroup, SenderKey};
use crate::sanitize::for_terminal;

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, DeliveryTable, Screen};
use super::deliveries;

pub(super) fn open(state: &mut AppState) -> Vec<Effect> {
    state.filter = None;
    state.screen = Screen::Senders;
    vec![load(state)]
}

pub(super) fn load(state: &AppState) -> Effect {
    Effect::LoadSenders {
        by: state.senders.by,
    }
}

pub(super) fn on_data(state: &mut AppState, by: SenderKey, groups: Vec<SenderGroup>) {
    let s = &mut state.senders;
    if by != s.by {
        return;
    }
    // The same grouping loaded again (a narrowed window) keeps the group under the cursor.
    let keep = s.selected().map(|g| g.key.clone());
    s.cursor.selected = keep
        .and_then(|k| groups.iter().position(|g| g.key == k))
        .unwrap_or(0) as u64;
    s.cursor.clamp(groups.len() as u64);
    s.groups = Some(groups);
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::SwitchGrouping => {
            let s = &mut state.senders;
            s.by = s.by.next();
            s.groups = None;
            s.cursor.reset();
            vec![load(state)]
        }
        Action::Open => open_group(state),
        _ => Vec::new(),
    }
}

/// The selected group's failed deliveries.
fn open_group(state: &mut AppState) -> Vec<Effect> {
    let Some(g) = state.senders.selected() else {
        return Vec::new();
    };
    let by = state.senders.by;
    let filter = DeliveryFilter {
        status: StatusFilter::Failed,
        sender: Some((by, g.key.clone())),
        sort: state.deliveries.sort,
        ..DeliveryFilter::default()
    };
    let title = title(&filter);
    state.deliveries.table = Some(DeliveryTable::new(filter, title, g.deliveries - g.sent, 0));
    state.deliveries.from = Some(Screen::Senders);
    state.filter = None;
    state.screen = Screen::Deliveries;
    deliveries::reopen(state)
}

/// A list of every code's title: its status, and its sender when it has one.
pub(super) fn title(filter: &DeliveryFilter) -> String {
    match &filter.sender {
        Some((by, value)) => format!(
            "{} · {} {}",
            filter.status.label(),
            by.as_str(),
            for_terminal(value)
        ),
        None => format!("Every delivery · {}", filter.status.label()),
    }
}
