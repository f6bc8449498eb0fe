//! Microsoft 365 / Exchange Online message trace exports → events. See FORMATS.md §2
//! ("Exchange Online / Microsoft 365 message trace").
//!
//! Three shapes, told apart by their header row (the files are often UTF-16LE; the input
//! layer decodes them):
//! * the **enhanced summary** report: one row per message, `recipient_status` =
//!   `addr##Receive, Send;addr2##Receive, Fail`;
//! * the **extended** report: the on-premises tracking columns in snake_case, one row per
//!   event, read by the Exchange tracking parser;
//! * `Get-MessageTrace | Export-Csv`: one row per message × recipient with a `Status`.
//!
//! Every message was sent by Exchange Online, so its sending host is `exchange-online`.

use super::csvrow::{Columns, CsvFormat, CsvLines};
use super::exchange::{TrackingState, parse_time, parse_time_in, tracking_row};
use super::timestamp::Zone;
use super::{AttemptStatus, Event, EventKind, LineOutcome};

pub const HOST: &str = "exchange-online";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Summary,
    Extended,
    Trace,
}

/// Which export a header row starts, if any.
pub fn shape_of(fields: &[String]) -> Option<Shape> {
    let c = Columns::new(fields);
    if c.has("origintimestamputc") && c.has("recipientstatus") {
        Some(Shape::Summary)
    } else if c.has("datetimeutc") && c.has("eventid") {
        Some(Shape::Extended)
    } else if c.has("messagetraceid")
        || (c.has("received") && c.has("recipientaddress") && c.has("status"))
    {
        Some(Shape::Trace)
    } else {
        None
    }
}

pub struct M365Parser {
    csv: CsvLines,
    header: Option<(Shape, Columns)>,
    tracking: TrackingState,
}

impl Default for M365Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl M365Parser {
    pub fn new() -> Self {
        M365Parser {
            csv: CsvLines::default(),
            header: None,
            tracking: TrackingState::default(),
        }
    }

    /// Reads zoneless local times (`Get-MessageTrace`'s `Received` as PowerShell renders
    /// it) in `zone`; the reports' ISO stamps are UTC whatever it says.
    pub fn in_zone(mut self, zone: Zone) -> Self {
        self.tracking.zone = zone;
        self
    }

    /// Takes the export's shape and columns from an already imported header row.
    pub fn observe_header(&mut self, raw: &[u8]) {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        let row = super::csvrow::split(raw);
        if let Some(shape) = shape_of(&row) {
            self.header = Some((shape, Columns::new(&row)));
            self.csv.expected = Some(row.len());
        }
    }

    pub fn parse_line(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
        let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        if raw.starts_with(b"#TYPE") {
            return LineOutcome::Ignored;
        }
        self.feed(raw, line_no, out)
    }

    /// Reads what is left at the end of the input (a quoted field never closed).
    pub fn finish(&mut self, out: &mut Vec<Event>) -> LineOutcome {
        self.finish_records(out)
    }
}

impl CsvFormat for M365Parser {
    fn csv(&mut self) -> &mut CsvLines {
        &mut self.csv
    }

    fn row(&mut self, row: &[String], line: u64, out: &mut Vec<Event>) -> LineOutcome {
        if let Some(shape) = shape_of(row) {
            self.header = Some((shape, Columns::new(row)));
            self.csv.expected = Some(row.len());
            return LineOutcome::Ignored;
        }
        let Some((shape, cols)) = &self.header else {
            return LineOutcome::Skipped;
        };
        match shape {
            Shape::Extended => tracking_row(cols, row, line, Some(HOST), &mut self.tracking, out),
            Shape::Summary => summary_row(cols, row, line, out),
            Shape::Trace => trace_row(cols, row, line, self.tracking.zone, out),
        }
    }
}

fn strip_angle(s: &str) -> String {
    s.trim()
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s.trim())
        .to_string()
}

/// The outcome of the last event a summary lists for a recipient (`Receive, Defer, Send`).
fn summary_outcome(events: &str) -> Option<AttemptStatus> {
    events
        .split(',')
        .rev()
        .find_map(|e| match e.trim().to_ascii_uppercase().as_str() {
            "SEND" | "SENDEXTERNAL" | "DELIVER" => Some(AttemptStatus::Sent),
            "FAIL" | "DROP" => Some(AttemptStatus::Bounced),
            "DEFER" => Some(AttemptStatus::Deferred),
            _ => None,
        })
}

