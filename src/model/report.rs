//! The numbers `report` and `export` print: totals, groups, causes with their evidence,
//! mail at risk of expiring, typo domains, sources, and the delivery record of the CLI
//! contract.

use serde::Serialize;

use super::{DeliveryStatus, Reason};

/// What the senders' table groups by (`report --by`, the TUI's senders list). The CLI
/// parses it as is, hence clap's derive here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SenderKey {
    /// The envelope sender address.
    #[default]
    Sender,
    /// The envelope sender's domain.
    SenderDomain,
    /// The sending host (and per-instance syslog name or VMTA) as logged.
    Host,
    /// The campaign: the subject, where the log has one (no log sendlog reads carries
    /// X-Campaign or List-Id).
    Campaign,
}

impl SenderKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderKey::Sender => "sender",
            SenderKey::SenderDomain => "sender-domain",
            SenderKey::Host => "host",
            SenderKey::Campaign => "campaign",
        }
    }

    /// The next grouping of the TUI's senders list.
    pub fn next(self) -> SenderKey {
        match self {
            SenderKey::Sender => SenderKey::SenderDomain,
            SenderKey::SenderDomain => SenderKey::Host,
            SenderKey::Host => SenderKey::Campaign,
            SenderKey::Campaign => SenderKey::Sender,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub deliveries: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
}

impl Totals {
    /// Counts `n` deliveries of `status`.
    pub fn add(&mut self, status: DeliveryStatus, n: u64) {
        self.deliveries += n;
        *match status {
            DeliveryStatus::Sent => &mut self.sent,
            DeliveryStatus::Deferred => &mut self.deferred,
            DeliveryStatus::Bounced => &mut self.bounced,
            DeliveryStatus::Expired => &mut self.expired,
        } += n;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseCount {
    pub cause: Option<Reason>,
    pub count: u64,
}

/// Failed deliveries of one code to one destination domain.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub code: String,
    pub label: &'static str,
    pub domain: String,
    pub provider: Option<String>,
    pub count: u64,
    pub causes: Vec<CauseCount>,
    pub typo_of: Option<String>,
}

/// One underlying cause with the evidence behind it.
#[derive(Debug, Clone, Serialize)]
pub struct CauseEvidence {
    pub cause: Reason,
    pub count: u64,
    pub expired: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub domains: u64,
    pub top_domains: Vec<(String, u64)>,
    pub hosts: Vec<(String, u64)>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub first_seen: Option<i64>,
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub last_seen: Option<i64>,
    pub example: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AtRisk {
    pub recipient: String,
    pub domain: String,
    pub queue_id: String,
    pub host: String,
    /// When the MTA queued it; when the log does not tell (`arrival_known` false), the
    /// first line of it the log holds, so the age is at least `age`.
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub queued_since: i64,
    pub arrival_known: bool,
    /// Seconds in the queue, as of the report's "now".
    pub age: i64,
    /// Seconds left before the queue lifetime runs out, as of the report's "now".
    pub seconds_left: i64,
    pub cause: Option<Reason>,
    /// Where `cause` was read from (as in `export deliveries`): this message's own attempt,
    /// or an earlier failure its suspension lines repeat.
    pub cause_source: Option<String>,
}

/// A message the MTA holds frozen whose recipients the log never names (Exim logs none on
/// its freeze lines, nor on the arrival line without `+received_recipients`): it has no
/// delivery to list, so it is listed as a message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FrozenMessage {
    pub queue_id: String,
    pub host: String,
    pub sender: Option<String>,
    /// The first line that said it is frozen.
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub frozen_since: i64,
    /// What that line said (`Frozen (delivery error message)`, `Message is frozen`).
    pub frozen: String,
    /// When the MTA queued it, when the log tells (the Exim id does).
    #[serde(serialize_with = "crate::model::time::json_time::optional")]
    pub arrived_at: Option<i64>,
    /// The last line about it.
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub last_seen: i64,
    /// Always "unknown": said in the record so no reader takes it for "none".
    pub recipients: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypoDomain {
    pub domain: String,
    pub suggestion: String,
    pub count: u64,
}

/// A bounce report that contradicts the log: kept and shown, not applied.
#[derive(Debug, Clone, Serialize)]
pub struct BounceConflict {
    pub recipient: String,
    /// The report's file (or mbox message, Maildir path).
    pub report: String,
    pub conflict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub path: String,
    pub format: String,
    pub lines_read: u64,
    pub events: u64,
    pub lines_skipped: u64,
    /// The first lines that were not understood, with their line numbers.
    pub unparsed: Vec<(u64, String)>,
}

/// A delivery record exactly as the CLI contract lists its fields.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub queue_id: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub recipient: String,
    pub domain: String,
    pub provider: Option<String>,
    pub host: String,
    pub status: DeliveryStatus,
    pub code: String,
    pub reply_code: Option<u16>,
    pub reason: Option<Reason>,
    pub cause: Option<Reason>,
    pub last_deferral_code: Option<String>,
    pub last_deferral_text: Option<String>,
    pub attempts: u32,
    /// When the MTA queued the message, as the log tells it; null when it does not.
    pub arrived_at: Option<String>,
    /// Seconds from `arrived_at` to this delivery's last event; null without `arrived_at`.
    pub queue_age: Option<i64>,
    pub first_attempt: Option<String>,
    pub last_attempt: Option<String>,
    pub relay: Option<String>,
    pub typo_of: Option<String>,
    pub source: Option<String>,
    /// Where `cause` was read from: this message's own attempt, or (for mail whose only
    /// lines are suspensions, `attempts: 0`) an earlier attempt its lines repeat, or the
    /// expiry line. Null when there was no deferral.
    pub cause_source: Option<String>,
}

impl DeliveryRecord {
    pub(crate) const FIELDS: [&'static str; 23] = [
        "queue_id",
        "message_id",
        "sender",
        "recipient",
        "domain",
        "provider",
        "host",
        "status",
        "code",
        "reply_code",
        "reason",
        "cause",
        "last_deferral_code",
        "last_deferral_text",
        "attempts",
        "arrived_at",
        "queue_age",
        "first_attempt",
        "last_attempt",
        "relay",
        "typo_of",
        "source",
        "cause_source",
    ];

    /// The record's values as text, in `FIELDS` order (CSV).
    pub fn values(&self) -> [String; 23] {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let name = |r: Option<Reason>| r.map(|r| r.as_str().to_string()).unwrap_or_default();
        [
            self.queue_id.clone(),
            o(&self.message_id),
            o(&self.sender),
            self.recipient.clone(),
            self.domain.clone(),
            o(&self.provider),
            self.host.clone(),
            self.status.as_str().to_string(),
            self.code.clone(),
            self.reply_code.map(|c| c.to_string()).unwrap_or_default(),
            name(self.reason),
            name(self.cause),
            o(&self.last_deferral_code),
            o(&self.last_deferral_text),
            self.attempts.to_string(),
            o(&self.arrived_at),
            self.queue_age.map(|a| a.to_string()).unwrap_or_default(),
            o(&self.first_attempt),
            o(&self.last_attempt),
            o(&self.relay),
            o(&self.typo_of),
            o(&self.source),
            o(&self.cause_source),
        ]
    }
}

/// What happened in one span of time (a day, an hour), pflogsumm's columns and expiries.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Traffic {
    /// Start of the span (UTC); for hours of the day, the hour (0–23) in seconds from
    /// midnight.
    #[serde(serialize_with = "crate::model::time::json_time::required")]
    pub start: i64,
    /// Messages received (Postfix smtpd `client=` and pickup lines).
    pub received: u64,
    /// Deliveries sent.
    pub delivered: u64,
    /// Deferral lines (each retry counts, as pflogsumm counts them).
    pub deferred: u64,
    pub bounced: u64,
    /// Refused at intake (Postfix `NOQUEUE: reject`, cleanup rejects).
    pub rejected: u64,
    pub expired: u64,
}

/// Mail to one destination domain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DomainTraffic {
    pub domain: String,
    /// Deliveries sent.
    pub sent: u64,
    /// Bytes of the messages sent, where the log tells sizes.
    pub bytes: u64,
    /// Deferral lines.
    pub deferrals: u64,
    pub bounced: u64,
    pub expired: u64,
    /// Seconds from arrival to delivery, over the deliveries sent.
    pub avg_delay: Option<f64>,
    /// Seconds from arrival to the last attempt, over every delivery.
    pub max_delay: Option<i64>,
}

