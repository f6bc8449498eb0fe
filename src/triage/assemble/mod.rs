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

mod open;
mod outcome;

use std::borrow::Cow;
use std::sync::Arc;

pub use outcome::derive_row;

use open::{Key, OpenMessages};

use crate::ingest::{AttemptStatus, Event, EventKind};
use crate::model::{
    AttemptKey, AttemptRecord, DeliveryOutcome, DeliveryState, MessageSink, MessageState,
    SETTLED_KEPT, SourceRef,
};

/// Up to this many recipients a message finds a delivery by scanning its list.
const LINEAR_SCAN_MAX: usize = 32;

/// Deliveries of a message whose recipient and last attempt `Assembler::prefetch` loads.
const PREFETCHED_DELIVERIES: usize = 4;

impl MessageState {
    fn new(ev: &Event, format: &'static str) -> Self {
        MessageState {
            host: ev.host.to_string(),
            queue_id: ev.queue_id.to_string(),
            format,
            first_seen: ev.ts,
            last_seen: ev.ts,
            dirty: true,
            ..MessageState::placeholder()
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
                // Most messages have one recipient, most deliveries one or two attempts:
                // room for one at first (a plain `push` makes room for four).
                self.deliveries.reserve_exact(1);
                self.deliveries.push(DeliveryState {
                    recipient: recipient.to_string(),
                    orig_recipient: None,
                    attempts: Vec::with_capacity(1),
                    expired: None,
                    last_attempt: Default::default(),
                });
                self.deliveries.len() - 1
            }
        };
        &mut self.deliveries[idx]
    }

    /// The delivery records of this message, outcomes decided.
    pub fn rows(&self) -> Vec<DeliveryOutcome> {
        self.deliveries.iter().map(derive_row).collect()
    }
}

