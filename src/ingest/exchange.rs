//! Exchange Server message tracking → events.
//!
//! Reads the `MSGTRK*.LOG` files (a W3C preamble whose `#Fields:` line maps the columns:
//! 26 in Exchange 2010, 30 from 2013; a BOM; a header block that may come again) and
//! `Get-MessageTrackingLog | Export-Csv` output (PascalCase columns, a `#TYPE` first line,
//! local-time `Timestamp`). Rows of the Microsoft 365 extended trace report carry the same
//! columns in snake_case and go through [`tracking_row`] too.
//!
//! DEFER is a deferral, SEND/SENDEXTERNAL/DELIVER a delivery, FAIL a bounce, and FAIL with
//! `QUEUE.Expired` an expiry whose `[Message=…]` is the last error. The remote's real reply
//! sits inside Exchange's wrapper (`451 4.4.0 Primary target IP address responded with:
//! "421 4.7.650 …"`): its code, not the wrapper's, is the one to group by.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::timestamp::Zone;

use super::csvrow::{Columns, CsvFormat, CsvLines, column_key};
use super::{AttemptStatus, Event, EventKind, LineOutcome};
use crate::classify::EnhancedCode;

const FIELDS_2013: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";
const FIELDS_2010: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";

const TIME: &[&str] = &["datetime", "datetimeutc", "timestamp"];

pub struct ExchangeParser {
    csv: CsvLines,
    columns: Option<Columns>,
    state: TrackingState,
}

/// What tracking rows leave for the rows after them.
#[derive(Debug, Default)]
pub struct TrackingState {
    /// The server that writes this log: the first local server name a row gives. A row
    /// that names none belongs to it (not to whichever server the row before named).
    log_host: String,
    /// Recipients of each received message (by host and key) without a final event yet.
    /// Exchange logs no "message done" line: when the last of them is final, the message
    /// is closed, so memory and the store's open messages follow the queue, not the log.
    /// A set per message (lower case): a list expansion has tens of thousands of them,
    /// and each final row takes its recipients out.
    pending: HashMap<(String, String), std::collections::HashSet<String>>,
    /// The zone of the local-time renderings PowerShell exports write (`--tz`).
    pub zone: Zone,
    /// The last stamp read, so an hour repeated when clocks go back is read in line order.
    last_ts: Option<i64>,
}

