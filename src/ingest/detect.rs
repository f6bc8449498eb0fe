//! Format detection by content over the first lines.
//! Logs mix foreign lines, so a format wins on hit counts, never by requiring every line.

use super::Format;
use super::LineOutcome;
use super::csvrow;
use super::postfix::PostfixParser;
use super::timestamp::YearTracker;
use super::{exchange, exim, m365, powermta};

/// How many non-empty lines detection reads.
pub const SNIFF_LINES: usize = 500;

/// Formats tried, in order, for the "nothing fits" message.
pub const TRIED: &[Format] = &[
    Format::Exchange,
    Format::M365,
    Format::Powermta,
    Format::Postfix,
    Format::Exim,
];

/// The format of `head` (the first bytes of the input, UTF-8 after the input layer's
/// decoding), or `None`.
pub fn detect(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    let lines: Vec<&[u8]> = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SNIFF_LINES)
        .collect();
    header_format(&lines)
        .or_else(|| powermta_rows(&lines))
        .or_else(|| postfix(&lines))
        .or_else(|| exim(&lines))
}

/// Exchange's W3C preamble, or the header row of a CSV export (after PowerShell's
/// `#TYPE` line).
fn header_format(lines: &[&[u8]]) -> Option<Format> {
    if lines
        .iter()
        .take(10)
        .any(|l| l.starts_with(b"#Software: Microsoft Exchange Server"))
    {
        return Some(Format::Exchange);
    }
    let first = lines.iter().find(|l| !l.starts_with(b"#TYPE"))?;
    let fields = csvrow::split(first);
    if m365::shape_of(&fields).is_some() {
        return Some(Format::M365);
    }
    if exchange::is_tracking_header(&fields) {
        return Some(Format::Exchange);
    }
    if powermta::is_header(&fields) {
        return Some(Format::Powermta);
    }
    // Tracking rows without their preamble: ISO time first and 26 or 30+ columns
    // naming an event the tracking log knows.
    let rows = lines
        .iter()
        .filter(|l| {
            let f = csvrow::split(l);
            (f.len() == 26 || f.len() >= 30)
                && exchange::parse_time(&f[0]).is_some()
                && f[0].contains('T')
                && f.iter().any(|v| {
                    matches!(
                        v.as_str(),
                        "RECEIVE"
                            | "SEND"
                            | "SENDEXTERNAL"
                            | "DELIVER"
                            | "DEFER"
                            | "FAIL"
                            | "DSN"
                            | "SUBMIT"
                            | "NOTIFYMAPI"
                            | "HAREDIRECTFAIL"
                            | "EXPAND"
                            | "RESOLVE"
                            | "TRANSFER"
                            | "AGENTINFO"
                    )
                })
        })
        .count();
    (rows > 0 && rows * 2 >= lines.len()).then_some(Format::Exchange)
}

/// Header-less accounting rows: `d,2016-08-01 14:06:01-0400,…`.
fn powermta_rows(lines: &[&[u8]]) -> Option<Format> {
    let hits = lines
        .iter()
        .filter(|l| {
            let mut parts = l.splitn(3, |b| *b == b',');
            let (Some(kind), Some(time)) = (parts.next(), parts.next()) else {
                return false;
            };
            matches!(kind, b"d" | b"b" | b"t" | b"tq" | b"f" | b"rb" | b"rs")
                && std::str::from_utf8(time)
                    .ok()
                    .and_then(powermta::parse_time)
                    .is_some()
        })
        .count();
    (hits > 0 && hits * 2 >= lines.len()).then_some(Format::Powermta)
}

fn postfix(lines: &[&[u8]]) -> Option<Format> {
    let mut parser = PostfixParser::new(YearTracker::given(2000));
    let mut scratch = Vec::new();
    let mut hits = 0usize;
    for line in lines {
        scratch.clear();
        match parser.parse_line(line, 0, &mut scratch) {
            LineOutcome::Skipped => {}
            // Pasted message parts (`QUEUEID: to=<…>, …, status=sent`) count when they
            // carry an event; Postfix's own chatter counts when its program is named.
            LineOutcome::Parsed => hits += 1,
            LineOutcome::Ignored => hits += usize::from(looks_like_syslog_postfix(line)),
        }
    }
    (hits >= 3 || (hits > 0 && hits == lines.len())).then_some(Format::Postfix)
}

fn exim(lines: &[&[u8]]) -> Option<Format> {
    let mut parser = exim::EximParser::new(YearTracker::given(2000));
    let mut scratch = Vec::new();
    let hits = lines
        .iter()
        .filter(|l| {
            scratch.clear();
            // Syslog-routed Exim: the parser knows the `exim[pid]:` program token.
            exim::sniff(l)
                || (!l.first().is_some_and(u8::is_ascii_digit)
                    && matches!(parser.parse_line(l, 0, &mut scratch), LineOutcome::Parsed))
        })
        .count();
    (hits >= 3 || (hits > 0 && hits == lines.len())).then_some(Format::Exim)
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

    #[test]
    fn exim_lines_are_exim_not_postfix() {
        let log = b"2016-12-18 18:51:43 exim 4.84_2 daemon started: pid=700, -q30m\n\
2016-12-18 18:51:43 Start queue run: pid=701\n\
2016-12-18 19:49:30 1cIm8w-0000yI-6V <= root@ETC_MAILNAME U=root P=local S=307\n\
2016-12-18 19:49:30 1cIm8w-0000yI-6V ** uf7981903@njit.edu: Unrouteable address\n";
        assert_eq!(detect(log), Some(Format::Exim));
        let syslog = b"Mar  1 12:00:00 mailhost exim[123]: 1rABCD-000123-Xy <= a@b.example U=x P=local S=1\n\
Mar  1 12:00:01 mailhost exim[124]: 1rABCD-000123-Xy => c@d.example R=dnslookup T=remote_smtp H=d [192.0.2.1]\n\
Mar  1 12:00:01 mailhost exim[124]: 1rABCD-000123-Xy Completed\n";
        assert_eq!(detect(syslog), Some(Format::Exim));
    }

    #[test]
    fn csv_headers_pick_their_format() {
        assert_eq!(
            detect(b"\xef\xbb\xbf#Software: Microsoft Exchange Server\n#Version: 15.01\n"),
            Some(Format::Exchange)
        );
        assert_eq!(
            detect(b"#TYPE X\n\"Timestamp\",\"EventId\",\"RecipientStatus\"\n"),
            Some(Format::Exchange)
        );
        assert_eq!(
            detect(b"date_time_utc,event_id,recipient_status,sender_address\n"),
            Some(Format::M365)
        );
        assert_eq!(
            detect(b"type,timeLogged,orig,rcpt,dsnStatus\n"),
            Some(Format::Powermta)
        );
        // A CSV that is none of them.
        assert_eq!(detect(b"name,email\nann,a@b.example\n"), None);
    }
}