/// One sender, sender domain, sending host or campaign: its mail and where it fails.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SenderGroup {
    pub key: String,
    /// Messages (queue files) with at least one delivery.
    pub messages: u64,
    /// Bytes of those messages, where the log tells sizes.
    pub bytes: u64,
    pub deliveries: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    /// Where its failures go: provider (or domain) with the count, most first.
    pub failing_destinations: Vec<(String, u64)>,
    /// Its most frequent failure causes with their counts.
    pub causes: Vec<(String, u64)>,
}

/// A recipient and how much was delivered to it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Recipient {
    pub recipient: String,
    pub delivered: u64,
    pub bytes: u64,
}

/// What the chart's series are: one per code, or one per provider (else domain).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum SeriesBy {
    #[default]
    Code,
    Provider,
}

impl SeriesBy {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesBy::Code => "code",
            SeriesBy::Provider => "provider",
        }
    }

    pub fn next(self) -> Self {
        match self {
            SeriesBy::Code => SeriesBy::Provider,
            SeriesBy::Provider => SeriesBy::Code,
        }
    }
}

/// The narrowest time window `]` goes down to.
pub const NARROWEST_SPAN: i64 = 3600;

/// The time window every screen counts in: the last `span` seconds before the last log
/// line, inside `--since`/`--until` (which stay the outer bounds). `]` halves it, `[`
/// doubles it back up to all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// `None`: all that `--since`/`--until` hold.
    pub span: Option<i64>,
    /// First and last event within `--since`/`--until`, as the store last told them:
    /// where "all" ends.
    pub extent: Option<(i64, i64)>,
}