impl Default for ExchangeParser {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `fields` is a header row of tracking columns (an export's first row, or the
/// same header repeated after concatenating exports).
pub fn is_tracking_header(fields: &[String]) -> bool {
    let keys: Vec<String> = fields.iter().map(|f| column_key(f)).collect();
    keys.iter().any(|k| k == "eventid") && keys.iter().any(|k| k == "recipientstatus")
}

impl ExchangeParser {
    pub fn new() -> Self {
        ExchangeParser {
            csv: CsvLines::default(),
            columns: None,
            state: TrackingState::default(),
        }
    }

    /// Reads zoneless local times (PowerShell exports) in `zone`; the logs' own ISO stamps
    /// are UTC whatever it says.
    pub fn in_zone(mut self, zone: Zone) -> Self {
        self.state.zone = zone;
        self
    }

    /// Takes the column mapping from an already imported line (`#Fields:`, a header row).
    pub fn observe_header(&mut self, raw: &[u8]) {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        if raw.first() == Some(&b'#') {
            self.parse_line(raw, 0, &mut Vec::new());
        } else if memchr::memmem::find(raw, b"ecipient").is_some() {
            let row = super::csvrow::split(raw);
            if is_tracking_header(&row) {
                self.columns = Some(Columns::new(&row));
                self.csv.expected = Some(row.len());
            }
        }
    }

    pub fn parse_line(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        if raw.first() == Some(&b'#') {
            if let Some(fields) = raw.strip_prefix(b"#Fields:") {
                let names: Vec<&str> = std::str::from_utf8(fields)
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .collect();
                self.csv.expected = Some(names.len());
                self.columns = Some(Columns::new(&names));
            } else if raw.starts_with(b"#Software:") {
                // A new header block: its own #Fields line follows.
                self.columns = None;
            }
            // #Version, #Log-type, #Date, PowerShell's #TYPE: nothing to read.
            return LineOutcome::Ignored;
        }
        self.feed(raw, line_no, out)
    }

    /// Reads what is left at the end of the input (a quoted field never closed).
    pub fn finish(&mut self, out: &mut Vec<Event>) -> LineOutcome {
        self.finish_records(out)
    }
}

impl CsvFormat for ExchangeParser {
    fn csv(&mut self) -> &mut CsvLines {
        &mut self.csv
    }

    fn row(&mut self, row: &[String], line: u64, out: &mut Vec<Event>) -> LineOutcome {
        if is_tracking_header(row) {
            self.columns = Some(Columns::new(row));
            self.csv.expected = Some(row.len());
            return LineOutcome::Ignored;
        }
        let columns = match &self.columns {
            Some(c) => c.clone(),
            // Rows without their preamble (a file cut from the middle): the field count
            // says which Exchange wrote them.
            None if row.len() >= 30 => Columns::new(&FIELDS_2013.split(',').collect::<Vec<_>>()),
            None if row.len() == 26 => Columns::new(&FIELDS_2010.split(',').collect::<Vec<_>>()),
            None => return LineOutcome::Skipped,
        };
        tracking_row(&columns, row, line, None, &mut self.state, out)
    }
}

/// Parses the time of a tracking row: ISO 8601 UTC in logs and Microsoft 365 reports;
/// PowerShell's local-time renderings (`1/25/2024 3:16:09 PM`, `25.01.2024 15:16:09`) in
/// `Get-MessageTrackingLog` exports, read in this machine's zone.
pub fn parse_time(s: &str) -> Option<i64> {
    parse_time_in(s, Zone::Local, None)
}

/// As [`parse_time`], the local-time renderings read in `zone` (`--tz`); `previous` is the
/// stamp before, which settles an hour repeated when clocks go back.
pub fn parse_time_in(s: &str, zone: Zone, previous: Option<i64>) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    for f in [
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
        "%Y-%m-%d %H:%M:%S%.f",
        "%d.%m.%Y %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return zone.to_unix(&t, previous).or(Some(t.and_utc().timestamp()));
        }
    }
    None
}

fn strip_angle(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s)
}

/// The leading SMTP reply code of a status (`451 4.4.0 …`).
fn leading_reply(s: &str) -> Option<u16> {
    let b = s.trim_start().as_bytes();
    (b.len() >= 3
        && matches!(b[0], b'2' | b'4' | b'5')
        && b[..3].iter().all(u8::is_ascii_digit)
        && matches!(b.get(3), None | Some(b' ') | Some(b'-')))
    .then(|| std::str::from_utf8(&b[..3]).ok()?.parse().ok())
    .flatten()
}

/// The remote's own reply inside Exchange's wrapper, if any:
/// `… responded with: "421 4.7.650 …"` → `421 4.7.650 …`.
fn wrapped_reply(s: &str) -> Option<&str> {
    let i = s.find("responded with: \"")?;
    let inner = &s[i + "responded with: \"".len()..];
    Some(inner.split('"').next().unwrap_or(inner))
}

/// Reply code and enhanced code of a status text, the remote's real reply winning over
/// Exchange's wrapper (`451 4.4.0 Primary target IP address responded with: "421
/// 4.7.650 …"` gives 421 and 4.7.650).
pub fn real_reply(s: &str) -> (Option<u16>, Option<String>) {
    if let Some(inner) = wrapped_reply(s) {
        let code = EnhancedCode::find_in(inner).or_else(|| EnhancedCode::find_in(s));
        return (
            leading_reply(inner).or_else(|| leading_reply(s)),
            code.map(|c| c.to_string()),
        );
    }
    (
        leading_reply(s),
        EnhancedCode::find_in(s).map(|c| c.to_string()),
    )
}

