//! Rendering: one function per screen, reading only `AppState` (rows already in memory,
//! never the store). Every string that came from a log goes through
//! `sanitize::for_terminal` before it reaches a widget.

mod basket;
mod causes;
mod deliveries;
mod delivery;
mod help;
mod import;
pub mod text;
pub mod theme;
mod triage;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{AppState, Screen};
use crate::sanitize::for_terminal;

use text::thousands;
use theme::Theme;

pub fn render(frame: &mut Frame, state: &AppState) {
    let theme = Theme::new(state.no_color);
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
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
    }
    render_status(frame, status, state, theme);
    if state.note_input.is_some() {
        render_note_input(frame, body, state, theme);
    }
    if state.help {
        help::render(frame, frame.area(), state, theme);
    }
}

fn render_header(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    // The screen's name is in its frame's title; the header keeps the store's totals, and
    // fits 80 columns.
    let mut spans = vec![Span::styled(" sendlog ", theme.title())];
    if let Some(ov) = &state.overview {
        let t = &ov.totals;
        let all = if state.sent_counted {
            format!("{} deliveries · ", thousands(t.deliveries))
        } else {
            String::new()
        };
        spans.push(Span::raw(format!(
            "· {all}{} failed · ",
            thousands(state.failed_total())
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
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The one-line note of a resolution, over the screen it was asked from.
fn render_note_input(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let Some(input) = &state.note_input else {
        return;
    };
    let width = area.width.saturating_sub(4).min(90);
    let inner = width.saturating_sub(4) as usize;
    let note = for_terminal(&input.note).into_owned();
    // The end of a long note stays in sight while typing.
    let shown: String = {
        let chars: Vec<char> = note.chars().collect();
        let from = chars.len().saturating_sub(inner.saturating_sub(1));
        chars[from..].iter().collect()
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("Scope  ", theme.heading()),
            Span::raw(for_terminal(&input.scope.describe()).into_owned()),
        ]),
        Line::styled("What was fixed? (a note, optional)", theme.muted()),
        Line::from(vec![Span::styled(format!("{shown}▏"), theme.hit())]),
        Line::styled("enter record · esc cancel", theme.muted()),
    ];
    let popup = area.centered(Constraint::Length(width), Constraint::Length(6));
    frame.render_widget(ratatui::widgets::Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::ALL)
                .border_style(theme.border(true))
                .title(Line::styled(" Resolve a cause ", theme.title())),
        ),
        popup,
    );
}

fn render_status(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let mut spans: Vec<Span> = Vec::new();
    if !state.marks.is_empty() {
        spans.push(Span::styled(
            format!(" ● {} marked ", thousands(state.marks.len() as u64)),
            theme.title(),
        ));
    }
    if state.note_input.is_some() {
        spans.push(Span::raw(" type a note · enter record · esc cancel"));
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.status()),
            area,
        );
        return;
    }
    if state.export_confirm.is_some() {
        spans.push(Span::raw(" tab format · enter export · esc cancel"));
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.status()),
            area,
        );
        return;
    }
    if let Some(f) = &state.filter {
        spans.push(Span::styled(
            format!(" /{}", for_terminal(&f.query)),
            theme.hit(),
        ));
        if f.editing {
            spans.push(Span::raw("▏ enter keep · esc clear "));
        } else {
            spans.push(Span::raw(" "));
        }
    } else if let Some(s) = &state.status {
        spans.push(Span::styled(
            format!(" {} ", for_terminal(s)),
            theme.error(),
        ));
    }
    let context = if state.help {
        crate::app::Context::Global
    } else {
        state.screen.context()
    };
    let hints: Vec<String> = state
        .keymap
        .hints(context)
        .map(|b| {
            format!(
                "{} {}",
                b.keys.first().map(String::as_str).unwrap_or(""),
                b.hint.as_deref().unwrap_or("")
            )
        })
        .collect();
    spans.push(Span::raw(format!(" {}", hints.join(" · "))));
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status()),
        area,
    );
}