/// The hash an attempt event is matched on with the delivery's last attempt
/// (`AttemptKey`): each text field hashed with the hash so far as its seed, after the
/// status, whether it counts, the reply code and which texts are present. A 64-bit hash,
/// as duplicate lines are told by: two different replies to one recipient, one right after
/// the other, collide once in 2^64.
fn attempt_key(
    status: AttemptStatus,
    counted: bool,
    reply_code: Option<u16>,
    code_relay_text: [&Option<Cow<'_, str>>; 3],
) -> u64 {
    use xxhash_rust::xxh3::xxh3_64_with_seed;
    let mut head = status as u64
        | u64::from(counted) << 8
        | u64::from(reply_code.map_or(0, |c| u32::from(c) + 1)) << 16;
    for (i, field) in code_relay_text.iter().enumerate() {
        head |= u64::from(field.is_some()) << (40 + i);
    }
    code_relay_text.iter().fold(head, |seed, field| {
        xxh3_64_with_seed(field.as_deref().unwrap_or("").as_bytes(), seed)
    })
}

fn message_key(host: &str, queue_id: &str) -> String {
    let mut key = String::new();
    write_message_key(&mut key, host, queue_id);
    key
}

/// `host \0 queue_id` into `key`, in place of what it held.
fn write_message_key(key: &mut String, host: &str, queue_id: &str) {
    key.clear();
    key.push_str(host);
    key.push('\0');
    key.push_str(queue_id);
}

/// Collects messages by (host, queue id). Finished messages go to the sink as soon as
/// they are complete, and settled ones beyond the latest `SETTLED_KEPT` are written and
/// let go, so memory follows the queue's size, not the file's.
pub struct Assembler {
    /// Open messages by `host \0 queue_id`.
    open: OpenMessages,
    /// The hashes of a chunk's keys (`push_chunk`), kept for their memory.
    chunk_hashes: Vec<u64>,
    /// Open messages at which settled ones are next looked for to let go.
    next_trim: usize,
    /// Reused to build lookup keys without allocating per event.
    key_buf: String,
    /// The sending host of events whose log line names none.
    pub default_host: Arc<str>,
    pub format: &'static str,
    pub source_name: Arc<str>,
}

impl Assembler {
    pub fn new(format: &'static str) -> Self {
        Assembler {
            open: OpenMessages::new(),
            chunk_hashes: Vec::new(),
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
    pub(crate) fn resume(&mut self, messages: Vec<MessageState>) {
        for m in messages {
            let text = message_key(&m.host, &m.queue_id);
            let key = self.open.key(&text);
            if self.open.get(key).is_none() {
                self.open.get_or_insert_with(key, || m);
            }
        }
    }

    /// The open message of `host` and `queue_id`, as events so far left it.
    pub(crate) fn open_message(&self, host: &str, queue_id: &str) -> Option<&MessageState> {
        self.open.get(self.open.key(&message_key(host, queue_id)))
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
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

    /// The open-message key of `ev` into `key`.
    fn key_of(&self, ev: &Event, key: &mut String) {
        // Logs that do not name their server (an Exim mainlog, pasted lines).
        let host = if ev.host.is_empty() {
            &self.default_host
        } else {
            &ev.host
        };
        write_message_key(key, host, &ev.queue_id);
    }

    /// Starts loading what pushing `events` will read, level by level for all of them:
    /// the slots of their keys, the entries those point to, the keys' text and the
    /// deliveries, then the recipients and last attempts. One event after another, each
    /// push waited for memory four times over, one miss after the other; asked for a
    /// chunk's events together, the misses of different events overlap. The 1 M-line
    /// import took 0.845 s instead of 0.94 s, 1.49 s of CPU instead of 1.66 s (medians of
    /// six alternating runs). The same chunks looked up in a general-purpose map were
    /// slower than no prefetch at all (0.905 s against 0.87 s): a lookup there reads its
    /// way to the entry, waiting at each step. Only a hint: nothing changes, and events of
    /// messages not open yet load nothing.
    fn prefetch(&mut self, events: &[Event]) {
        let mut key = std::mem::take(&mut self.key_buf);
        let mut hashes = std::mem::take(&mut self.chunk_hashes);
        hashes.clear();
        for ev in events {
            self.key_of(ev, &mut key);
            hashes.push(self.open.hash(&key));
        }
        self.key_buf = key;
        for &h in &hashes {
            self.open.prefetch_slot(h);
        }
        for &h in &hashes {
            self.open.prefetch_entries(h);
        }
        for &h in &hashes {
            self.open.prefetch_keys_and_deliveries(h);
        }
        for (ev, &h) in events.iter().zip(&hashes) {
            if ev.recipient.is_none() {
                continue;
            }
            if let Some(m) = self.open.likely(h) {
                for d in m.deliveries.iter().take(PREFETCHED_DELIVERIES) {
                    crate::cache_hint::prefetch(d.recipient.as_ptr());
                    if let Some(last) = d.attempts.last() {
                        crate::cache_hint::prefetch(last);
                    }
                }
            }
        }
        self.chunk_hashes = hashes;
    }

    pub fn push<S: MessageSink>(&mut self, ev: Event, sink: &mut S) -> Result<(), S::Error> {
        self.push_hashed(ev, None, sink)
    }

    /// Pushes a chunk of events (a few dozen lines' worth), their memory asked for first
    /// (`prefetch`), each key hashed once for both. `events` is left empty.
    pub fn push_chunk<S: MessageSink>(
        &mut self,
        events: &mut Vec<Event>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        self.prefetch(events);
        let hashes = std::mem::take(&mut self.chunk_hashes);
        let mut result = Ok(());
        for (ev, &hash) in events.drain(..).zip(&hashes) {
            result = self.push_hashed(ev, Some(hash), sink);
            if result.is_err() {
                break;
            }
        }
        self.chunk_hashes = hashes;
        result
    }

    /// `hash`: the open-message key's hash (`OpenMessages::hash`), when known already.
    fn push_hashed<S: MessageSink>(
        &mut self,
        mut ev: Event,
        hash: Option<u64>,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        if ev.host.is_empty() {
            ev.host = self.default_host.clone();
        }
        let mut text = std::mem::take(&mut self.key_buf);
        self.key_of(&ev, &mut text);
        let key = match hash {
            Some(hash) => Key { text: &text, hash },
            None => self.open.key(&text),
        };
        let result = self.push_keyed(key, ev, sink);
        self.key_buf = text;
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
            // Ordered by time, ties by key, not by the map's (seeded per run) order: which
            // messages go, and the ids they get, are the same at every import of a log.
            settled.select_nth_unstable(cut);
            settled[..cut].sort_unstable();
            for (_, key) in settled.drain(..cut) {
                if let Some(mut m) = self.open.remove(self.open.key(&key))
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
        key: Key,
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
        // Made only where a record keeps it: most events repeat the last attempt, and each
        // reference is a count on a name the writing thread also counts down.
        let source_name = &self.source_name;
        let line = ev.line;
        let source = || SourceRef {
            file: source_name.clone(),
            line,
        };
        let format = self.format;
        let msg = self
            .open
            .get_or_insert_with(key, || MessageState::new(&ev, format));
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
        // The sender is logged twice per message (pickup or smtpd, then qmgr): copied once.
        if let Some(sender) = ev.sender
            && msg.sender.as_deref() != Some(&*sender)
        {
            msg.sender = Some(sender.into_owned());
        }
        if let Some(id) = ev.message_id {
            // Most sources log it bare already; only then is the string kept as is.
            match crate::ingest::bare_message_id(&id) {
                Some(bare) if msg.message_id.as_deref() == Some(bare) => {}
                Some(bare) if bare.len() == id.len() => msg.message_id = Some(id.into_owned()),
                Some(bare) => msg.message_id = Some(bare.to_string()),
                None => {}
            }
        }
        if ev.subject.is_some() {
            msg.subject = ev.subject.map(Cow::into_owned);
        }
        if ev.size.is_some() {
            msg.size = ev.size;
        }
        match ev.kind {
            EventKind::Created | EventKind::Info => {}
            EventKind::Attempt(status) => {
                let Some(rcpt) = ev.recipient else {
                    return Ok(());
                };
                let key = attempt_key(
                    status,
                    ev.counts_as_attempt,
                    ev.reply_code,
                    [&ev.dsn, &ev.relay, &ev.text],
                );
                let d = msg.delivery_mut(&rcpt);
                if ev.orig_recipient.is_some() {
                    d.orig_recipient = ev.orig_recipient.map(Cow::into_owned);
                }
                let count = d.attempts.len();
                let repeat = match d.last_attempt.0 {
                    Some((at, last)) if at == count => last == key,
                    _ => d.attempts.last().is_some_and(|last| {
                        last.status == status
                            && last.counted == ev.counts_as_attempt
                            && last.text.as_deref() == ev.text.as_deref()
                            && last.code.as_deref() == ev.dsn.as_deref()
                            && last.relay.as_deref() == ev.relay.as_deref()
                            && last.reply_code == ev.reply_code
                    }),
                };
                if repeat && let Some(last) = d.attempts.last_mut() {
                    last.repeats += 1;
                    last.last_ts = ev.ts;
                    d.last_attempt = AttemptKey(Some((count, key)));
                    return Ok(());
                }
                d.attempts.push(AttemptRecord {
                    ts: ev.ts,
                    last_ts: ev.ts,
                    repeats: 1,
                    status,
                    code: ev.dsn.map(Cow::into_owned),
                    reply_code: ev.reply_code,
                    relay: ev.relay.map(Cow::into_owned),
                    text: ev.text.map(Cow::into_owned),
                    counted: ev.counts_as_attempt,
                    source: source(),
                });
                d.last_attempt = AttemptKey(Some((count + 1, key)));
            }
            EventKind::MessageExpired => {
                msg.expired_at = Some(ev.ts);
                for d in &mut msg.deliveries {
                    let finished = d
                        .attempts
                        .iter()
                        .any(|a| a.status != AttemptStatus::Deferred);
                    if !finished && d.expired.is_none() {
                        d.expired = Some((ev.ts, source()));
                    }
                }
            }
            EventKind::RecipientExpired => {
                if let Some(rcpt) = ev.recipient {
                    let d = msg.delivery_mut(&rcpt);
                    d.expired = Some((ev.ts, source()));
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
                                code: ev.dsn.map(Cow::into_owned),
                                reply_code: ev.reply_code,
                                relay: ev.relay.map(Cow::into_owned),
                                text: ev.text.map(Cow::into_owned),
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
            // Exim repeats "Message is frozen" at every queue run: the first line (often the
            // one that says why) tells since when.
            EventKind::Frozen if msg.frozen.is_none() => {
                msg.frozen = Some((ev.ts, ev.text.map(Cow::into_owned).unwrap_or_default()));
            }
            EventKind::Frozen => {}
            EventKind::Unfrozen => msg.frozen = None,
        }
        Ok(())
    }

    /// Writes every message still open (still queued at the end of this input) without
    /// forgetting it: a later input, or a later import, continues it.
    ///
    /// They are written in the order they were first seen (ties by host and queue id), not
    /// in the map's order, which is seeded per run: the same log imported twice makes the
    /// same rows under the same ids.
    pub(crate) fn checkpoint<S: MessageSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        let mut dirty: Vec<(&String, &mut MessageState)> =
            self.open.iter_mut().filter(|(_, m)| m.dirty).collect();
        dirty.sort_unstable_by(|(ka, a), (kb, b)| a.first_seen.cmp(&b.first_seen).then(ka.cmp(kb)));
        for (_, m) in dirty {
            sink.write(m)?;
            m.dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
