//! Postfix syslog ("maillog") lines → events.
//!
//! Accepted line shapes: classic and RFC 3339 stamps; a docker-compose `name | ` prefix;
//! a BusyBox `facility.level` token after the host; Solaris `[ID n facility.level]`;
//! custom syslog names (`postfix-out2/smtp`, `postfix/submission/smtpd`); bare
//! `postfix/smtp[pid]: …` and bare `QUEUEID: …` message parts (pasted lines); and
//! JSON-wrapped lines (journald `-o json`, log shippers) carrying the message and program.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use memchr::memmem::Finder;

use super::timestamp::{YearTracker, parse_rfc3339};
use super::{AttemptStatus, Event, EventKind, LineCount, LineKind, LineOutcome};

mod refusal;
use refusal::{Refusal, cleanup_refusal, smtpd_refusal};

/// Parser state across the lines of one input.
pub struct PostfixParser {
    years: YearTracker,
    /// Last stamp seen, for lines that carry none (pasted message parts).
    last_ts: i64,
    /// Lines received, refused and deferred, per hour, host, stage, code and reason:
    /// counted here, since a refusal never gets a queued message for the assembler to
    /// follow (see `LineCount`).
    counts: hashbrown::HashMap<LineKey, u64>,
    /// The (hour, host) pairs received and deferred lines are being counted under, and
    /// their counts: most lines fall in an hour and host of the lines just before, and are
    /// counted without building a key. Several at once, since instances that log to one
    /// file take turns line by line.
    current: Vec<(i64, String, [u64; 2])>,
    /// Host names as filed, by the line's host and syslog name: built once, not per line.
    host_names: Vec<(Vec<u8>, Vec<u8>, Arc<str>)>,
}

/// (hour, host, kind, stage, code, reason)
type LineKey = (i64, String, LineKind, String, String, String);

/// The Postfix programs whose lines say something about a queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Daemon {
    Delivery { suspending: bool },
    Qmgr,
    Cleanup,
    Pickup,
    Smtpd,
    Bounce,
    Other,
}

fn daemon_of(name: &[u8]) -> Option<Daemon> {
    Some(match name {
        // `discard` is a delivery agent too: `status=sent (discarded)` is a decision.
        b"smtp" | b"lmtp" | b"local" | b"virtual" | b"pipe" | b"discard" => {
            Daemon::Delivery { suspending: false }
        }
        b"error" | b"retry" => Daemon::Delivery { suspending: true },
        b"qmgr" | b"nqmgr" => Daemon::Qmgr,
        b"cleanup" => Daemon::Cleanup,
        b"pickup" => Daemon::Pickup,
        b"smtpd" => Daemon::Smtpd,
        b"bounce" => Daemon::Bounce,
        b"anvil" | b"postscreen" | b"scache" | b"master" | b"tlsmgr" | b"verify"
        | b"trivial-rewrite" | b"dnsblog" | b"tlsproxy" | b"postdrop" | b"postsuper"
        | b"sendmail" | b"postqueue" | b"showq" | b"flush" | b"oqmgr" | b"proxymap" | b"spawn"
        | b"postlog" | b"postmap" | b"postfix-script" | b"policy-spf" | b"qmqpd" | b"lmtpd"
        | b"smtpd-sasl" => Daemon::Other,
        _ => return None,
    })
}

/// Where the program is (`syslog_name/daemon[pid]:`), if `token` is one.
struct Program<'a> {
    syslog_name: &'a [u8],
    daemon: Daemon,
}

fn parse_program(token: &[u8]) -> Option<Program<'_>> {
    let token = token.strip_suffix(b":")?;
    let name = match memchr::memchr(b'[', token) {
        Some(i) if token.ends_with(b"]") => &token[..i],
        Some(_) => return None,
        None => token,
    };
    let slash = memchr::memrchr(b'/', name)?;
    let (syslog_name, daemon) = (&name[..slash], &name[slash + 1..]);
    if syslog_name.is_empty() {
        return None;
    }
    let daemon = daemon_of(daemon)?;
    // Postfix's own names (`postfix`, `postfix-out2`, `postfix/submission`) are the
    // common case; a custom syslog_name counts only for the daemons that carry mail, and
    // programs known to share daemon names are not Postfix.
    if !syslog_name.starts_with(b"postfix") {
        let mail_daemon = !matches!(daemon, Daemon::Other);
        if !mail_daemon || contains(syslog_name, &DOVECOT) || contains(syslog_name, &AMAVIS) {
            return None;
        }
    }
    Some(Program {
        syslog_name,
        daemon,
    })
}

