//! Assembles deliveries (message × recipient) from a stream of events, whatever format
//! they came from, and decides each delivery's outcome:
//!
//! * status comes from the log's own decision (`status=sent/deferred/bounced`, a
//!   per-message or per-recipient expiry), never from the class of the code: Postfix logs
//!   a 5xx greeting as `dsn=4.0.0, status=deferred`;
//! * an expiry applies to every recipient of the message not yet sent or bounced, groups
//!   under 4.4.7, and keeps the last deferral as its cause;
//! * queue ids are reused over time, so a message is keyed by host + queue id and a new
//!   queue file starts a new message.

use std::collections::HashMap;
use std::sync::Arc;

use crate::classify::{self, EnhancedCode, Reason};
use crate::ingest::{AttemptStatus, Event, EventKind};
use crate::model::{
    AttemptRecord, DeliveryOutcome, DeliveryState, DeliveryStatus, MessageSink, MessageState,
    RecipientIndex, SETTLED_KEPT, SourceRef,
};

/// Up to this many recipients a message finds a delivery by scanning its list.
const LINEAR_SCAN_MAX: usize = 32;

impl MessageState {
    fn new(ev: &Event, format: &'static str) -> Self {
        MessageState {
            db_id: None,
            host: ev.host.clone(),
            queue_id: ev.queue_id.clone(),
            format,
            first_seen: ev.ts,
            last_seen: ev.ts,
            arrived_at: None,
            message_id: None,
            sender: None,
            subject: None,
            expired_at: None,
            closed: false,
            deliveries: Vec::new(),
            dirty: true,
            by_recipient: RecipientIndex::default(),
        }
    }

    /// Every delivery decided (sent, bounced or expired), the queue file not yet removed.
    fn settled(&self) -> bool {
        !self.deliveries.is_empty()
            && self.deliveries.iter().all(|d| {
                d.expired.is_some()
                    || d.attempts
                        .iter()
                        .any(|a| a.status != AttemptStatus::Deferred)
            })
    }

    fn has_activity(&self) -> bool {
        !self.deliveries.is_empty() || self.sender.is_some() || self.message_id.is_some()
    }

    fn delivery_mut(&mut self, recipient: &str) -> &mut DeliveryState {
        let found = if self.deliveries.len() <= LINEAR_SCAN_MAX {
            // Most messages have few recipients; a linear scan beats hashing there.
            self.deliveries
                .iter()
                .position(|d| d.recipient == recipient)
        } else {
            // A list expansion has tens of thousands: a scan per event would make the
            // message cost the square of its recipients. Deliveries are only ever
            // appended, so the index catches up with those added since it was last used.
            let index = &mut self.by_recipient;
            for (i, d) in self.deliveries.iter().enumerate().skip(index.len()) {
                index.insert(d.recipient.clone(), i);
            }
            index.get(recipient).copied()
        };
        let idx = match found {
            Some(i) => i,
            None => {
                self.deliveries.push(DeliveryState {
                    recipient: recipient.to_string(),
                    orig_recipient: None,
                    attempts: Vec::new(),
                    expired: None,
                });
                self.deliveries.len() - 1
            }
        };
        &mut self.deliveries[idx]
    }

    /// The delivery records of this message, outcomes decided.
    pub fn rows(&self) -> Vec<DeliveryOutcome> {
        self.deliveries
            .iter()
            .map(|d| derive_row(&self.host, d))
            .collect()
    }
}

