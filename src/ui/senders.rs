//! Senders: mail grouped by sender, sender domain, sending host or campaign, most failed
//! first, with where each group's mail fails and why.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, TableState};

use crate::app::state::AppState;
use crate::model::report::SenderGroup;
use crate::sanitize::for_terminal;
use crate::wording::{count_list, thousands};

use super::text::{fit_line, table_columns};
use super::theme::Theme;

/// "name 12, other 3": a group's top destinations or causes with their counts.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let s = &state.senders;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Line::styled(
            format!(" Senders by {} (tab), most failed first ", s.by.as_str()),
            theme.title(),
        ))
        .title_bottom(
            Line::from(format!(
                " {} / {} ",
                thousands(if s.is_empty() {
                    0
                } else {
                    s.cursor.selected + 1
                }),
                thousands(s.len())
            ))
            .right_aligned(),
        );
    let Some(groups) = &s.groups else {
        frame.render_widget(
            Paragraph::new(Line::styled("loading…", theme.muted())).block(block),
            area,
        );
        return;
    };
    if groups.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("No mail in the store.", theme.muted())).block(block),
            area,
        );
        return;
    }
    let wide = area.width >= 110;
    let mut widths = vec![Constraint::Fill(3), Constraint::Length(7)];
    let mut header = vec![s.by.as_str(), "failed"];
    if wide {
        widths.extend([
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(7),
        ]);
        header.extend(["sent", "deferred", "bounced", "expired"]);
    }
    widths.extend([Constraint::Fill(2), Constraint::Fill(2)]);
    header.extend(["fails at", "why"]);
    let cols = table_columns(area, &widths, 2);
    let cut = |text: String, width: usize| Cell::from(fit_line(Line::raw(text), width));
    let number = |n: u64| Cell::from(Line::from(thousands(n)).right_aligned());
    let make_row = |g: &SenderGroup| -> Row<'static> {
        let failed = g.deliveries.saturating_sub(g.sent);
        let mut cells = vec![cut(for_terminal(&g.key).into_owned(), cols[0])];
        cells.push(if failed > 0 {
            number(failed).style(theme.expired())
        } else {
            number(failed)
        });
        if wide {
            cells.extend([
                number(g.sent),
                number(g.deferred),
                number(g.bounced),
                number(g.expired),
            ]);
        }
        let n = cols.len();
        cells.push(cut(count_list(&g.failing_destinations), cols[n - 2]));
        cells.push(cut(count_list(&g.causes), cols[n - 1]));
        Row::new(cells)
    };
    let rows: Vec<Row> = groups.iter().map(make_row).collect();
    let table = theme.list(rows, widths, header, block);
    let mut ts = TableState::default().with_selected(Some(s.cursor.index()));
    frame.render_stateful_widget(table, area, &mut ts);
}
