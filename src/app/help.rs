//! The `?` overlay's rows and size. `update` needs them to bound the scroll and the
//! renderer to draw it, so both take them from here (pure: the keymap and the terminal
//! size are all it reads).

use super::keymap::{Action, Context, Keymap};
use super::state::{AppState, ListCursor, Move, Overlay};

/// Width of the keys column, after a two-space indent.
const KEYS_COLUMN: usize = 26;
const INDENT: usize = 2;
/// Below this, a description is left to run off the edge rather than wrapped a word a line.
const MIN_DESC_WIDTH: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    Heading(&'static str),
    /// One line of a binding; a long description continues on rows with no keys.
    Binding {
        keys: String,
        desc: String,
    },
}

/// The popup's outer width and height on a terminal of `size`, for `rows` rows.
pub fn popup_size(size: (u16, u16), rows: usize) -> (u16, u16) {
    let width = size.0.saturating_sub(4).min(100);
    let height = (rows.min(u16::MAX as usize - 2) as u16 + 2).min(size.1.saturating_sub(2));
    (width, height)
}

/// Rows of help visible at once (inside the borders).
pub fn visible_rows(size: (u16, u16), rows: usize) -> usize {
    popup_size(size, rows).1.saturating_sub(2) as usize
}

/// Every binding, grouped by where it applies: the current screen's own keys first, then
/// the global ones, then the other screens'.
pub fn rows(state: &AppState) -> Vec<HelpRow> {
    let inner = popup_size(state.size, 0).0.saturating_sub(2) as usize;
    rows_for(&state.keymap, state.screen.context(), inner)
}

fn rows_for(keymap: &Keymap, here: Context, inner_width: usize) -> Vec<HelpRow> {
    let mut order = vec![here, Context::Global];
    for c in [
        Context::Triage,
        Context::Deliveries,
        Context::Delivery,
        Context::Causes,
        Context::Timeline,
        Context::Basket,
        Context::Search,
        Context::Senders,
        Context::Export,
    ] {
        if !order.contains(&c) {
            order.push(c);
        }
    }
    let desc_width = inner_width.saturating_sub(INDENT + KEYS_COLUMN);
    let mut out = Vec::new();
    for context in order {
        let mut bindings = keymap
            .bindings
            .iter()
            .filter(|b| b.context == context)
            .peekable();
        if bindings.peek().is_none() {
            continue;
        }
        out.push(HelpRow::Heading(context.title()));
        for b in bindings {
            let mut keys = b.keys.join(", ");
            for line in wrap(&b.desc, desc_width) {
                out.push(HelpRow::Binding {
                    keys: std::mem::take(&mut keys),
                    desc: line,
                });
            }
        }
    }
    out
}

/// Greedy word wrap by characters (descriptions are ASCII prose from the keymap).
fn wrap(text: &str, width: usize) -> Vec<String> {
    if width < MIN_DESC_WIDTH {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// How far the help can scroll: its last row at the bottom of the popup.
pub fn max_scroll(state: &AppState) -> usize {
    let n = rows(state).len();
    n.saturating_sub(visible_rows(state.size, n))
}

/// How far the help is scrolled (0 when it is not open).
pub fn scrolled(state: &AppState) -> usize {
    match state.overlay {
        Some(Overlay::Help { scroll }) => scroll,
        _ => 0,
    }
}

/// Scrolls the help; `Action`s other than moves are not for this and change nothing.
pub fn scroll(state: &mut AppState, action: Action) {
    let max = max_scroll(state);
    let page = visible_rows(state.size, rows(state).len()).max(1);
    let Some(Overlay::Help { scroll }) = state.overlay.as_mut() else {
        return;
    };
    // The help scrolls as a list whose rows are the positions its top row can take.
    let mut top = ListCursor {
        selected: (*scroll).min(max) as u64,
        top: 0,
    };
    if let Some(mv) = Move::from_action(action, page) {
        top.step(mv, max as u64 + 1);
    }
    *scroll = top.index();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_wrap_under_their_column() {
        assert_eq!(
            wrap("Second level by domain / provider / sending host", 20),
            ["Second level by", "domain / provider /", "sending host"]
        );
        assert_eq!(wrap("Quit", 20), ["Quit"]);
        assert_eq!(wrap("too narrow to wrap", 5), ["too narrow to wrap"]);
    }

    #[test]
    fn every_binding_is_listed_once_with_its_keys() {
        let km = Keymap::embedded().unwrap();
        let rows = rows_for(&km, Context::Basket, 74);
        let with_keys = rows
            .iter()
            .filter(|r| matches!(r, HelpRow::Binding { keys, .. } if !keys.is_empty()))
            .count();
        assert_eq!(with_keys, km.bindings.len());
        assert_eq!(rows[0], HelpRow::Heading("Basket"));
        for r in &rows {
            if let HelpRow::Binding { desc, .. } = r {
                assert!(INDENT + KEYS_COLUMN + desc.chars().count() <= 74, "{desc}");
            }
        }
    }
}
