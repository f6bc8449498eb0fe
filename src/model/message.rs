//! A message as it is assembled from events, stored, and taken back to continue: its
//! deliveries, their attempts, and each delivery's decided outcome.

use std::sync::Arc;

use super::{AttemptStatus, DeliveryStatus, Reason};

/// Where an event was read: `file:line`. The file name is shared, not copied per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRef {
    pub file: Arc<str>,
    pub line: u64,
}

impl SourceRef {
    /// Reads back a stored `file:line` (a file name may itself hold colons).
    pub fn parse(s: &str) -> SourceRef {
        match s
            .rsplit_once(':')
            .and_then(|(f, l)| Some((f, l.parse().ok()?)))
        {
            Some((file, line)) => SourceRef {
                file: Arc::from(file),
                line,
            },
            None => SourceRef {
                file: Arc::from(s),
                line: 0,
            },
        }
    }
}

impl SourceRef {
    /// `file:line`, as stored (`parse` reads it back). Every delivery row and attempt row
    /// written carries one: made in one allocation of the right size, where `to_string`
    /// grows the string two or three times through the formatting machinery.
    pub fn text(&self) -> String {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut n = self.line;
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let digits = std::str::from_utf8(&digits[start..]).expect("ASCII digits");
        let mut text = String::with_capacity(self.file.len() + 1 + digits.len());
        text.push_str(&self.file);
        text.push(':');
        text.push_str(digits);
        text
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod source_ref_tests {
    use super::*;

    #[test]
    fn a_source_is_written_as_file_colon_line_and_read_back() {
        for (file, line) in [
            ("mail.log", 0),
            ("mail.log", 7),
            ("/var/log/mail.log", 908_103),
            ("C:\\logs\\a:b.log", u64::MAX),
        ] {
            let source = SourceRef {
                file: Arc::from(file),
                line,
            };
            let text = source.text();
            assert_eq!(text, format!("{file}:{line}"));
            assert_eq!(text.len(), text.capacity());
            assert_eq!(SourceRef::parse(&text), source);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub ts: i64,
    /// Identical attempts in a row (a deferral retried for days with the same reply) are
    /// one record: `repeats` of them, the last at `last_ts`.
    pub last_ts: i64,
    pub repeats: u32,
    pub status: AttemptStatus,
    pub code: Option<String>,
    pub reply_code: Option<u16>,
    pub relay: Option<String>,
    pub text: Option<String>,
    pub counted: bool,
    pub source: SourceRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub recipient: String,
    pub orig_recipient: Option<String>,
    pub attempts: Vec<AttemptRecord>,
    /// When and where this recipient expired (its own expiry, or its message's).
    pub expired: Option<(i64, SourceRef)>,
    /// What makes the next attempt a repeat of the last one, hashed (`AttemptKey`).
    pub last_attempt: AttemptKey,
}

/// A delivery's last attempt as the assembler compares the next one with it: a hash of
/// what makes two attempts one repeated attempt (status, whether it counts, reply code,
/// code, relay, text), with the number of attempts it was taken at. Kept beside the
/// delivery so that a retried deferral is matched without reading the last attempt's
/// texts, which sit elsewhere in memory: on a log of retries those reads were the
/// parsing thread's costliest cache misses. Derived from the attempts, so it never makes
/// two deliveries differ; empty (the texts are compared) for deliveries taken back from
/// the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttemptKey(pub Option<(usize, u64)>);

impl PartialEq for AttemptKey {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AttemptKey {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    /// Row id once written to the store; writing again replaces that message's rows.
    pub db_id: Option<i64>,
    pub host: String,
    pub queue_id: String,
    pub format: &'static str,
    pub first_seen: i64,
    pub last_seen: i64,
    /// When the MTA queued the message, if the log tells (its arrival line, or a later
    /// line's own account of it: Postfix `delay=`, the Exim id). `None`: it does not.
    pub arrived_at: Option<i64>,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// Bytes, where the log tells (Postfix qmgr `size=`).
    pub size: Option<u64>,
    pub expired_at: Option<i64>,
    /// While the MTA holds the message frozen: since when (the first line saying so) and
    /// what that line said. Exim names no recipient on these lines, so a message frozen for the whole
    /// log has no delivery to show and is listed as a message.
    pub frozen: Option<(i64, String)>,
    pub closed: bool,
    pub deliveries: Vec<DeliveryState>,
    /// Set whenever an event changed the message since it was last written.
    pub dirty: bool,
    /// Where each recipient is in `deliveries`, once there are many.
    pub by_recipient: RecipientIndex,
}

/// A lookup from recipient to its place in a message's deliveries: derived from them, so
/// it never makes two messages differ.
#[derive(Debug, Clone, Default)]
pub struct RecipientIndex(hashbrown::HashMap<String, usize>);

impl PartialEq for RecipientIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RecipientIndex {}

impl RecipientIndex {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
    pub(crate) fn insert(&mut self, recipient: String, at: usize) {
        self.0.insert(recipient, at);
    }
    pub(crate) fn get(&self, recipient: &str) -> Option<&usize> {
        self.0.get(recipient)
    }
}

impl MessageState {
    /// An empty stand-in left behind when a message is moved out of a sink's hands.
    pub(crate) fn placeholder() -> Self {
        MessageState {
            db_id: None,
            host: String::new(),
            queue_id: String::new(),
            format: "",
            first_seen: 0,
            last_seen: 0,
            arrived_at: None,
            message_id: None,
            sender: None,
            subject: None,
            size: None,
            expired_at: None,
            frozen: None,
            closed: false,
            deliveries: Vec::new(),
            dirty: false,
            by_recipient: RecipientIndex::default(),
        }
    }
}

/// What a delivery's record holds beyond its recipient and its message's host: the outcome
/// decided from its attempts. (The recipient and the host are written from the delivery
/// and the message themselves, not copied here for every row.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub domain: String,
    pub provider: Option<&'static str>,
    pub status: DeliveryStatus,
    pub code: String,
    pub reply_code: Option<u16>,
    pub reason: Option<Reason>,
    pub cause: Option<Reason>,
    pub final_text: Option<String>,
    pub last_deferral_code: Option<String>,
    pub last_deferral_text: Option<String>,
    pub attempts: u32,
    pub deferrals: u32,
    pub first_attempt: Option<i64>,
    pub last_attempt: Option<i64>,
    pub relay: Option<String>,
    pub source: Option<String>,
}

/// Receives finished (or checkpointed) messages.
pub trait MessageSink {
    type Error;
    fn write(&mut self, msg: &mut MessageState) -> Result<(), Self::Error>;
}

/// Settled messages (every delivery decided, no `removed` line yet) kept open in memory,
/// and taken back from the store by an import: the most recent ones. What completes a
/// settled message (its `removed` line, another recipient's line) follows it closely; a
/// log of delivery lines only never completes them, and would otherwise hold them all.
pub const SETTLED_KEPT: usize = 5_000;

/// The MTA's default queue lifetime, in seconds: how long a deferred message is retried
/// before it expires (Postfix `maximal_queue_lifetime` 5d, Exchange 2d, Exim's default
/// retry rule 4d).
pub fn default_queue_lifetime(format: &str) -> i64 {
    match format {
        "exchange" | "m365" => 2 * 86_400,
        "exim" => 4 * 86_400,
        _ => 5 * 86_400,
    }
}
