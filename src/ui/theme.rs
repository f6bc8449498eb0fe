//! Styles. With NO_COLOR set, emphasis is carried by modifiers (bold, reverse,
//! underline) only, never by colour. Colours come in two sets, for dark and for light
//! terminal backgrounds.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
    light: bool,
}

/// Whether the terminal's background is light: `SENDLOG_THEME=light|dark` decides, else
/// `COLORFGBG` ("foreground;background" colour numbers, set by rxvt, Konsole, iTerm2 and
/// others), else dark, the common default.
pub fn light_background(theme: Option<&str>, colorfgbg: Option<&str>) -> bool {
    match theme.map(str::trim) {
        Some(t) if t.eq_ignore_ascii_case("light") => return true,
        Some(t) if t.eq_ignore_ascii_case("dark") => return false,
        _ => {}
    }
    // The background is the last field; 7 (white) and 9–15 (bright colours) are light,
    // except 8 (bright black, a dark grey).
    let bg = colorfgbg
        .and_then(|v| v.rsplit(';').next())
        .and_then(|b| b.trim().parse::<u8>().ok());
    matches!(bg, Some(7 | 9..=15))
}

impl Theme {
    pub fn new(no_color: bool) -> Self {
        Theme {
            color: !no_color,
            light: false,
        }
    }

    /// The colours for a light background (no effect without colours).
    pub fn light(self, light: bool) -> Self {
        Theme { light, ..self }
    }

    /// A dark colour on a light background, its bright variant on a dark one.
    fn pick(self, dark: Color, light: Color) -> Color {
        if self.light { light } else { dark }
    }

    pub fn base(self) -> Style {
        Style::default()
    }

    pub fn title(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(self.pick(Color::Cyan, Color::Blue))
        } else {
            s
        }
    }

    pub fn heading(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(self.pick(Color::Yellow, Color::Magenta))
        } else {
            s.add_modifier(Modifier::UNDERLINED)
        }
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::default()
                .bg(self.pick(Color::DarkGray, Color::Gray))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    /// Characters the fuzzy filter matched.
    pub fn hit(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        if self.color {
            s.fg(self.pick(Color::LightYellow, Color::Red))
        } else {
            s
        }
    }

    pub fn expired(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(self.pick(Color::LightRed, Color::Red))
        } else {
            s
        }
    }

    pub fn muted(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    /// The colour of the chart's `i`th series (none without colours: markers tell them
    /// apart then).
    pub fn series(self, i: usize) -> Style {
        const DARK: [Color; 6] = [
            Color::LightRed,
            Color::LightYellow,
            Color::LightCyan,
            Color::LightMagenta,
            Color::LightGreen,
            Color::Gray,
        ];
        const LIGHT: [Color; 6] = [
            Color::Red,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Green,
            Color::DarkGray,
        ];
        if self.color {
            Style::default().fg(self.pick(DARK[i % 6], LIGHT[i % 6]))
        } else {
            Style::default()
        }
    }

    /// Whether colours are on (the chart then tells series apart by colour).
    pub fn colored(self) -> bool {
        self.color
    }

    pub fn spark(self) -> Style {
        if self.color {
            Style::default().fg(Color::Green)
        } else {
            Style::default()
        }
    }

    pub fn border(self, focused: bool) -> Style {
        match (self.color, focused) {
            (true, true) => Style::default().fg(self.pick(Color::Cyan, Color::Blue)),
            (true, false) => Style::default().fg(self.pick(Color::DarkGray, Color::Gray)),
            (false, true) => Style::default().add_modifier(Modifier::BOLD),
            (false, false) => Style::default(),
        }
    }

    /// A whole-screen panel or popup: its frame in the focused colour, its title padded.
    pub fn panel(self, title: &str) -> ratatui::widgets::Block<'static> {
        ratatui::widgets::Block::default()
            .borders(ratatui::widgets::Borders::ALL)
            .border_style(self.border(true))
            .title(ratatui::text::Line::styled(
                format!(" {title} "),
                self.title(),
            ))
    }

    /// A list with a header row and a selected row, as every list screen draws it.
    pub fn list<'a, H>(
        self,
        rows: Vec<ratatui::widgets::Row<'a>>,
        widths: Vec<ratatui::layout::Constraint>,
        header: H,
        block: ratatui::widgets::Block<'a>,
    ) -> ratatui::widgets::Table<'a>
    where
        H: IntoIterator,
        H::Item: Into<ratatui::widgets::Cell<'a>>,
    {
        ratatui::widgets::Table::new(rows, widths)
            .header(ratatui::widgets::Row::new(header).style(self.heading()))
            .row_highlight_style(self.selected())
            .highlight_symbol("▶ ")
            .column_spacing(1)
            .block(block)
    }

    /// The pane with the keyboard's focus is drawn with a heavy line, so it stands out
    /// without colour too.
    pub fn border_type(self, focused: bool) -> BorderType {
        if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        }
    }

    pub fn status(self) -> Style {
        if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn error(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(self.pick(Color::LightRed, Color::Red))
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_is_read_from_the_override_then_colorfgbg() {
        assert!(light_background(Some("light"), Some("15;0")));
        assert!(!light_background(Some("DARK"), Some("0;15")));
        assert!(light_background(None, Some("0;15")));
        assert!(light_background(None, Some("0;default;7")));
        assert!(!light_background(None, Some("15;0")));
        assert!(!light_background(None, Some("7;8")));
        assert!(!light_background(None, Some("garbage")));
        assert!(!light_background(None, None));
        assert!(!light_background(Some("auto"), None));
    }
}
