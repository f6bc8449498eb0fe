use super::*;

fn parse_all(lines: &[&str]) -> Vec<Event<'static>> {
    let mut p = EximParser::new(YearTracker::given(2016));
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        p.parse_line(l.as_bytes(), i as u64 + 1, &mut out);
    }
    out
}

#[test]
fn the_message_id_tells_the_arrival() {
    // Real ids of the Debian mainlog: `1cIm8w-0000yI-6V <=` at 19:49:30 in UTC−5.
    let line = 1_482_108_570; // 2016-12-19T00:49:30Z
    assert_eq!(arrival_from_id(b"1cIm8w-0000yI-6V", line), Some(line));
    assert_eq!(
        arrival_from_id(b"1cImAN-0001CD-0m", line + 86_400),
        Some(1_482_108_659)
    );
    // The test suite's made-up ids decode to 1970: not an arrival.
    assert_eq!(
        arrival_from_id(b"10HmaX-000000005vi-0000", 920_000_000),
        None
    );
}

#[test]
fn message_ids_old_and_new() {
    assert!(is_message_id(b"1cImAN-0001CD-0m"));
    assert!(is_message_id(b"10HmaX-000000005vi-0000"));
    assert!(!is_message_id(b"Start"));
    assert!(!is_message_id(b"a-b-c"));
}

// Real lines: Debian-VM-__mainlog.1, logstash-patterns-core exim_spec, Exim test suite.
#[test]
fn arrival_deferral_and_failure_lines() {
    let ev = parse_all(&[
        r#"2010-09-13 05:00:13 [1487] 1Ov4tU-0000Nz-Rm <= mailling.list@domain.com H=mailhost.domain.com [208.42.54.2]:51792 I=[67.215.162.175]:25 P=esmtps X=TLSv1:AES256-SHA:256 CV=no S=21778 id=384a86a39e83be0d9b3a94d1feb3119f@domain.com T="Daily List: Chameleon" for user@example.com"#,
        "2016-12-18 19:55:30 1cImAN-0001CD-0m == uf7981903@njit.edu R=dnslookup T=remote_smtp defer (101): Network is unreachable",
        "2016-12-18 19:49:30 1cIm8w-0000yI-6V ** uf7981903@njit.edu: Unrouteable address",
        "1999-03-02 09:44:33 10HmaZ-000000005vi-0000 == userz@domain.com R=all T=smtp defer (-45) H=127.0.0.1 [127.0.0.1]:PORT_S I=[127.0.0.1]:10001: SMTP error from remote mail server after MAIL FROM:<>: 450 not right now, sorry",
        r#"1999-03-02 09:44:33 10HmaY-000000005vi-0000 => userx@test.ex <Userx-S@Test.Ex> R=localuser_ss T=delivery_s H=127.0.0.1 [127.0.0.1] C="250 OK""#,
        "2016-12-18 18:51:43 Start queue run: pid=701",
    ]);
    assert_eq!(ev.len(), 5);
    assert_eq!(ev[0].kind, EventKind::Created);
    assert_eq!(ev[0].sender.as_deref(), Some("mailling.list@domain.com"));
    assert_eq!(ev[0].subject.as_deref(), Some("Daily List: Chameleon"));
    assert_eq!(
        ev[0].message_id.as_deref(),
        Some("384a86a39e83be0d9b3a94d1feb3119f@domain.com")
    );
    assert_eq!(ev[1].kind, EventKind::Attempt(AttemptStatus::Deferred));
    assert_eq!(ev[1].text.as_deref(), Some("Network is unreachable"));
    assert_eq!(ev[1].dsn.as_deref(), Some("4.4.1"));
    assert_eq!(ev[2].kind, EventKind::Attempt(AttemptStatus::Bounced));
    assert_eq!(ev[2].recipient.as_deref(), Some("uf7981903@njit.edu"));
    assert_eq!(ev[2].dsn.as_deref(), Some("5.4.4"));
    assert_eq!(ev[3].reply_code, Some(450));
    assert_eq!(ev[3].relay.as_deref(), Some("127.0.0.1[127.0.0.1]:PORT_S"));
    assert_eq!(ev[3].dsn, None);
    assert_eq!(ev[4].kind, EventKind::Attempt(AttemptStatus::Sent));
    assert_eq!(ev[4].recipient.as_deref(), Some("userx@test.ex"));
    assert_eq!(ev[4].orig_recipient.as_deref(), Some("Userx-S@Test.Ex"));
    assert_eq!(ev[4].reply_code, Some(250));
}

