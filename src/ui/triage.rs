//! Triage: failed deliveries by enhanced code (label, count, share, sparkline), the
//! selected code's second level (domain / provider / sending host) and its explanation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::explain::panel_for;
use crate::app::state::{AppState, Pane};
use crate::app::update::{breakdown_text, code_text};
use crate::classify::EnhancedCode;

use super::text::{highlighted, percent, sparkline, thousands};
use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let codes_len = state.codes_view.len() as u16;
    let (codes_area, breakdown_area, explain_area) = if area.width >= 110 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)]).areas(area);
        let [codes, breakdown] = Layout::vertical([
            Constraint::Length((codes_len + 3).clamp(5, left.height / 2)),
            Constraint::Fill(1),
        ])
        .areas(left);
        (codes, breakdown, right)
    } else {
        let [codes, bottom] = Layout::vertical([
            Constraint::Length((codes_len + 3).clamp(5, area.height / 2)),
            Constraint::Fill(1),
        ])
        .areas(area);
        let [breakdown, explain] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(bottom);
        (codes, breakdown, explain)
    };
    render_codes(frame, codes_area, state, theme);
    render_breakdown(frame, breakdown_area, state, theme);
    render_explain(frame, explain_area, state, theme);
}

fn block(title: String, focused: bool, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Line::styled(title, theme.title()))
}

fn render_codes(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let focused = state.pane == Pane::Codes;
    let Some(ov) = &state.overview else {
        frame.render_widget(
            Paragraph::new("loading…").block(block(
                " Failed deliveries by code ".into(),
                focused,
                theme,
            )),
            area,
        );
        return;
    };
    let failed = state.failed_total();
    if ov.codes.is_empty() {
        let text = if ov.totals.deliveries == 0 {
            "The store is empty: give sendlog a mail log, e.g. `sendlog /var/log/mail.log`."
        } else {
            "No failed deliveries: everything in the store was sent."
        };
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(block(
                " Failed deliveries by code ".into(),
                focused,
                theme,
            )),
            area,
        );
        return;
    }
    let spark_width: u16 = (area.width / 6).clamp(6, 24);
    let expired = EnhancedCode::EXPIRED.to_string();
    let rows: Vec<Row> = state
        .codes_view
        .iter()
        .map(|m| {
            let c = &ov.codes[m.index];
            let base = if c.code == expired {
                theme.expired()
            } else {
                theme.base()
            };
            let text = code_text(&c.code);
            let spark = state
                .sparks
                .get(m.index)
                .and_then(|s| s.as_deref())
                .map(|s| sparkline(s, spark_width as usize))
                .unwrap_or_default();
            Row::new(vec![
                Cell::from(highlighted(&text, &m.hits, base, theme.hit())),
                Cell::from(Line::from(thousands(c.count)).right_aligned()),
                Cell::from(Line::from(percent(c.count, failed)).right_aligned()),
                Cell::from(Span::styled(spark, theme.spark())),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(spark_width),
        ],
    )
    .header(
        Row::new(vec![
            Cell::from("code"),
            Cell::from(Line::from("count").right_aligned()),
            Cell::from(Line::from("share").right_aligned()),
            Cell::from("when"),
        ])
        .style(theme.heading()),
    )
    .row_highlight_style(if focused {
        theme.selected()
    } else {
        theme.base()
    })
    .highlight_symbol("▶ ")
    .block(block(
        format!(" Failed deliveries by code ({}) ", thousands(failed)),
        focused,
        theme,
    ));
    let mut ts = TableState::default().with_selected(Some(state.codes_cursor));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn render_breakdown(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let focused = state.pane == Pane::Breakdown;
    let title = format!(" By {} (tab) ", state.dim.label());
    let Some(b) = state.current_breakdown() else {
        let text = if state.selected_code().is_some() {
            "loading…"
        } else {
            ""
        };
        frame.render_widget(
            Paragraph::new(text).block(block(title, focused, theme)),
            area,
        );
        return;
    };
    let code_total: u64 = state
        .overview
        .as_ref()
        .and_then(|o| o.codes.iter().find(|c| c.code == b.code))
        .map_or(0, |c| c.count);
    let rows: Vec<Row> = state
        .breakdown_view
        .iter()
        .map(|m| {
            let r = &b.rows[m.index];
            let text = breakdown_text(r.value.as_deref());
            Row::new(vec![
                Cell::from(highlighted(&text, &m.hits, theme.base(), theme.hit())),
                Cell::from(Line::from(thousands(r.count)).right_aligned()),
                Cell::from(Line::from(percent(r.count, code_total)).right_aligned()),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(6),
        ],
    )
    .row_highlight_style(if focused {
        theme.selected()
    } else {
        theme.base()
    })
    .highlight_symbol(if focused { "▶ " } else { "  " })
    .block(block(title, focused, theme));
    let mut ts = TableState::default().with_selected(Some(state.breakdown_cursor));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn render_explain(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let Some(code) = state.selected_code() else {
        frame.render_widget(
            Block::default()
                .borders(Borders::ALL)
                .title(" Explanation "),
            area,
        );
        return;
    };
    let panel = panel_for(code, state.current_causes());
    let mut lines: Vec<Line> = Vec::new();
    for (i, section) in panel.sections.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(section.heading.clone(), theme.heading()));
        for l in &section.lines {
            lines.push(Line::raw(crate::sanitize::for_terminal(l).into_owned()));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((state.explain_scroll, 0))
            .block(block(
                format!(" {} ", crate::sanitize::for_terminal(&panel.title)),
                false,
                theme,
            )),
        area,
    );
}
