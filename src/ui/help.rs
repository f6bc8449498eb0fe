//! `?`: every binding of the keymap, grouped by where it applies, scrollable when the
//! terminal is too short for all of it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::help::{self, HelpRow};
use crate::app::keymap::{Action, Context};
use crate::app::state::AppState;

use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let rows = help::rows(state);
    let (width, height) = help::popup_size((area.width, area.height), rows.len());
    let visible = help::visible_rows((area.width, area.height), rows.len());
    let scroll = help::scrolled(state).min(rows.len().saturating_sub(visible));
    let lines: Vec<Line> = rows
        .iter()
        .map(|r| match r {
            HelpRow::Heading(title) => Line::styled(*title, theme.heading()),
            HelpRow::Binding { keys, desc } => Line::from(vec![
                Span::styled(format!("  {keys:<26}"), theme.title()),
                Span::raw(desc.clone()),
            ]),
        })
        .collect();
    let key = |action| {
        state
            .keymap
            .first_key(Context::Global, action)
            .unwrap_or("")
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(format!(
            " Keys ({} or {} to close) ",
            key(Action::Help),
            key(Action::Back)
        ));
    if rows.len() > visible {
        let last = scroll + visible;
        let more = if last < rows.len() {
            "↓ more"
        } else {
            "↑ more"
        };
        block = block.title_bottom(
            Line::styled(
                format!(
                    " {more} · {}–{last} of {} · {}/{} scroll ",
                    scroll + 1,
                    rows.len(),
                    key(Action::Down),
                    key(Action::Up)
                ),
                theme.title(),
            )
            .right_aligned(),
        );
    }
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(u16::MAX as usize) as u16, 0))
            .block(block),
        popup,
    );
}
