//! The keymap is data (`assets/keymap.toml`, embedded at build): keys become `Action`s
//! here, before `update` sees them, and the status bar hints and `?` help are generated
//! from the same table, so they can never disagree with what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    Back,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Filter,
    SwitchGrouping,
    FocusBreakdown,
    FocusCodes,
    ExplainDown,
    ExplainUp,
    ToggleMark,
    RangeMark,
    MarkEligible,
    Unmark,
    UnmarkInView,
    Basket,
    Export,
    Causes,
    Resolve,
    UndoResolution,
    /// Check whether the selected cause is fixed (`sendlog check`), in the worker.
    Check,
    NextFormat,
    ToggleAgain,
    EditDir,
    Confirm,
    /// The chart screen: failures over time, queue ages, providers.
    Timeline,
    /// Halve the chart's time window (it ends at the last log line).
    NarrowWindow,
    /// Double the chart's time window, up to all there is.
    WidenWindow,
    /// Search every delivery (`sendlog search`).
    Search,
    /// The next sort key of a deliveries list.
    Sort,
    /// The list's order reversed.
    ReverseSort,
    /// Every delivery of one status (sent, sent after deferrals, deferred, bounced,
    /// expired); on such a list, the next status.
    Browse,
    /// Failures grouped by sender, sender domain, sending host or campaign.
    Senders,
}

/// Where a binding applies. `Global` bindings apply everywhere a screen does not bind the
/// key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    Triage,
    Deliveries,
    Delivery,
    Causes,
    Basket,
    Timeline,
    Search,
    Senders,
    /// The export's confirm step: only its own keys apply there (typing `q` must not
    /// quit half-way through a choice).
    Export,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Triage => "Triage",
            Context::Deliveries => "Deliveries",
            Context::Delivery => "Delivery",
            Context::Causes => "Causes",
            Context::Basket => "Basket",
            Context::Timeline => "Chart",
            Context::Search => "Search",
            Context::Senders => "Senders",
            Context::Export => "Export (confirm step)",
        }
    }
}

/// A key as the keymap names it: code and modifiers only. crossterm's `KeyEvent` equality
/// includes kind and state and reports Shift+g as `G` with SHIFT, so events are normalised
/// to this before lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    pub fn from_event(ev: &KeyEvent) -> Self {
        let mut modifiers = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            // A shifted character already says so by its case.
            KeyCode::Char(c) => KeyCode::Char(c),
            KeyCode::BackTab => KeyCode::BackTab,
            other => {
                if ev.modifiers.contains(KeyModifiers::SHIFT) {
                    modifiers |= KeyModifiers::SHIFT;
                }
                other
            }
        };
        KeyChord { code, modifiers }
    }

    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                modifiers |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                modifiers |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            s if s.chars().count() == 1 => KeyCode::Char(s.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key {spec:?}")),
        };
        Ok(KeyChord { code, modifiers })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub action: Action,
    pub chords: Vec<KeyChord>,
    /// The keys as written in the keymap, for help and hints.
    pub keys: Vec<String>,
    pub desc: String,
    /// Short name in the status bar, for the bindings shown there.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    action: Action,
    keys: Vec<String>,
    desc: String,
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File<E> {
    #[serde(default = "Vec::new")]
    global: Vec<E>,
    #[serde(default = "Vec::new")]
    triage: Vec<E>,
    #[serde(default = "Vec::new")]
    deliveries: Vec<E>,
    #[serde(default = "Vec::new")]
    delivery: Vec<E>,
    #[serde(default = "Vec::new")]
    causes: Vec<E>,
    #[serde(default = "Vec::new")]
    basket: Vec<E>,
    #[serde(default = "Vec::new")]
    timeline: Vec<E>,
    #[serde(default = "Vec::new")]
    search: Vec<E>,
    #[serde(default = "Vec::new")]
    senders: Vec<E>,
    #[serde(default = "Vec::new")]
    export: Vec<E>,
}

