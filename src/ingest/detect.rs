//! Format detection by content over the first lines (FORMATS.md "Auto-detection order").
//! Logs mix foreign lines, so a format wins on hit counts, never by requiring every line.

use super::Format;
use super::LineOutcome;
use super::postfix::PostfixParser;
use super::timestamp::YearTracker;

/// How many non-empty lines detection reads.
pub const SNIFF_LINES: usize = 500;

/// Formats tried, in order, for the "nothing fits" message.
pub const TRIED: &[Format] = &[Format::Postfix];

/// The format of `head` (the first bytes of the input), or `None`.
pub fn detect(head: &[u8]) -> Option<Format> {
    let mut postfix = PostfixParser::new(YearTracker::given(2000));
    let mut scratch = Vec::new();
    let mut hits = 0usize;
    let mut lines = 0usize;
    for line in head.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        if lines > SNIFF_LINES {
            break;
        }
        scratch.clear();
        match postfix.parse_line(line, 0, &mut scratch) {
            LineOutcome::Skipped => {}
            // Pasted message parts (`QUEUEID: to=<…>, …, status=sent`) count when they
            // carry an event; Postfix's own chatter counts when its program is named.
            LineOutcome::Parsed => hits += 1,
            LineOutcome::Ignored => hits += usize::from(looks_like_syslog_postfix(line)),
        }
    }
    (hits >= 3 || (hits > 0 && hits == lines)).then_some(Format::Postfix)
}

/// The Postfix program token must appear: a bare `QUEUEID: …` message part alone is not
/// enough to call a file Postfix (it is accepted inside a Postfix file, or when forced).
fn looks_like_syslog_postfix(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"/").is_some() && memchr::memmem::find(line, b"]: ").is_some()
        || memchr::memmem::find(line, b"\"postfix/").is_some()
        || memchr::memmem::find(line, b"\"SYSLOG_IDENTIFIER\":\"postfix").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postfix_is_found_among_foreign_lines_and_junk_is_not_postfix() {
        let log = b"Oct  1 10:00:00 mx CRON[1]: (root) CMD (x)\n\
Oct  1 10:00:01 mx postfix/qmgr[1]: 1A2B3C4D5E: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n\
Oct  1 10:00:02 mx postfix/smtp[2]: 1A2B3C4D5E: to=<c@d.example>, relay=d[1.2.3.4]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (250 ok)\n\
Oct  1 10:00:03 mx postfix/qmgr[1]: 1A2B3C4D5E: removed\n";
        assert_eq!(detect(log), Some(Format::Postfix));
        assert_eq!(detect(b"hello\nworld\n"), None);
        assert_eq!(detect(b""), None);
    }
}
