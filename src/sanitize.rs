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
    c.is_control() || is_format(c)
}

/// Characters with no glyph that still change what a screen or an editor shows: bidi
/// overrides and marks, zero-width joiners and spaces, the line and paragraph separators
/// (U+2028/2029, which some viewers and JavaScript take as line breaks), and the rest of
/// Unicode's format category (Cf). A terminal gives them a width of zero or one depending
/// on its version, so a row that holds one no longer lines up with the screen's model.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// JSON output for hostile text. serde_json escapes only what JSON requires (C0 controls,
/// quote, backslash) and passes DEL, C1 controls, bidi overrides and U+2028/2029 through
/// raw, where a terminal obeys them and JavaScript reads a line break. This writes every
/// character `for_terminal` would escape as `\uXXXX` (a surrogate pair above U+FFFF), so
/// the JSON still parses to the same value.
struct HostileTextEscaper<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for HostileTextEscaper<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as one line of JSON, hostile characters escaped (JSON Lines, `classify`).
pub fn json_line<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        w,
        HostileTextEscaper(serde_json::ser::CompactFormatter),
    );
    value.serialize(&mut ser)
}

/// `value` as indented JSON, hostile characters escaped (`--json` outputs).
pub fn json_pretty<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        w,
        HostileTextEscaper(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser)
}

/// `json_pretty` into a string.
pub fn json_pretty_string<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    json_pretty(&mut out, value)?;
    // Only whole UTF-8 strings and ASCII escapes were written.
    Ok(String::from_utf8(out).expect("JSON output is UTF-8"))
}

/// `json_line` into a string.
pub fn json_line_string<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    json_line(&mut out, value)?;
    Ok(String::from_utf8(out).expect("JSON output is UTF-8"))
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

    #[test]
    fn line_separators_and_format_characters_are_escaped_too() {
        assert_eq!(
            for_terminal("a\u{2028}b\u{2029}c\u{200b}d\u{feff}e\u{2066}f\u{e0041}g"),
            "a\\u{2028}b\\u{2029}c\\u{200b}d\\u{feff}e\\u{2066}f\\u{e0041}g"
        );
        // Letters, marks and emoji that take a cell of their own are left alone.
        assert!(matches!(for_terminal("Zoë 日本 ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_what_a_terminal_or_javascript_would_obey() {
        #[derive(serde::Serialize)]
        struct R<'a> {
            text: &'a str,
        }
        let hostile = "del\u{7f} c1\u{9b}31m bidi\u{202e}moc ls\u{2028}ps\u{2029} tag\u{e0041} zoë";
        let line = json_line_string(&R { text: hostile }).unwrap();
        assert_eq!(
            line,
            r#"{"text":"del\u007f c1\u009b31m bidi\u202emoc ls\u2028ps\u2029 tag\udb40\udc41 zoë"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["text"], hostile);
        let pretty = json_pretty_string(&R { text: hostile }).unwrap();
        assert!(pretty.contains("\n  \"text\""), "{pretty}");
        assert!(
            !pretty.chars().any(|c| c != '\n' && needs_escape(c)),
            "{pretty}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back["text"], hostile);
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
