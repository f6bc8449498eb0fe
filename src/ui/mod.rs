//! Rendering: one function per screen, reading only `AppState` (rows already in memory,
//! never the store). Every string that came from a log goes through
//! `sanitize::for_terminal` before it reaches a widget.

mod basket;
mod causes;
mod deliveries;
mod delivery;
mod help;
mod import;
mod search;
mod senders;
pub mod text;
pub mod theme;
mod timeline;
mod triage;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Action;
use crate::app::state::{AppState, NoteInput, Overlay, Screen};
use crate::sanitize::for_terminal;

use crate::wording::{fit, plural_with, thousands};
use text::wrap;
use theme::Theme;

/// Below this no screen can show a header, a framed list and the key hints at once: one
/// line saying so is more use than a frame of fragments.
pub const MIN_WIDTH: u16 = 32;
pub const MIN_HEIGHT: u16 = 8;

pub fn render(frame: &mut Frame, state: &AppState) {
    let theme = Theme::new(state.no_color).light(state.light);
    // What the mouse can click is what this frame draws.
    state.click_targets.borrow_mut().clear();
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small ({}×{}, needs {MIN_WIDTH}×{MIN_HEIGHT}): enlarge it, or q quits",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(status_height(state, frame.area().width)),
    ])
    .areas(frame.area());
    render_header(frame, header, state, theme);
    match state.screen {
        Screen::Import => import::render(frame, body, state, theme),
        Screen::Triage => triage::render(frame, body, state, theme),
        Screen::Deliveries => deliveries::render(frame, body, state, theme),
        Screen::Delivery => delivery::render(frame, body, state, theme),
        Screen::Causes => causes::render(frame, body, state, theme),
        Screen::Basket => basket::render(frame, body, state, theme),
        Screen::Timeline => timeline::render(frame, body, state, theme),
        Screen::Search => search::render(frame, body, state, theme),
        Screen::Senders => senders::render(frame, body, state, theme),
    }
    render_status(frame, status, state, theme);
    match &state.overlay {
        Some(Overlay::Note(input)) => render_note_input(frame, body, input, theme),
        Some(Overlay::Help { .. }) => help::render(frame, frame.area(), state, theme),
        // The filter's query is on the status bar; the export's confirm step is drawn
        // by the basket it belongs to.
        // The search query is typed in its screen's own box.
        Some(Overlay::Filter | Overlay::Export(_) | Overlay::Search) | None => {}
    }
}

