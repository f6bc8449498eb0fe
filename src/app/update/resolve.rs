//! `r`: what a resolution of the selection's cause would cover, on the screens that offer
//! it (the note it is recorded with is an overlay: `overlay::on_note_key`).

use crate::model::delivery::Dimension;
use crate::triage::requeue::hard_failure;

use super::super::msg::Effect;
use super::super::state::{AppState, NoteInput, Overlay, Pane, ResolveScope, Screen};

pub(super) fn on_resolve(state: &mut AppState) -> Vec<Effect> {
    if let Some(why) = resolve_pointless(state) {
        state.status = Some(why);
        return Vec::new();
    }
    let scope = match state.screen {
        Screen::Causes => state.causes.selected_cause().map(|c| ResolveScope {
            reason: c.reason,
            destination: Some(c.destination.clone()),
            host: Some(c.host.clone()),
        }),
        Screen::Triage => {
            let t = &state.triage;
            // A group's own cause may differ from its code's main one: ask the store.
            if t.pane == Pane::Breakdown
                && let (Some(code), Some(b)) = (t.selected_code(), t.selected_breakdown())
            {
                if b.value.is_none() {
                    state.status = Some(format!(
                        "this group has no {} to resolve at: resolve its cause on the Causes screen (c)",
                        t.dim.label()
                    ));
                    return Vec::new();
                }
                return vec![Effect::PrepareGroupResolve {
                    code: code.to_string(),
                    dim: t.dim,
                    value: b.value.clone(),
                }];
            }
            code_scope(state)
        }
        Screen::Deliveries => state.deliveries.table.as_ref().and_then(|t| {
            let reason = t.selected()?.cause?;
            Some(match &t.filter.narrow {
                Some((dim, value)) => group_scope(reason, *dim, value.clone()),
                None => ResolveScope {
                    reason,
                    destination: None,
                    host: None,
                },
            })
        }),
        _ => return Vec::new(),
    };
    open_prompt(state, scope);
    Vec::new()
}

/// Why resolving the selection's cause cannot make anything eligible, when its cause is a
/// failure of the address itself (a mailbox that does not exist, has moved, is suspended,
/// a domain that does not exist): `r` is then neither offered nor taken.
pub fn resolve_pointless(state: &AppState) -> Option<String> {
    let (reason, code) = match state.screen {
        Screen::Triage if state.triage.pane == Pane::Codes => (
            code_scope(state)?.reason,
            state.selected_code()?.to_string(),
        ),
        Screen::Deliveries => {
            let t = state.deliveries.table.as_ref()?;
            let row = t.selected()?;
            (row.cause?, row.code.clone())
        }
        // Without a code a DNS failure may be temporary: only the address's own failures.
        Screen::Causes => (state.causes.selected_cause()?.reason, String::new()),
        _ => return None,
    };
    hard_failure(Some(reason), &code).then(|| {
        format!(
            "{} is a failure of the address itself: no fix on your side makes it deliverable, \
             so there is nothing to resolve (correct or drop the address)",
            reason
        )
    })
}

/// The selected code's scope for a resolution: its most common cause, everywhere.
fn code_scope(state: &AppState) -> Option<ResolveScope> {
    let reason = state
        .triage
        .current_causes()?
        .iter()
        .find_map(|c| c.cause)?;
    Some(ResolveScope {
        reason,
        destination: None,
        host: None,
    })
}

/// A second-level group's scope: its own main cause, at that destination or from that host.
pub fn group_scope(
    reason: crate::model::Reason,
    dim: Dimension,
    value: Option<String>,
) -> ResolveScope {
    let mut scope = ResolveScope {
        reason,
        destination: None,
        host: None,
    };
    match dim {
        Dimension::Domain | Dimension::Provider => scope.destination = value,
        Dimension::Host => scope.host = value,
    }
    scope
}

pub(super) fn open_prompt(state: &mut AppState, scope: Option<ResolveScope>) {
    match scope {
        Some(scope) => {
            state.overlay = Some(Overlay::Note(NoteInput {
                scope,
                note: String::new(),
                preview: None,
            }))
        }
        None => state.status = Some("no known cause here to resolve".into()),
    }
}
