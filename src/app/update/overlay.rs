//! The keys of the overlays: the help list, the `/` query being typed, a resolution's note
//! and an export's confirm step. While one is open, it has every key; Ctrl-C still quits.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::keymap::{Action, Context};
use super::super::msg::Effect;
use super::super::state::{AppState, Move, Overlay, Pane, Screen, next_format};
use super::{move_cursor, quit, refresh_views, triage};

/// A resolution note longer than this is cut: it is a line of text, not a document.
const NOTE_MAX_CHARS: usize = 300;

/// Where keys type text, a key with Ctrl or Alt types nothing: it quits if it is the quit
/// key (Ctrl-C must quit from anywhere, typing included), else does nothing. `None` for
/// the keys that type.
pub(super) fn typing_guard(state: &mut AppState, key: &KeyEvent) -> Option<Vec<Effect>> {
    if !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    if state.keymap.action(state.screen.context(), key) == Some(Action::Quit) {
        return Some(quit(state));
    }
    Some(Vec::new())
}

pub(super) fn on_help_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(action) = state.keymap.action(Context::Global, &key) else {
        return Vec::new();
    };
    match action {
        Action::Quit => return quit(state),
        Action::Help | Action::Back => state.overlay = None,
        _ => super::super::help::scroll(state, action),
    }
    Vec::new()
}

pub(super) fn on_note_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if let Some(effects) = typing_guard(state, &key) {
        return effects;
    }
    let Some(Overlay::Note(input)) = state.overlay.as_mut() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            state.status = Some("resolution not recorded".into());
        }
        // The first Enter asks what the resolution would do; the second, with that on
        // screen, records it.
        KeyCode::Enter if input.preview.is_none() => {
            return vec![Effect::PreviewResolve {
                scope: input.scope.clone(),
            }];
        }
        KeyCode::Enter => {
            let scope = input.scope.clone();
            let note = input.note.trim().to_string();
            state.overlay = None;
            state.status = Some(format!("recording the resolution of {}…", scope.describe()));
            return vec![Effect::Resolve { scope, note }];
        }
        KeyCode::Backspace => {
            input.note.pop();
        }
        KeyCode::Char(c) if input.note.chars().count() < NOTE_MAX_CHARS => input.note.push(c),
        _ => {}
    }
    Vec::new()
}

pub(super) fn on_export_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if let Some(effects) = typing_guard(state, &key) {
        return effects;
    }
    let Some(Overlay::Export(confirm)) = state.overlay.as_mut() else {
        return Vec::new();
    };
    if let Some(input) = confirm.dir_input.as_mut() {
        match key.code {
            KeyCode::Char(c) => input.push(c),
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Enter => {
                let typed = input.trim();
                if !typed.is_empty() {
                    state.export_dir = typed.into();
                }
                confirm.dir_input = None;
            }
            KeyCode::Esc => confirm.dir_input = None,
            _ => {}
        }
        return Vec::new();
    }
    match state.keymap.own_action(Context::Export, &key) {
        Some(Action::EditDir) => {
            confirm.dir_input = Some(state.export_dir.display().to_string());
        }
        Some(Action::Back) => {
            state.overlay = None;
            state.status = Some("export cancelled; nothing written".into());
        }
        Some(Action::NextFormat) => confirm.format = next_format(confirm.format),
        Some(Action::ToggleAgain) => confirm.again = !confirm.again,
        Some(Action::Confirm) => {
            let (format, again) = (confirm.format, confirm.again);
            state.overlay = None;
            state.status = Some(format!("exporting as {}…", format.as_str()));
            return vec![Effect::Export {
                format,
                dir: state.export_dir.clone(),
                again,
            }];
        }
        _ => {}
    }
    Vec::new()
}

pub(super) fn on_filter_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if let Some(effects) = typing_guard(state, &key) {
        return effects;
    }
    let before = state.selected_code().map(str::to_string);
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            triage::clear_filter(state);
            if state.screen == Screen::Deliveries {
                return super::deliveries::reopen(state);
            }
            return Vec::new();
        }
        KeyCode::Enter => {
            state.overlay = None;
            if state.filter.as_ref().is_some_and(|f| f.query.is_empty()) {
                state.filter = None;
            }
        }
        KeyCode::Backspace => {
            if let Some(f) = state.filter.as_mut() {
                f.query.pop();
            }
        }
        KeyCode::Char(c) => {
            if let Some(f) = state.filter.as_mut() {
                f.query.push(c);
            }
        }
        KeyCode::Down => return move_cursor(state, Move::By(1)),
        KeyCode::Up => return move_cursor(state, Move::By(-1)),
        _ => return Vec::new(),
    }
    refresh_views(state);
    // The store filters the whole list as the query is typed (the worker keeps only the
    // latest page asked for); Enter keeps the list as it is.
    if state.screen == Screen::Deliveries {
        if key.code == KeyCode::Enter {
            return Vec::new();
        }
        return super::deliveries::reopen(state);
    }
    let mut effects = Vec::new();
    if state.screen == Screen::Triage {
        let t = &mut state.triage;
        if t.pane == Pane::Codes {
            t.codes.cursor.reset();
        } else {
            t.breakdown_list.cursor.reset();
        }
        if state.selected_code().map(str::to_string) != before {
            effects.extend(triage::selection_effects(state));
        }
    }
    effects
}
