use super::*;
use crate::classify::Reason;

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
) -> Event<'static> {
    let mut e = Event::new(
        ts,
        ts as u64,
        "mx",
        qid.to_string(),
        EventKind::Attempt(status),
    );
    e.recipient = Some(rcpt.to_string().into());
    e.dsn = Some(dsn.to_string().into());
    e.text = Some(text.to_string().into());
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
        Event::new(4, 4, "mx", q.to_string(), EventKind::MessageExpired),
        &mut sink,
    )
    .unwrap();
    a.push(
        Event::new(5, 5, "mx", q.to_string(), EventKind::Removed),
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

/// Message `Q{n}`'s one delivery at `ts`: deferred (still queued) or sent (settled), and
/// no `removed` line.
fn lone_delivery(ts: i64, n: i64, deferred: bool) -> Event<'static> {
    let (status, dsn) = if deferred {
        (AttemptStatus::Deferred, "4.4.1")
    } else {
        (AttemptStatus::Sent, "2.0.0")
    };
    attempt(ts, &format!("Q{n}"), "a@x.example", status, dsn, "reply")
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
        a.push(lone_delivery(i, i, i % 10 == 0), &mut sink).unwrap();
        most = most.max(a.open_count());
    }
    let deferred = (n / 10) as usize;
    assert!(most <= deferred + 2 * SETTLED_KEPT, "{most}");
    assert!(
        a.open
            .iter()
            .map(|(_, m)| m)
            .filter(|m| !m.settled())
            .count()
            == deferred
    );
    a.checkpoint(&mut sink).unwrap();
    let mut written: Vec<&str> = sink.0.iter().map(|m| m.queue_id.as_str()).collect();
    written.sort_unstable();
    written.dedup();
    assert_eq!(written.len(), n as usize);
    assert_eq!(sink.0.len(), n as usize, "each written once");
}

/// Which settled messages are let go, and the order everything is written in (and so the
/// ids the store gives), follow the log, not the order of a map seeded per run: here many
/// messages share a second, and two assemblers (two seeds) write the same sequence.
#[test]
fn messages_are_written_in_the_same_order_whatever_the_maps_seed() {
    let run = || {
        let mut a = Assembler::new("postfix");
        let mut sink = Collect::default();
        let n = 3 * SETTLED_KEPT as i64;
        for i in 0..n {
            a.push(lone_delivery(i / 50, i, i % 7 == 0), &mut sink)
                .unwrap();
        }
        let let_go = sink.0.len();
        a.checkpoint(&mut sink).unwrap();
        let order: Vec<(i64, String)> = sink
            .0
            .iter()
            .map(|m| (m.first_seen, m.queue_id.clone()))
            .collect();
        (let_go, order)
    };
    let (let_go, first) = run();
    assert!(let_go > 0, "settled messages were let go during the log");
    for part in [&first[..let_go], &first[let_go..]] {
        assert!(part.is_sorted(), "written by time, then queue id");
    }
    assert_eq!(run(), (let_go, first));
}

#[test]
fn a_reused_queue_id_starts_a_new_message() {
    let mut a = Assembler::new("postfix");
    let mut sink = Collect::default();
    let mut created = Event::new(1, 1, "mx", "Q1", EventKind::Created);
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
        last_attempt: Default::default(),
    };
    let row = derive_row(&d);
    assert_eq!(row.status, "deferred");
    assert_eq!(row.code, "4.0.0");
    assert_eq!(row.domain, "dmnd.info");
}

/// A retried attempt is one record with a count, whatever it is matched on: the hash kept
/// beside the delivery, or the last attempt's own fields for a delivery taken back from
/// the store. Any one field that differs makes a new record.
#[test]
fn repeated_attempts_are_counted_and_any_difference_starts_a_new_one() {
    let q = "R1";
    let rcpt = "r@x.example";
    let base = |ts| {
        attempt(
            ts,
            q,
            rcpt,
            AttemptStatus::Deferred,
            "4.7.0",
            "421 4.7.0 try again later",
        )
    };
    type Change = fn(&mut Event<'static>);
    let changes: [(&str, Change); 7] = [
        ("text", |e| e.text = Some("421 4.7.0 try again soon".into())),
        ("no text", |e| e.text = None),
        ("empty text", |e| e.text = Some("".into())),
        ("code", |e| e.dsn = Some("4.7.1".into())),
        ("relay", |e| {
            e.relay = Some("mx.x.example[192.0.2.1]:25".into())
        }),
        ("reply code", |e| e.reply_code = Some(421)),
        ("not counted", |e| e.counts_as_attempt = false),
    ];
    for resumed in [false, true] {
        let mut a = Assembler::new("postfix");
        let mut sink = Collect::default();
        let mut ts = 0;
        let mut push = |a: &mut Assembler, e: Event<'static>| {
            a.push(e, &mut sink).unwrap();
            if resumed {
                // As if taken back from the store: nothing kept beside the delivery.
                let text = message_key("mx", q);
                let m = a.open.get_mut(a.open.key(&text)).unwrap();
                m.deliveries[0].last_attempt = AttemptKey::default();
            }
        };
        for _ in 0..3 {
            ts += 1;
            push(&mut a, base(ts));
        }
        for (what, change) in changes {
            for _ in 0..2 {
                ts += 1;
                let mut e = base(ts);
                change(&mut e);
                push(&mut a, e);
            }
            ts += 1;
            push(&mut a, base(ts));
            let d = &a.open_message("mx", q).unwrap().deliveries[0];
            let n = d.attempts.len();
            assert_eq!(d.attempts[n - 2].repeats, 2, "{what}, resumed: {resumed}");
            assert_eq!(d.attempts[n - 1].repeats, 1, "{what}, resumed: {resumed}");
        }
        // No text and an empty one are not the same reply.
        for text in [None, Some(""), None] {
            ts += 1;
            let mut e = base(ts);
            e.text = text.map(Cow::from);
            push(&mut a, e);
        }
        let d = &a.open_message("mx", q).unwrap().deliveries[0];
        assert_eq!(d.attempts[0].repeats, 3, "resumed: {resumed}");
        assert_eq!(
            d.attempts.len(),
            4 + 2 * changes.len(),
            "resumed: {resumed}"
        );
        assert_eq!(d.attempts.last().unwrap().last_ts, ts);
    }
}
