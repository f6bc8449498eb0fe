//! Small text helpers shared by the screens. Strings from the store reach these already
//! sanitised (`sanitize::for_terminal`) by their callers.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// `text` with the characters at `hits` (char positions) in `hit` style.
pub fn highlighted(text: &str, hits: &[usize], base: Style, hit: Style) -> Line<'static> {
    if hits.is_empty() {
        return Line::from(Span::styled(text.to_string(), base));
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_is_hit = false;
    for (i, c) in text.chars().enumerate() {
        let is_hit = hits.contains(&i);
        if is_hit != run_is_hit && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_is_hit { hit } else { base },
            ));
        }
        run_is_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_is_hit { hit } else { base }));
    }
    Line::from(spans)
}

/// `text` on lines of at most `width` cells, broken between words; a word longer than a
/// line (a path, an address) is broken inside.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let cells = |s: &str| Span::raw(s).width();
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let sep = usize::from(!line.is_empty());
        if cells(&line) + sep + cells(word) <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut buf = [0u8; 4];
        for c in word.chars() {
            let w = cells(c.encode_utf8(&mut buf));
            if !line.is_empty() && cells(&line) + w > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// Unix seconds as `2026-11-01 02:25` (UTC), or the full form with seconds.
pub fn time(ts: Option<i64>, seconds: bool) -> String {
    let fmt = if seconds {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%m-%d %H:%M"
    };
    ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format(fmt).to_string())
        .unwrap_or_else(|| "-".into())
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `counts` in at most `width` cells: adjacent buckets are summed to fit;
/// an empty bucket is blank, any non-empty one at least the lowest bar.
pub fn sparkline(counts: &[u64], width: usize) -> String {
    if counts.is_empty() || width == 0 {
        return String::new();
    }
    let per = counts.len().div_ceil(width);
    let folded: Vec<u64> = counts.chunks(per).map(|c| c.iter().sum()).collect();
    let max = folded.iter().copied().max().unwrap_or(0);
    folded
        .iter()
        .map(|&n| {
            if n == 0 || max == 0 {
                ' '
            } else {
                let level = ((n as f64 / max as f64) * (BARS.len() - 1) as f64).round() as usize;
                BARS[level.min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// `paragraph` (wrapped, without its block) scrolled by `scroll` in `area`, which has a
/// border all round, clamped so its last line stays at the bottom; the limit is left in
/// `max` for the next key.
pub fn scrolled<'a>(
    paragraph: ratatui::widgets::Paragraph<'a>,
    area: ratatui::layout::Rect,
    scroll: u16,
    max: &std::cell::Cell<u16>,
) -> ratatui::widgets::Paragraph<'a> {
    let inner_width = area.width.saturating_sub(2);
    let inner_height = area.height.saturating_sub(2) as usize;
    let lines = paragraph.line_count(inner_width);
    let limit = lines.saturating_sub(inner_height).min(u16::MAX as usize) as u16;
    max.set(limit);
    paragraph.scroll((scroll.min(limit), 0))
}

/// The widths a bordered `Table` gives its columns in `area` (borders, the highlight
/// symbol's `symbol` cells and one cell between columns taken off), so a cell can be cut
/// to its column with `fit_line` instead of mid-character by the widget.
pub fn table_columns(
    area: ratatui::layout::Rect,
    widths: &[ratatui::layout::Constraint],
    symbol: u16,
) -> Vec<usize> {
    use ratatui::layout::{Flex, Layout, Rect};
    let room = area.width.saturating_sub(2).saturating_sub(symbol);
    Layout::horizontal(widths.to_vec())
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, room, 1))
        .iter()
        .map(|r| r.width as usize)
        .collect()
}

/// `line` cut to `width` cells with `…` at the end when it is longer, its styles kept.
pub fn fit_line(line: Line<'static>, width: usize) -> Line<'static> {
    use unicode_width::UnicodeWidthChar;
    if line.width() <= width {
        return line;
    }
    let alignment = line.alignment;
    let mut spans = Vec::new();
    let mut used = 0;
    let mut last_style = line.style;
    'spans: for span in line.spans {
        let mut kept = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            // One cell stays free for the ellipsis.
            if used + w + 1 > width {
                if !kept.is_empty() {
                    spans.push(Span::styled(kept, span.style));
                }
                last_style = span.style;
                break 'spans;
            }
            used += w;
            kept.push(c);
        }
        last_style = span.style;
        spans.push(Span::styled(kept, span.style));
    }
    if width > 0 {
        spans.push(Span::styled("…", last_style));
    }
    let mut cut = Line::from(spans).style(line.style);
    cut.alignment = alignment;
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            wrap("batch 1: to /a/b/c.csv", 10),
            ["batch 1:", "to", "/a/b/c.csv"]
        );
        assert_eq!(
            wrap("x /a/very/long/path", 8),
            ["x", "/a/very/", "long/pat", "h"]
        );
        assert_eq!(wrap("", 8), [""]);
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(sparkline(&[0, 1, 2, 4], 4), " ▃▅█");
        assert_eq!(sparkline(&[1, 1, 0, 0], 2), "█ ");
        assert_eq!(time(Some(0), true), "1970-01-01 00:00:00");
        let line = highlighted("gmail", &[0, 1], Style::default(), Style::default());
        assert_eq!(line.spans.len(), 2);
        assert_eq!(line.spans[0].content, "gm");
    }

    #[test]
    fn a_long_line_is_cut_with_an_ellipsis_and_keeps_its_styles() {
        use ratatui::style::Stylize;
        let line = Line::from(vec![Span::raw("gmial"), Span::raw(".com").bold()]);
        let cut = fit_line(line.clone(), 7);
        assert_eq!(cut.to_string(), "gmial.…");
        assert_eq!(cut.width(), 7);
        assert_eq!(cut.spans[1].style, Style::new().bold());
        assert_eq!(fit_line(line.clone(), 9).to_string(), "gmial.com");
        assert_eq!(fit_line(line.clone(), 1).to_string(), "…");
        assert_eq!(fit_line(line, 0).to_string(), "");
        // Wide characters are counted in cells.
        assert_eq!(
            fit_line(Line::raw("日本語のドメイン"), 6).to_string(),
            "日本…"
        );
    }
}
