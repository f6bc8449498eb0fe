//! Triage: failed deliveries by enhanced code (label, count, share, sparkline), the
//! selected code's second level (domain / provider / sending host) and its explanation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap,
};

use crate::app::explain::panel_for;
use crate::app::state::{AppState, ClickList, ClickTarget, Pane};
use crate::app::update::breakdown_text;
use crate::classify::EnhancedCode;
use crate::model::delivery::Dimension;

use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::wording::{queue_age, time_left};
use unicode_width::UnicodeWidthStr;

use super::text::{fit_line, highlighted, percent, sparkline, table_columns, time};
use super::theme::Theme;
use crate::wording::thousands;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let codes_len = state.triage.codes.view.len() as u16;
    // The codes are what the screen is for: on a short terminal they keep all but a few rows.
    let codes_room = |height: u16| {
        if height < 16 {
            height.saturating_sub(3)
        } else {
            height / 2
        }
    };
    if area.height < 8 {
        // Too short for three panes: the codes alone, still navigable.
        render_codes(frame, area, state, theme);
        return;
    }
    let (codes_area, breakdown_area, explain_area) = if area.width >= 110 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)]).areas(area);
        let [codes, breakdown] = Layout::vertical([
            Constraint::Length((codes_len + 3).max(5).min(codes_room(left.height))),
            Constraint::Fill(1),
        ])
        .areas(left);
        (codes, breakdown, right)
    } else {
        let [codes, bottom] = Layout::vertical([
            Constraint::Length((codes_len + 3).max(5).min(codes_room(area.height))),
            Constraint::Fill(1),
        ])
        .areas(area);
        let [breakdown, explain] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(bottom);
        (codes, breakdown, explain)
    };
    // At-risk mail shares the second level's column, when there is any and room for it.
    let frozen_line = u16::from(!state.triage.frozen.is_empty());
    let at_risk_height = (state.triage.at_risk.len().min(AT_RISK_ROWS) + 2) as u16 + frozen_line;
    let any_at_risk = !state.triage.at_risk.is_empty() || frozen_line > 0;
    let breakdown_area = if any_at_risk && breakdown_area.height >= at_risk_height + 5 {
        let [breakdown, at_risk] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(at_risk_height)])
                .areas(breakdown_area);
        render_at_risk(frame, at_risk, state, theme);
        breakdown
    } else {
        breakdown_area
    };
    render_codes(frame, codes_area, state, theme);
    render_breakdown(frame, breakdown_area, state, theme);
    render_explain(frame, explain_area, state, theme);
}

fn block(title: String, focused: bool, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .border_type(theme.border_type(focused))
        .title(Line::styled(title, theme.title()))
}