impl<E> File<E> {
    fn by_context(self) -> [(Context, Vec<E>); 10] {
        [
            (Context::Global, self.global),
            (Context::Triage, self.triage),
            (Context::Deliveries, self.deliveries),
            (Context::Delivery, self.delivery),
            (Context::Causes, self.causes),
            (Context::Basket, self.basket),
            (Context::Timeline, self.timeline),
            (Context::Search, self.search),
            (Context::Senders, self.senders),
            (Context::Export, self.export),
        ]
    }
}

/// An entry of the user's keymap: new keys for an action; its description and hint are
/// the built-in ones unless given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    action: Action,
    keys: Vec<String>,
    #[serde(default)]
    desc: Option<String>,
    #[serde(default)]
    hint: Option<String>,
}

fn parse_chords(keys: &[String]) -> Result<Vec<KeyChord>, String> {
    keys.iter()
        .map(|k| KeyChord::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("keymap: {err}"))
}

impl Keymap {
    pub fn parse(text: &str) -> Result<Keymap, String> {
        let file: File<Entry> = toml::from_str(text).map_err(|e| format!("keymap: {e}"))?;
        let mut bindings = Vec::new();
        for (context, entries) in file.by_context() {
            for e in entries {
                let chords = parse_chords(&e.keys)?;
                bindings.push(Binding {
                    context,
                    action: e.action,
                    chords,
                    keys: e.keys,
                    desc: e.desc,
                    hint: e.hint,
                });
            }
        }
        Ok(Keymap { bindings })
    }

    /// The keymap shipped in the binary.
    pub fn embedded() -> Result<Keymap, String> {
        Keymap::parse(DEFAULT_KEYMAP)
    }

    /// This keymap with the user's entries (same sections and actions as the built-in
    /// file) laid over it: an entry's keys replace the action's keys in that section, and
    /// keys it takes leave the section's other actions, so a key does one thing.
    pub fn with_overrides(mut self, text: &str) -> Result<Keymap, String> {
        let file: File<UserEntry> = toml::from_str(text).map_err(|e| format!("keymap: {e}"))?;
        for (context, entries) in file.by_context() {
            for e in entries {
                let chords = parse_chords(&e.keys)?;
                for b in self.bindings.iter_mut().filter(|b| b.context == context) {
                    if b.action == e.action {
                        continue;
                    }
                    let keep: Vec<usize> = (0..b.chords.len())
                        .filter(|&i| !chords.contains(&b.chords[i]))
                        .collect();
                    b.keys = keep.iter().map(|&i| b.keys[i].clone()).collect();
                    b.chords = keep.iter().map(|&i| b.chords[i]).collect();
                }
                match self
                    .bindings
                    .iter_mut()
                    .find(|b| b.context == context && b.action == e.action)
                {
                    Some(b) => {
                        b.chords = chords;
                        b.keys = e.keys;
                        if let Some(desc) = e.desc {
                            b.desc = desc;
                        }
                        if e.hint.is_some() {
                            b.hint = e.hint;
                        }
                    }
                    None => self.bindings.push(Binding {
                        context,
                        action: e.action,
                        chords,
                        keys: e.keys,
                        desc: e.desc.unwrap_or_else(|| format!("{:?}", e.action)),
                        hint: e.hint,
                    }),
                }
            }
        }
        // A binding left without keys is not listed in help or hints.
        self.bindings.retain(|b| !b.chords.is_empty());
        if !self
            .bindings
            .iter()
            .any(|b| b.context == Context::Global && b.action == Action::Quit)
        {
            return Err("keymap: no key left to quit (global quit)".into());
        }
        Ok(self)
    }

    /// The screen's own binding first, then the global one.
    pub fn action(&self, context: Context, ev: &KeyEvent) -> Option<Action> {
        self.own_action(context, ev)
            .or_else(|| self.own_action(Context::Global, ev))
    }

    /// The binding in `context` only.
    pub fn own_action(&self, context: Context, ev: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(ev);
        self.bindings
            .iter()
            .find(|b| b.context == context && b.chords.contains(&chord))
            .map(|b| b.action)
    }

