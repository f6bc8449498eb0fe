//! PowerMTA accounting CSV → events.
//!
//! Columns are mapped by the header row (each installation picks its `record-fields`);
//! header-less files use the legacy 22-field default layout. `d` is a delivery, `b` a
//! bounce (an expiry when `bounceCat` is `message-expired`), `t`/`tq` a deferral. Each
//! record is one recipient of one message, and `d`/`b` are final for it, so the message
//! key includes the recipient and a final record closes it: memory stays flat however
//! many recipients a campaign (`jobId`) has.

use chrono::{DateTime, NaiveDateTime};

use super::timestamp::Zone;

use super::csvrow::{Columns, CsvFormat, CsvLines};
use super::{AttemptStatus, Event, EventKind, LineOutcome};
use crate::classify::EnhancedCode;

const LEGACY_FIELDS: &str = "type,timeLogged,timeQueued,timeImprinted,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId";

/// Record types that PowerMTA writes (`type` column).
pub const RECORD_TYPES: &[&str] = &["d", "b", "t", "tq", "r", "f", "rb", "rs"];

pub struct PowermtaParser {
    csv: CsvLines,
    columns: Option<Columns>,
    /// The zone of stamps logged without an offset (`--tz`).
    zone: Zone,
    /// The last stamp read, so an hour repeated when clocks go back is read in line order.
    last_ts: Option<i64>,
}

impl Default for PowermtaParser {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `fields` is an accounting header: `type` first, `rcpt`, and a delivery column.
pub fn is_header(fields: &[String]) -> bool {
    let cols = Columns::new(fields);
    cols.index(&["type"]) == Some(0)
        && cols.has("rcpt")
        && ["dsnstatus", "dsnaction", "bouncecat", "vmta"]
            .iter()
            .any(|k| cols.has(k))
}

/// `2016-08-01 14:06:01-0400`; without an offset, this machine's local time.
pub fn parse_time(s: &str) -> Option<i64> {
    parse_time_in(s, Zone::Local, None)
}

/// As [`parse_time`], a stamp without an offset read in `zone` (`--tz`); `previous` is the
/// stamp before, which settles an hour repeated when clocks go back.
pub fn parse_time_in(s: &str, zone: Zone, previous: Option<i64>) -> Option<i64> {
    let s = s.trim();
    for f in ["%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.timestamp());
        }
    }
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()?;
    zone.to_unix(&t, previous).or(Some(t.and_utc().timestamp()))
}

/// `mx.example.com (192.0.2.1)` → `mx.example.com[192.0.2.1]`, as Postfix writes relays.
fn relay_of(dsn_mta: &str) -> String {
    match dsn_mta.split_once(" (") {
        Some((host, ip)) => format!("{}[{}]", host.trim(), ip.trim_end_matches(')').trim()),
        None => dsn_mta.trim().to_string(),
    }
}

impl PowermtaParser {
    pub fn new() -> Self {
        PowermtaParser {
            csv: CsvLines::default(),
            columns: None,
            zone: Zone::Local,
            last_ts: None,
        }
    }

    /// Reads stamps logged without an offset in `zone`.
    pub fn in_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Takes the column mapping from an already imported header row.
    pub fn observe_header(&mut self, raw: &[u8]) {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        if raw.starts_with(b"type,") {
            let row = super::csvrow::split(raw);
            if is_header(&row) {
                self.columns = Some(Columns::new(&row));
                self.csv.expected = Some(row.len());
            }
        }
    }

    pub fn parse_line(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        self.feed(raw, line_no, out)
    }

    /// Reads what is left at the end of the input (a quoted field never closed).
    pub fn finish(&mut self, out: &mut Vec<Event>) -> LineOutcome {
        self.finish_records(out)
    }
}

impl CsvFormat for PowermtaParser {
    fn csv(&mut self) -> &mut CsvLines {
        &mut self.csv
    }

    fn row(&mut self, row: &[String], line: u64, out: &mut Vec<Event>) -> LineOutcome {
        if is_header(row) {
            self.columns = Some(Columns::new(row));
            self.csv.expected = Some(row.len());
            return LineOutcome::Ignored;
        }
        let legacy;
        let cols = match &self.columns {
            Some(c) => c,
            None if row.len() >= 22 => {
                legacy = Columns::new(&LEGACY_FIELDS.split(',').collect::<Vec<_>>());
                &legacy
            }
            None => return LineOutcome::Skipped,
        };
        record(cols, row, line, self.zone, &mut self.last_ts, out)
    }
}

