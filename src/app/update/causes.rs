//! The causes screen: undoing a resolution (resolving one is in `resolve`).

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::AppState;

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    if action != Action::UndoResolution {
        return Vec::new();
    }
    match state
        .causes
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
