//! Deliveries: the rows of one group, or every delivery of one status. Only the loaded window is in memory; the screen
//! shows its slice from `top`, and the scrollbar shows the absolute position in the group.

use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Borders, Cell, Paragraph, Row, Scrollbar, ScrollbarOrientation, ScrollbarState,
    TableState,
};

use crate::app::state::AppState;
use crate::model::delivery::{DeliveryRow, StatusFilter};
use crate::sanitize::for_terminal;

use super::text::{fit_line, highlighted, table_columns, time};
use super::theme::Theme;
use crate::wording::thousands;

/// A delay as short as it reads: seconds under a minute (mail sent at once), else as
/// queue ages are written elsewhere.
fn delay_text(secs: Option<i64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if (0..60).contains(&s) => format!("{s}s"),
        Some(s) => crate::wording::time_span(s),
    }
}

/// Where `needle` occurs in `text`, case aside, as char positions (for highlighting what
/// the store's `/` filter matched).
fn substring_hits(text: &str, needle: &str) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let want: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    // Lowercasing may change a text's length; positions then would not be on screen.
    if lower.len() != text.chars().count() {
        return Vec::new();
    }
    lower
        .windows(want.len())
        .position(|w| w == want.as_slice())
        .map(|at| (at..at + want.len()).collect())
        .unwrap_or_default()
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let Some(t) = &state.deliveries.table else {
        return;
    };
    let wide = area.width >= 110;
    // A list of every code (a status's list) says which code each row has, and how long
    // it took; a group's rows all share one code and may be re-sent.
    let every_code = t.filter.code.is_none();
    // Sent mail has no cause: on a narrow screen its column tells the deferrals it cleared.
    let sent_list = matches!(
        t.filter.status,
        StatusFilter::Only(crate::model::DeliveryStatus::Sent) | StatusFilter::SentAfterDeferrals
    );
    let show_defer = every_code && (wide || sent_list);
    let show_cause = !(every_code && sent_list && !wide);
    let position = if t.total == 0 {
        "0".to_string()
    } else {
        format!(
            "{} / {}",
            thousands(t.cursor.selected + 1),
            thousands(t.total)
        )
    };
    let sort = t.filter.sort;
    let order = format!(
        "order: {}{}",
        sort.key.label(),
        if sort.descending { " ↓" } else { "" }
    );
    let matching = t
        .filter
        .text
        .as_deref()
        .map(|q| format!("recipient ~ \"{}\" · ", for_terminal(q)))
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Line::styled(format!(" {} ", t.title), theme.title()))
        .title(Line::styled(format!(" {order} "), theme.muted()).right_aligned())
        .title_bottom(Line::from(format!(" {matching}{position} ")).right_aligned());
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
    if every_code {
        widths.extend([Constraint::Length(7), Constraint::Length(8)]);
        header.extend(["code", "status"]);
        if wide {
            widths.push(Constraint::Fill(1));
            header.push("host");
        }
    } else {
        widths.extend([
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(12),
        ]);
        header.extend(["host", "status", "re-send"]);
    }
    // On a narrow screen the recipient keeps its room; Enter shows attempts and times.
    if wide {
        widths.extend([Constraint::Length(3), Constraint::Length(11)]);
        header.extend(["att", "last"]);
    }
    if every_code {
        widths.push(Constraint::Length(6));
        header.push("delay");
    }
    if show_defer {
        widths.push(Constraint::Length(5));
        header.push("defer");
    }
    if show_cause {
        widths.push(Constraint::Length(13));
        header.push("cause");
    }
    // Text columns cut with `…`: the symbol column is kept whenever a row is selected.
    let cols = table_columns(area, &widths, 2);
    // After the mark column.
    let mut col = cols.iter().copied().skip(1);
    let w_recipient = col.next().unwrap_or(0);
    let w_domain = if wide { col.next().unwrap_or(0) } else { 0 };
    let w_host = if every_code {
        if wide {
            cols.get(5).copied().unwrap_or(0)
        } else {
            0
        }
    } else {
        col.next().unwrap_or(0)
    };
    let w_cause = cols.last().copied().unwrap_or(0);
    let query = t.filter.text.as_deref().unwrap_or("");
    let cut = |text: String, width: usize| Cell::from(fit_line(Line::raw(text), width));
    let make_row = |r: &DeliveryRow| -> Row<'static> {
        let recipient = for_terminal(&r.recipient).into_owned();
        let hits = substring_hits(&recipient, query);
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
                highlighted(&recipient, &hits, theme.base(), theme.hit()),
                w_recipient,
            )),
        ];
        if wide {
            cells.push(cut(for_terminal(&r.domain).into_owned(), w_domain));
        }
        if every_code {
            cells.extend([
                Cell::from(for_terminal(&r.code).into_owned()),
                Cell::from(r.status.as_str()).style(status_style),
            ]);
            if wide {
                cells.push(cut(for_terminal(&r.host).into_owned(), w_host));
            }
        } else {
            cells.extend([
                cut(for_terminal(&r.host).into_owned(), w_host),
                Cell::from(r.status.as_str()).style(status_style),
                match t.verdicts.get(&r.id) {
                    Some(v) if v.is_eligible() => Cell::from(v.label()).style(theme.title()),
                    Some(v) => Cell::from(v.label()).style(theme.muted()),
                    None => Cell::from(""),
                },
            ]);
        }
        if wide {
            cells.extend([
                Cell::from(Line::from(r.attempts.to_string()).right_aligned()),
                Cell::from(time(r.last_attempt, false)),
            ]);
        }
        if every_code {
            cells.push(Cell::from(Line::from(delay_text(r.delay)).right_aligned()));
        }
        if show_defer {
            cells.push(Cell::from(
                Line::from(r.deferrals.to_string()).right_aligned(),
            ));
        }
        if show_cause {
            cells.push(cut(
                for_terminal(r.cause.map(crate::model::Reason::as_str).unwrap_or("-")).into_owned(),
                w_cause,
            ));
        }
        Row::new(cells)
    };
    // The slice on screen: from `top`, within the loaded window.
    let from = t.cursor.top.saturating_sub(t.start) as usize;
    let from = from.min(t.rows.len().saturating_sub(1));
    let to = (from + height).min(t.rows.len());
    let slice_start = t.start + from as u64;
    let rows: Vec<Row> = t.rows[from..to].iter().map(make_row).collect();
    let selected = t
        .cursor
        .selected
        .checked_sub(slice_start)
        .map(|i| i as usize);
    let table = theme.list(rows, widths, header, block);
    let mut ts = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut ts);
    super::triage::record_clicks(
        state,
        area,
        2,
        (slice_start as usize).saturating_add(ts.offset()),
        crate::app::state::ClickList::Deliveries,
    );
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
