//! Exim mainlog lines → events.
//!
//! `YYYY-MM-DD HH:MM:SS[.mmm] [+zone] [[pid]] <msgid> <flag> …`, optionally behind a
//! syslog header (`Mar  1 12:00:00 host exim[123]: …`). Message ids are the old 16-char
//! `XXXXXX-YYYYYY-ZZ` or the 23-char `XXXXXX-YYYYYYYYYYY-ZZZZ` of Exim ≥ 4.97.

use std::collections::HashMap;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use super::timestamp::{YearTracker, Zone, parse_rfc3339};
use super::{AttemptStatus, Event, EventKind, LineOutcome};
use crate::classify::EnhancedCode;

/// The last real failure of a recipient, for the lines that only say "retry time not
/// reached" and for the final `retry timeout exceeded`, which carry no reason of their own.
#[derive(Debug, Clone)]
struct LastDefer {
    recipient: String,
    dsn: Option<String>,
    reply_code: Option<u16>,
    relay: Option<String>,
    text: Option<String>,
}

pub struct EximParser {
    years: YearTracker,
    /// Per message id, the last deferral of each of its recipients (dropped at `Completed`).
    last_defer: HashMap<String, Vec<LastDefer>>,
    /// Per recipient domain, the last real failure of any message: Exim keeps its retry
    /// times per host and domain, so "retry time not reached" for a message that has no
    /// failure of its own in this log waits on that one.
    last_defer_by_domain: HashMap<String, LastDefer>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn next_token(s: &[u8]) -> (&[u8], &[u8]) {
    let s = s.trim_ascii_start();
    match memchr::memchr(b' ', s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// `XXXXXX-YYYYYY-ZZ` (Exim < 4.97) or `XXXXXX-YYYYYYYYYYY-ZZZZ` (≥ 4.97), base-62.
pub fn is_message_id(s: &[u8]) -> bool {
    let mut parts = s.split(|b| *b == b'-');
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let alnum = |p: &[u8]| p.iter().all(u8::is_ascii_alphanumeric);
    a.len() == 6
        && (6..=11).contains(&b.len())
        && (2..=4).contains(&c.len())
        && alnum(a)
        && alnum(b)
        && alnum(c)
}

/// When Exim queued a message: the first part of its id is the arrival time in base 62.
/// A decoded time far from the line's own (a host with case-insensitive file names uses
/// base 36, a hand-made id) is not trusted.
pub fn arrival_from_id(id: &[u8], line_ts: i64) -> Option<i64> {
    let mut t: i64 = 0;
    for &b in id.get(..6)? {
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        t = t * 62 + i64::from(v);
    }
    // A day of slack for a clock or zone that is off; a year back for long-frozen mail.
    (t <= line_ts + 86_400 && t >= line_ts - 366 * 86_400).then_some(t)
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Exim's own stamp: `YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm]`, this machine's local time
/// unless a zone is logged. Returns the unix time and the length consumed.
pub fn parse_exim_stamp(s: &[u8]) -> Option<(i64, usize)> {
    exim_stamp(s, |naive| Zone::Local.to_unix(naive, None))
}

/// Exim's own stamp, a zoneless one read by `resolve` (the input's `--tz`, in line order).
fn exim_stamp(
    s: &[u8],
    mut resolve: impl FnMut(&NaiveDateTime) -> Option<i64>,
) -> Option<(i64, usize)> {
    if s.len() < 19
        || s[4] != b'-'
        || s[7] != b'-'
        || s[10] != b' '
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&s[..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )?;
    let naive: NaiveDateTime = date.and_hms_opt(
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    )?;
    let mut len = 19;
    if s.get(len) == Some(&b'.') {
        len += 1;
        while s.get(len).is_some_and(u8::is_ascii_digit) {
            len += 1;
        }
    }
    // `log_timezone`: ` +0100`.
    let zone = s.get(len + 1..len + 6).filter(|z| {
        s[len] == b' ' && matches!(z[0], b'+' | b'-') && z[1..].iter().all(u8::is_ascii_digit)
    });
    let ts = match zone {
        Some(z) => {
            let minutes = digits(&z[1..3])? as i32 * 60 + digits(&z[3..5])? as i32;
            let sign = if z[0] == b'-' { -1 } else { 1 };
            len += 6;
            FixedOffset::east_opt(sign * minutes * 60)?
                .from_local_datetime(&naive)
                .single()?
                .timestamp()
        }
        None => resolve(&naive)?,
    };
    Some((ts, len))
}

/// `H=host [ip]:port` as Postfix writes relays (`host[ip]:port`), so both group alike.
fn relay_of(rest: &[u8]) -> Option<String> {
    let i = find(rest, b" H=")?;
    let (host, after) = next_token(&rest[i + 3..]);
    let after = after.trim_ascii_start();
    if let Some(ip) = after.strip_prefix(b"[") {
        let end = memchr::memchr(b']', ip)?;
        let mut relay = lossy(host);
        relay.push('[');
        relay.push_str(&String::from_utf8_lossy(&ip[..end]));
        relay.push(']');
        let port = &ip[end + 1..];
        if let Some(p) = port.strip_prefix(b":") {
            let p_end = p
                .iter()
                .position(|b| !b.is_ascii_alphanumeric() && *b != b'_')
                .unwrap_or(p.len());
            if p_end > 0 {
                relay.push(':');
                relay.push_str(&String::from_utf8_lossy(&p[..p_end]));
            }
        }
        Some(relay)
    } else {
        Some(lossy(host))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// The remote's reply code: the first `: NNN` (then a space, `-` or the end) in the text.
fn reply_code(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = find(&b[from..], b": ") {
        let at = from + i + 2;
        let code = b.get(at..at + 3);
        if let Some(c) = code
            && matches!(c[0], b'2' | b'4' | b'5')
            && c.iter().all(u8::is_ascii_digit)
            && matches!(b.get(at + 3), None | Some(b' ') | Some(b'-'))
        {
            return std::str::from_utf8(c).ok()?.parse().ok();
        }
        from = at;
    }
    None
}

/// Exim logs no enhanced code for its own failures. Postfix does, for the same
/// conditions (as Postfix codes them: connect failures 4.4.1, broken conversations 4.4.2, DNS
/// 4.4.3 / 5.4.4), so the same cause groups under the same code whichever MTA logged it.
fn local_error_code(text: &str, final_failure: bool) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    if has(&[
        "unrouteable address",
        "unroutable address",
        "can't route by dns",
        "unrouteable mail domain",
        "all relevant mx records point to non-existent hosts",
    ]) {
        Some(if final_failure { "5.4.4" } else { "4.4.3" })
    } else if has(&["host lookup did not complete", "host lookup timed out"]) {
        Some("4.4.3")
    } else if has(&[
        "connection timed out",
        "connection refused",
        "network is unreachable",
        "no route to host",
        "host is unreachable",
    ]) {
        Some("4.4.1")
    } else if has(&[
        "smtp timeout",
        "connection reset",
        "remote host closed connection",
        "lost connection",
    ]) {
        Some("4.4.2")
    } else {
        None
    }
}

/// Splits `address [<original>] rest` after a delivery flag.
fn address_part(s: &[u8]) -> (String, Option<String>, &[u8]) {
    let (token, mut rest) = next_token(s);
    let addr = match token.strip_suffix(b":") {
        Some(a) => {
            // `** a@b.example: text`: the colon opens the reason.
            rest = if rest.is_empty() {
                b":"
            } else {
                &s[s.len() - rest.len() - 2..]
            };
            a
        }
        None => token,
    };
    let mut orig = None;
    let trimmed = rest.trim_ascii_start();
    if let Some(inner) = trimmed.strip_prefix(b"<")
        && let Some(end) = memchr::memchr(b'>', inner)
    {
        orig = Some(lossy(&inner[..end]));
        rest = &inner[end + 1..];
    }
    let addr = lossy(addr);
    // Local deliveries log the local part (`userx <userx@test.ex>`) or a pipe/file:
    // the address in angle brackets is then the recipient.
    if addr.contains('@') {
        let orig = orig.filter(|o| *o != addr);
        (addr, orig, rest)
    } else {
        (orig.unwrap_or(addr), None, rest)
    }
}

/// The reason text of a `==`/`**` line: after `defer (N)` (and its `: `), else after the
/// first `: ` that closes the address and router/transport fields.
fn reason_text(rest: &[u8]) -> Option<String> {
    let body = if let Some(i) = find(rest, b"defer (") {
        let after = &rest[i + 7..];
        match memchr::memchr(b')', after) {
            Some(j) => &after[j + 1..],
            None => after,
        }
    } else if rest.starts_with(b": ") || rest.starts_with(b":") {
        rest
    } else {
        let i = find(rest, b": ")?;
        &rest[i..]
    };
    let body = body.trim_ascii_start();
    let body = body.strip_prefix(b":").unwrap_or(body).trim_ascii();
    (!body.is_empty()).then(|| lossy(body))
}

/// The value of `key="…"` (backslash escapes) or `key=token`.
fn field(rest: &[u8], key: &[u8]) -> Option<String> {
    let mut from = 0;
    loop {
        let i = from + find(&rest[from..], key)?;
        if i > 0 && rest[i - 1] != b' ' {
            from = i + key.len();
            continue;
        }
        let v = &rest[i + key.len()..];
        if let Some(q) = v.strip_prefix(b"\"") {
            let mut out = Vec::new();
            let mut it = q.iter();
            while let Some(&b) = it.next() {
                match b {
                    b'\\' => {
                        if let Some(&n) = it.next() {
                            out.push(n);
                        }
                    }
                    b'"' => break,
                    _ => out.push(b),
                }
            }
            return Some(lossy(&out));
        }
        let end = memchr::memchr(b' ', v).unwrap_or(v.len());
        return Some(lossy(&v[..end]));
    }
}

/// The recipient's domain, as Exim's retry database keys it (case-insensitively).
fn domain_key(recipient: &str) -> String {
    recipient
        .rsplit_once('@')
        .map_or(recipient, |(_, d)| d)
        .to_ascii_lowercase()
}

fn strip_angle(s: &str) -> String {
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
        .to_string()
}

enum Flag {
    Arrival,
    Delivered,
    Deferred,
    Failed,
    Completed,
    Frozen,
    Unfrozen,
    Other,
}

impl EximParser {
    pub fn new(years: YearTracker) -> Self {
        EximParser {
            years,
            last_defer: HashMap::new(),
            last_defer_by_domain: HashMap::new(),
        }
    }

    /// The stamp and sending host of a line, and what follows them.
    fn header<'a>(&mut self, raw: &'a [u8]) -> Option<(i64, String, &'a [u8])> {
        let years = &mut self.years;
        if let Some((ts, len)) = exim_stamp(raw, |n| years.resolve(n)) {
            return Some((ts, String::new(), &raw[len..]));
        }
        // Syslog-routed Exim: `<stamp> <host> exim[pid]: [<exim stamp>] …`
        let (ts, len) = if raw.first().is_some_and(u8::is_ascii_digit) {
            parse_rfc3339(raw)?
        } else {
            self.years.parse_classic(raw)?
        };
        let (host, rest) = next_token(&raw[len..]);
        let (program, rest) = next_token(rest);
        if !program.starts_with(b"exim") || !program.ends_with(b":") {
            return None;
        }
        let rest = rest.trim_ascii_start();
        match exim_stamp(rest, |n| self.years.resolve(n)) {
            Some((own, l)) => Some((own, lossy(host), &rest[l..])),
            None => Some((ts, lossy(host), rest)),
        }
    }

    /// Only syslog-routed Exim lines carry yearless stamps; the year carried is the
    /// tracker's all the same (unchanged when none were read).
    pub fn year_position(&self) -> Option<crate::ingest::timestamp::YearPosition> {
        Some(self.years.position())
    }

    /// Exim holds nothing back between lines.
    pub fn finish(&mut self, _out: &mut Vec<Event>) -> LineOutcome {
        LineOutcome::Ignored
    }

    pub fn parse_line(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
        let Some((ts, host, rest)) = self.header(raw) else {
            return LineOutcome::Skipped;
        };
        let (mut tok, mut rest) = next_token(rest);
        // `+pid`: `[1234]` before the id.
        if tok.starts_with(b"[") && tok.ends_with(b"]") {
            (tok, rest) = next_token(rest);
        }
        if !is_message_id(tok) {
            // Connections, rejects, queue runs, daemon starts: Exim's, but about no message.
            return LineOutcome::Ignored;
        }
        let id = lossy(tok);
        let arrived = arrival_from_id(tok, ts);
        let (flag_tok, body) = next_token(rest);
        let flag = match flag_tok {
            b"<=" => Flag::Arrival,
            b"=>" | b"->" | b">>" => Flag::Delivered,
            b"==" => Flag::Deferred,
            b"**" => Flag::Failed,
            b"Completed" => Flag::Completed,
            // `Frozen (delivery error message)`, `Frozen by the system filter: …`, the
            // queue runner's `Message is frozen`, and a failure that froze it (`Process
            // failed (1) when writing error message to … (frozen)`).
            b"Frozen" => Flag::Frozen,
            b"Message" if body.starts_with(b"is frozen") => Flag::Frozen,
            b"Unfrozen" | b"unfrozen" => Flag::Unfrozen,
            _ if rest.trim_ascii_end().ends_with(b"(frozen)") => Flag::Frozen,
            _ => Flag::Other,
        };
        let mk = |kind| {
            let mut e = Event::new(ts, line_no, host.as_str(), id.clone(), kind);
            e.arrived = arrived;
            e
        };
        match flag {
            Flag::Other => LineOutcome::Ignored,
            Flag::Frozen => {
                let mut e = mk(EventKind::Frozen);
                e.text = Some(lossy(rest.trim_ascii()).into());
                out.push(e);
                LineOutcome::Parsed
            }
            Flag::Unfrozen => {
                out.push(mk(EventKind::Unfrozen));
                LineOutcome::Parsed
            }
            Flag::Completed => {
                self.last_defer.remove(&id);
                out.push(mk(EventKind::Removed));
                LineOutcome::Parsed
            }
            Flag::Arrival => {
                let (sender, fields) = next_token(body);
                let mut e = mk(EventKind::Created);
                e.sender = Some(strip_angle(&lossy(sender)).into());
                e.message_id = field(fields, b"id=")
                    .filter(|s| !s.is_empty())
                    .map(Into::into);
                e.subject = field(fields, b"T=").map(Into::into);
                out.push(e);
                LineOutcome::Parsed
            }
            Flag::Delivered => {
                let (recipient, orig, fields) = address_part(body);
                self.forget(&id, &recipient);
                let mut e = mk(EventKind::Attempt(AttemptStatus::Sent));
                e.relay = relay_of(fields).map(Into::into);
                e.text = field(fields, b"C=").map(Into::into);
                e.reply_code = e.text.as_deref().and_then(|t| {
                    let b = t.as_bytes();
                    (b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit))
                        .then(|| t[..3].parse().ok())
                        .flatten()
                });
                e.dsn = e
                    .text
                    .as_deref()
                    .and_then(EnhancedCode::find_in)
                    .map(|c| c.to_string().into());
                e.recipient = Some(recipient.into());
                e.orig_recipient = orig.map(Into::into);
                out.push(e);
                LineOutcome::Parsed
            }
            Flag::Deferred => {
                let (recipient, orig, fields) = address_part(body);
                let text = reason_text(fields);
                let relay = relay_of(fields);
                // "retry time not reached" / "Retry time not yet reached".
                let retry_wait = text.as_deref().is_some_and(|t| {
                    let t = t.to_ascii_lowercase();
                    t.contains("retry time not reached") || t.contains("retry time not yet reached")
                });
                let mut e = mk(EventKind::Attempt(AttemptStatus::Deferred));
                e.recipient = Some(recipient.clone().into());
                e.orig_recipient = orig.map(Into::into);
                if retry_wait {
                    // No connection was tried: the host or domain is still in its retry
                    // wait after an earlier failure, which stays the reason (as Postfix's
                    // `delivery temporarily suspended` repeats it).
                    e.counts_as_attempt = false;
                    let prev = self
                        .last_of(&id, &recipient)
                        .or_else(|| self.last_defer_by_domain.get(&domain_key(&recipient)));
                    match prev {
                        Some(prev) => {
                            e.dsn = prev.dsn.clone().map(Into::into);
                            e.reply_code = prev.reply_code;
                            e.relay = prev.relay.clone().map(Into::into);
                            e.text = prev.text.clone().map(Into::into);
                        }
                        None => e.text = text.map(Into::into),
                    }
                } else {
                    e.reply_code = text.as_deref().and_then(reply_code);
                    e.dsn = codes(text.as_deref(), e.reply_code, false).map(Into::into);
                    e.relay = relay.map(Into::into);
                    e.text = text.map(Into::into);
                    self.remember(&id, &e);
                }
                out.push(e);
                LineOutcome::Parsed
            }
            Flag::Failed => {
                let (recipient, orig, fields) = address_part(body);
                let text = reason_text(fields);
                let expiry = text.as_deref().is_some_and(|t| {
                    t.contains("retry timeout exceeded")
                        || t.contains("have been failing for a long time")
                });
                let mut e;
                if expiry {
                    e = mk(EventKind::RecipientExpired);
                    let prev = self
                        .last_of(&id, &recipient)
                        .or_else(|| self.last_defer_by_domain.get(&domain_key(&recipient)));
                    match prev {
                        Some(prev) => {
                            e.dsn = prev.dsn.clone().map(Into::into);
                            e.reply_code = prev.reply_code;
                            e.relay = prev.relay.clone().map(Into::into);
                            e.text = prev.text.clone().map(Into::into);
                        }
                        // "all hosts … have been failing" still names a network failure;
                        // "retry timeout exceeded" names nothing.
                        None if text
                            .as_deref()
                            .is_some_and(|t| t.contains("have been failing")) =>
                        {
                            e.dsn = Some("4.4.1".into());
                            e.text = text.map(Into::into);
                        }
                        None => {}
                    }
                    // The host this line names is where the last try went.
                    if e.relay.is_none() {
                        e.relay = relay_of(fields).map(Into::into);
                    }
                } else {
                    e = mk(EventKind::Attempt(AttemptStatus::Bounced));
                    e.relay = relay_of(fields).map(Into::into);
                    e.reply_code = text.as_deref().and_then(reply_code);
                    e.dsn = codes(text.as_deref(), e.reply_code, true).map(Into::into);
                    e.text = text.map(Into::into);
                }
                self.forget(&id, &recipient);
                e.recipient = Some(recipient.into());
                e.orig_recipient = orig.map(Into::into);
                out.push(e);
                LineOutcome::Parsed
            }
        }
    }

    fn last_of(&self, id: &str, recipient: &str) -> Option<&LastDefer> {
        self.last_defer
            .get(id)?
            .iter()
            .find(|d| d.recipient == recipient)
    }

    fn remember(&mut self, id: &str, e: &Event) {
        let Some(recipient) = e.recipient.as_deref() else {
            return;
        };
        let entry = LastDefer {
            recipient: recipient.to_string(),
            dsn: e.dsn.as_deref().map(str::to_string),
            reply_code: e.reply_code,
            relay: e.relay.as_deref().map(str::to_string),
            text: e.text.as_deref().map(str::to_string),
        };
        self.last_defer_by_domain
            .insert(domain_key(&entry.recipient), entry.clone());
        let list = self.last_defer.entry(id.to_string()).or_default();
        match list.iter_mut().find(|d| d.recipient == entry.recipient) {
            Some(d) => *d = entry,
            None => list.push(entry),
        }
    }

    fn forget(&mut self, id: &str, recipient: &str) {
        if let Some(list) = self.last_defer.get_mut(id) {
            list.retain(|d| d.recipient != recipient);
            if list.is_empty() {
                self.last_defer.remove(id);
            }
        }
    }
}

/// Whether a line looks like Exim's mainlog, for detection: a message
/// line with a flag, or one of the message-less lines a busy MX log opens with.
pub fn sniff(line: &[u8]) -> bool {
    let Some((_, len)) = parse_exim_stamp(line) else {
        return false;
    };
    let mut rest = line[len..].trim_ascii_start();
    if rest.starts_with(b"[")
        && let Some(i) = memchr::memchr(b']', rest)
    {
        rest = rest[i + 1..].trim_ascii_start();
    }
    let (tok, after) = next_token(rest);
    if is_message_id(tok) {
        let (flag, _) = next_token(after);
        return matches!(
            flag,
            b"<=" | b"=>" | b"->" | b">>" | b"*>" | b"**" | b"==" | b"(=" | b"Completed"
        ) || flag.starts_with(b"H=")
            || flag == b"SMTP"
            || flag == b"Message";
    }
    [
        &b"H="[..],
        b"SMTP connection",
        b"SMTP command timeout",
        b"no host name found",
        b"Start queue run",
        b"End queue run",
        b"exim ",
        b"TLS error",
        b"rejected ",
    ]
    .iter()
    .any(|p| rest.starts_with(p))
        || find(rest, b" F=<").is_some()
}

/// The enhanced code of a failure: the one in the remote's reply, else (for Exim's own
/// errors, which have no reply) the code Postfix would log for the same condition.
fn codes(text: Option<&str>, reply: Option<u16>, final_failure: bool) -> Option<String> {
    let text = text?;
    if let Some(c) = EnhancedCode::find_in(text) {
        return Some(c.to_string());
    }
    if reply.is_some() {
        return None;
    }
    local_error_code(text, final_failure).map(str::to_string)
}

#[cfg(test)]
mod tests;
