//! What the screens page through and open: the failed deliveries grouped by code and by
//! a second dimension, a page of them, and one delivery whole with its attempts and the
//! bounce reports about it.

use super::report::Totals;
use super::{AttemptStatus, DeliveryStatus, Reason};

/// What the second level of the triage screen groups a code's deliveries by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dimension {
    #[default]
    Domain,
    Provider,
    Host,
}

impl Dimension {
    pub fn next(self) -> Self {
        match self {
            Dimension::Domain => Dimension::Provider,
            Dimension::Provider => Dimension::Host,
            Dimension::Host => Dimension::Domain,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Domain => "destination domain",
            Dimension::Provider => "provider",
            Dimension::Host => "sending host",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCount {
    pub code: String,
    pub count: u64,
}

/// The first screen's numbers: cheap enough to answer before anything else. Counting the
/// sent deliveries means reading an index of every delivery, so that comes later
/// (`sent_count`) and `totals.sent` is 0 until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub totals: Totals,
    /// Failed deliveries (not sent) by enhanced code, most first.
    pub codes: Vec<CodeCount>,
}

/// When each code's failures happened: `buckets` equal slices of `span`, by last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sparklines {
    pub span: Option<(i64, i64)>,
    pub by_code: Vec<(String, Vec<u64>)>,
}

/// One row of the second level: a value of the dimension (`None` when the store has none,
/// e.g. an unknown provider) and how many of the code's failures it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    pub value: Option<String>,
    pub count: u64,
}

/// Which deliveries a list holds by their status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Deferred, bounced and expired: what the triage groups count.
    #[default]
    Failed,
    Only(DeliveryStatus),
    /// Sent in the end, after at least one deferral (greylisting, throttling that cleared).
    SentAfterDeferrals,
}

impl StatusFilter {
    /// The lists `d` on Triage cycles through, in order.
    pub const BROWSABLE: [StatusFilter; 5] = [
        StatusFilter::Only(DeliveryStatus::Sent),
        StatusFilter::SentAfterDeferrals,
        StatusFilter::Only(DeliveryStatus::Deferred),
        StatusFilter::Only(DeliveryStatus::Bounced),
        StatusFilter::Only(DeliveryStatus::Expired),
    ];

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Failed => "failed",
            StatusFilter::Only(DeliveryStatus::Sent) => "sent",
            StatusFilter::Only(DeliveryStatus::Deferred) => "deferred now",
            StatusFilter::Only(DeliveryStatus::Bounced) => "bounced",
            StatusFilter::Only(DeliveryStatus::Expired) => "expired",
            StatusFilter::SentAfterDeferrals => "sent after deferrals",
        }
    }

    /// The next list of `BROWSABLE` (the first after any other).
    pub fn next(self) -> StatusFilter {
        let at = Self::BROWSABLE.iter().position(|s| *s == self);
        match at {
            Some(i) => Self::BROWSABLE[(i + 1) % Self::BROWSABLE.len()],
            None => Self::BROWSABLE[0],
        }
    }
}

/// What a deliveries list is ordered by; ties are broken by the delivery's id, so every
/// row has one place and keyset pages neither skip nor repeat rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// The order the log had them in (the store's ids).
    #[default]
    Logged,
    LastAttempt,
    Recipient,
    Domain,
    Code,
    Status,
    Host,
    /// From arrival in the queue to the last event: the delay of mail sent, the queue age
    /// of mail still deferred.
    Delay,
    Attempts,
    Deferrals,
    Cause,
}

impl SortKey {
    /// In the order `o` goes through them: the columns from left to right, after the
    /// log's own order.
    pub const ALL: [SortKey; 11] = [
        SortKey::Logged,
        SortKey::Recipient,
        SortKey::Domain,
        SortKey::Code,
        SortKey::Status,
        SortKey::Host,
        SortKey::Attempts,
        SortKey::LastAttempt,
        SortKey::Delay,
        SortKey::Deferrals,
        SortKey::Cause,
    ];

