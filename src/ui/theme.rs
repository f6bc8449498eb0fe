//! Styles. With NO_COLOR set, emphasis is carried by modifiers (bold, reverse,
//! underline) only, never by colour.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(no_color: bool) -> Self {
        Theme { color: !no_color }
    }

    pub fn base(self) -> Style {
        Style::default()
    }

    pub fn title(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::Cyan) } else { s }
    }

    pub fn heading(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Yellow)
        } else {
            s.add_modifier(Modifier::UNDERLINED)
        }
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    /// Characters the fuzzy filter matched.
    pub fn hit(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        if self.color {
            s.fg(Color::LightYellow)
        } else {
            s
        }
    }

    pub fn expired(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::LightRed) } else { s }
    }

    pub fn muted(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
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
            (true, true) => Style::default().fg(Color::Cyan),
            (true, false) => Style::default().fg(Color::DarkGray),
            (false, true) => Style::default().add_modifier(Modifier::BOLD),
            (false, false) => Style::default(),
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
        if self.color { s.fg(Color::LightRed) } else { s }
    }
}