// Searchers built once: building one per line showed up in profiles.
static DOVECOT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("dovecot"));
static AMAVIS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("amavis"));
static SUSPENDED: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("delivery temporarily suspended"));
static REPLY_MARKERS: LazyLock<[Finder<'static>; 2]> = LazyLock::new(|| {
    [
        Finder::new("said: "),
        Finder::new("refused to talk to me: "),
    ]
});

/// Where `needle` first occurs, looked for by its byte at `rare`: the separators a line is
/// split at come early and that byte is rare before them, so one `memchr` mostly finds
/// them, where a substring searcher's set-up cost more, per line.
fn find_sep(hay: &[u8], needle: &[u8], rare: usize) -> Option<usize> {
    let mut from = rare;
    while let Some(i) = memchr::memchr(needle[rare], hay.get(from..)?) {
        let at = from + i - rare;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from += i + 1;
    }
    None
}

fn contains(hay: &[u8], needle: &Finder<'_>) -> bool {
    needle.find(hay).is_some()
}

fn next_token(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim_start(s);
    match memchr::memchr(b' ', s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    s
}

/// Short queue ids are upper-case hex; long ones (`enable_long_queue_ids`) use
/// `[0-9B-Zb-z]` with no vowels.
pub fn is_queue_id(s: &[u8]) -> bool {
    if s.len() < 5 || s.len() > 24 {
        return false;
    }
    let short = s
        .iter()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
    if short {
        return true;
    }
    s.len() >= 10
        && s.iter().all(|b| {
            b.is_ascii_alphanumeric()
                && !matches!(
                    b,
                    b'a' | b'e' | b'i' | b'o' | b'u' | b'A' | b'E' | b'I' | b'O' | b'U'
                )
        })
}

fn lossy(b: &[u8]) -> Cow<'_, str> {
    // ASCII is the rule, and checking for it a word at a time is several times cheaper
    // than validating UTF-8 byte by byte (a tenth of the parser's instructions went there).
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) });
    }
    // Else valid UTF-8 is the rule: check it in one pass (`from_utf8_lossy` takes three
    // times as long on a valid field), repair only when needed.
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
    }
}

/// The `<…>` or bare value of an address field, lower-casing nothing: local parts are
/// case-sensitive in principle; domains are lower-cased where grouped.
fn address(v: &[u8]) -> Cow<'_, str> {
    let v = v.strip_prefix(b"<").unwrap_or(v);
    let v = v.strip_suffix(b">").unwrap_or(v);
    lossy(v)
}

/// Splits `key=value, key=value, … status=xxx (text)` into fields. Values in `<…>` may
/// contain commas; the text in parentheses after `status=` runs to the end of the line.
struct Fields<'a> {
    to: Option<&'a [u8]>,
    orig_to: Option<&'a [u8]>,
    relay: Option<&'a [u8]>,
    dsn: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    text: Option<&'a [u8]>,
    from: Option<&'a [u8]>,
    message_id: Option<&'a [u8]>,
    delay: Option<&'a [u8]>,
    size: Option<&'a [u8]>,
}

