//! Real reply texts and reports beyond the sisimai corpus (`tests/fixtures/bounces-extra/`,
//! sources in its PROVENANCE.md), plus corpus reports whose reading was wrong: qmail's
//! "Giving up on <host>", Exchange's history of remote replies, and reports that name
//! no recipient; and reports written here for the SMTP phase a report implies.

use std::path::Path;
use std::process::Command;

use sendlog::classify::{self, Reason};
use sendlog::ingest::bounce::{self, freetext};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn corpus(file: &str) -> bounce::BounceReport {
    let raw = std::fs::read(Path::new(FIXTURES).join("bounces").join(file)).expect("fixture");
    bounce::parse(&raw).expect("a report")
}

#[test]
fn real_reply_texts_get_their_reason() {
    let tsv = std::fs::read_to_string(Path::new(FIXTURES).join("bounces-extra/replies.tsv"))
        .expect("replies.tsv");
    let mut wrong = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (code, text, want) = (cols[0], cols[1], cols[2]);
        let got = classify::classify(code.parse().ok(), text).reason;
        if got.as_str() != want {
            wrong.push(format!("{want} <- {got}: {text}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn qmail_giving_up_on_a_host_is_a_refusal_not_an_expiry() {
    // qmail-remote writes "Giving up on <host>." when the host refused every recipient
    // of the connection; only qmail-send's "in the queue too long" is the lifetime.
    for (file, reasons) in [
        ("lhost-qmail/lhost-qmail-08.eml", &[Reason::MailboxFull][..]),
        (
            "lhost-qmail/lhost-qmail-02.eml",
            &[Reason::UserUnknown, Reason::UserUnknown][..],
        ),
        ("lhost-qmail/lhost-qmail-09.eml", &[Reason::Blocked][..]),
    ] {
        let report = corpus(file);
        let got: Vec<Reason> = report.recipients.iter().map(|r| r.reason).collect();
        assert_eq!(got, reasons, "{file}");
        for r in &report.recipients {
            assert!(r.diagnostic.contains("Giving up on"), "{file}");
            assert!(!r.expired, "{file}: {}", r.diagnostic);
        }
    }
    let expired = corpus("lhost-qmail/lhost-qmail-06.eml");
    assert!(expired.recipients[0].expired, "queue too long is an expiry");
    assert_eq!(expired.recipients[0].reason, Reason::MailboxFull);
    // Yahoo's "after multiple retries, giving up." still is the queue lifetime.
    assert!(corpus("lhost-yahoo/lhost-yahoo-13.eml").recipients[0].expired);
}

#[test]
fn exchange_history_is_read_from_its_newest_entry() {
    let body = std::fs::read_to_string(
        Path::new(FIXTURES).join("bounces-extra/exchange-delay-winsock.txt"),
    )
    .expect("fixture");
    let (error, _) = freetext::split_original(&body);
    let recipients = freetext::recipients(error);
    assert_eq!(recipients.len(), 1);
    let r = &recipients[0];
    assert_eq!(r.address, "Darren.vuzzo@myfloridalicence.com");
    // The undated first line is the delay summary; the dated attempt says why.
    assert!(
        r.text.starts_with(
            "Remote Server at myfloridalicence.com (208.73.211.178) returned '441 4.4.1"
        ),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Message delayed"), "{}", r.text);
    assert!(r.text.ends_with("208.73.211.178:25'"), "{}", r.text);
    assert_eq!(
        classify::classify(None, &r.text).reason,
        Reason::NetworkError
    );
}

#[test]
fn exchange_history_entries_are_ordered_by_their_timestamps() {
    // lhost-office365-08 lists its two attempts newest first; the order of the lines
    // is not what decides, so the same entries read in reverse give the same answer.
    let newest = "6/19/2018 7:32:05 AM - Server at SG2APC01HT007.eop-APC01.prod.protection.outlook.com returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'";
    let older = "6/19/2018 7:26:11 AM - Server at neko.example.jp (153.126.192.107) returned '450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=neko.example.jp] [LastAttemptedIP=153.126.192.107:25 [HK2APC01FT031.eop-APC01.prod.protection.outlook.com](Socket error code 10061)'";
    let want = "Server at SG2APC01HT007.eop-APC01.prod.protection.outlook.com returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'";
    for text in [format!("{newest} {older}"), format!("{older} {newest}")] {
        assert_eq!(freetext::newest_history_entry(&text).as_deref(), Some(want));
    }
}

#[test]
fn a_report_naming_no_recipient_is_skipped_and_named() {
    // lhost-postfix-75 (sisimai set-of-emails): a transcript with no Final-Recipient
    // and no address in its text.
    let report = corpus("lhost-postfix/lhost-postfix-75.eml");
    assert!(report.recipients.iter().all(|r| r.recipient.is_empty()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let input = Path::new(FIXTURES).join("bounces/lhost-postfix/lhost-postfix-75.eml");
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "eml"])
        .arg(&input)
        .output()
        .expect("run sendlog");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 message read, 0 events, 0 deliveries, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lhost-postfix-75.eml: no recipient named"),
        "{stdout}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM bounces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "nothing stored without a recipient");
}

/// A DSN whose reply names no SMTP phase ("550 … mailbox unavailable" under a bare 5.0.0).
/// `to` is the returned original's To: header; the report names `failed`.
fn unphased_report(to: &str, failed: &[&str]) -> Vec<u8> {
    let mut blocks = String::new();
    for r in failed {
        blocks.push_str(&format!(
            "Final-Recipient: rfc822;{r}\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable\n\n"
        ));
    }
    format!(
        "From: postmaster@mx.example.org\nTo: news@example.com\nSubject: Delivery Status Notification (Failure)\n\
         MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
         --b\nContent-Type: text/plain\n\nDelivery to the following recipients failed.\n\n\
         --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;mx.example.org\n\n{blocks}\
         --b\nContent-Type: message/rfc822\n\nFrom: news@example.com\nTo: {to}\nSubject: hi\nMessage-ID: <m1@example.com>\n\nbody\n--b--\n"
    )
    .into_bytes()
}

/// A refusal after DATA (a filter's verdict) answers for every recipient of the
/// transaction; a server that refused some mailboxes of a domain and took the others
/// answered per recipient: the words are about the mailbox. With no such evidence the
/// unphased reply keeps its old reading.
#[test]
fn some_mailboxes_of_a_domain_refused_is_an_address_verdict() {
    let some = bounce::parse(&unphased_report(
        "a@example.net, ok@example.net, b@example.net",
        &["a@example.net", "b@example.net"],
    ))
    .unwrap();
    assert_eq!(some.recipients.len(), 2);
    for r in &some.recipients {
        assert_eq!(r.reason, Reason::UserUnknown, "{r:?}");
    }
    let all = bounce::parse(&unphased_report(
        "a@example.net, b@example.net",
        &["a@example.net", "b@example.net"],
    ))
    .unwrap();
    for r in &all.recipients {
        assert_eq!(r.reason, Reason::Filtered, "{r:?}");
    }
    // Another domain's recipient in To says nothing about this server.
    let other = bounce::parse(&unphased_report(
        "a@example.net, ok@example.com",
        &["a@example.net"],
    ))
    .unwrap();
    assert_eq!(other.recipients[0].reason, Reason::Filtered);
}
