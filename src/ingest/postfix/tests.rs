use super::*;

fn parse(line: &str) -> (LineOutcome, Vec<Event<'_>>) {
    let mut p = PostfixParser::new(YearTracker::given(2015));
    let mut out = Vec::new();
    let o = p.parse_line(line.as_bytes(), 1, &mut out);
    (o, out)
}

// Real lines from the shared corpus (pflgviewer/kdent/github-issue samples).
#[test]
fn delivery_line_with_5xx_greeting_is_a_deferral() {
    let (o, ev) = parse(
        "Dec 15 07:48:10 phoenix postfix/smtp[29045]: EF0771103AB0: to=<u4f564419@dmnd.info>, relay=mail-in.bond.info[131.244.5.8]:25, delay=329951, delays=328865/1086/0.1/0, dsn=4.0.0, status=deferred (host mail-in.bond.info[131.244.5.8] refused to talk to me: 550 Too many invalid recipients)",
    );
    assert!(matches!(o, LineOutcome::Parsed));
    let e = &ev[0];
    assert_eq!(e.kind, EventKind::Attempt(AttemptStatus::Deferred));
    assert_eq!(&*e.host, "phoenix");
    assert_eq!(e.queue_id, "EF0771103AB0");
    assert_eq!(e.recipient.as_deref(), Some("u4f564419@dmnd.info"));
    assert_eq!(
        e.relay.as_deref(),
        Some("mail-in.bond.info[131.244.5.8]:25")
    );
    assert_eq!(e.dsn.as_deref(), Some("4.0.0"));
    assert_eq!(e.reply_code, Some(550));
    // `delay=329951`: queued 3.8 days before this line.
    assert_eq!(e.arrived, Some(e.ts - 329_951));
    assert_eq!(
        e.text.as_deref(),
        Some(
            "host mail-in.bond.info[131.244.5.8] refused to talk to me: 550 Too many invalid recipients"
        )
    );
}

#[test]
fn variants_of_the_syslog_header() {
    let (_, ev) = parse(
        "mail    | Jul 19 08:03:44 mail postfix/smtp[1341]: 81571C2D: to=<root@mail.mydomain.com>, orig_to=<root>, relay=none, delay=50784, delays=50754/0.01/30/0, dsn=4.4.1, status=deferred (connect to mail.mydomain.com[123.456.789.123]:25: Connection timed out)",
    );
    assert_eq!(&*ev[0].host, "mail");
    assert_eq!(ev[0].orig_recipient.as_deref(), Some("root"));
    let (_, ev) = parse(
        "Aug 12 22:37:55 5de1a1801612 mail.info postfix/smtpd[2857]: 58E4E422EB: client=mail-yw1-f44.google.com[209.85.161.44]",
    );
    assert_eq!(ev[0].kind, EventKind::Created);
    assert_eq!(&*ev[0].host, "5de1a1801612");
    let (_, ev) = parse(
        "Jun 27 00:00:03 relay.cs.tcd.ie postfix/qmgr[7215]: [ID 197553 mail.info] 2C1EF29E0: from=<u1@cs.tcd.ie>, size=1234, nrcpt=1 (queue active)",
    );
    assert_eq!(ev[0].sender.as_deref(), Some("u1@cs.tcd.ie"));
    let (_, ev) = parse(
        "2019-04-11T19:41:56.554496+00:00 09ad1b99d14b postfix/lmtp[238]: 87F043F2BE: to=<info@domain.de>, relay=none, delay=2370, delays=2370/0.07/0/0, dsn=4.4.1, status=deferred (connect to 172.20.0.6[172.20.0.6]:24: Connection refused)",
    );
    assert_eq!(ev[0].ts, 1555011716);
    let (_, ev) = parse(
        "Oct  1 10:00:00 mx postfix-out2/smtp[1]: 48rT2v1hQrz1J0N: to=<a@b.example>, relay=b[1.2.3.4]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (250 ok)",
    );
    assert_eq!(&*ev[0].host, "mx/postfix-out2");
    assert_eq!(ev[0].queue_id, "48rT2v1hQrz1J0N");
}

#[test]
fn discard_is_a_delivery_and_mail_under_an_unreadable_id_is_skipped() {
    let (o, ev) = parse(
        "Mar  1 10:00:00 mx1 postfix/discard[7]: BC2D3E4F5A: to=<trap@sink.example>, relay=none, delay=0.36, delays=0.1/0/0/0, dsn=2.0.0, status=sent (discarded)",
    );
    assert!(matches!(o, LineOutcome::Parsed));
    assert_eq!(ev[0].kind, EventKind::Attempt(AttemptStatus::Sent));
    assert_eq!(ev[0].arrived, Some(ev[0].ts));
    let (o, _) = parse(
        "Mar  1 10:00:00 mx1 postfix/smtp[7]: odd-id: to=<a@b.example>, relay=none, status=sent (ok)",
    );
    assert!(matches!(o, LineOutcome::Skipped));
    // A refusal carries no queued message: no event, but it is counted.
    let mut p = PostfixParser::new(YearTracker::given(2015));
    let mut ev = Vec::new();
    let o = p.parse_line(
        b"Mar  1 10:00:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 denied; from=<a@b> to=<c@d> proto=ESMTP",
        1,
        &mut ev,
    );
    assert!(matches!(o, LineOutcome::Parsed));
    assert!(ev.is_empty());
    let counts = p.take_line_counts();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (
            counts[0].kind,
            counts[0].stage.as_str(),
            counts[0].code.as_str()
        ),
        (LineKind::Rejected, "RCPT", "5.7.1")
    );
    assert_eq!((counts[0].reason.as_str(), counts[0].count), ("denied", 1));
}

