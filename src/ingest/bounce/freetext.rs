//! Reports without a `message/delivery-status` part (qmail, Exim, Sendmail's and
//! Exchange's plain-text NDRs, Gmail, Yahoo, DragonFly, Google Groups, …): the failed
//! recipients and their error text come from the human-readable body.
//!
//! The body is cut where the returned original begins (so text inside the original is
//! never read as the error); then every line that names an address on its own (`<a@b>:`,
//! `a@b`, `a@b<mailto:a@b>`, `<a@b>... reason`, `a@b on DATE`) opens that recipient's block,
//! which runs to the next such line.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Lines that start the returned original (or its headers) in a plain-text report.
static ORIGINAL_STARTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[ \t]*-*[ \t]*(?:(?:below this line is a copy of the message|this is a copy of the (?:message|headers)|message headers follow|headers of (?:the )?(?:original|your) message|the header of the original message|your message reads|(?:here is |below is |following is )?a copy of (?:the|your) (?:first (?:part|\d+ lines) of (?:the|your) )?(?:original )?message|included is a copy of the message header|(?:the )?first \d+ lines of (?:the|your) (?:original )?message)[^\n]*|(?:(?:start|beginning) of (?:the )?)?(?:original|returned|unsent|undelivered|undeliverable) (?:message|mail|e-?mail|headers?)(?: (?:follows|below|headers|is attached|attached))?[ \t]*[:.]?[ \t]*-*[ \t]*)$",
    )
    .expect("static regex")
});

/// A header line that can open a returned original's header block.
static HEADER_OPENER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:received|return-path|message-id|dkim-signature|mime-version|x-[a-z0-9-]+|content-type|delivered-to|arc-seal|authentication-results):[ \t]?\S",
    )
    .expect("static regex")
});

static ANY_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]?\S").expect("static regex"));

/// A line naming one recipient on its own, perhaps as a list item (`** a@b`, `-- a@b`,
/// `* [a@b]: reply`).
/// The local part allows what RFC 5322 allows outside quotes; the domain may be a literal.
static RECIPIENT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*(?:\*{1,2}[ \t]*|•[ \t]*|-{1,2}[ \t]+|(?:>>>[ \t]*)?(?i:rcpt to|(?:failed |undeliverable |invalid )?recipient(?: address)?|(?:to|undeliverable|failed|invalid) address):[ \t]*)?["<\[]?(?:mailto:)?([A-Za-z0-9._%+\-=/!#$&'*?^`{|}~]+@(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f.:IPv]+\]))[">\]]?(?:<mailto:[^>]*>)?[ \t]*(:.*|\.\.\..*|[ \t]on[ \t].*|[ \t]\(.*|[ \t]\[.*|[ \t]+\S.*(?i:deliver|fail|reject|unknown|error|exist|found|quota|full|refus|denied|said|invalid).*)?$"#,
    )
    .expect("static regex")
});

/// Sendmail's transcript line for one recipient, reply first: `550 <a@b>... User
/// unknown`, `550 5.1.1 a@b... reason`. Sendmail v5 and other reports without a
/// delivery-status part list several recipients this way, one line each.
static SENDMAIL_REPLY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*[45][0-9][0-9][ \t-]+(?:[45]\.[0-9]{1,3}\.[0-9]{1,3}[ \t]+)?<?([A-Za-z0-9._%+\-=/!#$&'*?^`{|}~]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)>?\.\.\.[ \t]*\S"#,
    )
    .expect("static regex")
});

/// An address anywhere in a sentence: "The following recipients returned permanent
/// errors: a@b.example. Reason: …".
static BARE_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-=/!#$&'*?^`{|}~]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")
        .expect("static regex")
});

/// An address in angle brackets inside a sentence: "error delivering your mail to <a@b>."
static BRACKETED_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([A-Za-z0-9._%+\-=/!#$&'*?^`{|}~]+@[A-Za-z0-9.\-]+)>").expect("static regex")
});

static MESSAGE_ID_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[ \t]*message-id:[ \t]*(<[^>\r\n]+>|\S+)").expect("static regex")
});

/// Splits a plain-text report into its error part and the returned original (if any).
pub fn split_original(text: &str) -> (&str, Option<&str>) {
    let marker = ORIGINAL_STARTS.find(text).map(|m| m.start());
    let headers = header_block_start(text);
    let cut = match (marker, headers) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match cut {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    }
}

/// Byte offset of the first unindented header block of at least two header lines that
/// follows a blank line: a returned original pasted into the body.
fn header_block_start(text: &str) -> Option<usize> {
    let mut offset = 0;
    let mut previous_blank = true;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_end();
        if previous_blank && HEADER_OPENER.is_match(trimmed) {
            let next = lines[i + 1..]
                .iter()
                .map(|l| l.trim_end())
                .find(|l| !l.starts_with([' ', '\t']));
            if next.is_some_and(|n| ANY_HEADER.is_match(n)) {
                return Some(offset);
            }
        }
        previous_blank = trimmed.is_empty();
        offset += line.len();
    }
    None
}

