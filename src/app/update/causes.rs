//! The causes screen: undoing a resolution (resolving one is in `resolve`), and checking
//! live whether the selected cause is fixed.

use super::super::keymap::Action;
use super::super::msg::Effect;
use super::super::state::{AppState, ResolveScope};

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::UndoResolution => undo(state),
        Action::Check => check(state),
        _ => Vec::new(),
    }
}

fn undo(state: &mut AppState) -> Vec<Effect> {
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

/// Runs in the worker: the screen stays live while the network answers (or does not).
fn check(state: &mut AppState) -> Vec<Effect> {
    if let Some(running) = &state.causes.checks.running {
        state.status = Some(format!(
            "still checking {}: one check at a time",
            running.reason
        ));
        return Vec::new();
    }
    let Some(c) = state.causes.selected_cause() else {
        return Vec::new();
    };
    let scope = ResolveScope {
        reason: c.reason,
        destination: Some(c.destination.clone()),
        host: Some(c.host.clone()),
    };
    state.status = Some(format!(
        "checking {} at {} from {}…",
        c.reason, c.destination, c.host
    ));
    state.causes.checks.running = Some(scope.clone());
    vec![Effect::RunCheck {
        scope,
        knowledge: crate::app::msg::SharedKnowledge(state.knowledge.clone()),
    }]
}