#[test]
fn refusals_are_counted_by_a_reason_without_addresses_or_ips() {
    let mut p = PostfixParser::new(YearTracker::given(2015));
    let mut ev = Vec::new();
    for line in [
        "Oct 22 02:30:01 conch postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.7]; from=<a@b.example> to=<u@c.example> proto=ESMTP helo=<x>",
        "Oct 22 02:40:01 conch postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.9]: 450 4.7.1 Client host rejected: cannot find your hostname, [198.51.100.9]; from=<z@y.example> to=<v@c.example> proto=ESMTP helo=<y>",
        "Oct 22 02:50:01 conch postfix/smtpd[1]: NOQUEUE: reject: RCPT from x.example[203.0.113.1]: 554 5.7.1 Service unavailable; Client host [203.0.113.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.1; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
        "Oct 22 02:55:01 conch postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[203.0.113.2]: 550 5.1.1 <nobody@c.example>: Recipient address rejected: User unknown in local recipient table; from=<a@b> to=<nobody@c.example> proto=ESMTP helo=<x>",
        "Oct 22 02:56:01 conch postfix/cleanup[9]: 4F2A11234: reject: header Subject: win now from x[203.0.113.3]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>: 5.7.1 Spam subject",
        "Oct 22 02:57:01 conch postfix/smtpd[1]: 4F2A11235: client=x[203.0.113.4]",
    ] {
        p.parse_line(line.as_bytes(), 1, &mut ev);
    }
    let counts = p.take_line_counts();
    let got: Vec<(LineKind, &str, &str, &str, u64)> = counts
        .iter()
        .map(|c| {
            (
                c.kind,
                c.stage.as_str(),
                c.code.as_str(),
                c.reason.as_str(),
                c.count,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (LineKind::Received, "", "", "", 1),
            (
                LineKind::Rejected,
                "RCPT",
                "4.7.1",
                "Client host rejected: cannot find your hostname, […]",
                2
            ),
            (
                LineKind::Rejected,
                "RCPT",
                "5.1.1",
                "Recipient address rejected: User unknown in local recipient table",
                1
            ),
            (
                LineKind::Rejected,
                "RCPT",
                "5.7.1",
                "blocked using zen.spamhaus.org",
                1
            ),
            (LineKind::Rejected, "header", "5.7.1", "Spam subject", 1),
        ]
    );
}

#[test]
fn qmgr_lines_carry_the_size() {
    let (_, ev) = parse(
        "Oct 22 02:57:02 conch postfix/qmgr[5]: 4F2A11235: from=<a@b.example>, size=18230, nrcpt=1 (queue active)",
    );
    assert_eq!(ev[0].size, Some(18230));
}

#[test]
fn suspended_lines_are_deferrals_but_not_attempts() {
    let (_, ev) = parse(
        "Apr 30 18:24:37 delta postfix/error[30933]: D9386B16C: to=<ub4a27fd0@staging1.pool.testrun.org>, relay=none, delay=38275, delays=38245/31/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to staging1.pool.testrun.org[2a01:4f9::1]:25: Network is unreachable)",
    );
    assert_eq!(ev[0].kind, EventKind::Attempt(AttemptStatus::Deferred));
    assert!(!ev[0].counts_as_attempt);
}

#[test]
fn qmgr_expiry_and_foreign_lines() {
    let (_, ev) = parse(
        "Dec 15 07:48:10 phoenix postfix/qmgr[28945]: EF0771103AB0: from=<a@b.example>, status=expired, returned to sender",
    );
    assert_eq!(ev[0].kind, EventKind::MessageExpired);
    let (o, _) = parse("Dec 15 07:48:10 phoenix sendmail[123]: x1: to=<a@b>, stat=Sent");
    assert!(matches!(o, LineOutcome::Skipped));
    let (o, _) = parse("Dec 15 07:48:10 phoenix dovecot: imap-login: Login");
    assert!(matches!(o, LineOutcome::Skipped));
    let (o, _) = parse("Dec 15 07:48:10 phoenix postfix/smtpd[1]: connect from x[1.2.3.4]");
    assert!(matches!(o, LineOutcome::Ignored));
    let (o, _) = parse(
        "Dec 15 07:48:10 phoenix postfix/smtp[1]: 1234ABCDE: to=<a@b>, relay=x, delay=1, dsn=2.1.5, status=deliverable (250 ok)",
    );
    assert!(matches!(o, LineOutcome::Ignored));
    let (o, _) = parse("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200");
    assert!(matches!(o, LineOutcome::Skipped));
}

#[test]
fn json_wrapped_and_headerless_lines() {
    let (_, ev) = parse(
        r#"{"log": {"syslog": {"appname": "postfix/error"}}, "message": "2298F5F619: to=<admin@corp.com>, relay=none, delay=89758, delays=89758/0.02/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mail.corp.com[1.1.1.1]:25: Connection timed out) 215"}"#,
    );
    assert_eq!(ev[0].recipient.as_deref(), Some("admin@corp.com"));
    assert!(!ev[0].counts_as_attempt);
    let (_, ev) = parse("0F5383D: message-id=<544D2523.30609@rhsoft.net>");
    assert_eq!(
        ev[0].message_id.as_deref(),
        Some("544D2523.30609@rhsoft.net")
    );
    let (o, _) = parse(r#"{"MESSAGE":"hello","SYSLOG_IDENTIFIER":"cron"}"#);
    assert!(matches!(o, LineOutcome::Skipped));
}

#[test]
fn reply_text_with_commas_does_not_hide_the_status() {
    let (_, ev) = parse(
        "Feb 15 07:32:34 relay.cs.tcd.ie postfix/smtp[2636]: [ID 197553 mail.info] 0175B38CD: to=<u42819773@cs.tcd.ie>, relay=127.0.0.1[127.0.0.1], delay=26, status=sent (250 2.6.0 Ok, id=00506-20, from MTA([127.0.0.1]:11025): 250 Ok: queued as 08CF538D5)",
    );
    assert_eq!(ev[0].kind, EventKind::Attempt(AttemptStatus::Sent));
    assert_eq!(ev[0].reply_code, Some(250));
}

#[test]
fn old_postfix_without_dsn_and_bare_addresses() {
    let (_, ev) = parse(
        "Jun 27 00:00:03 relay postfix/smtp[7215]: 2C1EF29E0: to=user@host.example.com, relay=mx.example.com[10.0.0.1], delay=2, status=bounced (host mx.example.com[10.0.0.1] said: 550 5.1.1 <user@host.example.com>... User unknown)",
    );
    assert_eq!(ev[0].recipient.as_deref(), Some("user@host.example.com"));
    assert_eq!(ev[0].dsn, None);
    assert_eq!(ev[0].reply_code, Some(550));
}

#[test]
fn separators_are_found_where_a_substring_search_finds_them() {
    let cases: &[(&[u8], &[u8], usize)] = &[
        (b"mail    | Jul 19 08:03:44", b" | ", 1),
        (b"a|b | c", b" | ", 1),
        (b"| x", b" | ", 1),
        (b" |", b" | ", 1),
        (b"", b" | ", 1),
        (b"81571C2D: to=<a:b>", b": ", 0),
        (b"a:b:c: d", b": ", 0),
        (b"no separator:", b": ", 0),
        (b":", b": ", 0),
    ];
    for (hay, needle, rare) in cases {
        assert_eq!(
            find_sep(hay, needle, *rare),
            memchr::memmem::find(hay, needle),
            "{:?} in {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(hay)
        );
    }
}

#[test]
fn texts_borrow_from_a_valid_line_and_are_repaired_from_an_invalid_one() {
    let (_, ev) = parse(
        "Nov 20 09:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1, dsn=4.7.0, status=deferred (host mx.b.example[192.0.2.1] said: 421 4.7.0 try again later (in reply to RCPT TO command))",
    );
    let e = &ev[0];
    // A retried deferral is read without copying: the assembler copies what it keeps.
    for text in [&e.recipient, &e.relay, &e.dsn, &e.text] {
        assert!(matches!(text, Some(Cow::Borrowed(_))), "{text:?}");
    }
    assert!(matches!(e.queue_id, Cow::Borrowed("1A2B3C4D5E")));
    assert_eq!(e.reply_code, Some(421));

    let mut p = PostfixParser::new(YearTracker::given(2015));
    let mut out = Vec::new();
    p.parse_line(
        b"Nov 20 09:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<a@b\xff.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (bad \xfe bytes)",
        1,
        &mut out,
    );
    assert_eq!(out[0].recipient.as_deref(), Some("a@b\u{fffd}.example"));
    assert_eq!(out[0].text.as_deref(), Some("bad \u{fffd} bytes"));
    assert!(matches!(out[0].dsn, Some(Cow::Borrowed("4.4.1"))));
}

#[test]
fn a_field_in_utf_8_is_borrowed_as_it_is_and_only_broken_bytes_are_repaired() {
    let line = "Nov 20 09:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<jörg@bücher.example>, \
                relay=none, delay=1, dsn=5.1.1, status=bounced (Empfänger unbekannt)";
    let (_, out) = parse(line);
    assert!(matches!(
        out[0].recipient,
        Some(Cow::Borrowed("jörg@bücher.example"))
    ));
    assert!(matches!(
        out[0].text,
        Some(Cow::Borrowed("Empfänger unbekannt"))
    ));
    // A multi-byte character cut short by the field's end is repaired, not passed on.
    assert_eq!(lossy(b"caf\xc3"), "caf\u{fffd}");
    assert!(matches!(lossy(b"plain"), Cow::Borrowed("plain")));
}