/// The Message-ID of a returned original (its headers as text).
pub fn message_id_in(original: &str) -> Option<String> {
    MESSAGE_ID_LINE
        .captures(original)
        .map(|c| c[1].trim().to_string())
        .filter(|s| s.len() > 2)
}

/// The first address named in angle brackets ("… of this mailing list <list@example.org>").
pub fn first_bracketed_address(text: &str) -> Option<String> {
    BRACKETED_ADDRESS.captures(text).map(|c| c[1].to_string())
}

/// One recipient named by a plain-text report, with the text that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRecipient {
    pub address: String,
    pub text: String,
}

/// The recipients named in the error part, in order; a recipient named twice (an
/// Exchange NDR lists it for users and again for administrators) keeps one entry with
/// both texts.
pub fn recipients(error_part: &str) -> Vec<TextRecipient> {
    let mut out: Vec<TextRecipient> = Vec::new();
    // Each address's entry, by its ASCII-lowercased form: a report may list thousands.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut current: Option<usize> = None;
    for line in error_part.lines() {
        let line = line.trim_end_matches('\r');
        let opened = RECIPIENT_LINE
            .captures(line)
            .map(|c| {
                let rest = c.get(2).map(|m| m.as_str()).unwrap_or("");
                (c[1].to_string(), rest)
            })
            // The reply code stays in the text: it is the recipient's code.
            .or_else(|| {
                SENDMAIL_REPLY_LINE
                    .captures(line)
                    .map(|c| (c[1].to_string(), line.trim()))
            });
        if let Some((address, rest)) = opened {
            let address = address.trim_end_matches('.').to_string();
            let idx = *index
                .entry(address.to_ascii_lowercase())
                .or_insert_with(|| {
                    out.push(TextRecipient {
                        address,
                        text: String::new(),
                    });
                    out.len() - 1
                });
            current = Some(idx);
            let rest = rest
                .trim_start_matches(':')
                .trim_start_matches("...")
                .trim();
            append(&mut out[idx].text, rest);
            continue;
        }
        if let Some(i) = current {
            append(&mut out[i].text, line.trim());
        }
    }
    for r in &mut out {
        // Exchange repeats the recipient for users and for administrators: the
        // administrators' history of server replies is the error, and its newest entry
        // the last attempt.
        if let Some(entry) = newest_history_entry(&r.text) {
            r.text = entry;
        } else if let Some(at) = r.text.find("Remote Server returned") {
            r.text.drain(..at);
        }
    }
    if out.is_empty() {
        // No line names an address on its own: take addresses named in sentences.
        // Whether the prose names each one as the sender, where it first stands.
        let mut as_sender = Vec::new();
        // Only one is trusted (below): a second distinct address ends the search.
        for c in BRACKETED_ADDRESS.captures_iter(error_part) {
            if out.len() > 1 {
                break;
            }
            let address = c[1].to_string();
            if !out.iter().any(|r| r.address.eq_ignore_ascii_case(&address)) {
                as_sender.push(named_as_sender(
                    error_part,
                    c.get(0).map_or(0, |m| m.start()),
                ));
                out.push(TextRecipient {
                    address,
                    text: String::new(),
                });
            }
        }
        if out.is_empty() {
            for m in BARE_ADDRESS.find_iter(error_part) {
                if out.len() > 1 {
                    break;
                }
                // Prose quotes an address ('a@b'); an apostrophe may open a local part, but
                // one that the text closes again after the domain is a quote.
                let quoted =
                    m.as_str().starts_with('\'') && error_part[m.end()..].starts_with('\'');
                let address = m.as_str().trim_end_matches('.');
                let address = if quoted { &address[1..] } else { address }.to_string();
                if !out.iter().any(|r| r.address.eq_ignore_ascii_case(&address)) {
                    as_sender.push(named_as_sender(error_part, m.start()));
                    out.push(TextRecipient {
                        address,
                        text: String::new(),
                    });
                }
            }
        }
        // Only a sentence naming exactly one address is trusted to name the recipient, and
        // not when it names that address as the sender ("not accepting mail from a@b").
        if out.len() == 1 && as_sender == [false] {
            out[0].text = squeeze(error_part);
        } else {
            out.clear();
        }
    }
    out
}

/// Whether the words just before `at` say the address there is the sender ("not accepting
/// mail from a@b", "MAIL FROM:<a@b>", "sent by <a@b>", "Sender: a@b"); "expanded from" and
/// "generated from" name a recipient's alias, not the sender.
fn named_as_sender(text: &str, at: usize) -> bool {
    // The few words before the address are enough: a copy of all the text before it, for
    // each address of a long report, would cost its length squared.
    let from = text.floor_char_boundary(at.saturating_sub(64));
    let before = text[from..at]
        .trim_end_matches([' ', '\t', '\n', '\r', '<', '"', '\'', '(', ':'])
        .to_ascii_lowercase();
    [
        "mail from",
        "message from",
        "messages from",
        "sent by",
        "sender",
    ]
    .iter()
    .any(|w| {
        before.ends_with(w)
            && !before[..before.len() - w.len()].ends_with(|c: char| c.is_ascii_alphanumeric())
    })
}