/// `[Key=value]` in a FAIL status; the value of `Message` may itself hold brackets.
fn bracket_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let open = format!("[{key}=");
    let start = s.find(&open)? + open.len();
    let rest = &s[start..];
    let end = rest
        .find("] [")
        .or_else(|| rest.rfind(']'))
        .unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|v| !v.is_empty())
}

/// `{KEY}=value` in an on-premises DEFER source-context: `[{LRT}=…];[{LED}=…];[{FQDN}=…];[{IP}=…]`.
fn braced_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let open = format!("{{{key}}}=");
    let start = s.find(&open)? + open.len();
    let rest = &s[start..];
    let end = rest
        .find("];[")
        .or_else(|| rest.rfind(']'))
        .unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|v| !v.is_empty())
}

/// Whether a FAIL status is Exchange's queue expiry (`550 4.4.7 QUEUE.Expired; message
/// expired`; Exchange Online also writes `550 5.4.316 Message expired, …`).
fn is_expiry(status: &str) -> bool {
    let lower = status.to_ascii_lowercase();
    lower.contains("queue.expired")
        || lower.contains("message expired")
        || EnhancedCode::find_in(status).is_some_and(|c| c.subject == 4 && c.detail == 7)
}

/// The last error behind an expiry: its `[Message=…]`, or what follows `Message
/// expired, ` in Exchange Online's `5.4.3xx` form. With the code it had as a deferral.
fn expiry_last_error(status: &str) -> Option<(String, Option<u16>, Option<String>)> {
    if let Some(m) = bracket_value(status, "Message") {
        let (reply, code) = real_reply(m);
        return Some((m.to_string(), reply, code));
    }
    let lower = status.to_ascii_lowercase();
    let i = lower.find("message expired, ")?;
    let rest = status[i + "message expired, ".len()..].trim();
    if rest.is_empty() {
        return None;
    }
    // `550 5.4.316 Message expired, connection refused`: the deferrals behind it were
    // `4.4.316`; the class-5 is only the expiry's.
    let code = EnhancedCode::find_in(rest)
        .or_else(|| {
            EnhancedCode::find_in(status).map(|c| EnhancedCode::new(4, c.subject, c.detail))
        })
        .map(|c| c.to_string());
    Some((rest.to_string(), None, code))
}

/// `;`-separated statuses in recipient order; a status's own text may contain `;`
/// (`QUEUE.Expired; message expired`), so a new status starts only at a reply code.
fn split_statuses(status: &str, recipients: usize) -> Vec<String> {
    if recipients <= 1 {
        return vec![status.to_string()];
    }
    let mut parts: Vec<String> = Vec::new();
    for seg in status.split(';') {
        let starts_new = leading_reply(seg).is_some() || parts.is_empty();
        if starts_new {
            parts.push(seg.trim().to_string());
        } else if let Some(last) = parts.last_mut() {
            last.push(';');
            last.push_str(seg);
        }
    }
    if parts.len() == recipients {
        parts
    } else {
        vec![status.to_string(); recipients]
    }
}

/// The remote host of a DEFER/FAIL as Postfix writes relays (`host[ip]:port`).
fn failure_relay(status: &str, context: Option<&str>) -> Option<String> {
    let name = bracket_value(status, "LastAttemptedServerName")
        .or_else(|| context.and_then(|c| braced_value(c, "FQDN")));
    let ip = bracket_value(status, "LastAttemptedIP")
        .or_else(|| context.and_then(|c| braced_value(c, "IP")))
        .or_else(|| {
            let i = status.find("last endpoint attempted was ")?;
            let v = &status[i + "last endpoint attempted was ".len()..];
            v.split(|c: char| c.is_whitespace() || c == ']')
                .next()
                .map(|x| x.trim_end_matches('.'))
        });
    match (name, ip) {
        (Some(n), Some(ip)) => Some(format!("{n}{}", bracketed(ip))),
        (Some(n), None) => Some(n.to_string()),
        (None, Some(ip)) => Some(bracketed(ip)),
        (None, None) => None,
    }
}