    pub fn next(self) -> SortKey {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Logged => "as logged",
            SortKey::LastAttempt => "last attempt",
            SortKey::Recipient => "recipient",
            SortKey::Domain => "domain",
            SortKey::Code => "code",
            SortKey::Status => "status",
            SortKey::Host => "host",
            SortKey::Delay => "delay",
            SortKey::Attempts => "attempts",
            SortKey::Deferrals => "deferrals",
            SortKey::Cause => "cause",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// Which deliveries a deliveries table lists, and in what order. Every part is applied
/// by the store (`Store::deliveries_page`), so a list pages over all its rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryFilter {
    pub status: StatusFilter,
    /// One enhanced code (a triage group); `None`: every code.
    pub code: Option<String>,
    /// Narrowed to one value of a dimension (the second level's selected row).
    pub narrow: Option<(Dimension, Option<String>)>,
    /// Mail of one sender, sender domain, sending host or campaign (the senders list).
    pub sender: Option<(super::report::SenderKey, String)>,
    /// The `/` filter: recipients containing this text, case aside.
    pub text: Option<String>,
    pub sort: Sort,
}

impl DeliveryFilter {
    /// A triage group: failed deliveries of one code, maybe of one second-level value.
    pub fn group(code: impl Into<String>, narrow: Option<(Dimension, Option<String>)>) -> Self {
        DeliveryFilter {
            code: Some(code.into()),
            narrow,
            ..DeliveryFilter::default()
        }
    }
}

/// Where a page starts: after or before a delivery (exclusive), in the list's order. The
/// first page is `After(i64::MIN)`, the last `Before(i64::MAX)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    After(i64),
    Before(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub recipient: String,
    pub domain: String,
    pub host: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_attempt: Option<i64>,
    pub cause: Option<Reason>,
    pub code: String,
    /// Deferrals before the outcome (for mail sent: the deferrals it cleared).
    pub deferrals: u32,
    /// Seconds from arrival (or the message's first line) to the last event.
    pub delay: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// Whether the line was an attempt of this message: a suspension line (Postfix
    /// `delivery temporarily suspended`, Exim `retry time not reached`) or an expiry line
    /// only repeats an error met earlier.
    pub counted: bool,
    pub ts: i64,
    /// Identical attempts in a row are one row: `repeats` of them, the last at `last_ts`.
    pub last_ts: i64,
    pub repeats: u32,
    pub status: AttemptStatus,
    pub code: Option<String>,
    pub reply_code: Option<u16>,
    pub relay: Option<String>,
    pub text: Option<String>,
    pub source: Option<String>,
}

/// The host an error names: Postfix's `connect to mx.example[192.0.2.1]:25`, `host
/// mx.example[192.0.2.1] said`.
static HOST_IN_ERROR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?:connect to|\bhost) ([A-Za-z0-9][A-Za-z0-9.-]*\[[0-9A-Fa-f:.]+\])")
        .expect("static regex")
});

/// Where a delivery's cause (its last deferral) was read from. A message whose only lines
/// are suspensions was never tried (`attempts: 0`): its cause is an earlier attempt to the
/// same host or domain, which these lines repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseOrigin {
    /// The line the cause was read from.
    pub ts: i64,
    pub relay: Option<String>,
    pub source: Option<String>,
    /// The line was an attempt of this message.
    pub own_attempt: bool,
    /// The line was the expiry line, which names the last error itself.
    pub expiry_line: bool,
}

impl CauseOrigin {
    /// The deferred line whose text is `last_deferral_text`: the latest attempt of this
    /// message that met it, else the latest line that repeats it.
    pub fn find(
        attempts: &[AttemptRow],
        last_deferral_text: Option<&str>,
        expired_source: Option<&str>,
    ) -> Option<CauseOrigin> {
        let text = last_deferral_text?;
        let said = |a: &&AttemptRow| {
            a.status == super::AttemptStatus::Deferred && a.text.as_deref() == Some(text)
        };
        let a = attempts
            .iter()
            .rev()
            .filter(said)
            .find(|a| a.counted)
            .or_else(|| attempts.iter().rev().find(said))?;
        Some(CauseOrigin::new(
            a.counted,
            a.ts,
            a.relay.clone(),
            a.source.clone(),
            expired_source,
            text,
        ))
    }

