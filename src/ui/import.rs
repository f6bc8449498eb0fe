//! Import progress: one gauge per file, lines read and lines per second.

use crate::wording::{plural_with, thousands};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, LineGauge, Paragraph};

use crate::app::state::AppState;
use crate::sanitize::for_terminal;

use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: Theme) {
    let Some(view) = &state.import else {
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Line::styled(
            format!(
                " Importing {} ",
                plural_with(view.files.len() as u64, "file", "files")
            ),
            theme.title(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = Layout::vertical(
        view.files
            .iter()
            .map(|_| Constraint::Length(2))
            .chain([Constraint::Fill(1)]),
    )
    .split(inner);
    for (i, name) in view.files.iter().enumerate() {
        let Some(slot) = rows.get(i) else { break };
        // Files are imported in the order of their first timestamps, so progress is
        // matched by name.
        let p = view.progress.iter().find(|p| p.name == *name);
        let [title, gauge] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(*slot);
        let (ratio, detail) = match p {
            None => (0.0, "waiting".to_string()),
            Some(p) => {
                let ratio = match p.total_bytes {
                    Some(t) if t > 0 => (p.bytes as f64 / t as f64).min(1.0),
                    _ if p.done => 1.0,
                    _ => 0.0,
                };
                let state = if p.done { "done" } else { "reading" };
                (
                    ratio,
                    format!(
                        "{state} · {} · {} lines/s",
                        plural_with(p.lines, "line", "lines"),
                        thousands(p.lines_per_sec as u64)
                    ),
                )
            }
        };
        frame.render_widget(
            Paragraph::new(format!("{} — {detail}", for_terminal(name))),
            title,
        );
        frame.render_widget(
            LineGauge::default()
                .ratio(ratio)
                .filled_style(theme.spark())
                .label(format!("{:>3.0}%", ratio * 100.0)),
            gauge,
        );
    }
}