fn render_header(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    // The screen's name is in its frame's title; the header keeps the store's totals, and
    // fits 80 columns.
    let mut spans = vec![Span::styled(" sendlog ", theme.title())];
    // First, so that it shows on a narrow screen too: every count after it is of the
    // window `]` narrowed.
    if let Some(span) = state.time_window.span {
        spans.push(Span::styled(
            format!("· last {} ", crate::wording::time_span(span)),
            theme.hit(),
        ));
    }
    if let Some(ov) = &state.triage.overview {
        let t = &ov.totals;
        let all = if state.triage.sent_counted {
            format!("{} · ", plural_with(t.deliveries, "delivery", "deliveries"))
        } else {
            String::new()
        };
        spans.push(Span::raw(format!(
            "· {all}{} failed · ",
            thousands(state.triage.failed_total())
        )));
        spans.push(Span::styled(
            format!("{} expired", thousands(t.expired)),
            theme.expired(),
        ));
        spans.push(Span::raw(format!(
            " · {} deferred · {} bounced",
            thousands(t.deferred),
            thousands(t.bounced)
        )));
    }
    if let Some(w) = &state.window {
        spans.push(Span::styled(format!(" · only {w}"), theme.muted()));
    }

    if let Some(live) = &state.live {
        let when = live
            .last_read
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| {
                format!(
                    ", last line {}",
                    t.with_timezone(&chrono::Local).format("%H:%M:%S")
                )
            })
            .unwrap_or_default();
        spans.push(Span::styled(format!(" · ● live{when}"), theme.hit()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The one-line note of a resolution, over the screen it was asked from.
fn render_note_input(frame: &mut Frame, area: Rect, input: &NoteInput, theme: Theme) {
    let width = area.width.saturating_sub(4).min(90);
    let inner = width.saturating_sub(4) as usize;
    let note = for_terminal(&input.note).into_owned();
    // The end of a long note stays in sight while typing.
    let shown: String = {
        let chars: Vec<char> = note.chars().collect();
        let from = chars.len().saturating_sub(inner.saturating_sub(1));
        chars[from..].iter().collect()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Scope  ", theme.heading()),
            Span::raw(for_terminal(&input.scope.describe()).into_owned()),
        ]),
        Line::styled("What was fixed? (a note, optional)", theme.muted()),
        Line::from(vec![Span::styled(format!("{shown}▏"), theme.hit())]),
    ];
    match &input.preview {
        None => lines.push(Line::styled(
            "enter preview what it makes eligible · esc cancel",
            theme.muted(),
        )),
        Some(p) => {
            lines.push(Line::from(vec![
                Span::styled("Would  ", theme.heading()),
                Span::raw(for_terminal(p).into_owned()),
            ]));
            lines.push(Line::styled("enter record · esc cancel", theme.muted()));
        }
    }
    let height = lines.len() as u16 + 2;
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(ratatui::widgets::Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(theme.panel("Resolve a cause")),
        popup,
    );
}

/// Key hints kept beside a message: a message that would crowd them out gets a line of
/// its own.
const HINTS_BESIDE_MESSAGE: usize = 3;

/// Lines a message may take above the hints: enough for an export's summary with its
/// file's path at 80 columns, while the screen keeps nearly all its rows.
const MESSAGE_LINES: usize = 2;

/// The status bar's height: the hints' line, and above it the message's own lines when it
/// does not fit beside the first hints.
fn status_height(state: &AppState, width: u16) -> u16 {
    match message_lines(state, width as usize) {
        Some(lines) => 1 + lines.len() as u16,
        None => 1,
    }
}

/// The message wrapped on lines of its own (at most `MESSAGE_LINES`, the last cut with
/// `…`), or `None` when it fits beside the first hints (or there is none).
fn message_lines(state: &AppState, width: usize) -> Option<Vec<String>> {
    let message = status_message(state)?;
    let hints = hints(state);
    let kept = hints.len().min(HINTS_BESIDE_MESSAGE);
    let needed = Span::raw(marks_text(state)).width()
        + Span::raw(format!(" {message} ")).width()
        + Span::raw(hint_line(&hints[..kept], usize::MAX)).width();
    if needed <= width {
        return None;
    }
    // One cell of margin on the left, as the bar's other text has.
    let room = width.saturating_sub(1);
    let mut lines = wrap(&message, room);
    if lines.len() > MESSAGE_LINES {
        let rest = lines.split_off(MESSAGE_LINES - 1).join(" ");
        lines.push(fit(&rest, room));
    }
    Some(lines)
}

/// The note or error to show, sanitised; none while help, a filter, a note or the export
/// prompt owns the bar (help covers all but its last line).
fn status_message(state: &AppState) -> Option<String> {
    if state.overlay.is_some() || state.filter.is_some() {
        return None;
    }
    let status = state
        .status
        .as_deref()
        .map(|s| for_terminal(s).into_owned());
    // What changed under a followed log leads the bar until a key is pressed.
    match (state.live.as_ref().and_then(|l| l.badge()), status) {
        (Some(badge), Some(s)) => Some(format!("★ {badge} (any key: seen) · {s}")),
        (Some(badge), None) => Some(format!("★ {badge} (any key: seen)")),
        (None, s) => s,
    }
}

fn marks_text(state: &AppState) -> String {
    if state.marks.is_empty() {
        String::new()
    } else {
        format!(" ● {} marked ", thousands(state.marks.len() as u64))
    }
}

fn hints(state: &AppState) -> Vec<(Action, String)> {
    let context = if state.help_open() {
        crate::app::Context::Global
    } else {
        state.screen.context()
    };
    // `r` is not offered where it could never make a delivery eligible.
    let pointless = crate::app::update::resolve_pointless(state).is_some();
    state
        .keymap
        .hints(context)
        .filter(|b| !(pointless && b.action == Action::Resolve))
        .map(|b| {
            let text = format!(
                "{} {}",
                b.keys.first().map(String::as_str).unwrap_or(""),
                b.hint.as_deref().unwrap_or("")
            );
            (b.action, text)
        })
        .collect()
}

/// As many whole hints as fit in `room` cells (a hint cut in half reads as a wrong key).
/// When some must go, the help hint stays: help lists the ones left out.
fn hint_line(hints: &[(Action, String)], room: usize) -> String {
    let join = |picked: &[&str]| -> String {
        picked
            .iter()
            .map(|h| format!(" {h}"))
            .collect::<Vec<_>>()
            .join(" ·")
    };
    let all: Vec<&str> = hints.iter().map(|(_, h)| h.as_str()).collect();
    if Span::raw(join(&all)).width() <= room {
        return join(&all);
    }
    let help = hints
        .iter()
        .find(|(a, _)| *a == Action::Help)
        .map(|(_, h)| h.as_str());
    let mut picked: Vec<&str> = Vec::new();
    for (action, h) in hints {
        if *action == Action::Help {
            continue;
        }
        let mut next = picked.clone();
        next.push(h);
        next.extend(help);
        if Span::raw(join(&next)).width() > room {
            break;
        }
        picked.push(h);
    }
    picked.extend(help);
    let line = join(&picked);
    if Span::raw(line.as_str()).width() <= room {
        line
    } else {
        String::new()
    }
}

fn render_status(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let width = area.width as usize;
    let mut spans: Vec<Span> = Vec::new();
    let marks = marks_text(state);
    if !marks.is_empty() {
        spans.push(Span::styled(marks, theme.title()));
    }
    if let Some(input) = state.note_input() {
        let enter = if input.preview.is_some() {
            "enter record"
        } else {
            "enter preview"
        };
        spans.push(Span::raw(format!(" type a note · {enter} · esc cancel")));
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.status()),
            area,
        );
        return;
    }
    if state.export_confirm().is_some() {
        spans.push(Span::raw(format!(
            " {}",
            state.keymap.own_hint_line(crate::app::Context::Export)
        )));
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.status()),
            area,
        );
        return;
    }
    let mut lines = Vec::new();
    if let Some(f) = &state.filter {
        spans.push(Span::styled(
            format!(" /{}", for_terminal(&f.query)),
            theme.hit(),
        ));
        if state.filter_editing() {
            spans.push(Span::raw("▏ enter keep · esc clear "));
        } else {
            spans.push(Span::raw(" "));
        }
    } else if let Some(own) = message_lines(state, width) {
        for l in own {
            lines.push(Line::from(Span::styled(format!(" {l}"), theme.error())));
        }
    } else if let Some(message) = status_message(state) {
        spans.push(Span::styled(format!(" {message} "), theme.error()));
    }
    let used = Line::from(spans.clone()).width();
    spans.push(Span::raw(hint_line(
        &hints(state),
        width.saturating_sub(used),
    )));
    lines.push(Line::from(spans));
    frame.render_widget(Paragraph::new(lines).style(theme.status()), area);
}
