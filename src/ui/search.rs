//! Search: the query on top, the deliveries it finds below, newest first. Only the hits
//! paged in so far are in memory; more are asked for as the cursor nears their end.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, TableState};

use crate::app::state::{AppState, Overlay};
use crate::model::delivery::SearchHit;
use crate::sanitize::for_terminal;
use crate::wording::thousands;

use super::text::{fit_line, table_columns, time};
use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let s = &state.search;
    let editing = matches!(state.overlay, Some(Overlay::Search));
    let [input, list] = Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(area);
    let typed = format!(
        "{}{}",
        for_terminal(&s.input),
        if editing { "▏" } else { "" }
    );
    frame.render_widget(
        Paragraph::new(fit_line(
            Line::raw(typed),
            input.width.saturating_sub(2) as usize,
        ))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(editing))
                .title(Line::styled(
                    " Search: words, to: from: id: subject: reply: status: code: ",
                    theme.title(),
                )),
        ),
        input,
    );
    let count = if s.complete {
        format!("{} found", thousands(s.hits.len() as u64))
    } else if s.hits.is_empty() {
        String::new()
    } else {
        format!("{} loaded, more below", thousands(s.hits.len() as u64))
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(!editing))
        .title(Line::styled(
            " Deliveries found, newest first ",
            theme.title(),
        ))
        .title_bottom(Line::from(format!(" {count} ")).right_aligned());
    if s.hits.is_empty() {
        let (text, style) = match (&s.error, &s.query, s.loading) {
            (Some(e), _, _) => (for_terminal(e).into_owned(), theme.error()),
            (None, Some(_), true) => ("searching…".to_string(), theme.muted()),
            (None, Some(_), false) => ("No delivery matches.".to_string(), theme.muted()),
            (None, None, _) => (
                "Type words and press Enter: jane@example.com, to:example.com status:bounced, \
                 id:4BxYz1, reply:\"greylisted\", code:5.7"
                    .to_string(),
                theme.muted(),
            ),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, style))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
            list,
        );
        return;
    }
    let wide = list.width >= 110;
    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(11),
        Constraint::Fill(3),
    ];
    let mut header = vec!["status", "code", "last", "recipient"];
    if wide {
        widths.extend([Constraint::Fill(2), Constraint::Length(12)]);
        header.extend(["sender", "queue id"]);
    }
    widths.push(Constraint::Fill(3));
    header.push("reply");
    let cols = table_columns(list, &widths, 2);
    let cut = |text: &str, width: usize| {
        Cell::from(fit_line(Line::raw(for_terminal(text).into_owned()), width))
    };
    let make_row = |h: &SearchHit| -> Row<'static> {
        let status_style = if h.status == crate::model::DeliveryStatus::Expired {
            theme.expired()
        } else {
            theme.base()
        };
        let mut cells = vec![
            Cell::from(h.status.as_str()).style(status_style),
            cut(&h.code, cols[1]),
            Cell::from(time(h.last_attempt, false)),
            cut(&h.recipient, cols[3]),
        ];
        if wide {
            cells.push(cut(h.sender.as_deref().unwrap_or("-"), cols[4]));
            cells.push(cut(&h.queue_id, cols[5]));
        }
        cells.push(cut(h.reply.as_deref().unwrap_or(""), cols[cols.len() - 1]));
        Row::new(cells)
    };
    let height = list.height.saturating_sub(3) as usize;
    let from = (s.cursor.top as usize).min(s.hits.len().saturating_sub(1));
    let to = (from + height).min(s.hits.len());
    let rows: Vec<Row> = s.hits[from..to].iter().map(make_row).collect();
    let table = theme.list(rows, widths, header, block);
    let mut ts = TableState::default().with_selected(s.cursor.index().checked_sub(from));
    frame.render_stateful_widget(table, list, &mut ts);
}