/// One entry of an Exchange NDR's history for administrators: `Remote Server returned
/// '…'`, `Remote Server at HOST (IP) returned '…'`, or the same after a timestamp
/// (`6/19/2018 7:26:11 AM - Server at HOST (IP) returned '…'`).
static HISTORY_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AP])\.?M\.?)? - )?(?:Remote )?Server (?:at [^'\n]{1,200}? )?returned '",
    )
    .expect("static regex")
});

/// The newest entry of an Exchange NDR's history of remote replies, as
/// `Server at HOST returned 'REPLY'` without its timestamp. Exchange writes the newest
/// dated entry first, but a delay report opens with an undated summary ("400 4.4.7
/// Message delayed") before the dated attempt that says why; so the latest timestamp
/// decides, and the first entry only when none is dated. `None` with fewer than one
/// entry.
pub fn newest_history_entry(text: &str) -> Option<String> {
    struct Entry<'a> {
        body: &'a str,
        date: Option<[u32; 6]>,
    }
    let starts: Vec<regex::Captures<'_>> = HISTORY_ENTRY.captures_iter(text).collect();
    if starts.is_empty() {
        return None;
    }
    let num =
        |c: &regex::Captures<'_>, i: usize| -> Option<u32> { c.get(i)?.as_str().parse().ok() };
    // The date order is the server's locale: day first when any day field passes 12.
    let day_first = starts.iter().any(|c| num(c, 1).is_some_and(|d| d > 12));
    let entries: Vec<Entry<'_>> = starts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let whole = c.get(0).expect("match");
            let body_start = c.get(1).map_or(whole.start(), |_| {
                whole.start() + whole.as_str().find(" - ").map_or(0, |at| at + 3)
            });
            let end = starts
                .get(i + 1)
                .map_or(text.len(), |n| n.get(0).expect("match").start());
            let body = text[body_start..end].trim_end();
            // The reply ends at its closing quote; prose may follow it.
            let reply_at = whole.end() - body_start;
            let body = match body.rfind('\'') {
                Some(q) if q >= reply_at => &body[..=q],
                _ => body,
            };
            let date = (|| {
                let (a, b, year) = (num(c, 1)?, num(c, 2)?, num(c, 3)?);
                let (month, day) = if day_first { (b, a) } else { (a, b) };
                let mut hour = num(c, 4)?;
                match c.get(7).map(|m| m.as_str().to_ascii_uppercase()) {
                    Some(p) if p == "P" && hour < 12 => hour += 12,
                    Some(p) if p == "A" && hour == 12 => hour = 0,
                    _ => {}
                }
                Some([year, month, day, hour, num(c, 5)?, num(c, 6).unwrap_or(0)])
            })();
            Entry { body, date }
        })
        .collect();
    let newest = entries
        .iter()
        .filter(|e| e.date.is_some())
        .reduce(|best, e| if e.date > best.date { e } else { best })
        .or(entries.first())?;
    Some(squeeze(newest.body))
}

fn append(text: &mut String, line: &str) {
    if line.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(line);
}

static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)[245][0-9]{2}[- ](?:[245]\.[0-9]{1,3}\.[0-9]{1,3}\s+)?")
        .expect("static regex")
});

/// A multi-line SMTP reply (`550-5.7.1 Messages with multiple` / `550 5.7.1 addresses in
/// From:`) as one sentence: the reply code and enhanced code are kept once, at the start.
pub fn unfold_reply(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, m) in REPLY_PREFIX.find_iter(text).enumerate() {
        if i == 0 {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push(' ');
        last = m.end();
    }
    out.push_str(&text[last..]);
    squeeze(&out)
}

/// The text with runs of whitespace folded to one space.
pub fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qmail_report_splits_at_the_copy_and_names_the_recipient() {
        // lhost-qmail-01 from the shared corpus (sisimai set-of-emails).
        let body = "Hi. This is the qmail-send program at mx4.example.jp.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<kijitora@example.ne.jp>:\n\
Sorry, no SMTP connection got far enough; most progress was RCPT TO response; remote host 192.0.2.32 said: 550 Unknown user kijitora@example.ne.jp\n\
. (#5.5.0)\n\n\
--- Below this line is a copy of the message.\n\n\
Return-Path: <nekochan@example.jp>\n\
Message-ID: <000000000.9999999999999.JavaMail.postmaster@mailhub>\n\
To: kuroneko@example.com\n";
        let (error, original) = split_original(body);
        assert!(!error.contains("kuroneko"));
        assert_eq!(
            message_id_in(original.unwrap()).as_deref(),
            Some("<000000000.9999999999999.JavaMail.postmaster@mailhub>")
        );
        let r = recipients(error);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].address, "kijitora@example.ne.jp");
        assert!(r[0].text.contains("550 Unknown user"));
        assert!(r[0].text.contains("(#5.5.0)"));
    }
}