fn render_codes(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let t = &state.triage;
    let focused = t.pane == Pane::Codes;
    let Some(ov) = &t.overview else {
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
    let failed = t.failed_total();
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
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(spark_width),
    ];
    let code_width = table_columns(area, &widths, 2)[0];
    let expired = EnhancedCode::EXPIRED.to_string();
    let rows: Vec<Row> = t
        .codes
        .view
        .iter()
        .map(|m| {
            let c = &ov.codes[m.index];
            let base = if c.code == expired {
                theme.expired()
            } else {
                theme.base()
            };
            let text = t.code_texts.get(m.index).map_or("", String::as_str);
            let spark = t
                .sparks
                .get(m.index)
                .and_then(|s| s.as_deref())
                .map(|s| sparkline(s, spark_width as usize))
                .unwrap_or_default();
            Row::new(vec![
                Cell::from(fit_line(
                    highlighted(text, &m.hits, base, theme.hit()),
                    code_width,
                )),
                Cell::from(Line::from(thousands(c.count)).right_aligned()),
                Cell::from(Line::from(percent(c.count, failed)).right_aligned()),
                Cell::from(Span::styled(spark, theme.spark())),
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(
            Row::new(vec![
                Cell::from("code"),
                Cell::from(Line::from("count").right_aligned()),
                Cell::from(Line::from("share").right_aligned()),
                Cell::from(spark_header(t.spark_span, spark_width as usize)),
            ])
            .style(theme.heading()),
        )
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            theme.base()
        })
        .highlight_symbol("▶ ")
        .block(spark_span_title(
            block(
                format!(" Failed deliveries by code ({}) ", thousands(failed)),
                focused,
                theme,
            ),
            t.spark_span,
        ));
    let mut ts = TableState::default().with_selected(Some(t.codes.cursor.index()));
    frame.render_stateful_widget(table, area, &mut ts);
    // Rows start under the frame's top and the header.
    record_clicks(state, area, 2, ts.offset(), ClickList::Codes);
}

fn render_breakdown(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let t = &state.triage;
    let focused = t.pane == Pane::Breakdown;
    let title = format!(" By {} (tab) ", t.dim.label());
    let Some(b) = t.current_breakdown() else {
        let text = if t.selected_code().is_some() {
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
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(6),
    ];
    let value_width = table_columns(area, &widths, 2)[0];
    let code_total: u64 = t
        .overview
        .as_ref()
        .and_then(|o| o.codes.iter().find(|c| c.code == b.code))
        .map_or(0, |c| c.count);
    let rows: Vec<Row> = t
        .breakdown_list
        .view
        .iter()
        .map(|m| {
            let r = &b.rows[m.index];
            let text = breakdown_text(r.value.as_deref());
            let mut line = highlighted(&text, &m.hits, theme.base(), theme.hit());
            if t.dim == Dimension::Domain
                && let Some(meant) = r.value.as_ref().and_then(|d| t.typos.get(d))
            {
                line.push_span(Span::styled(
                    format!(" → {}?", for_terminal(meant)),
                    theme.expired(),
                ));
            }
            Row::new(vec![
                Cell::from(fit_line(line, value_width)),
                Cell::from(Line::from(thousands(r.count)).right_aligned()),
                Cell::from(Line::from(percent(r.count, code_total)).right_aligned()),
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            theme.base()
        })
        .highlight_symbol(if focused { "▶ " } else { "  " })
        .block(block(title, focused, theme));
    let mut ts = TableState::default().with_selected(Some(t.breakdown_list.cursor.index()));
    frame.render_stateful_widget(table, area, &mut ts);
    record_clicks(state, area, 1, ts.offset(), ClickList::Breakdown);
}

/// The sparklines' time reference in full, under the codes.
fn spark_span_title(b: Block<'static>, span: Option<(i64, i64)>) -> Block<'static> {
    match span {
        Some((from, to)) => b.title_bottom(
            Line::from(format!(
                " when: {} → {} UTC ",
                time(Some(from), false),
                time(Some(to), false)
            ))
            .right_aligned(),
        ),
        None => b,
    }
}

/// The sparkline column's header: its first and last day at its two ends when they fit
/// (`11-20    11-25`), else `when`.
fn spark_header(span: Option<(i64, i64)>, width: usize) -> String {
    let Some((from, to)) = span else {
        return "when".into();
    };
    let day = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%m-%d").to_string())
            .unwrap_or_default()
    };
    let (from, to) = (day(from), day(to));
    if from == to || width < from.len() + to.len() + 1 {
        return "when".into();
    }
    format!("{from}{}{to}", " ".repeat(width - from.len() - to.len()))
}

/// Leaves where a list's rows are for the mouse (`rows_from`: rows above the first row,
/// the frame and any header).
pub(super) fn record_clicks(
    state: &AppState,
    area: Rect,
    rows_from: u16,
    top: usize,
    list: ClickList,
) {
    let rows = Rect {
        x: area.x + 1,
        y: area.y + rows_from,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(rows_from + 1),
    };
    state.click_targets.borrow_mut().push(ClickTarget {
        rows,
        top: top as u64,
        list,
    });
}

/// Rows of the at-risk list; more are counted on its last row (`sendlog report` lists them).
const AT_RISK_ROWS: usize = 4;

fn render_at_risk(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let all = &state.triage.at_risk;
    let shown = if all.len() > AT_RISK_ROWS {
        AT_RISK_ROWS - 1
    } else {
        all.len()
    };
    // A narrow pane keeps the recipient readable and leaves the age and the cause to the
    // report.
    let with_cause = area.width >= 60;
    let with_age = area.width >= 50;
    let left: Vec<String> = all[..shown]
        .iter()
        .map(|a| time_left(a.seconds_left))
        .collect();
    let ages: Vec<String> = all[..shown]
        .iter()
        .map(|a| queue_age(a.age, a.arrival_known))
        .collect();
    let width = |v: &[String]| v.iter().map(|l| l.width()).max().unwrap_or(0) as u16;
    let (left_width, age_width) = (width(&left), width(&ages) + " old".len() as u16);
    let mut widths = vec![Constraint::Fill(1)];
    if with_age {
        widths.push(Constraint::Length(age_width));
    }
    widths.push(Constraint::Length(left_width));
    if with_cause {
        widths.push(Constraint::Length(14));
    }
    let cols = table_columns(area, &widths, 2);
    let mut rows: Vec<Row> = all[..shown]
        .iter()
        .zip(left)
        .zip(ages)
        .map(|((a, left), age)| {
            let mut cells = vec![Cell::from(fit_line(
                Line::raw(for_terminal(&a.recipient).into_owned()),
                cols[0],
            ))];
            if with_age {
                cells.push(Cell::from(Line::from(format!("{age} old")).right_aligned()));
            }
            cells.push(Cell::from(Line::from(left).right_aligned()));
            if with_cause {
                cells.push(Cell::from(fit_line(
                    Line::raw(
                        for_terminal(
                            a.cause
                                .map(crate::model::Reason::as_str)
                                .unwrap_or("unknown"),
                        )
                        .into_owned(),
                    ),
                    cols[cols.len() - 1],
                )));
            }
            Row::new(cells)
        })
        .collect();
    if shown < all.len() {
        rows.push(Row::new(vec![Cell::from(format!(
            "… {} more (sendlog report lists them)",
            all.len() - shown
        ))]));
    }
    // Frozen messages name no recipient, so they have no row above; one line says how
    // many there are (`sendlog report` lists them).
    if !state.triage.frozen.is_empty() {
        rows.push(Row::new(vec![Cell::from(fit_line(
            Line::raw(format!(
                "{} frozen, recipients unknown",
                thousands(state.triage.frozen.len() as u64)
            )),
            cols[0],
        ))]));
    }
    let title = format!(" At risk of expiring: {} ", thousands(all.len() as u64));
    // The same two-cell margin as the lists above, which keep it for their cursor.
    let table = Table::new(rows, widths)
        .highlight_symbol("  ")
        .highlight_spacing(HighlightSpacing::Always)
        .style(theme.base())
        .block(as_of_block(
            block(title, false, theme),
            state.triage.at_risk_as_of,
        ));
    frame.render_widget(table, area);
}

/// At-risk is judged at the last log line (or `--now`), not at this machine's clock: said
/// on the box's lower border, so a log read days later is not taken for the queue today.
fn as_of_block(b: Block<'_>, as_of: Option<i64>) -> Block<'_> {
    match as_of {
        Some(t) => b.title_bottom(format!(" as of {} ", format_rfc3339(t))),
        None => b,
    }
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
    // Built when the selection changed; one built here only if a test set the state by hand.
    let built;
    let panel = match &state.triage.panel {
        Some(p) if p.code == code => &p.panel,
        _ => {
            built = panel_for(&state.knowledge, code, state.triage.current_causes());
            &built
        }
    };
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
    let paragraph = super::text::scrolled(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        area,
        state.triage.explain.offset,
        &state.triage.explain.max,
    );
    frame.render_widget(
        paragraph.block(block(
            format!(" {} ", crate::sanitize::for_terminal(&panel.title)),
            false,
            theme,
        )),
        area,
    );
}