fn domain_of(recipient: &str) -> String {
    recipient
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("")
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

/// The remote host name in a relay as logged: `mx.example.com[192.0.2.1]:25` → `mx.example.com`.
pub fn relay_host(relay: &str) -> Option<&str> {
    let host = relay.split('[').next().unwrap_or(relay);
    (!host.is_empty() && host != "none" && host != "local").then_some(host)
}

/// Postfix's `delivery temporarily suspended: <reason>` repeats an earlier failure: the
/// reason is what follows.
fn underlying_text(text: &str) -> &str {
    text.strip_prefix("delivery temporarily suspended: ")
        .unwrap_or(text)
}

/// The attempt's logged code, unless it contradicts the log's own decision (a success
/// code on a deferral, seen on real Postfix `local` lines): the decision wins.
fn code_of(a: &AttemptRecord) -> Option<EnhancedCode> {
    a.code
        .as_deref()
        .and_then(|c| c.parse::<EnhancedCode>().ok())
        .filter(|c| (c.class == 2) == (a.status == AttemptStatus::Sent))
}

/// Distinct (code, reply) pairs remembered per thread: a log repeats the same replies
/// (one greylisting text, one rate-limit text per provider) thousands of times, and
/// classifying one runs the phrase tables over it.
const VERDICTS_REMEMBERED: usize = 4096;

thread_local! {
    static VERDICTS: std::cell::RefCell<VerdictMemo> = std::cell::RefCell::new(HashMap::new());
}

/// Reply text → the verdicts found for it under each code it came with.
type VerdictMemo = HashMap<Box<str>, Vec<(Option<EnhancedCode>, classify::Verdict)>>;

fn verdict_of(a: &AttemptRecord) -> classify::Verdict {
    let code = code_of(a);
    let text = underlying_text(a.text.as_deref().unwrap_or(""));
    VERDICTS.with_borrow_mut(|memo| {
        if let Some(v) = memo
            .get(text)
            .and_then(|seen| seen.iter().find(|(c, _)| *c == code))
        {
            return v.1;
        }
        let v = classify::classify(code, text);
        if memo.len() >= VERDICTS_REMEMBERED {
            memo.clear();
        }
        memo.entry(Box::from(text)).or_default().push((code, v));
        v
    })
}

/// The grouping code of an attempt: the logged code unless it is a bare X.0.0 and the
/// text names a better one; else the reply's class; else the status's.
fn grouping_code(a: &AttemptRecord, verdict: &classify::Verdict) -> EnhancedCode {
    if let Some(c) = verdict
        .code
        .filter(|c| (c.class == 2) == (a.status == AttemptStatus::Sent))
    {
        return c;
    }
    let class = match a.reply_code {
        Some(r) if (200..300).contains(&r) => 2,
        Some(r) if (400..500).contains(&r) => 4,
        Some(r) if (500..600).contains(&r) => 5,
        _ => match a.status {
            AttemptStatus::Sent => 2,
            AttemptStatus::Deferred => 4,
            AttemptStatus::Bounced => 5,
        },
    };
    EnhancedCode::generic(class)
}

pub fn derive_row(host: &str, d: &DeliveryState) -> DeliveryOutcome {
    let domain = domain_of(&d.recipient);
    // The last real attempt's reply names the cause; a deferral logged without an
    // attempt (Postfix `delivery temporarily suspended`, Exim `retry time not reached`)
    // only repeats it, or says nothing.
    let deferrals = || {
        d.attempts
            .iter()
            .rev()
            .filter(|a| a.status == AttemptStatus::Deferred)
    };
    let last_counted = deferrals()
        .find(|a| a.counted)
        .or_else(|| deferrals().next());
    // A vague last reply gives way to a later deferral that says more: a linked bounce
    // report's last error, or a suspension line quoting a clearer reply.
    let last_deferral = match last_counted {
        Some(vague) if verdict_of(vague).reason.is_vague() => deferrals()
            .take_while(|a| !std::ptr::eq(*a, vague))
            .find(|a| !verdict_of(a).reason.is_vague())
            .or(Some(vague)),
        found => found,
    };
    // "Sent" to a relay is not the end when a bounce report for it came back later: the
    // newer verdict (a failure, or the relay's expiry) is the outcome.
    let sent = d
        .attempts
        .iter()
        .rev()
        .find(|a| a.status == AttemptStatus::Sent)
        .filter(|s| {
            let failed_later = d
                .attempts
                .iter()
                .any(|a| a.status == AttemptStatus::Bounced && a.ts > s.last_ts);
            let expired_later = d.expired.as_ref().is_some_and(|(ts, _)| *ts > s.last_ts);
            !failed_later && !expired_later
        });
    let bounced = d
        .attempts
        .iter()
        .rev()
        .find(|a| a.status == AttemptStatus::Bounced);
    let last_relay_host = d
        .attempts
        .iter()
        .rev()
        .find_map(|a| a.relay.as_deref().and_then(relay_host));
    let deferral_verdict = last_deferral.map(verdict_of);

    let (status, code, deciding, reason, cause, source) = if let Some(a) = sent {
        // Delivered mail needs its code, not a reason: the classifier is not asked.
        let v = classify::Verdict {
            reason: Reason::Delivered,
            code: classify::rules::most_specific_code(code_of(a), a.text.as_deref().unwrap_or("")),
        };
        (
            DeliveryStatus::Sent,
            grouping_code(a, &v),
            Some(a),
            Some(Reason::Delivered),
            None,
            Some(a.source.to_string()),
        )
    } else if let Some(a) = bounced {
        let v = verdict_of(a);
        let code = grouping_code(a, &v);
        // A provider whose reply means one thing for its own recipients (au's "User
        // unknown" with or without the address) is read the same here as in a report.
        let reason = classify::provider_rules::provider_text_reason(
            &domain,
            underlying_text(a.text.as_deref().unwrap_or("")),
        )
        .unwrap_or(v.reason);
        (
            DeliveryStatus::Bounced,
            code,
            Some(a),
            Some(reason),
            Some(reason),
            Some(a.source.to_string()),
        )
    } else if let Some((_, src)) = &d.expired {
        let cause = deferral_verdict.map(|v| v.reason);
        (
            DeliveryStatus::Expired,
            EnhancedCode::EXPIRED,
            None,
            Some(Reason::Expired),
            cause,
            Some(src.to_string()),
        )
    } else {
        match last_deferral {
            Some(a) => {
                let v = deferral_verdict.expect("verdict of the last deferral");
                (
                    DeliveryStatus::Deferred,
                    grouping_code(a, &v),
                    Some(a),
                    Some(v.reason),
                    Some(v.reason),
                    Some(a.source.to_string()),
                )
            }
            None => (
                DeliveryStatus::Deferred,
                EnhancedCode::generic(4),
                None,
                None,
                None,
                None,
            ),
        }
    };

    DeliveryOutcome {
        recipient: d.recipient.clone(),
        orig_recipient: d.orig_recipient.clone(),
        provider: classify::provider_for(last_relay_host, &domain),
        domain,
        host: host.to_string(),
        status,
        code: code.to_string(),
        reply_code: deciding.and_then(|a| a.reply_code).or_else(|| {
            // An expiry carries no reply of its own; the last deferral's is the one the
            // user will look up.
            last_deferral.and_then(|a| a.reply_code)
        }),
        reason,
        cause,
        final_text: deciding.and_then(|a| a.text.clone()),
        last_deferral_code: last_deferral.map(|a| {
            deferral_verdict
                .map(|v| grouping_code(a, &v))
                .expect("verdict of the last deferral")
                .to_string()
        }),
        last_deferral_text: last_deferral.and_then(|a| a.text.clone()),
        attempts: d
            .attempts
            .iter()
            .filter(|a| a.counted)
            .map(|a| a.repeats)
            .sum(),
        deferrals: d
            .attempts
            .iter()
            .filter(|a| a.status == AttemptStatus::Deferred)
            .map(|a| a.repeats)
            .sum(),
        first_attempt: d.attempts.iter().map(|a| a.ts).min(),
        last_attempt: d.attempts.iter().map(|a| a.last_ts).max(),
        relay: deciding.or(last_deferral).and_then(|a| a.relay.clone()),
        source,
    }
}

fn message_key(host: &str, queue_id: &str) -> String {
    format!("{host}\0{queue_id}")
}

/// Collects messages by (host, queue id). Finished messages go to the sink as soon as
/// they are complete, and settled ones beyond the latest `SETTLED_KEPT` are written and
/// let go, so memory follows the queue's size, not the file's.
pub struct Assembler {
    /// Open messages by `host \0 queue_id`.
    open: hashbrown::HashMap<String, MessageState>,
    /// Open messages at which settled ones are next looked for to let go.
    next_trim: usize,
    /// Reused to build lookup keys without allocating per event.
    key_buf: String,
    /// The sending host of events whose log line names none.
    pub default_host: String,
    pub format: &'static str,
    pub source_name: Arc<str>,
}

impl Assembler {
    pub fn new(format: &'static str) -> Self {
        Assembler {
            open: hashbrown::HashMap::new(),
            next_trim: 2 * SETTLED_KEPT,
            key_buf: String::new(),
            default_host: "unknown".into(),
            format,
            source_name: Arc::from(""),
        }
    }

    /// Takes back messages left open by an earlier import (still queued at its end).
    /// Takes back stored messages that are still open. One already open here is newer
    /// than its stored copy (events were pushed since) and is kept.
    pub fn resume(&mut self, messages: Vec<MessageState>) {
        for m in messages {
            self.open
                .entry(message_key(&m.host, &m.queue_id))
                .or_insert(m);
        }
    }

    /// The open message of `host` and `queue_id`, as events so far left it.
    pub fn open_message(&self, host: &str, queue_id: &str) -> Option<&MessageState> {
        self.open.get(&message_key(host, queue_id))
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    fn source(&self, line: u64) -> SourceRef {
        SourceRef {
            file: self.source_name.clone(),
            line,
        }
    }

    fn finish<S: MessageSink>(
        &mut self,
        mut msg: MessageState,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        msg.closed = true;
        msg.dirty = true;
        sink.write(&mut msg)
    }

    pub fn push<S: MessageSink>(&mut self, mut ev: Event, sink: &mut S) -> Result<(), S::Error> {
        if ev.host.is_empty() {
            // Logs that do not name their server (an Exim mainlog, pasted lines).
            ev.host.push_str(&self.default_host);
        }
        let mut key = std::mem::take(&mut self.key_buf);
        key.clear();
        key.push_str(&ev.host);
        key.push('\0');
        key.push_str(&ev.queue_id);
        let result = self.push_keyed(&key, ev, sink);
        self.key_buf = key;
        result?;
        if self.open.len() >= self.next_trim {
            self.trim_settled(sink)?;
        }
        Ok(())
    }

    /// Writes and lets go the settled messages beyond the `SETTLED_KEPT` latest. Messages
    /// still queued all stay. Runs when the open messages have grown by `SETTLED_KEPT`
    /// since the last time, so its cost spreads over at least that many new messages.
    fn trim_settled<S: MessageSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        let mut settled: Vec<(i64, String)> = self
            .open
            .iter()
            .filter(|(_, m)| m.settled())
            .map(|(k, m)| (m.last_seen, k.clone()))
            .collect();
        if settled.len() > SETTLED_KEPT {
            let cut = settled.len() - SETTLED_KEPT;
            settled.select_nth_unstable_by_key(cut, |(ts, _)| *ts);
            for (_, key) in settled.drain(..cut) {
                if let Some(mut m) = self.open.remove(&key)
                    && m.dirty
                {
                    sink.write(&mut m)?;
                }
            }
        }
        self.next_trim = self.open.len() + SETTLED_KEPT;
        Ok(())
    }

    fn push_keyed<S: MessageSink>(
        &mut self,
        key: &str,
        ev: Event,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        // A new queue file under a known id means the id was reused: the old message is
        // finished. (A time gap alone decides nothing: yearless stamps and out-of-order
        // log pieces make gaps that are not reuse.)
        if ev.kind == EventKind::Created
            && self.open.get(key).is_some_and(MessageState::has_activity)
            && let Some(old) = self.open.remove(key)
        {
            self.finish(old, sink)?;
        }
        let source = self.source(ev.line);
        let format = self.format;
        let msg = self
            .open
            .entry_ref(key)
            .or_insert_with(|| MessageState::new(&ev, format));
        msg.dirty = true;
        msg.last_seen = msg.last_seen.max(ev.ts);
        msg.first_seen = msg.first_seen.min(ev.ts);
        // The arrival line itself is the arrival; otherwise the earliest arrival a line
        // reports (a rounded `delay=` may put it a second late on one line, not another).
        let arrived = ev
            .arrived
            .or((ev.kind == EventKind::Created).then_some(ev.ts));
        if let Some(t) = arrived {
            msg.arrived_at = Some(msg.arrived_at.map_or(t, |a| a.min(t)));
        }
        if ev.sender.is_some() {
            msg.sender = ev.sender;
        }
        if let Some(id) = ev.message_id {
            // Most sources log it bare already; only then is the string kept as is.
            match crate::ingest::bare_message_id(&id) {
                Some(bare) if bare.len() == id.len() => msg.message_id = Some(id),
                Some(bare) => msg.message_id = Some(bare.to_string()),
                None => {}
            }
        }
        if ev.subject.is_some() {
            msg.subject = ev.subject;
        }
        match ev.kind {
            EventKind::Created | EventKind::Info => {}
            EventKind::Attempt(status) => {
                let Some(rcpt) = ev.recipient else {
                    return Ok(());
                };
                let d = msg.delivery_mut(&rcpt);
                if ev.orig_recipient.is_some() {
                    d.orig_recipient = ev.orig_recipient;
                }
                if let Some(last) = d.attempts.last_mut()
                    && last.status == status
                    && last.counted == ev.counts_as_attempt
                    && last.text == ev.text
                    && last.code == ev.dsn
                    && last.relay == ev.relay
                    && last.reply_code == ev.reply_code
                {
                    last.repeats += 1;
                    last.last_ts = ev.ts;
                    return Ok(());
                }
                d.attempts.push(AttemptRecord {
                    ts: ev.ts,
                    last_ts: ev.ts,
                    repeats: 1,
                    status,
                    code: ev.dsn,
                    reply_code: ev.reply_code,
                    relay: ev.relay,
                    text: ev.text,
                    counted: ev.counts_as_attempt,
                    source,
                });
            }
            EventKind::MessageExpired => {
                msg.expired_at = Some(ev.ts);
                for d in &mut msg.deliveries {
                    let finished = d
                        .attempts
                        .iter()
                        .any(|a| a.status != AttemptStatus::Deferred);
                    if !finished && d.expired.is_none() {
                        d.expired = Some((ev.ts, source.clone()));
                    }
                }
            }
            EventKind::RecipientExpired => {
                if let Some(rcpt) = ev.recipient {
                    let d = msg.delivery_mut(&rcpt);
                    d.expired = Some((ev.ts, source));
                    if ev.text.is_some() || ev.dsn.is_some() || ev.relay.is_some() {
                        // The expiry line's own text (an NDR's "last error") and the host
                        // it names are the last deferral when the log had no attempt
                        // lines of its own.
                        if !d
                            .attempts
                            .iter()
                            .any(|a| a.status == AttemptStatus::Deferred)
                        {
                            d.attempts.push(AttemptRecord {
                                ts: ev.ts,
                                last_ts: ev.ts,
                                repeats: 1,
                                status: AttemptStatus::Deferred,
                                code: ev.dsn,
                                reply_code: ev.reply_code,
                                relay: ev.relay,
                                text: ev.text,
                                counted: false,
                                source: d
                                    .expired
                                    .as_ref()
                                    .map(|(_, s)| s.clone())
                                    .unwrap_or_default(),
                            });
                        }
                    }
                }
            }
            EventKind::Removed => {
                if let Some(done) = self.open.remove(key) {
                    self.finish(done, sink)?;
                }
            }
        }
        Ok(())
    }

    /// Writes every message still open (still queued at the end of this input) without
    /// forgetting it: a later input, or a later import, continues it.
    pub fn checkpoint<S: MessageSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        for m in self.open.values_mut().filter(|m| m.dirty) {
            sink.write(m)?;
            m.dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<MessageState>);
    impl MessageSink for Collect {
        type Error = std::convert::Infallible;
        fn write(&mut self, msg: &mut MessageState) -> Result<(), Self::Error> {
            self.0.push(msg.clone());
            Ok(())
        }
    }

    fn attempt(
        ts: i64,
        qid: &str,
        rcpt: &str,
        status: AttemptStatus,
        dsn: &str,
        text: &str,
    ) -> Event {
        let mut e = Event::new(
            ts,
            ts as u64,
            "mx".into(),
            qid.into(),
            EventKind::Attempt(status),
        );
        e.recipient = Some(rcpt.into());
        e.dsn = Some(dsn.into());
        e.text = Some(text.into());
        e.relay = Some("none".into());
        e
    }

    #[test]
    fn message_expiry_reaches_only_unfinished_recipients_and_keeps_the_cause() {
        let mut a = Assembler::new("postfix");
        let mut sink = Collect::default();
        let q = "ABC123";
        a.push(
            attempt(
                1,
                q,
                "a@x.example",
                AttemptStatus::Deferred,
                "4.7.650",
                "451 4.7.650 rate limited due to IP reputation",
            ),
            &mut sink,
        )
        .unwrap();
        a.push(
            attempt(2, q, "b@y.example", AttemptStatus::Sent, "2.0.0", "250 ok"),
            &mut sink,
        )
        .unwrap();
        a.push(
            attempt(
                3,
                q,
                "a@x.example",
                AttemptStatus::Deferred,
                "4.4.1",
                "connect to x[1.2.3.4]:25: Connection timed out",
            ),
            &mut sink,
        )
        .unwrap();
        a.push(
            Event::new(4, 4, "mx".into(), q.into(), EventKind::MessageExpired),
            &mut sink,
        )
        .unwrap();
        a.push(
            Event::new(5, 5, "mx".into(), q.into(), EventKind::Removed),
            &mut sink,
        )
        .unwrap();
        assert_eq!(a.open_count(), 0);
        let rows = sink.0[0].rows();
        assert_eq!(rows[0].status, "expired");
        assert_eq!(rows[0].code, "4.4.7");
        assert_eq!(rows[0].cause, Some(Reason::NetworkError));
        assert_eq!(rows[0].last_deferral_code.as_deref(), Some("4.4.1"));
        assert_eq!(rows[0].attempts, 2);
        assert_eq!(rows[1].status, "sent");
        assert_eq!(rows[1].cause, None);
    }

    /// A log of delivery lines only (no `removed`): memory holds the queue (the deferred
    /// messages) and the latest settled ones, and every message is still written once.
    #[test]
    fn settled_messages_beyond_the_latest_are_written_and_let_go() {
        let mut a = Assembler::new("postfix");
        let mut sink = Collect::default();
        let n = 5 * SETTLED_KEPT as i64;
        let mut most = 0;
        for i in 0..n {
            let (status, dsn) = if i % 10 == 0 {
                (AttemptStatus::Deferred, "4.4.1")
            } else {
                (AttemptStatus::Sent, "2.0.0")
            };
            a.push(
                attempt(i, &format!("Q{i}"), "a@x.example", status, dsn, "reply"),
                &mut sink,
            )
            .unwrap();
            most = most.max(a.open_count());
        }
        let deferred = (n / 10) as usize;
        assert!(most <= deferred + 2 * SETTLED_KEPT, "{most}");
        assert!(a.open.values().filter(|m| !m.settled()).count() == deferred);
        a.checkpoint(&mut sink).unwrap();
        let mut written: Vec<&str> = sink.0.iter().map(|m| m.queue_id.as_str()).collect();
        written.sort_unstable();
        written.dedup();
        assert_eq!(written.len(), n as usize);
        assert_eq!(sink.0.len(), n as usize, "each written once");
    }

    #[test]
    fn a_reused_queue_id_starts_a_new_message() {
        let mut a = Assembler::new("postfix");
        let mut sink = Collect::default();
        let mut created = Event::new(1, 1, "mx".into(), "Q1".into(), EventKind::Created);
        a.push(created.clone(), &mut sink).unwrap();
        a.push(
            attempt(2, "Q1", "a@x.example", AttemptStatus::Sent, "2.0.0", "ok"),
            &mut sink,
        )
        .unwrap();
        created.ts = 100;
        a.push(created, &mut sink).unwrap();
        a.push(
            attempt(
                101,
                "Q1",
                "a@x.example",
                AttemptStatus::Bounced,
                "5.1.1",
                "550 5.1.1 user unknown",
            ),
            &mut sink,
        )
        .unwrap();
        a.checkpoint(&mut sink).unwrap();
        assert_eq!(sink.0.len(), 2);
        assert_eq!(sink.0[0].rows()[0].status, "sent");
        assert!(sink.0[0].closed);
        assert_eq!(sink.0[1].rows()[0].status, "bounced");
        assert_eq!(sink.0[1].rows()[0].reason, Some(Reason::UserUnknown));
    }

    #[test]
    fn status_comes_from_the_log_not_the_code_class() {
        // A 5xx greeting is logged as a deferral with dsn=4.0.0.
        let d = DeliveryState {
            recipient: "u@dmnd.info".into(),
            orig_recipient: None,
            attempts: vec![AttemptRecord {
                ts: 1,
                last_ts: 1,
                repeats: 1,
                status: AttemptStatus::Deferred,
                code: Some("4.0.0".into()),
                reply_code: Some(550),
                relay: Some("mail-in.bond.info[131.244.5.8]:25".into()),
                text: Some("host mail-in.bond.info[131.244.5.8] refused to talk to me: 550 Too many invalid recipients".into()),
                counted: true,
                source: SourceRef::parse("f:1"),
            }],
            expired: None,
        };
        let row = derive_row("mx", &d);
        assert_eq!(row.status, "deferred");
        assert_eq!(row.code, "4.0.0");
        assert_eq!(row.domain, "dmnd.info");
    }
}
