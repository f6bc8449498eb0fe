//! The chart screen: failed attempts over time (per hour or day, by code or provider) with
//! labelled axes, the queue ages of still-deferred mail against the queue lifetime, and
//! failures per provider.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph,
};

use crate::app::state::AppState;
use crate::model::report::Timeline;
use crate::sanitize::for_terminal;
use crate::wording::{cell, fit, thousands, time_span};

use super::theme::Theme;

/// Markers that tell series apart without colours.
const MARKERS: [Marker; 6] = [
    Marker::Braille,
    Marker::Dot,
    Marker::Block,
    Marker::Bar,
    Marker::HalfBlock,
    Marker::Braille,
];

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let block = |title: String| theme.panel(&title);
    let Some(t) = &state.timeline.data else {
        frame.render_widget(
            Paragraph::new("loading…").block(block("Chart".into())),
            area,
        );
        return;
    };
    if t.series.is_empty() && t.providers.is_empty() && t.queue_ages.iter().all(|a| a.1 == 0) {
        frame.render_widget(
            Paragraph::new("no failed delivery in the window").block(block("Chart".into())),
            area,
        );
        return;
    }
    let [chart_area, bars_area] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Fill(1)]).areas(area);
    render_chart(frame, chart_area, t, theme, block(chart_title(t, state)));
    let [ages_area, providers_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(bars_area);
    render_ages(frame, ages_area, t, theme, block(ages_title(t)));
    render_providers(
        frame,
        providers_area,
        t,
        theme,
        block("Failed by provider".into()),
    );
}

fn chart_title(t: &Timeline, state: &AppState) -> String {
    let per = if t.bucket >= 86_400 { "day" } else { "hour" };
    let span = match state.time_window.span {
        Some(s) => format!("last {}", time_span(s)),
        None => "all".into(),
    };
    format!(
        "Failed attempts per {per} by {} · {span} · {} to {}",
        t.by.as_str(),
        stamp(t.start, t.bucket),
        stamp(t.end, t.bucket)
    )
}

fn ages_title(t: &Timeline) -> String {
    match t.lifetime {
        Some(l) => format!("Still deferred: age / {} lifetime", time_span(l)),
        None => "Still deferred: age / queue lifetime".into(),
    }
}

/// A time as the axis labels it: to the hour for hourly charts, the day for daily ones.
fn stamp(ts: i64, bucket: i64) -> String {
    let format = if bucket >= 86_400 {
        "%m-%d"
    } else {
        "%m-%d %H:00"
    };
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format(format).to_string())
        .unwrap_or_default()
}

fn render_chart(frame: &mut Frame, area: Rect, t: &Timeline, theme: Theme, block: Block) {
    let buckets = t.series.first().map_or(1, |s| s.1.len()).max(1);
    let points: Vec<Vec<(f64, f64)>> = t
        .series
        .iter()
        .map(|(_, counts)| {
            counts
                .iter()
                .enumerate()
                .map(|(i, n)| (i as f64, *n as f64))
                .collect()
        })
        .collect();
    let top = t
        .series
        .iter()
        .flat_map(|s| s.1.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let datasets: Vec<Dataset> = t
        .series
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, ((name, counts), pts))| {
            let total: u64 = counts.iter().sum();
            Dataset::default()
                .name(format!(
                    "{} {}",
                    fit(&for_terminal(name), 24),
                    thousands(total)
                ))
                .marker(if theme.colored() {
                    Marker::Braille
                } else {
                    MARKERS[i % MARKERS.len()]
                })
                .graph_type(GraphType::Line)
                .style(theme.series(i))
                .data(pts)
        })
        .collect();
    let last = (buckets - 1) as f64;
    let mid = t.start + t.bucket * ((buckets as i64 - 1) / 2);
    let x_labels: Vec<Span> = vec![
        Span::raw(stamp(t.start, t.bucket)),
        Span::raw(stamp(mid, t.bucket)),
        Span::raw(stamp(t.start + t.bucket * (buckets as i64 - 1), t.bucket)),
    ];
    let y_labels: Vec<Span> = vec![
        Span::raw("0"),
        Span::raw(thousands(top / 2)),
        Span::raw(thousands(top)),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .title(Span::styled("UTC", theme.muted()))
                .bounds([0.0, last.max(1.0)])
                .labels(x_labels),
        )
        .y_axis(
            Axis::default()
                .title(Span::styled("failed", theme.muted()))
                .bounds([0.0, top as f64])
                .labels(y_labels),
        )
        .legend_position(Some(LegendPosition::TopRight))
        // The legend is what names the lines: shown unless it would hide most of the chart.
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(70)));
    frame.render_widget(chart, area);
}

fn render_ages(frame: &mut Frame, area: Rect, t: &Timeline, theme: Theme, block: Block) {
    let inner_width = area.width.saturating_sub(2);
    let n = t.queue_ages.len().max(1) as u16;
    let bar_width = (inner_width.saturating_sub(n - 1) / n).clamp(1, 9);
    let bars: Vec<Bar> = t
        .queue_ages
        .iter()
        .enumerate()
        .map(|(i, (label, count))| {
            let style = if i + 1 == t.queue_ages.len() {
                theme.expired()
            } else {
                theme.spark()
            };
            Bar::default()
                .value(*count)
                .label(Line::from(label.clone()))
                .text_value(thousands(*count))
                .style(style)
        })
        .collect();
    let chart = BarChart::default()
        .block(block)
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(1)
        .label_style(theme.muted());
    frame.render_widget(chart, area);
}

fn render_providers(frame: &mut Frame, area: Rect, t: &Timeline, theme: Theme, block: Block) {
    if t.providers.is_empty() {
        frame.render_widget(Paragraph::new("none").block(block), area);
        return;
    }
    let name_width = (area.width / 3).clamp(6, 20) as usize;
    let bars: Vec<Bar> = t
        .providers
        .iter()
        .map(|(name, failed, sent)| {
            let label = format!(
                "{} {:>13} ",
                cell(&for_terminal(name), name_width),
                format!("{} delivered", thousands(*sent))
            );
            Bar::default()
                .value(*failed)
                .label(Line::from(label))
                .text_value(thousands(*failed))
                .style(theme.expired())
                .value_style(theme.base())
        })
        .collect();
    let chart = BarChart::default()
        .block(block)
        .direction(Direction::Horizontal)
        .data(BarGroup::default().bars(&bars))
        .bar_width(1)
        .bar_gap(0);
    frame.render_widget(chart, area);
}
