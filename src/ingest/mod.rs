//! Input formats. Each format turns its input into a stream of [`Event`]s; the triage
//! layer assembles deliveries from them without knowing which format they came from.

pub mod bounce;
pub mod csvrow;
pub mod detect;
pub mod exchange;
pub mod exim;
pub mod input;
pub mod m365;
pub mod postfix;
pub mod powermta;
pub mod timestamp;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What one log line (or bounce record) says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A new queue file: `smtpd client=`, `pickup`, Exim `<=`. A second one for the same
    /// queue id means the id was reused for another message.
    Created,
    /// Envelope or header facts about the message (sender, Message-ID, subject).
    Info,
    /// A delivery attempt (or a logged decision) for one recipient.
    Attempt(AttemptStatus),
    /// The whole message expired in the queue (Postfix qmgr `status=expired`): every
    /// recipient not yet sent or bounced expires.
    MessageExpired,
    /// One recipient expired (Exim `retry timeout exceeded`, Exchange `QUEUE.Expired`).
    RecipientExpired,
    /// The queue file is gone: nothing more will be logged for this message.
    Removed,
    /// The MTA froze the message (Exim `Frozen …`, `Message is frozen`): it stays queued
    /// and is not tried until someone thaws it. `text` says why, when the line does.
    Frozen,
    /// The message was thawed (Exim `Unfrozen by …`).
    Unfrozen,
}

pub use crate::model::AttemptStatus;

/// A Message-ID as the store keeps it: without its angle brackets, so `<id@host>` from a
/// bounce's headers and `id@host` from a log name the same message. `None` when nothing
/// is left.
pub fn bare_message_id(id: &str) -> Option<&str> {
    let bare = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!bare.is_empty()).then_some(bare)
}

/// One parsed event. Its texts borrow from the line where the line holds them as they
/// are, so that a line whose facts the assembler already has (a deferral retried for
/// days) costs no allocation; the assembler copies what it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Unix seconds (UTC).
    pub ts: i64,
    /// 1-based line number in its source.
    pub line: u64,
    /// The sending host (MTA host, plus a per-instance syslog name or VMTA when logged):
    /// shared, since a log names a handful for all its lines.
    pub host: Arc<str>,
    /// The message key inside `host`: queue id, Exim id, network message id…
    pub queue_id: Cow<'a, str>,
    pub kind: EventKind,
    pub recipient: Option<Cow<'a, str>>,
    pub orig_recipient: Option<Cow<'a, str>>,
    pub sender: Option<Cow<'a, str>>,
    pub message_id: Option<Cow<'a, str>>,
    pub subject: Option<Cow<'a, str>>,
    /// Remote host as logged (`mx.example.com[192.0.2.1]:25`, `none`, `local`).
    pub relay: Option<Cow<'a, str>>,
    /// Enhanced status code as logged (`dsn=`), possibly absent.
    pub dsn: Option<Cow<'a, str>>,
    pub reply_code: Option<u16>,
    pub text: Option<Cow<'a, str>>,
    /// False for lines that record a deferral without a connection attempt
    /// (Postfix `delivery temporarily suspended`).
    pub counts_as_attempt: bool,
    /// When the MTA queued the message, as the line itself tells (Postfix `delay=`, the
    /// time in an Exim message id, an arrival column): known even when the log starts
    /// after the arrival line.
    pub arrived: Option<i64>,
    /// The message's size in bytes, where the log tells it (Postfix qmgr `size=`).
    pub size: Option<u64>,
}

impl<'a> Event<'a> {
    pub fn new(
        ts: i64,
        line: u64,
        host: impl Into<Arc<str>>,
        queue_id: impl Into<Cow<'a, str>>,
        kind: EventKind,
    ) -> Self {
        Event {
            ts,
            line,
            host: host.into(),
            queue_id: queue_id.into(),
            kind,
            recipient: None,
            orig_recipient: None,
            sender: None,
            message_id: None,
            subject: None,
            relay: None,
            dsn: None,
            reply_code: None,
            text: None,
            counts_as_attempt: true,
            arrived: None,
            size: None,
        }
    }

    /// The same event with its texts copied out of the line they borrow from.
    pub fn into_owned(self) -> Event<'static> {
        let own = |t: Option<Cow<'a, str>>| t.map(|t| Cow::Owned(t.into_owned()));
        Event {
            queue_id: Cow::Owned(self.queue_id.into_owned()),
            recipient: own(self.recipient),
            orig_recipient: own(self.orig_recipient),
            sender: own(self.sender),
            message_id: own(self.message_id),
            subject: own(self.subject),
            relay: own(self.relay),
            dsn: own(self.dsn),
            text: own(self.text),
            ..self
        }
    }
}

/// The input formats sendlog reads (`--format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Auto,
    Postfix,
    Exim,
    Exchange,
    M365,
    Powermta,
    Eml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Postfix => "postfix",
            Format::Exim => "exim",
            Format::Exchange => "exchange",
            Format::M365 => "m365",
            Format::Powermta => "powermta",
            Format::Eml => "eml",
        }
    }
}

