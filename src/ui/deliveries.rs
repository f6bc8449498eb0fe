//! Deliveries: the rows of one group. Only the loaded window is in memory; the screen
//! shows its slice from `top`, and the scrollbar shows the absolute position in the group.

use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Borders, Cell, Paragraph, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, Table,
    TableState,
};

use crate::app::state::AppState;
use crate::model::delivery::DeliveryRow;
use crate::sanitize::for_terminal;

use super::text::{fit_line, highlighted, table_columns, time};
use super::theme::Theme;
use crate::wording::thousands;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let Some(t) = &state.deliveries.table else {
        return;
    };
    let wide = area.width >= 110;
    let filtering = state.filtering();
    let position = if filtering {
        format!(
            "{} of {} loaded rows match",
            thousands(t.matched.len() as u64),
            thousands(t.rows.len() as u64)
        )
    } else if t.total == 0 {
        "0".to_string()
    } else {
        format!(
            "{} / {}",
            thousands(t.cursor.selected + 1),
            thousands(t.total)
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Line::styled(format!(" {} ", t.title), theme.title()))
        .title_bottom(Line::from(format!(" {position} ")).right_aligned());
    if t.rows.is_empty() {
        let text = if t.loading.is_some() {
            "loading…"
        } else {
            "no deliveries"
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let height = area.height.saturating_sub(3) as usize;
    let mut widths = vec![Constraint::Length(1), Constraint::Fill(3)];
    let mut header = vec!["●", "recipient"];
    if wide {
        widths.push(Constraint::Fill(2));
        header.push("domain");
    }
    widths.extend([
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(12),
    ]);
    header.extend(["host", "status", "re-send"]);
    // On a narrow screen the recipient keeps its room; Enter shows attempts and times.
    if wide {
        widths.extend([Constraint::Length(3), Constraint::Length(11)]);
        header.extend(["att", "last"]);
    }
    widths.push(Constraint::Length(13));
    header.push("cause");
    // Text columns cut with `…`: the symbol column is kept whenever a row is selected.
    let cols = table_columns(area, &widths, 2);
    // After the mark column.
    let mut col = cols.iter().copied().skip(1);
    let w_recipient = col.next().unwrap_or(0);
    let w_domain = if wide { col.next().unwrap_or(0) } else { 0 };
    let w_host = col.next().unwrap_or(0);
    let w_cause = cols.last().copied().unwrap_or(0);
    let cut = |text: String, width: usize| Cell::from(fit_line(Line::raw(text), width));
    let make_row = |r: &DeliveryRow, hits: &[usize]| -> Row<'static> {
        let recipient = for_terminal(&r.recipient).into_owned();
        let status_style = if r.status == crate::model::DeliveryStatus::Expired {
            theme.expired()
        } else {
            theme.base()
        };
        let mark = if state.marks.contains(&r.id) {
            Cell::from("●").style(theme.title())
        } else if state.deliveries.range_start == Some(r.id) {
            Cell::from("◇").style(theme.hit())
        } else {
            Cell::from(" ")
        };
        let mut cells = vec![
            mark,
            Cell::from(fit_line(
                highlighted(&recipient, hits, theme.base(), theme.hit()),
                w_recipient,
            )),
        ];
        if wide {
            cells.push(cut(for_terminal(&r.domain).into_owned(), w_domain));
        }
        cells.extend([
            cut(for_terminal(&r.host).into_owned(), w_host),
            Cell::from(r.status.as_str()).style(status_style),
            match t.verdicts.get(&r.id) {
                Some(v) if v.is_eligible() => Cell::from(v.label()).style(theme.title()),
                Some(v) => Cell::from(v.label()).style(theme.muted()),
                None => Cell::from(""),
            },
        ]);
        if wide {
            cells.extend([
                Cell::from(Line::from(r.attempts.to_string()).right_aligned()),
                Cell::from(time(r.last_attempt, false)),
            ]);
        }
        cells.push(cut(
            for_terminal(r.cause.map(crate::model::Reason::as_str).unwrap_or("-")).into_owned(),
            w_cause,
        ));
        Row::new(cells)
    };
    // The list index of the first row handed to the table (a filter counts its matches).
    let mut slice_start = 0u64;
    let (rows, selected): (Vec<Row>, Option<usize>) = if filtering {
        (
            t.matched
                .iter()
                .map(|m| make_row(&t.rows[m.index], &m.hits))
                .collect(),
            (!t.matched.is_empty()).then_some(t.matched_cursor.index()),
        )
    } else {
        // The slice on screen: from `top`, within the loaded window.
        let from = t.cursor.top.saturating_sub(t.start) as usize;
        let from = from.min(t.rows.len().saturating_sub(1));
        let to = (from + height).min(t.rows.len());
        slice_start = t.start + from as u64;
        (
            t.rows[from..to].iter().map(|r| make_row(r, &[])).collect(),
            t.cursor
                .selected
                .checked_sub(t.start + from as u64)
                .map(|i| i as usize),
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.heading()))
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ")
        .column_spacing(1)
        .block(block);
    let mut ts = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut ts);
    super::triage::record_clicks(
        state,
        area,
        2,
        (slice_start as usize).saturating_add(ts.offset()),
        crate::app::state::ClickList::Deliveries,
    );
    if !filtering {
        let mut sb = ScrollbarState::new(t.total as usize)
            .position(t.cursor.selected as usize)
            .viewport_content_length(height);
        frame.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight),
            area.inner(Margin {
                vertical: 1,
                horizontal: 0,
            }),
            &mut sb,
        );
    }
}