fn fields(mut s: &[u8]) -> Fields<'_> {
    let mut f = Fields {
        to: None,
        orig_to: None,
        relay: None,
        dsn: None,
        status: None,
        text: None,
        from: None,
        message_id: None,
        delay: None,
        size: None,
    };
    // A key is a few bytes long: a plain scan finds its end sooner than a vectorised
    // search, which pays its set-up on every call.
    loop {
        s = trim_start(s);
        let Some(eq) = s.iter().position(|b| *b == b'=') else {
            break;
        };
        let key = &s[..eq];
        let rest = &s[eq + 1..];
        let value_end = if rest.first() == Some(&b'<') {
            memchr::memchr(b'>', rest)
                .map(|i| i + 1)
                .unwrap_or(rest.len())
        } else {
            // Values carry no spaces or commas; the text after `status=x` does.
            memchr::memchr2(b',', b' ', rest).unwrap_or(rest.len())
        };
        let value = &rest[..value_end];
        let mut after = &rest[value_end..];
        match key {
            b"to" => f.to = Some(value),
            b"orig_to" => f.orig_to = Some(value),
            b"relay" => f.relay = Some(value),
            b"dsn" => f.dsn = Some(value),
            b"from" => f.from = Some(value),
            b"message-id" => f.message_id = Some(value),
            b"delay" => f.delay = Some(value),
            b"size" => f.size = Some(value),
            b"status" => {
                f.status = Some(value);
                let t = trim_start(after);
                if let Some(inner) = t.strip_prefix(b"(") {
                    let end = memchr::memrchr(b')', inner).unwrap_or(inner.len());
                    f.text = Some(&inner[..end]);
                } else if !t.is_empty() {
                    f.text = Some(t);
                }
                break;
            }
            _ => {}
        }
        if let Some(r) = after.strip_prefix(b",") {
            after = r;
        }
        if after.len() == s.len() {
            break;
        }
        s = after;
    }
    f
}

/// When the message was queued: Postfix's `delay=` is the time since the message
/// arrived (`delay=329951`, `delay=0.36`), whole seconds are enough.
fn arrival(ts: i64, delay: &[u8]) -> Option<i64> {
    let whole = delay.split(|b| *b == b'.').next()?;
    if whole.is_empty() || whole.len() > 10 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs: i64 = std::str::from_utf8(whole).ok()?.parse().ok()?;
    Some(ts - secs)
}

/// The SMTP reply code in a Postfix diagnostic: `said: 550 …`, `refused to talk to me: 550 …`.
fn reply_code(text: &[u8]) -> Option<u16> {
    for marker in REPLY_MARKERS.iter() {
        if let Some(i) = marker.find(text) {
            let t = trim_start(&text[i + marker.needle().len()..]);
            if t.len() >= 3 && t[..3].iter().all(u8::is_ascii_digit) && matches!(t[0], b'2'..=b'5')
            {
                return std::str::from_utf8(&t[..3]).ok()?.parse().ok();
            }
        }
    }
    // Local agents (`status=bounced (550 5.1.1 …)`) may put the reply first.
    if text.len() >= 4
        && text[..3].iter().all(u8::is_ascii_digit)
        && matches!(text[3], b' ' | b'-')
        && matches!(text[0], b'2' | b'4' | b'5')
    {
        return std::str::from_utf8(&text[..3]).ok()?.parse().ok();
    }
    None
}

impl PostfixParser {
    pub fn new(years: YearTracker) -> Self {
        let last_ts = years.fallback_ts;
        PostfixParser {
            years,
            last_ts,
            counts: hashbrown::HashMap::new(),
            current: Vec::new(),
            host_names: Vec::new(),
        }
    }

    /// The lines counted so far, oldest hour first; the count starts again.
    pub fn take_line_counts(&mut self) -> Vec<LineCount> {
        self.flush_current();
        let mut out: Vec<LineCount> = self
            .counts
            .drain()
            .map(
                |((hour, host, kind, stage, code, reason), count)| LineCount {
                    hour,
                    host,
                    kind,
                    stage,
                    code,
                    reason,
                    count,
                },
            )
            .collect();
        out.sort();
        out
    }

    fn flush_current(&mut self) {
        for (hour, host, [received, deferred]) in self.current.drain(..) {
            for (kind, n) in [
                (LineKind::Received, received),
                (LineKind::Deferred, deferred),
            ] {
                if n > 0 {
                    *self
                        .counts
                        .entry((
                            hour,
                            host.clone(),
                            kind,
                            String::new(),
                            String::new(),
                            String::new(),
                        ))
                        .or_default() += n;
                }
            }
        }
    }

    /// Counts a received or deferral line.
    fn count_plain(&mut self, host: &str, kind: LineKind) {
        /// Beyond this many (hour, host) pairs at once, the oldest hours are long past.
        const CURRENT_MAX: usize = 8;
        let hour = self.last_ts.div_euclid(3600) * 3600;
        let at = match self
            .current
            .iter()
            .position(|(h, name, _)| *h == hour && name == host)
        {
            Some(i) => i,
            None => {
                if self.current.len() >= CURRENT_MAX {
                    self.flush_current();
                }
                self.current.push((hour, host.to_string(), [0, 0]));
                self.current.len() - 1
            }
        };
        self.current[at].2[usize::from(kind == LineKind::Deferred)] += 1;
    }

