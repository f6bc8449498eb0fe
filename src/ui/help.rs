//! `?`: every binding of the keymap, grouped by where it applies.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::keymap::Context;
use crate::app::state::AppState;

use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let mut lines: Vec<Line> = Vec::new();
    // The screen's own keys first: on a short terminal they are the ones that must show.
    let here = state.screen.context();
    let mut order = vec![here, Context::Global];
    for c in [
        Context::Triage,
        Context::Deliveries,
        Context::Delivery,
        Context::Causes,
        Context::Basket,
    ] {
        if !order.contains(&c) {
            order.push(c);
        }
    }
    for context in order {
        let bindings: Vec<_> = state
            .keymap
            .bindings
            .iter()
            .filter(|b| b.context == context)
            .collect();
        if bindings.is_empty() {
            continue;
        }
        lines.push(Line::styled(context.title(), theme.heading()));
        for b in bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<26}", b.keys.join(", ")), theme.title()),
                Span::raw(b.desc.clone()),
            ]));
        }
    }
    let width = area.width.saturating_sub(4).min(100);
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(" Keys (? or esc to close) "),
        ),
        popup,
    );
}