    /// `relay` as logged (Postfix writes `none` when no connection was made); `text` the
    /// error, which names the host when the relay does not (`connect to mx[ip]:25: …`).
    pub fn new(
        counted: bool,
        ts: i64,
        relay: Option<String>,
        source: Option<String>,
        expired_source: Option<&str>,
        text: &str,
    ) -> CauseOrigin {
        let expiry_line = !counted && source.is_some() && source.as_deref() == expired_source;
        let relay = relay
            .filter(|r| !r.is_empty() && r != "none")
            .or_else(|| HOST_IN_ERROR.captures(text).map(|c| c[1].to_string()));
        CauseOrigin {
            ts,
            relay,
            source: source.filter(|s| !s.is_empty()),
            own_attempt: counted,
            expiry_line,
        }
    }

    /// In words, for the `cause_source` field (times in RFC 3339, UTC).
    pub fn describe(&self) -> String {
        self.describe_at(&crate::model::time::format_rfc3339(self.ts))
    }

    /// In words, with the line's time as the caller shows times (`at`).
    pub fn describe_at(&self, at: &str) -> String {
        let to = self
            .relay
            .as_deref()
            .map(|r| format!(" to {r}"))
            .unwrap_or_default();
        let line = self
            .source
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        if self.own_attempt {
            format!("this message's attempt{to} at {at}{line}")
        } else if self.expiry_line {
            format!("the expiry line at {at}{line}, which names the last error{to}")
        } else {
            format!(
                "an earlier attempt{to}, not this message's: it was not tried, its line at {at}{line} repeats that error"
            )
        }
    }
}

/// A bounce report (DSN/NDR) about a delivery, as imported from a bounce email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedBounce {
    /// The file (or mbox message, Maildir path) it came from.
    pub report: String,
    pub kind: String,
    /// How it was matched to the delivery: message_id | queue_id | recipient | none.
    pub linked_by: String,
    pub status: Option<String>,
    pub reason: Reason,
    pub reply_code: Option<u16>,
    pub diagnostic: String,
    pub remote_mta: Option<String>,
    pub reported_at: Option<i64>,
    /// How the report contradicts the log, which it was not allowed to overrule.
    pub conflict: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryDetail {
    pub id: i64,
    pub queue_id: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub recipient: String,
    pub domain: String,
    pub provider: Option<String>,
    pub host: String,
    pub status: DeliveryStatus,
    pub code: String,
    pub reply_code: Option<u16>,
    pub reason: Option<Reason>,
    pub cause: Option<Reason>,
    pub final_text: Option<String>,
    pub last_deferral_code: Option<String>,
    pub last_deferral_text: Option<String>,
    pub relay: Option<String>,
    pub typo_of: Option<String>,
    pub source: Option<String>,
    pub expired_at: Option<i64>,
    pub expired_source: Option<String>,
    pub attempts: Vec<AttemptRow>,
    /// Bounce reports about this delivery (same message, same recipient).
    pub bounces: Vec<LinkedBounce>,
}

/// The lines found, in the order of the delivery's timeline, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawLines {
    /// (`file:line`, the line as in the file, lossily decoded; not yet made safe for a
    /// terminal).
    pub lines: Vec<(String, String)>,
    /// One sentence per file that could not be read back, or why some lines are missing.
    pub notes: Vec<String>,
}

/// One delivery found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    pub id: i64,
    pub recipient: String,
    pub sender: Option<String>,
    pub queue_id: String,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub status: DeliveryStatus,
    pub code: String,
    pub last_attempt: Option<i64>,
    /// The final reply, else the last deferral's.
    pub reply: Option<String>,
}