    fn count_line(&mut self, host: &str, kind: LineKind, refusal: Option<Refusal>) {
        let hour = self.last_ts.div_euclid(3600) * 3600;
        let (stage, code, reason) = refusal
            .map(|r| (r.stage, r.code, r.reason))
            .unwrap_or_default();
        *self
            .counts
            .entry((hour, host.to_string(), kind, stage, code, reason))
            .or_default() += 1;
    }

    fn host_name(&mut self, host: &[u8], p: &Program<'_>) -> Arc<str> {
        /// Hosts (and instances) of one log: a handful.
        const HOST_NAMES_MAX: usize = 16;
        if let Some((_, _, name)) = self
            .host_names
            .iter()
            .find(|(h, s, _)| h == host && s == p.syslog_name)
        {
            return name.clone();
        }
        let name: Arc<str> = host_name(host, p).into();
        if self.host_names.len() >= HOST_NAMES_MAX {
            self.host_names.clear();
        }
        self.host_names
            .push((host.to_vec(), p.syslog_name.to_vec(), name.clone()));
        name
    }

    pub fn years(&self) -> &YearTracker {
        &self.years
    }

    /// Parses one line, pushing its events (at most one) to `out`.
    pub fn parse_line<'a>(
        &mut self,
        raw: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome {
        if raw.first() == Some(&b'{') {
            let Some(j) = unwrap_json(raw) else {
                return LineOutcome::Skipped;
            };
            let mut events = Vec::new();
            let outcome = self.parse_wrapped(&j, line_no, &mut events);
            out.extend(events);
            return outcome;
        }
        self.parse_syslog(raw, line_no, out)
    }