impl TimeWindow {
    /// Half the span shown, down to an hour; `None` with nothing in the store.
    pub fn narrowed(&self) -> Option<i64> {
        let shown = self
            .span
            .or_else(|| self.extent.map(|(first, last)| last - first))?;
        // Rounded up, so that doubling it back covers what was shown.
        Some(((shown + 1) / 2).max(NARROWEST_SPAN))
    }

    /// Twice the span; `None` (everything) once it covers all there is.
    pub fn widened(&self) -> Option<i64> {
        let span = self.span?;
        match self.extent {
            Some((first, last)) if span.saturating_mul(2) >= last - first => None,
            _ => Some(span.saturating_mul(2)),
        }
    }
}

/// Failures over time, the queue ages of mail still deferred, and failures per provider:
/// what the chart screen draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// Seconds per bucket: an hour, or a day for spans of more than three days.
    pub bucket: i64,
    /// Start of the first bucket and end of the span (unix seconds).
    pub start: i64,
    pub end: i64,
    pub by: SeriesBy,
    /// Failed attempts (deferral and bounce lines) and expiries per bucket, per code or
    /// provider, biggest first; the rest summed as "other".
    pub series: Vec<(String, Vec<u64>)>,
    /// Still-deferred deliveries by how much of their queue lifetime has gone:
    /// (label, count), youngest first, the last bucket past the lifetime.
    pub queue_ages: Vec<(String, u64)>,
    /// The queue lifetime the ages are measured against (seconds); the format's default
    /// when none was given or saved, the longest when formats differ.
    pub lifetime: Option<i64>,
    /// Providers (else domains) by failed deliveries: (name, failed, sent).
    pub providers: Vec<(String, u64, u64)>,
    /// When a span was asked for and failures start before it: where they start.
    pub clipped_from: Option<i64>,
}
