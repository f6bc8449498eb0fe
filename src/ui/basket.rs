//! Basket: the marked deliveries with the verdict on each (what an export takes, and why
//! the rest stay out), the unmarked failures counted, the batches so far, and the export
//! confirm step.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use crate::app::state::{AppState, export_counts, export_file_name};
use crate::app::{Action, Context};
use crate::requeue::basket::Judged;
use crate::requeue::export::RequeueFormat;
use crate::sanitize::for_terminal;
use crate::triage::requeue::ResendVerdict;

use super::text::time;
use super::theme::Theme;
use crate::wording::{fit, plural_with, thousands};

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let block = |title: String| theme.panel(&title);
    let Some(b) = &state.basket.contents else {
        frame.render_widget(
            Paragraph::new("loading…").block(block("Basket".into())),
            area,
        );
        return;
    };
    let t = &b.marked_tally;
    let u = &b.unmarked_tally;
    let mut summary = vec![Line::from(vec![
        Span::styled(
            format!("{} eligible for export", thousands(t.eligible)),
            theme.title(),
        ),
        Span::raw(if t.excluded_total() > 0 {
            format!(
                " · {} excluded: {}",
                thousands(t.excluded_total()),
                t.describe_excluded()
            )
        } else {
            String::new()
        }),
    ])];
    summary.push(Line::from(format!(
        "Not marked: {}, {} of them eligible{}",
        plural_with(
            u.eligible + u.excluded_total(),
            "failed delivery",
            "failed deliveries"
        ),
        thousands(u.eligible),
        if u.excluded_total() > 0 {
            format!(
                " ({} excluded: {})",
                thousands(u.excluded_total()),
                u.describe_excluded()
            )
        } else {
            String::new()
        }
    )));
    if let Some(last) = b.batches.last() {
        summary.push(Line::from(format!(
            "{} so far; the last: #{} at {}, {} as {} to {}",
            plural_with(b.batches.len() as u64, "batch", "batches"),
            last.id,
            time(Some(last.created_at), false),
            plural_with(last.items, "delivery", "deliveries"),
            for_terminal(&last.format),
            for_terminal(&last.destination)
        )));
    }
    // Lines wrap at this width: the block must be tall enough for all of them.
    let inner = area.width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = summary
        .iter()
        .map(|l| l.width().div_ceil(inner).max(1))
        .sum();
    let summary_height = (wrapped as u16 + 2).min(area.height / 2);
    let [summary_area, list_area] =
        Layout::vertical([Constraint::Length(summary_height), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(summary)
            .wrap(Wrap { trim: true })
            .block(block("Basket".into())),
        summary_area,
    );

    let title = format!("Marked ({})", thousands(b.marked.len() as u64));
    if b.marked.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "nothing marked: on a group's deliveries, space marks one, v a range, a all eligible",
            )
            .wrap(Wrap { trim: true })
            .block(block(title)),
            list_area,
        );
    } else {
        let wide = area.width >= 110;
        let mut widths = vec![Constraint::Fill(3)];
        let mut header = vec!["recipient"];
        if wide {
            widths.extend([Constraint::Length(8), Constraint::Length(12)]);
            header.extend(["status", "queue id"]);
        }
        widths.extend([Constraint::Length(14), Constraint::Fill(4)]);
        header.extend(["cause", "verdict"]);
        // The widths the table will give its columns (its own layout: inside the borders,
        // after the highlight symbol, one cell between columns), so that a value too long
        // for its column is cut with `…` instead of silently.
        let columns: Vec<usize> = Layout::horizontal(widths.clone())
            .spacing(1)
            .split(Rect::new(0, 0, list_area.width.saturating_sub(2 + 2), 1))
            .iter()
            .map(|r| r.width as usize)
            .collect();
        let rows: Vec<Row> = b
            .marked
            .iter()
            .map(|j| row(j, wide, &columns, theme))
            .collect();
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.heading()))
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶ ")
            .block(block(title));
        let mut ts = TableState::default().with_selected(Some(state.basket.cursor.index()));
        frame.render_stateful_widget(table, list_area, &mut ts);
    }
    if state.export_confirm().is_some() {
        render_confirm(frame, area, state, theme);
    }
}

