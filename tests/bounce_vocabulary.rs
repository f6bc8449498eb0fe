//! Reason families beyond the shared corpus: the wordings of Exim, Gmail, OpenSMTPD,
//! Domino/Notes, iMail, Tencent, Orange and Exchange quoted in the bug report that
//! asked for them, each checked against its reason; reports decoded (charset, HTML
//! entities) before their text is matched; the same engine for log replies.

use sendlog::classify::{self, Reason, SmtpCommand};
use sendlog::ingest::bounce;

fn reason(code: &str, text: &str) -> Reason {
    classify::classify(code.parse().ok(), text).reason
}

/// Every (code, text) gets its reason; the ones that do not are listed together.
fn assert_reasons(cases: &[(&str, &str, Reason)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(c, t, want)| reason(c, t) != *want)
        .map(|(c, t, want)| format!("{want:?} <- {:?}: {c} {t}", reason(c, t)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn provider_wordings_get_the_reason_they_mean() {
    let cases = [
        (
            "5.0.0",
            "User john.doe (john@example.net) not listed in Domino Directory",
            Reason::UserUnknown,
        ),
        (
            "",
            "john@example.net is not listed in public Name & Address Book",
            Reason::UserUnknown,
        ),
        (
            "5.0.0",
            "550 Invalid final delivery userid",
            Reason::UserUnknown,
        ),
        (
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            Reason::UserUnknown,
        ),
        ("", "552 Mailbox exceeds allowed size", Reason::MailboxFull),
        ("4.0.0", "451 Ip frequency limited", Reason::TooManyConn),
        (
            "",
            "421 Service refuse. Veuillez essayer plus tard.",
            Reason::Blocked,
        ),
        ("5.0.0", "550 Too many invalid recipients", Reason::Blocked),
        (
            "",
            "551 <x@example.net> is a deactivated mailbox",
            Reason::Suspend,
        ),
    ];
    assert_reasons(&cases);
}

#[test]
fn a_refusal_at_the_greeting_is_about_the_client() {
    // Exim: "SMTP error from remote mail server after initial connection: 550 Access
    // denied" - nothing about the sender address was said yet.
    let text = "SMTP error from remote mail server after initial connection: 550 Access denied";
    assert_eq!(
        classify::rules::smtp_command(text),
        Some(SmtpCommand::Connect)
    );
    assert_eq!(reason("", text), Reason::Blocked);
    // The same words after MAIL FROM are a refused sender.
    assert_eq!(
        reason(
            "",
            "SMTP error from remote mail server after MAIL FROM:<a@example.org>: 550 Access denied"
        ),
        Reason::Rejected
    );
}

/// An Exim bounce (the layout of its `bounce_message_text`) with `error` as the reply.
fn exim_bounce(error: &str) -> Vec<u8> {
    format!(
        "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\r\n\
         To: sender@example.org\r\n\
         Subject: Mail delivery failed: returning message to sender\r\n\
         X-Failed-Recipients: rcpt@example.net\r\n\
         Auto-Submitted: auto-replied\r\n\r\n\
         This message was created automatically by mail delivery software.\r\n\r\n\
         A message that you sent could not be delivered to one or more of its\r\n\
         recipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
         \x20 rcpt@example.net\r\n\
         \x20   {error}\r\n"
    )
    .into_bytes()
}

#[test]
fn expiry_wordings_of_exim_opensmtpd_and_gmail_end_the_queue_lifetime() {
    for error in [
        "retry timeout exceeded",
        "all hosts for 'example.net' have been failing for a long time (and retry time not reached)",
        "Envelope expired",
        "The recipient server did not accept our requests to connect. We gave up.",
    ] {
        let r = bounce::parse(&exim_bounce(error)).expect("a report");
        assert_eq!(r.recipients.len(), 1, "{error}");
        assert!(r.recipients[0].expired, "{error}: not read as an expiry");
        assert_eq!(r.recipients[0].reason, Reason::Expired, "{error}");
    }
    // A mailbox that stayed full until the lifetime ran out keeps its cause.
    let r =
        bounce::parse(&exim_bounce("mailbox is full: retry timeout exceeded")).expect("a report");
    assert!(r.recipients[0].expired);
    assert_eq!(r.recipients[0].reason, Reason::MailboxFull);
}

#[test]
fn text_is_decoded_before_it_is_matched() {
    // HTML-only NDR (Exchange writes apostrophes as numeric entities).
    let html = b"From: postmaster@example.org\r\nTo: sender@example.org\r\n\
        Subject: Undeliverable: hello\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n\
        <html><body><p><b>Delivery has failed to these recipients or groups:</b></p>\
        <p><a href=\"mailto:gone@example.net\">gone@example.net</a><br>\
        The email address you entered couldn&#x27;t be found. Please check the \
        recipient&#39;s email address and try to resend the message.</p></body></html>\r\n";
    let r = bounce::parse(html).expect("a report");
    assert_eq!(r.recipients[0].recipient, "gone@example.net");
    assert!(
        r.recipients[0].diagnostic.contains("couldn't be found")
            || r.recipients[0].reason == Reason::UserUnknown,
        "{:?}",
        r.recipients[0]
    );
    assert_eq!(r.recipients[0].reason, Reason::UserUnknown);

    // ISO-2022-JP (mail-parser's own test vector, "ハロー・ワールド"): decoded text, not
    // escape bytes, reaches the classifier and the screen.
    let mut jp = b"From: MAILER-DAEMON@example.jp\r\nTo: sender@example.org\r\n\
        Subject: Returned mail: User unknown\r\n\
        Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n\
        <kijitora@example.jp>: 550 5.1.1 User unknown \x1b$B%O%m!<!&%o!<%k%I\x1b(B\r\n"
        .to_vec();
    jp.extend_from_slice(b"\r\n");
    let r = bounce::parse(&jp).expect("a report");
    let d = &r.recipients[0].diagnostic;
    assert!(d.contains("ハロー・ワールド"), "{d}");
    assert!(!d.contains('\x1b'), "{d}");
    assert_eq!(r.recipients[0].reason, Reason::UserUnknown);
}

#[test]
fn a_sendmail_transcript_naming_several_recipients_gives_one_row_each() {
    // Sendmail without a delivery-status part: one "NNN <addr>... text" line per
    // recipient in its transcript (the layout of Sendmail's `errbody`).
    let v5 = b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n\
        To: sender@example.org\nSubject: Returned mail: User unknown\n\n\
        \x20  ----- Transcript of session follows -----\n\
        550 <alice@example.net>... User unknown\n\
        550 <bob@example.com>... Host unknown (Name server: example.com: host not found)\n\n\
        \x20  ----- Unsent message follows -----\n\
        From: sender@example.org\nTo: alice@example.net, bob@example.com\nSubject: hi\n\nhello\n";
    let r = bounce::parse(v5).expect("a report");
    let rows: Vec<(&str, Reason)> = r
        .recipients
        .iter()
        .map(|x| (x.recipient.as_str(), x.reason))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "alice@example.net");
    assert_eq!(rows[1], ("bob@example.com", Reason::HostUnknown));
    assert!(r.recipients[0].diagnostic.contains("User unknown"));
    assert!(
        !r.recipients[0].diagnostic.contains("bob@"),
        "{:?}",
        r.recipients[0]
    );

    // Sendmail 8's SMTP transcript: each ">>> RCPT To:" opens its recipient, so one
    // recipient's reply never lands in the other's text.
    let v8 = b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n\
        To: sender@example.org\nSubject: Returned mail: see transcript for details\n\n\
        \x20  ----- The following addresses had permanent fatal errors -----\n\
        <alice@example.net>\n    (reason: 550 5.1.1 <alice@example.net>... User unknown)\n\
        <bob@example.net>\n    (reason: 552 5.2.2 <bob@example.net>... Mailbox full)\n\n\
        \x20  ----- Transcript of session follows -----\n\
        ... while talking to mx.example.net.:\n\
        >>> RCPT To:<alice@example.net>\n<<< 550 5.1.1 <alice@example.net>... User unknown\n\
        550 5.1.1 <alice@example.net>... User unknown\n\
        >>> RCPT To:<bob@example.net>\n<<< 552 5.2.2 <bob@example.net>... Mailbox full\n\
        552 5.2.2 <bob@example.net>... Mailbox full\n";
    let r = bounce::parse(v8).expect("a report");
    let rows: Vec<(&str, Reason)> = r
        .recipients
        .iter()
        .map(|x| (x.recipient.as_str(), x.reason))
        .collect();
    assert_eq!(
        rows,
        [
            ("alice@example.net", Reason::UserUnknown),
            ("bob@example.net", Reason::MailboxFull)
        ]
    );
}

#[test]
fn log_replies_and_bounces_share_one_engine() {
    // The triage of log lines calls the same `classify` as the bounce reader: the reply
    // a Postfix log quotes and the Diagnostic-Code a DSN carries get one reason.
    let reply = "host mx.example.net[192.0.2.1] said: 550 5.7.1 Service refuse. Veuillez essayer plus tard. (in reply to RCPT TO command)";
    assert_eq!(reason("5.7.1", reply), Reason::Blocked);
    let dsn = format!(
        "From: MAILER-DAEMON@example.org\r\nTo: s@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\n<r@example.net>: {reply}\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.org\r\n\r\n\
         Final-Recipient: rfc822; r@example.net\r\nAction: failed\r\nStatus: 5.7.1\r\n\
         Diagnostic-Code: smtp; 550 5.7.1 Service refuse. Veuillez essayer plus tard.\r\n--b--\r\n"
    );
    let r = bounce::parse(dsn.as_bytes()).expect("a report");
    assert_eq!(r.recipients[0].reason, Reason::Blocked);
}

/// The wordings Tencent (QQ mail) and NetEase (163/126) document for their refusals, and
/// "does not exist" said of a domain or of a named mailbox, each with the reason it
/// means; the sender's domain not existing stays about the sender.
#[test]
fn chinese_providers_and_does_not_exist_shapes() {
    let cases = [
        ("", "550 Domain frequency limited", Reason::TooManyConn),
        ("", "550 Sender frequency limited", Reason::TooManyConn),
        ("", "550 Mail content denied.", Reason::SpamDetected),
        (
            "",
            "554 DT:SPM 163 smtp10,DsCowAB3t4 1411022255, please see http://mail.163.com/help/help_spam_16.htm",
            Reason::SpamDetected,
        ),
        ("", "550 Mail is rejected by recipients.", Reason::Filtered),
        (
            "",
            "553 sorry, domain example.org does not exist",
            Reason::HostUnknown,
        ),
        (
            "5.1.1",
            "553 Mailbox x@example.org does not exist",
            Reason::UserUnknown,
        ),
    ];
    for (code, text, want) in cases {
        assert_eq!(reason(code, text), want, "{text}");
    }
    let sender = classify::classify_reply(
        "5.1.8".parse().ok(),
        "553 5.1.8 <root@host.example>... Domain of sender address root@host.example does not exist",
        Some(SmtpCommand::Mail),
    );
    assert_eq!(sender.reason, Reason::Rejected);
}

#[test]
fn quota_size_loop_and_no_answer_wordings() {
    let cases = [
        (
            "",
            "This person's account is exceeding their quota.",
            Reason::MailboxFull,
        ),
        (
            "",
            "Delivery has been postponed due to a full mailbox.",
            Reason::MailboxFull,
        ),
        (
            "",
            "553 Exceeded maximum inbound message size",
            Reason::MesgTooBig,
        ),
        (
            "",
            "554 Message looping (received 7 times)",
            Reason::NetworkError,
        ),
        ("", "554 5.4.6 Routing loop detected", Reason::NetworkError),
        (
            "",
            "connection to mail exchanger failed",
            Reason::NetworkError,
        ),
        (
            "",
            "because the recipient server did not respond",
            Reason::NetworkError,
        ),
    ];
    assert_reasons(&cases);
}

/// A plain-text report with no delivery-status part: `body` under a bounce's headers.
fn plain_report(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\
To: sender@example.com\r\n\
Subject: {subject}\r\n\
Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\
Message-ID: <report-1@mx.example.org>\r\n\
\r\n\
{body}"
    )
    .into_bytes()
}

#[test]
fn a_delay_notice_without_an_action_field_is_not_a_failure_yet() {
    let body = "This message was created automatically by mail delivery software.\r\n\
A message that you sent has not yet been delivered to one or more of\r\n\
its recipients after 8 hours on the queue on mx.example.org.\r\n\r\n\
The message has not yet been delivered to the following addresses:\r\n\r\n\
  <dana@example.net>\r\n\
    host mx.example.net [192.0.2.7]: Connection timed out\r\n\r\n\
No action is required on your part. Delivery attempts will continue for\r\n\
some time, and this warning may be repeated at intervals if the message\r\n\
remains undelivered.\r\n";
    let r = bounce::parse(&plain_report("Warning: message delayed", body)).expect("a report");
    assert_eq!(r.recipients.len(), 1);
    let d = &r.recipients[0];
    assert_eq!(d.recipient, "dana@example.net");
    assert_eq!(d.status.map(|c| c.class), Some(4), "{d:?}");
    assert!(!d.expired);
    assert_eq!(d.action.as_deref(), Some("delayed"));
    assert_eq!(d.reason, Reason::NetworkError);
}

#[test]
fn retries_counted_out_end_the_queue_lifetime() {
    for wording in [
        "Delivery failed 20 attempts: ana@example.net",
        "Message to ana@example.net undeliverable after 12 attempts.",
        "Exceeded maximum delivery attempts for ana@example.net",
    ] {
        let body =
            format!("{wording}\r\n\r\nThe original message follows:\r\n\r\nSubject: hello\r\n");
        let r = bounce::parse(&plain_report("Delivery failure", &body)).expect("a report");
        assert_eq!(r.recipients.len(), 1, "{wording}");
        let d = &r.recipients[0];
        assert_eq!(d.recipient, "ana@example.net", "{wording}");
        assert!(d.expired, "{wording}: {d:?}");
        assert_eq!(d.reason, Reason::Expired, "{wording}");
    }
}

#[test]
fn the_returned_original_and_its_addresses_are_not_the_error() {
    // A mailstore's notice: the recipient quoted in a sentence, then the original's
    // headers after a "START OF RETURNED MESSAGE" line, a version number among them.
    let body = "A message that you sent could not be delivered to all of its recipients.\r\n\r\n\
The following message, addressed to 'ana@example.net',\r\n\
failed because the mailbox is full\r\n\r\n\
Here is a copy of the first part of the message, including all headers.\r\n\r\n\
---- START OF RETURNED MESSAGE ----\r\n\
From: list-owner@lists.example.com\r\n\
To: members@lists.example.com\r\n\
X-Mailer: ListServer 2.0.13\r\n";
    let r = bounce::parse(&plain_report("Mail delivery failure", body)).expect("a report");
    let got: Vec<(&str, Option<u8>, Reason)> = r
        .recipients
        .iter()
        .map(|d| (d.recipient.as_str(), d.status.map(|c| c.class), d.reason))
        .collect();
    assert_eq!(got, vec![("ana@example.net", Some(5), Reason::MailboxFull)]);
}

#[test]
fn a_recipient_listed_under_a_label_or_a_dash_is_named() {
    for listed in [
        "Undeliverable Address: ana@example.net",
        "Recipient address: ana@example.net",
        "-- ana@example.net",
        "\t* [ana@example.net]:",
    ] {
        let body = format!(
            "Your message could not be delivered to the following recipient:\r\n\r\n\
{listed}\r\n\
Reason: 550 mailbox is full\r\n\r\n\
Note that {{sender@example.com}} sent it.\r\n"
        );
        let r = bounce::parse(&plain_report("Undeliverable", &body)).expect("a report");
        let got: Vec<&str> = r.recipients.iter().map(|d| d.recipient.as_str()).collect();
        assert_eq!(got, vec!["ana@example.net"], "{listed}");
        assert_eq!(r.recipients[0].reason, Reason::MailboxFull, "{listed}");
    }
}

#[test]
fn an_address_the_prose_names_as_the_sender_is_not_the_recipient() {
    // The only address in the prose is the list that sent the mail: no recipient is named
    // (an import skips the report, saying so), rather than the list counted as failed.
    let body = "Your mail to the following recipients could not be delivered because\r\n\
they are not accepting mail from news@lists.example.com:\r\n\tscreenname\r\n";
    let r = bounce::parse(&plain_report("Mail Delivery Problem", body)).expect("a report");
    assert!(
        r.recipients.iter().all(|d| d.recipient.is_empty()),
        "{:?}",
        r.recipients
    );
    // An alias's expansion names the recipient it came from, not a sender.
    let body = "The message could not be delivered to an undisclosed address\r\n\
    (generated from ana@example.net)\r\n";
    let r = bounce::parse(&plain_report("Returned mail", body)).expect("a report");
    let got: Vec<&str> = r.recipients.iter().map(|d| d.recipient.as_str()).collect();
    assert_eq!(got, vec!["ana@example.net"]);
}
