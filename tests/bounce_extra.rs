//! Real reply texts and reports beyond the sisimai corpus (`tests/fixtures/bounces-extra/`,
//! sources in its PROVENANCE.md), plus corpus reports whose reading was wrong: qmail's
//! "Giving up on <host>", Exchange's history of remote replies, and reports that name
//! no recipient.

use std::path::Path;

use sendlog::classify::{self, Reason};
use sendlog::ingest::bounce;

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