    /// The status bar line of a context's own hints: `tab format · enter export`.
    pub fn own_hint_line(&self, context: Context) -> String {
        self.bindings
            .iter()
            .filter(|b| b.context == context && b.hint.is_some())
            .map(|b| {
                format!(
                    "{} {}",
                    b.keys.first().map(String::as_str).unwrap_or(""),
                    b.hint.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The first key bound to `action` in `context`, as the keymap writes it, for text
    /// that names a key.
    pub fn first_key(&self, context: Context, action: Action) -> Option<&str> {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.action == action)
            .and_then(|b| b.keys.first())
            .map(String::as_str)
    }

    /// Bindings shown in the status bar on a screen: its own hints, then global ones.
    pub fn hints(&self, context: Context) -> impl Iterator<Item = &Binding> {
        let own = self.bindings.iter().filter(move |b| {
            b.hint.is_some() && b.context == context && context != Context::Global
        });
        let global = self
            .bindings
            .iter()
            .filter(|b| b.hint.is_some() && b.context == Context::Global);
        own.chain(global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_keymap_parses_and_binds_the_documented_keys() {
        let km = Keymap::embedded().unwrap();
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(
            km.action(Context::Triage, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(
                Context::Deliveries,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(Context::Triage, &key(KeyCode::Tab)),
            Some(Action::SwitchGrouping)
        );
        // Tab means nothing on the delivery screen.
        assert_eq!(km.action(Context::Delivery, &key(KeyCode::Tab)), None);
        // Shift+g arrives as 'G' with SHIFT.
        assert_eq!(
            km.action(
                Context::Deliveries,
                &KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert!(
            km.hints(Context::Triage)
                .any(|b| b.action == Action::Filter)
        );
    }

    #[test]
    fn a_user_keymap_replaces_keys_and_keeps_the_rest() {
        let km = Keymap::embedded()
            .unwrap()
            .with_overrides(
                "[[global]]\naction = \"down\"\nkeys = [\"n\", \"down\"]\n\
                 [[triage]]\naction = \"causes\"\nkeys = [\"C\"]\nhint = \"causes\"\n\
                 [[global]]\naction = \"quit\"\nkeys = [\"x\"]\n",
            )
            .unwrap();
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(km.action(Context::Triage, &key('n')), Some(Action::Down));
        assert_eq!(km.action(Context::Triage, &key('j')), None);
        assert_eq!(km.action(Context::Triage, &key('C')), Some(Action::Causes));
        assert_eq!(km.action(Context::Triage, &key('c')), None);
        assert_eq!(km.action(Context::Triage, &key('x')), Some(Action::Quit));
        // Untouched bindings stay, with their descriptions.
        assert_eq!(km.action(Context::Triage, &key('k')), Some(Action::Up));
        assert!(km.hints(Context::Triage).any(|b| b.keys == ["C"]));
        // A key taken from another action leaves it.
        let km = Keymap::embedded()
            .unwrap()
            .with_overrides("[[global]]\naction = \"help\"\nkeys = [\"q\"]\n")
            .unwrap();
        assert_eq!(km.action(Context::Triage, &key('q')), Some(Action::Help));
        assert_eq!(
            km.action(
                Context::Triage,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        // Mistakes are errors, named.
        let bad = |t: &str| Keymap::embedded().unwrap().with_overrides(t).unwrap_err();
        assert!(bad("[[global]]\naction = \"quit\"\nkeys = []\n").contains("quit"));
        assert!(bad("[[triage]]\naction = \"fly\"\nkeys = [\"x\"]\n").contains("keymap"));
        assert!(bad("[[triage]]\naction = \"open\"\nkeys = [\"hyper-x\"]\n").contains("hyper-x"));
    }

    #[test]
    fn bad_keymaps_are_errors() {
        assert!(
            Keymap::parse("[[global]]\naction = \"fly\"\nkeys = [\"x\"]\ndesc = \"\"").is_err()
        );
        assert!(
            Keymap::parse("[[global]]\naction = \"quit\"\nkeys = [\"hyper-x\"]\ndesc = \"\"")
                .is_err()
        );
    }
}
