//! Text from logs is written by strangers: before any of it reaches a terminal, control
//! characters and escape sequences are made visible instead of being obeyed.

use std::borrow::Cow;
use std::fmt::Write;

/// Replaces C0/C1 controls (ESC, CSI, OSC starters, BEL, CR…), DEL and bidi overrides with
/// visible escapes (`\x1b`, `\u{202e}`). Tabs become a space. Printable text is untouched
/// and returned without copying.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if needs_escape(c) {
            if (c as u32) < 0x100 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        let osc = "evil\x1b]0;pwned\x07.example\x1b[2J\u{202e}moc";
        let clean = for_terminal(osc);
        assert!(!clean.chars().any(|c| c.is_control()));
        assert_eq!(clean, "evil\\x1b]0;pwned\\x07.example\\x1b[2J\\u{202e}moc");
        assert!(matches!(for_terminal("plain text"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("a\u{9b}b"), "a\\x9bb");
    }
}

/// A CSV writer's error as the I/O error underneath it, when there is one, so that a
/// reader closing the pipe (`| head`) stays a `BrokenPipe` the caller can recognise.
pub fn csv_io_error(e: csv::Error) -> std::io::Error {
    if !e.is_io_error() {
        return std::io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at
/// the start) gets a leading `'` so it stays text (OWASP "CSV injection").
/// Control characters are made visible as for the terminal, which is where
/// `export … --format csv` without a redirect ends up.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let formula = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let visible = for_terminal(s);
    if formula {
        Cow::Owned(format!("'{visible}"))
    } else {
        visible
    }
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(csv_cell("user@example.com"), "user@example.com");
        assert_eq!(
            csv_cell("said: \u{1b}]0;pwned\u{7}"),
            "said: \\x1b]0;pwned\\x07"
        );
        assert_eq!(csv_cell(""), "");
    }
}