fn summary_row(cols: &Columns, row: &[String], line_no: u64, out: &mut Vec<Event>) -> LineOutcome {
    let Some(ts) = cols.get(row, &["origintimestamputc"]).and_then(parse_time) else {
        return LineOutcome::Skipped;
    };
    let Some(key) = cols
        .get(row, &["networkmessageid"])
        .or_else(|| cols.get(row, &["messageid"]))
    else {
        return LineOutcome::Skipped;
    };
    // The origin timestamp is when Exchange Online accepted the message: its arrival. The
    // export tells no time of the attempts themselves.
    let mk = |kind| {
        let mut e = Event::new(ts, line_no, HOST, key.to_string(), kind);
        e.arrived = Some(ts);
        e
    };
    let mut info = mk(EventKind::Info);
    info.sender = cols
        .get(row, &["senderaddress"])
        .map(|s| s.to_string().into());
    info.message_id = cols
        .get(row, &["messageid"])
        .map(strip_angle)
        .map(Into::into);
    info.subject = cols
        .get(row, &["messagesubject"])
        .map(|s| s.to_string().into());
    out.push(info);
    let mut all_final = true;
    for entry in cols
        .get(row, &["recipientstatus"])
        .unwrap_or("")
        .split(';')
        .filter(|s| !s.trim().is_empty())
    {
        let (rcpt, events) = entry.split_once("##").unwrap_or((entry, ""));
        let Some(status) = summary_outcome(events) else {
            // Received, expanded or resolved only: no delivery outcome yet.
            all_final = false;
            continue;
        };
        all_final &= status != AttemptStatus::Deferred;
        let mut e = mk(EventKind::Attempt(status));
        e.recipient = Some(rcpt.trim().to_string().into());
        e.text = Some(format!("message trace: {}", events.trim()).into());
        out.push(e);
    }
    // The summary is the message's whole story: with every recipient final, it is done.
    if all_final {
        out.push(mk(EventKind::Removed));
    }
    LineOutcome::Parsed
}

fn trace_row(
    cols: &Columns,
    row: &[String],
    line_no: u64,
    zone: Zone,
    out: &mut Vec<Event>,
) -> LineOutcome {
    let Some(ts) = cols
        .get(row, &["received"])
        .and_then(|t| parse_time_in(t, zone, None))
    else {
        return LineOutcome::Skipped;
    };
    let Some(key) = cols
        .get(row, &["messagetraceid"])
        .or_else(|| cols.get(row, &["messageid"]))
    else {
        return LineOutcome::Skipped;
    };
    let status = cols.get(row, &["status"]).unwrap_or("");
    let kind = match status.to_ascii_lowercase().as_str() {
        "delivered" => EventKind::Attempt(AttemptStatus::Sent),
        "failed" | "filteredasspam" | "quarantined" => EventKind::Attempt(AttemptStatus::Bounced),
        "pending" => EventKind::Attempt(AttemptStatus::Deferred),
        // Expanded (a group became its members' rows), GettingStatus, None: no outcome.
        _ => EventKind::Info,
    };
    let mut e = Event::new(ts, line_no, HOST, key.to_string(), kind);
    // `Received` is when the service accepted the message: its arrival.
    e.arrived = Some(ts);
    e.sender = cols
        .get(row, &["senderaddress"])
        .map(|s| s.to_string().into());
    e.message_id = cols
        .get(row, &["messageid"])
        .map(strip_angle)
        .map(Into::into);
    e.subject = cols.get(row, &["subject"]).map(|s| s.to_string().into());
    if matches!(e.kind, EventKind::Attempt(_)) {
        e.recipient = cols
            .get(row, &["recipientaddress"])
            .map(|s| s.to_string().into());
        e.relay = cols
            .get(row, &["toip"])
            .map(|ip| format!("[{ip}]"))
            .map(Into::into);
        e.text = Some(format!("message trace: {status}").into());
    }
    out.push(e);
    LineOutcome::Parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_rows_give_one_outcome_per_recipient() {
        let mut p = M365Parser::new();
        let mut out = Vec::new();
        p.parse_line(b"origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority", 1, &mut out);
        let o = p.parse_line(b"2024-03-01T10:00:00.0000000Z,news@contoso.example,\"a@fabrikam.example##Receive, Send;b@tailspin.example##Receive, Defer, Fail;c@x.example##Receive\",Hello,1234,<m1@contoso.example>,6a638d20-1e63-493a-80a2-08da9a4ff8da,192.0.2.9,Originating,,Normal", 2, &mut out);
        assert!(matches!(o, LineOutcome::Parsed));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].message_id.as_deref(), Some("m1@contoso.example"));
        assert_eq!(out[1].kind, EventKind::Attempt(AttemptStatus::Sent));
        assert_eq!(out[2].kind, EventKind::Attempt(AttemptStatus::Bounced));
        assert_eq!(out[2].recipient.as_deref(), Some("b@tailspin.example"));
        // The origin timestamp is the arrival.
        assert!(out.iter().all(|e| e.arrived == Some(1_709_287_200)));
    }
}