#[test]
fn retry_timeout_takes_the_last_deferral_of_that_address() {
    let ev = parse_all(&[
        "2024-03-01 10:00:00 1rABCD-000123-Xy == a@example.net R=dnslookup T=remote_smtp defer (-44) H=mx.example.net [192.0.2.7]: SMTP error from remote mail server after RCPT TO:<a@example.net>: 451 4.7.1 Greylisted, try again later",
        "2024-03-01 11:00:00 1rABCD-000123-Xy == a@example.net R=dnslookup T=remote_smtp defer (-54): retry time not reached for any host for 'example.net'",
        "2024-03-05 10:00:00 1rABCD-000123-Xy ** a@example.net: retry timeout exceeded",
        "2024-03-05 10:00:00 1rABCD-000123-Xy Completed",
    ]);
    assert_eq!(ev[1].kind, EventKind::Attempt(AttemptStatus::Deferred));
    assert!(!ev[1].counts_as_attempt);
    assert_eq!(ev[1].dsn.as_deref(), Some("4.7.1"));
    assert_eq!(ev[2].kind, EventKind::RecipientExpired);
    assert_eq!(ev[2].dsn.as_deref(), Some("4.7.1"));
    assert_eq!(ev[2].reply_code, Some(451));
    assert_eq!(ev[2].relay.as_deref(), Some("mx.example.net[192.0.2.7]"));
    assert_eq!(ev[3].kind, EventKind::Removed);
}

#[test]
fn syslog_routed_lines_and_zones() {
    let ev = parse_all(&[
        "Mar  1 12:00:00 mailhost exim[123]: 1rABCD-000123-Xy <= <> R=1rABCC-000122-Xx U=Debian-exim P=local S=1234",
        "2024-03-01 12:00:00.123 +0100 1rABCD-000123-Xy Completed",
    ]);
    assert_eq!(&*ev[0].host, "mailhost");
    assert_eq!(ev[0].sender.as_deref(), Some(""));
    assert_eq!(ev[1].ts, 1_709_290_800);
}

// Real lines: Exim test suite, Debian-VM-__mainlog(.1); the thaws as Exim words them for a
// forced delivery (`-M`) and for `-Mt`.
#[test]
fn freeze_lines_are_events_of_the_message() {
    let ev = parse_all(&[
        "1999-03-02 09:44:33 10HmaY-000000005vi-0000 Frozen (delivery error message)",
        "1999-03-02 09:44:33 10HmbA-000000005vi-0000 Frozen by the system filter: subject was \"should freeze this\"",
        "2016-12-19 09:20:53 1cIm8w-0000yI-6V Message is frozen",
        "2016-12-18 19:49:30 1cIm8w-0000yI-6V Process failed (1) when writing error message to root@ETC_MAILNAME (frozen)",
        "2016-12-19 10:00:00 1cIm8w-0000yI-6V Unfrozen by forced delivery",
        "2016-12-19 10:00:01 1cIm8w-0000yI-6V unfrozen by root",
        "2016-12-19 10:00:00 1cIm8w-0000yI-6V Message is not frozen, but something else",
    ]);
    let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Frozen,
            EventKind::Frozen,
            EventKind::Frozen,
            EventKind::Frozen,
            EventKind::Unfrozen,
            EventKind::Unfrozen
        ]
    );
    assert_eq!(
        ev[0].text.as_deref(),
        Some("Frozen (delivery error message)")
    );
    assert_eq!(ev[2].text.as_deref(), Some("Message is frozen"));
    assert!(ev.iter().all(|e| e.recipient.is_none()));
}