fn row(j: &Judged, wide: bool, columns: &[usize], theme: Theme) -> Row<'static> {
    let c = &j.candidate;
    let mut texts = vec![for_terminal(&c.recipient).into_owned()];
    if wide {
        texts.push(for_terminal(c.status.as_str()).into_owned());
        texts.push(for_terminal(&c.queue_id).into_owned());
    }
    texts.push(
        for_terminal(
            c.cause
                .map(crate::model::Reason::as_str)
                .unwrap_or("unknown"),
        )
        .into_owned(),
    );
    let (verdict, style) = match &j.verdict {
        ResendVerdict::Eligible { .. } => ("eligible".to_string(), theme.title()),
        ResendVerdict::Excluded { exclusion } => (
            for_terminal(&exclusion.describe()).into_owned(),
            theme.muted(),
        ),
    };
    texts.push(verdict);
    let last = texts.len() - 1;
    Row::new(texts.into_iter().enumerate().map(|(i, t)| {
        let t = columns.get(i).map_or(t.clone(), |&w| fit(&t, w));
        if i == last {
            Cell::from(t).style(style)
        } else {
            Cell::from(t)
        }
    }))
}

fn render_confirm(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let (Some(b), Some(confirm)) = (&state.basket.contents, state.export_confirm()) else {
        return;
    };
    let n = export_counts(b, confirm.format, confirm.again);
    let formats: Vec<Span> = RequeueFormat::NAMES
        .iter()
        .flat_map(|name| {
            // Brackets, not only a colour: the choice must show without colours too.
            if *name == confirm.format.as_str() {
                [
                    Span::styled(format!("[{name}]"), theme.selected()),
                    Span::raw(" "),
                ]
            } else {
                [
                    Span::styled(format!(" {name} "), theme.base()),
                    Span::raw(" "),
                ]
            }
        })
        .collect();
    let count = |name: &str, v: u64| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("  {name:<22}"), theme.heading()),
            Span::raw(thousands(v)),
        ])
    };
    let file = state.export_dir.join(export_file_name(
        state.basket.next_batch_id(),
        confirm.format,
    ));
    let mut lines = vec![
        Line::from(
            vec![Span::styled("  Format  ", theme.heading())]
                .into_iter()
                .chain(formats)
                .collect::<Vec<_>>(),
        ),
        Line::raw(""),
        count("To export", n.to_export),
        count("Excluded", n.excluded),
    ];
    let again_key = state
        .keymap
        .first_key(Context::Export, Action::ToggleAgain)
        .unwrap_or("");
    // Whether already exported deliveries go out again is a choice, so it reads as one.
    lines.push(if confirm.again {
        Line::from(vec![
            Span::styled(format!("  {:<22}", "Already exported"), theme.heading()),
            Span::styled(
                format!("{} exported again", thousands(n.exported_again)),
                theme.hit(),
            ),
            Span::styled(format!("  ({again_key}: leave out)"), theme.muted()),
        ])
    } else {
        Line::from(vec![
            Span::styled(format!("  {:<22}", "Already exported"), theme.heading()),
            Span::raw(format!("{} left out", thousands(n.already_exported))),
            Span::styled(format!("  ({again_key}: export again)"), theme.muted()),
        ])
    });
    // Said as it is: for a Postfix script, mail that left the queue (expired, bounced)
    // has nothing left for postqueue to retry.
    for (why, k) in &n.not_in_format_why {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<22}", "Left out"), theme.heading()),
            Span::raw(format!("{} {why}", thousands(*k))),
        ]));
    }
    lines.push(Line::raw(""));
    let dir_key = state
        .keymap
        .first_key(Context::Export, Action::EditDir)
        .unwrap_or("");
    match &confirm.dir_input {
        Some(typed) => {
            lines.push(Line::from(vec![
                Span::styled("  Folder  ", theme.heading()),
                Span::styled(format!("{}▏", for_terminal(typed)), theme.hit()),
            ]));
            lines.push(Line::styled(
                "          enter: keep this folder · esc: as it was",
                theme.muted(),
            ));
        }
        None => {
            lines.push(Line::from(vec![
                Span::styled("  File    ", theme.heading()),
                Span::raw(for_terminal(&file.display().to_string()).into_owned()),
            ]));
            lines.push(Line::styled(
                format!("          {dir_key}: write into another folder"),
                theme.muted(),
            ));
        }
    }
    if n.to_export == 0 {
        lines.push(Line::styled(
            "  nothing to export in this format: no file will be written",
            theme.error(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("  {}", state.keymap.own_hint_line(Context::Export)),
        theme.muted(),
    ));
    let width = area.width.saturating_sub(4).min(76);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(theme.panel("Export the basket")),
        popup,
    );
}