    /// The line's own bytes are JSON: the events own their texts.
    fn parse_wrapped(
        &mut self,
        j: &Wrapped,
        line_no: u64,
        out: &mut Vec<Event<'static>>,
    ) -> LineOutcome {
        if let Some(ts) = j.ts {
            self.last_ts = ts;
        }
        let host = j.host.as_deref().unwrap_or("");
        let prog = j
            .program
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}:"));
        let program = match &prog {
            Some(p) => match parse_program(p.as_bytes()) {
                Some(p) => Some(p),
                None => return LineOutcome::Skipped,
            },
            None => None,
        };
        let mut events = Vec::new();
        let outcome = self.parse_message(
            host.as_bytes(),
            program,
            j.message.as_bytes(),
            line_no,
            &mut events,
        );
        out.extend(events.into_iter().map(Event::into_owned));
        outcome
    }

    fn parse_syslog<'a>(
        &mut self,
        raw: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome {
        let mut s = raw;
        // docker compose: `mail    | Jul 19 …`
        if let Some(bar) = find_sep(&s[..s.len().min(64)], b" | ", 1) {
            let name = &s[..bar];
            if !name.is_empty() && !name.trim_ascii().contains(&b' ') && !name.contains(&b':') {
                s = &s[bar + 3..];
            }
        }
        let stamp = if s.first().is_some_and(u8::is_ascii_digit) {
            parse_rfc3339(s)
        } else if s.first().is_some_and(u8::is_ascii_uppercase) {
            self.years.parse_classic(s)
        } else {
            None
        };
        let (host, program, rest) = match stamp {
            Some((ts, len)) => {
                self.last_ts = ts;
                let (host, rest) = next_token(&s[len..]);
                let (mut tok, mut rest) = next_token(rest);
                // BusyBox syslogd: `mail.info` between host and program.
                if !tok.contains(&b'[') && tok.contains(&b'.') && !tok.ends_with(b":") {
                    (tok, rest) = next_token(rest);
                }
                match parse_program(tok) {
                    Some(p) => (host, Some(p), rest),
                    None => return LineOutcome::Skipped,
                }
            }
            None => {
                // Pasted lines: `postfix/smtp[17813]: …`, or the message part alone.
                let (tok, rest) = next_token(s);
                match parse_program(tok) {
                    Some(p) => (&b""[..], Some(p), rest),
                    None => (&b""[..], None, s),
                }
            }
        };
        self.parse_message(host, program, rest, line_no, out)
    }

    fn parse_message<'a>(
        &mut self,
        host: &[u8],
        program: Option<Program<'_>>,
        mut msg: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome {
        msg = trim_start(msg);
        // Solaris: `[ID 197553 mail.info] `
        if msg.starts_with(b"[ID ")
            && let Some(i) = memchr::memchr(b']', msg)
        {
            msg = trim_start(&msg[i + 1..]);
        }
        let Some(colon) = find_sep(msg, b": ", 0) else {
            return if program.is_some() {
                LineOutcome::Ignored
            } else {
                LineOutcome::Skipped
            };
        };
        let qid = &msg[..colon];
        let body = &msg[colon + 2..];
        if let Some(p) = &program
            && p.daemon == Daemon::Smtpd
            && let Some(r) = smtpd_refusal(body)
        {
            // `NOQUEUE: reject: RCPT from …`, or `QUEUEID: reject: DATA from …` once a
            // queue id was given: refused before or while it was received.
            let host_name = host_name(host, p);
            self.count_line(&host_name, LineKind::Rejected, Some(r));
            return LineOutcome::Parsed;
        }
        if !is_queue_id(qid) {
            // connect to …, warning: …, NOQUEUE: reject: …, statistics: … — Postfix's own
            // lines that carry no queued message. One that does carry mail facts under an
            // id sendlog cannot read is lost data, so it is counted as skipped.
            let carries_mail = [&b"to="[..], b"from=", b"client=", b"message-id="]
                .iter()
                .any(|k| body.starts_with(k));
            return if program.is_some() && !carries_mail {
                LineOutcome::Ignored
            } else {
                LineOutcome::Skipped
            };
        }
        let daemon = match &program {
            Some(p) => p.daemon,
            None => infer_daemon(body),
        };
        let host_name = match &program {
            Some(p) => self.host_name(host, p),
            None if host.is_empty() => Arc::from("unknown"),
            None => Arc::from(lossy(host)),
        };
        let ts = self.last_ts;
        // Takes the host name: each line makes one event at most.
        let mk = |kind, host_name| Event::new(ts, line_no, host_name, lossy(qid), kind);
        match daemon {
            Daemon::Delivery { suspending } => {
                if !body.starts_with(b"to=") {
                    return LineOutcome::Ignored;
                }
                let f = fields(body);
                let status = match f.status {
                    Some(b"sent") => AttemptStatus::Sent,
                    Some(b"deferred") => AttemptStatus::Deferred,
                    Some(b"bounced") => AttemptStatus::Bounced,
                    // deliverable / undeliverable…: address-verification probes, not mail.
                    _ => return LineOutcome::Ignored,
                };
                let Some(to) = f.to else {
                    return LineOutcome::Ignored;
                };
                if status == AttemptStatus::Deferred {
                    self.count_plain(&host_name, LineKind::Deferred);
                }
                let mut e = mk(EventKind::Attempt(status), host_name);
                e.recipient = Some(address(to));
                e.orig_recipient = f.orig_to.map(address);
                e.relay = f.relay.map(lossy);
                e.dsn = f.dsn.map(lossy);
                e.reply_code = f.text.and_then(reply_code);
                e.counts_as_attempt = !(suspending
                    && f.text
                        .is_some_and(|t| t.starts_with(b"delivery temporarily suspended")));
                e.text = f.text.map(lossy);
                e.arrived = f.delay.and_then(|d| arrival(ts, d));
                out.push(e);
                LineOutcome::Parsed
            }
            Daemon::Qmgr => {
                if body == b"removed" {
                    out.push(mk(EventKind::Removed, host_name));
                    return LineOutcome::Parsed;
                }
                if !body.starts_with(b"from=") {
                    return LineOutcome::Ignored;
                }
                let f = fields(body);
                let kind = match f.status {
                    Some(b"expired") | Some(b"force-expired") => EventKind::MessageExpired,
                    _ => EventKind::Info,
                };
                let mut e = mk(kind, host_name);
                e.sender = f.from.map(address);
                e.size = f
                    .size
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok());
                out.push(e);
                LineOutcome::Parsed
            }
            Daemon::Cleanup
                if body.starts_with(b"reject: ") || body.starts_with(b"milter-reject: ") =>
            {
                let r = cleanup_refusal(body);
                self.count_line(&host_name, LineKind::Rejected, Some(r));
                LineOutcome::Parsed
            }
            Daemon::Cleanup => match body.strip_prefix(b"message-id=") {
                Some(id) => {
                    let mut e = mk(EventKind::Info, host_name);
                    let id = address(id.split(|b| *b == b' ').next().unwrap_or(id));
                    e.message_id = (!id.is_empty()).then_some(id);
                    out.push(e);
                    LineOutcome::Parsed
                }
                None => LineOutcome::Ignored,
            },
            Daemon::Pickup => {
                let f = fields(body);
                if body.starts_with(b"uid=") || body.starts_with(b"sender=") {
                    self.count_plain(&host_name, LineKind::Received);
                }
                let mut e = mk(EventKind::Created, host_name);
                e.sender = f.from.map(address);
                out.push(e);
                LineOutcome::Parsed
            }
            Daemon::Smtpd if body.starts_with(b"client=") => {
                if program.is_some() {
                    self.count_plain(&host_name, LineKind::Received);
                }
                out.push(mk(EventKind::Created, host_name));
                LineOutcome::Parsed
            }
            Daemon::Smtpd | Daemon::Bounce | Daemon::Other => LineOutcome::Ignored,
        }
    }
}