impl Format {
    /// The `'static` name of a stored format string (unknown names read as `postfix`,
    /// the first format the store knew).
    pub fn static_name(name: &str) -> &'static str {
        use clap::ValueEnum;
        Format::value_variants()
            .iter()
            .find(|f| f.as_str() == name)
            .map(|f| f.as_str())
            .unwrap_or("postfix")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a parser says about one line.
#[derive(Debug)]
pub enum LineOutcome {
    /// Parsed; zero or more events were emitted.
    Parsed,
    /// Recognised as this format but carries nothing sendlog uses (smtpd connects,
    /// warnings, statistics). Not a skip: nothing is lost.
    Ignored,
    /// Not a line of this format (foreign programs, junk): counted and sampled.
    Skipped,
}

/// A line-oriented format's parser: one line in, events out.
pub trait LineParser: Send {
    fn parse_line<'a>(
        &mut self,
        raw: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome;

    /// A line already imported (a grown log's old part): formats whose header row maps
    /// the columns take the mapping from it; nothing is emitted.
    fn observe_header(&mut self, _raw: &[u8]) {}

    /// For formats whose stamps carry no year: the year and month the input ended in, so
    /// the next file of the same import continues from there.
    fn year_position(&self) -> Option<crate::ingest::timestamp::YearPosition> {
        None
    }

    /// The end of the input: what a parser still holds (a CSV record whose quoted field
    /// never closed) is read or given up now.
    fn finish(&mut self, _out: &mut Vec<Event<'static>>) -> LineOutcome {
        LineOutcome::Ignored
    }

    /// Lines counted per hour (mail received, refused before it was queued, deferred),
    /// for the report's tables; taken once the input is read.
    fn take_line_counts(&mut self) -> Vec<LineCount> {
        Vec::new()
    }
}

/// Lines of one kind counted per hour: mail received or refused at intake (Postfix smtpd,
/// pickup, cleanup), deferral lines. A refusal never becomes a queued message, and a run of
/// identical deferrals is one stored attempt: only these counts place every line in its hour.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineCount {
    /// Unix seconds at the start of the hour.
    pub hour: i64,
    pub host: String,
    pub kind: LineKind,
    /// For refusals: the SMTP stage (`RCPT`, `MAIL`, `CONNECT`, `header`, `body`…).
    pub stage: String,
    /// For refusals: the enhanced status code, else the reply code.
    pub code: String,
    /// For refusals: the reason, shortened so that like refusals count together.
    pub reason: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineKind {
    Received,
    Rejected,
    Deferred,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Received => "received",
            LineKind::Rejected => "rejected",
            LineKind::Deferred => "deferred",
        }
    }
}

impl LineParser for postfix::PostfixParser {
    fn parse_line<'a>(
        &mut self,
        raw: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome {
        postfix::PostfixParser::parse_line(self, raw, line_no, out)
    }

    fn year_position(&self) -> Option<crate::ingest::timestamp::YearPosition> {
        Some(self.years().position())
    }

    fn take_line_counts(&mut self) -> Vec<LineCount> {
        postfix::PostfixParser::take_line_counts(self)
    }
}

impl LineParser for exim::EximParser {
    fn parse_line<'a>(
        &mut self,
        raw: &'a [u8],
        line_no: u64,
        out: &mut Vec<Event<'a>>,
    ) -> LineOutcome {
        exim::EximParser::parse_line(self, raw, line_no, out)
    }

    fn year_position(&self) -> Option<crate::ingest::timestamp::YearPosition> {
        exim::EximParser::year_position(self)
    }
}

/// Each sends-log parser is a line parser with an inherent `parse_line`.
macro_rules! line_parsers {
    ($($t:ty),*) => {$(
        impl LineParser for $t {
            fn parse_line<'a>(
                &mut self,
                raw: &'a [u8],
                line_no: u64,
                out: &mut Vec<Event<'a>>,
            ) -> LineOutcome {
                <$t>::parse_line(self, raw, line_no, out)
            }

            fn observe_header(&mut self, raw: &[u8]) {
                <$t>::observe_header(self, raw)
            }

            fn finish(&mut self, out: &mut Vec<Event<'static>>) -> LineOutcome {
                <$t>::finish(self, out)
            }
        }
    )*};
}
line_parsers!(
    exchange::ExchangeParser,
    m365::M365Parser,
    powermta::PowermtaParser
);

/// The parser for a line-oriented format; `None` for formats that are not read line by
/// line (bounce emails) or not built yet.
pub fn line_parser(format: Format, years: timestamp::YearTracker) -> Option<Box<dyn LineParser>> {
    match format {
        Format::Postfix => Some(Box::new(postfix::PostfixParser::new(years))),
        Format::Exim => Some(Box::new(exim::EximParser::new(years))),
        Format::Exchange => Some(Box::new(
            exchange::ExchangeParser::new().in_zone(years.zone()),
        )),
        Format::M365 => Some(Box::new(m365::M365Parser::new().in_zone(years.zone()))),
        Format::Powermta => Some(Box::new(
            powermta::PowermtaParser::new().in_zone(years.zone()),
        )),
        Format::Auto | Format::Eml => None,
    }
}