/// `203.0.113.5:25` → `[203.0.113.5]:25`; an IPv6 address keeps its colons.
fn bracketed(ip: &str) -> String {
    match ip.rsplit_once(':') {
        Some((addr, port))
            if !addr.contains(':')
                && !port.is_empty()
                && port.bytes().all(|c| c.is_ascii_digit()) =>
        {
            format!("[{addr}]:{port}")
        }
        _ => format!("[{ip}]"),
    }
}

/// One tracking row → events. `host_override` names the sending side for Exchange Online
/// reports, whose rows name Microsoft's servers rather than the customer's.
pub fn tracking_row(
    cols: &Columns,
    row: &[String],
    line_no: u64,
    host_override: Option<&str>,
    state: &mut TrackingState,
    out: &mut Vec<Event>,
) -> LineOutcome {
    let Some(ts) = cols
        .get(row, TIME)
        .and_then(|t| parse_time_in(t, state.zone, state.last_ts))
    else {
        return LineOutcome::Skipped;
    };
    state.last_ts = Some(ts);
    let Some(event) = cols.get(row, &["eventid"]) else {
        return LineOutcome::Skipped;
    };
    let event = event.to_ascii_uppercase();
    let key = cols
        .get(row, &["networkmessageid"])
        .or_else(|| cols.get(row, &["internalmessageid"]))
        .or_else(|| cols.get(row, &["messageid"]));
    let Some(key) = key else {
        // NOTIFYMAPI and other mailbox-store rows name no message.
        return LineOutcome::Ignored;
    };
    // On outbound rows this server is the SMTP client and the server fields name the
    // remote; elsewhere (RECEIVE, DEFER/FAIL from the queue) this server is the server.
    let outbound = matches!(
        event.as_str(),
        "SEND" | "SENDEXTERNAL" | "DEFER" | "FAIL" | "DROP"
    ) && cols.get(row, &["clienthostname"]).is_some();
    let remote = outbound
        .then(|| {
            let h = cols.get(row, &["serverhostname"])?;
            Some(match cols.get(row, &["serverip"]) {
                Some(ip) => format!("{h}[{ip}]"),
                None => h.to_string(),
            })
        })
        .flatten();
    let host = match host_override {
        Some(h) => h.to_string(),
        None => {
            let named = if outbound {
                cols.get(row, &["clienthostname"])
            } else {
                cols.get(row, &["serverhostname"])
            };
            match named {
                Some(h) => {
                    if state.log_host.is_empty() {
                        state.log_host = h.to_string();
                    }
                    h.to_string()
                }
                // Empty until a row names it: the import's `--host` (or `unknown`) then.
                None => state.log_host.clone(),
            }
        }
    };
    let mk = |kind| Event::new(ts, line_no, host.as_str(), key.to_string(), kind);
    let mut info = mk(EventKind::Info);
    // The envelope sender (return-path) as Postfix's `from=`; `<>` (an NDR) only when
    // no header sender is named either.
    let return_path = cols.get(row, &["returnpath"]).map(strip_angle);
    info.sender = return_path
        .filter(|r| !r.is_empty())
        .or_else(|| cols.get(row, &["senderaddress", "sender"]))
        .or(return_path)
        .map(|s| s.to_string().into());
    info.message_id = cols
        .get(row, &["messageid"])
        .map(|s| strip_angle(s).to_string().into());
    info.subject = cols
        .get(row, &["messagesubject", "subject"])
        .map(|s| s.to_string().into());

    let status = cols.get(row, &["recipientstatus"]).unwrap_or("");
    let recipients: Vec<&str> = cols
        .get(row, &["recipientaddress", "recipients"])
        .map(|r| {
            r.split([';', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let kind = match event.as_str() {
        "SEND" | "SENDEXTERNAL" | "DELIVER" => Some(AttemptStatus::Sent),
        "DEFER" => Some(AttemptStatus::Deferred),
        "FAIL" | "DROP" => Some(AttemptStatus::Bounced),
        // The NDR's own row keys the NDR, not the failed message; its FAIL row said it all.
        "DSN" => return LineOutcome::Ignored,
        _ => None,
    };
    let Some(kind) = kind else {
        // RECEIVE and SUBMIT say who sent what; routing, agent and high-availability rows
        // (RESOLVE, EXPAND, AGENTINFO, HAREDIRECT…) add nothing a delivery needs, and would
        // only reopen a message already done.
        if !matches!(event.as_str(), "RECEIVE" | "SUBMIT") {
            return LineOutcome::Ignored;
        }
        if event == "RECEIVE" {
            // Receiving is queueing: the row's time is the arrival.
            info.arrived = Some(ts);
        }
        if event == "RECEIVE" && !recipients.is_empty() {
            let pending = state
                .pending
                .entry((host.clone(), key.to_string()))
                .or_default();
            for r in &recipients {
                pending.insert(r.to_ascii_lowercase());
            }
        }
        out.push(info);
        return LineOutcome::Parsed;
    };
    if recipients.contains(&"System.String[]") {
        // Export-Csv without joining the array: the recipients are lost in the file.
        return LineOutcome::Skipped;
    }
    out.push(info);
    if recipients.is_empty() {
        return LineOutcome::Parsed;
    }
    let context = cols.get(row, &["sourcecontext"]);
    let statuses = split_statuses(status, recipients.len());
    for (rcpt, st) in recipients.iter().zip(statuses) {
        // On-premises DEFER rows may keep the error in the source-context's {LED}.
        let st = if st.is_empty() && kind == AttemptStatus::Deferred {
            context
                .and_then(|c| braced_value(c, "LED"))
                .unwrap_or("")
                .to_string()
        } else {
            st
        };
        let mut e;
        if kind == AttemptStatus::Bounced && event == "FAIL" && is_expiry(&st) {
            e = mk(EventKind::RecipientExpired);
            if let Some((text, reply, code)) = expiry_last_error(&st) {
                e.text = Some(text.into());
                e.reply_code = reply;
                e.dsn = code.map(Into::into);
            }
            e.relay = failure_relay(&st, context)
                .or_else(|| remote.clone())
                .map(Into::into);
        } else {
            e = mk(EventKind::Attempt(kind));
            let (reply, code) = real_reply(&st);
            e.reply_code = reply;
            e.dsn = code.map(Into::into);
            e.relay = if kind == AttemptStatus::Sent {
                // DELIVER is a mailbox delivery on this server.
                remote
                    .clone()
                    .or_else(|| Some("local".to_string()))
                    .map(Into::into)
            } else {
                failure_relay(&st, context)
                    .or_else(|| remote.clone())
                    .map(Into::into)
            };
            e.text = (!st.is_empty()).then_some(st.into());
        }
        e.recipient = Some(rcpt.to_string().into());
        out.push(e);
    }
    if kind != AttemptStatus::Deferred {
        let id = (host.clone(), key.to_string());
        if let Some(pending) = state.pending.get_mut(&id) {
            for r in &recipients {
                pending.remove(&r.to_ascii_lowercase());
            }
            if pending.is_empty() {
                state.pending.remove(&id);
                out.push(mk(EventKind::Removed));
            }
        }
    }
    LineOutcome::Parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapped_remote_reply_gives_the_code() {
        let s = r#"451 4.4.0 Primary target IP address responded with: "421 4.7.650 The mail server [203.0.113.13] has been temporarily rate limited due to IP reputation." Attempted failover to alternate host, but that did not succeed. Either there are no alternate hosts, or delivery failed to all alternate hosts. The last endpoint attempted was 198.51.100.25:25"#;
        assert_eq!(real_reply(s), (Some(421), Some("4.7.650".into())));
        assert_eq!(
            failure_relay(s, None).as_deref(),
            Some("[198.51.100.25]:25")
        );
        assert_eq!(
            real_reply(
                "451 4.4.0 DNS query failed. The error was: DNS query failed with error ErrorRetry"
            ),
            (Some(451), Some("4.4.0".into()))
        );
    }

    #[test]
    fn expiry_status_with_its_last_error() {
        let s = r#"550 4.4.7 QUEUE.Expired; message expired [Message=451 4.4.0 Primary target IP address responded with: "421 4.7.650 The mail server [203.0.113.13] has been temporarily rate limited due to IP reputation." Attempted failover to alternate host, but that did not succeed.] [LastAttemptedServerName=contoso-com.mail.protection.outlook.com] [LastAttemptedIP=198.51.100.25:25]"#;
        assert!(is_expiry(s));
        let (text, reply, code) = expiry_last_error(s).unwrap();
        assert!(text.starts_with("451 4.4.0 Primary target"));
        assert!(text.ends_with("did not succeed."));
        assert_eq!((reply, code.as_deref()), (Some(421), Some("4.7.650")));
        assert_eq!(
            failure_relay(s, None).as_deref(),
            Some("contoso-com.mail.protection.outlook.com[198.51.100.25]:25")
        );
        let exo = "550 5.4.316 Message expired, connection refused(Socket error code 10061)";
        assert!(is_expiry(exo));
        let (_, _, code) = expiry_last_error(exo).unwrap();
        assert_eq!(code.as_deref(), Some("4.4.316"));
        assert!(expiry_last_error("550 4.4.7 QUEUE.Expired; message expired").is_none());
    }

    #[test]
    fn statuses_split_only_at_reply_codes() {
        assert_eq!(
            split_statuses(
                "250 2.1.5 Recipient OK;550 4.4.7 QUEUE.Expired; message expired",
                2
            ),
            [
                "250 2.1.5 Recipient OK",
                "550 4.4.7 QUEUE.Expired; message expired"
            ]
        );
        assert_eq!(split_statuses("To;Cc", 3).len(), 3);
    }

    #[test]
    fn a_defer_row_may_keep_its_error_in_the_source_context() {
        let cols = Columns::new(&FIELDS_2013.split(',').collect::<Vec<_>>());
        let mut row = vec![String::new(); cols.len()];
        let mut set = |k: &str, v: &str| row[cols.index(&[k]).unwrap()] = v.to_string();
        set("datetime", "2026-11-21T08:05:03.000Z");
        set("serverhostname", "EX01");
        set("eventid", "DEFER");
        set("networkmessageid", "n-1");
        set("recipientaddress", "rae@fabrikam.example");
        set(
            "sourcecontext",
            r#"[{LRT}=11/21/2026 8:05:03 AM];[{LED}=441 4.4.1 Error encountered while communicating with primary target IP address: "Failed to connect. Winsock error code: 10060, Win32 error code: 10060." The last endpoint attempted was 192.0.2.33:25];[{FQDN}=mx.fabrikam.example];[{IP}=192.0.2.33]"#,
        );
        let mut out = Vec::new();
        let mut state = TrackingState::default();
        tracking_row(&cols, &row, 7, None, &mut state, &mut out);
        let e = out.last().unwrap();
        assert_eq!(e.kind, EventKind::Attempt(AttemptStatus::Deferred));
        assert_eq!(&*e.host, "EX01");
        assert_eq!((e.reply_code, e.dsn.as_deref()), (Some(441), Some("4.4.1")));
        assert!(
            e.text
                .as_deref()
                .unwrap()
                .contains("Winsock error code: 10060")
        );
        assert_eq!(e.relay.as_deref(), Some("mx.fabrikam.example[192.0.2.33]"));
    }

    #[test]
    fn powershell_times() {
        assert_eq!(parse_time("2024-01-25T15:16:09.843Z"), Some(1_706_195_769));
        assert!(parse_time("1/25/2024 3:16:09 PM").is_some());
        assert!(parse_time("25.01.2024 15:16:09").is_some());
        assert_eq!(parse_time("yesterday"), None);
    }
}