/// The host a line is filed under. A per-instance syslog name (`postfix-out2`) usually
/// stands for one sending IP; it is kept with the host so the two group apart.
fn host_name(host: &[u8], p: &Program<'_>) -> String {
    if p.syslog_name != b"postfix" {
        let mut h = lossy(host).into_owned();
        if !h.is_empty() {
            h.push('/');
        }
        h.push_str(&String::from_utf8_lossy(p.syslog_name));
        h
    } else if host.is_empty() {
        "unknown".to_string()
    } else {
        lossy(host).into_owned()
    }
}

/// Which program wrote a message part pasted without its syslog header.
fn infer_daemon(body: &[u8]) -> Daemon {
    if body.starts_with(b"to=") {
        Daemon::Delivery {
            suspending: contains(body, &SUSPENDED),
        }
    } else if body.starts_with(b"from=") || body == b"removed" {
        Daemon::Qmgr
    } else if body.starts_with(b"message-id=") {
        Daemon::Cleanup
    } else if body.starts_with(b"uid=") {
        Daemon::Pickup
    } else if body.starts_with(b"client=") {
        Daemon::Smtpd
    } else {
        Daemon::Other
    }
}

struct Wrapped {
    message: String,
    program: Option<String>,
    host: Option<String>,
    ts: Option<i64>,
}

/// A syslog line wrapped in JSON: journald (`MESSAGE`, `SYSLOG_IDENTIFIER`, `_PID`,
/// `_HOSTNAME`, `__REALTIME_TIMESTAMP` in µs) or a shipper's ECS-like object
/// (`message`, `log.syslog.appname`, `host.hostname`, `@timestamp`).
fn unwrap_json(raw: &[u8]) -> Option<Wrapped> {
    let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(message) = s("/MESSAGE") {
        let pid = s("/SYSLOG_PID").or_else(|| s("/_PID"));
        let program = s("/SYSLOG_IDENTIFIER").map(|p| match pid {
            Some(pid) => format!("{p}[{pid}]"),
            None => p,
        });
        let ts = s("/__REALTIME_TIMESTAMP")
            .and_then(|t| t.parse::<i64>().ok())
            .map(|us| us / 1_000_000);
        return Some(Wrapped {
            message,
            program,
            host: s("/_HOSTNAME"),
            ts,
        });
    }
    let message = s("/message")?;
    let ts = s("/@timestamp")
        .or_else(|| s("/timestamp"))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|d| d.timestamp());
    Some(Wrapped {
        message,
        program: s("/log/syslog/appname").or_else(|| s("/process/name")),
        host: s("/host/hostname").or_else(|| s("/host/name")),
        ts,
    })
}

#[cfg(test)]
mod tests;