fn record(
    cols: &Columns,
    row: &[String],
    line_no: u64,
    zone: Zone,
    last_ts: &mut Option<i64>,
    out: &mut Vec<Event>,
) -> LineOutcome {
    let Some(kind) = cols.get(row, &["type"]) else {
        return LineOutcome::Skipped;
    };
    if !RECORD_TYPES.contains(&kind) {
        return LineOutcome::Skipped;
    }
    let Some(ts) = cols
        .get(row, &["timelogged"])
        .or_else(|| cols.get(row, &["timequeued"]))
        .and_then(|t| parse_time_in(t, zone, *last_ts))
    else {
        return LineOutcome::Skipped;
    };
    *last_ts = Some(ts);
    let status = match kind {
        "d" => AttemptStatus::Sent,
        "b" | "rb" => AttemptStatus::Bounced,
        "t" | "tq" => AttemptStatus::Deferred,
        // Receptions, feedback loops and remote status reports say nothing about a
        // delivery attempt of ours.
        _ => return LineOutcome::Ignored,
    };
    let Some(rcpt) = cols.get(row, &["rcpt"]) else {
        return LineOutcome::Skipped;
    };
    let host = cols
        .get(row, &["vmta"])
        .or_else(|| cols.get(row, &["dlvsourceip"]))
        .unwrap_or("");
    let queue_id: Vec<&str> = [
        cols.get(row, &["envid"])
            .or_else(|| cols.get(row, &["jobid"])),
        cols.get(row, &["timequeued"]),
        Some(rcpt),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut e = Event::new(
        ts,
        line_no,
        host,
        queue_id.join("|"),
        EventKind::Attempt(status),
    );
    e.arrived = cols
        .get(row, &["timequeued"])
        .and_then(|t| parse_time_in(t, zone, None));
    e.sender = cols.get(row, &["orig"]).map(|s| s.to_string().into());
    e.recipient = Some(rcpt.to_string().into());
    e.orig_recipient = cols
        .get(row, &["orcpt"])
        .map(|o| o.strip_prefix("rfc822;").unwrap_or(o).to_string())
        .filter(|o| !o.eq_ignore_ascii_case(rcpt))
        .map(Into::into);
    let dsn_status = cols.get(row, &["dsnstatus"]);
    let diag = cols
        .get(row, &["dsndiag"])
        .map(|d| d.strip_prefix("smtp;").unwrap_or(d).trim().to_string());
    e.dsn = dsn_status
        .and_then(|s| s.split_whitespace().next())
        .and_then(|c| c.parse::<EnhancedCode>().ok())
        .map(|c| c.to_string().into());
    e.reply_code = diag.as_deref().and_then(|d| {
        let b = d.as_bytes();
        (b.len() >= 3
            && matches!(b[0], b'2' | b'4' | b'5')
            && b[..3].iter().all(u8::is_ascii_digit))
        .then(|| d[..3].parse().ok())
        .flatten()
    });
    e.text = diag
        .or_else(|| dsn_status.map(str::to_string))
        .map(Into::into);
    e.relay = cols
        .get(row, &["dsnmta"])
        .map(relay_of)
        .or_else(|| {
            cols.get(row, &["dlvdestinationip"])
                .map(|ip| format!("[{ip}]"))
        })
        .map(Into::into);
    let expired = status == AttemptStatus::Bounced
        && cols
            .get(row, &["bouncecat"])
            .is_some_and(|c| c.eq_ignore_ascii_case("message-expired"));
    if expired {
        // The record's diagnostic is the last transient error: the cause when no `t`
        // record was logged before it.
        e.kind = EventKind::RecipientExpired;
    }
    let final_record = status != AttemptStatus::Deferred;
    let removed = final_record.then(|| {
        let mut r = e.clone();
        r.kind = EventKind::Removed;
        r
    });
    out.push(e);
    out.extend(removed);
    LineOutcome::Parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_mapped_bounce_and_legacy_delivery() {
        let mut p = PowermtaParser::new();
        let mut out = Vec::new();
        // Real lines: port25-bouncehandler issue #3, and a legacy 22-field `d` record.
        p.parse_line(b"type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,jobId,dsnStatus,dsnMta,dsnDiag", 1, &mut out);
        p.parse_line(b"b,2016-08-01 14:06:01-0400,bad-mailbox,pmta-vmta47,mail@724mail50.buynbag.com,koul.vibhawxxxx1@gmail.com,buynbag.com (85.206.170.50),85.206.170.50,,5.1.1 (bad destination mailbox address),gmail-smtp-in.l.google.com (64.233.161.27),smtp;550 5.1.1 The email account that you tried to reach does not exist.", 2, &mut out);
        assert_eq!(out.len(), 2);
        let e = &out[0];
        assert_eq!(e.kind, EventKind::Attempt(AttemptStatus::Bounced));
        assert_eq!(&*e.host, "pmta-vmta47");
        assert_eq!(e.ts, 1_470_074_761);
        assert_eq!(e.dsn.as_deref(), Some("5.1.1"));
        assert_eq!(e.reply_code, Some(550));
        assert_eq!(
            e.relay.as_deref(),
            Some("gmail-smtp-in.l.google.com[64.233.161.27]")
        );
        assert_eq!(out[1].kind, EventKind::Removed);

        let mut p = PowermtaParser::new();
        out.clear();
        p.parse_line(br#"d,2014-08-24 16:00:14+0530,2014-07-10 16:00:02+0530,,u492e9f54@hdfcbank.net,ue31691b9@YMAIL.COM,,relayed,2.0.0 (success),smtp;250 ok dirdel,mta7.am0.yahoodns.net (66.196.118.35),success,smtp,hbdpstmt3.hdfcbank.com (202.154.168.163),smtp,172.30.149.109,66.196.118.35,"PIPELINING,8BITMIME,SIZE,STARTTLS",155704,CAMPAIGN,,"#, 1, &mut out);
        assert_eq!(out[0].kind, EventKind::Attempt(AttemptStatus::Sent));
        assert_eq!(out[0].recipient.as_deref(), Some("ue31691b9@YMAIL.COM"));
        assert_eq!(out[0].sender.as_deref(), Some("u492e9f54@hdfcbank.net"));
        assert_eq!(&*out[0].host, "CAMPAIGN");
        // `timeQueued` is the arrival, six weeks before this delivery was logged.
        assert_eq!(out[0].arrived, Some(1_404_988_202));
    }
}
