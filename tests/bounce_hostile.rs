//! Bounce parsing never panics: every corpus message cut at many points (a truncated
//! mbox or download), with bytes flipped, or nested in itself, is either read or refused
//! with an error.

use std::path::Path;

use sendlog::ingest::bounce;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces");

fn corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(FIXTURES).to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(std::fs::read(p).unwrap());
            }
        }
    }
    out
}

#[test]
fn cut_and_damaged_messages_never_panic() {
    let messages = corpus();
    assert!(messages.len() > 300);
    let mut refused = 0;
    for m in &messages {
        for i in 1..12 {
            let cut = &m[..m.len() * i / 12];
            refused += usize::from(bounce::parse(cut).is_err());
        }
        let mut flipped = m.clone();
        for (i, b) in flipped.iter_mut().enumerate() {
            if i % 97 == 0 {
                *b = !*b;
            }
        }
        let _ = bounce::parse(&flipped);
    }
    // Cutting a report before its recipients makes it unreadable, and that is reported.
    assert!(refused > 0);
    assert!(bounce::parse(b"").is_err());
    assert!(bounce::parse(b"\x00\x01\x02 binary junk").is_err());
}

#[test]
fn a_report_nested_in_itself_stops() {
    let inner = std::fs::read(format!("{FIXTURES}/lhost-postfix/lhost-postfix-13.eml")).unwrap();
    let mut raw = inner.clone();
    for _ in 0..6 {
        let mut outer = b"From: MAILER-DAEMON@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"N\"\r\n\r\n--N\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n--N\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
        outer.extend_from_slice(&raw);
        outer.extend_from_slice(b"\r\n--N--\r\n");
        raw = outer;
    }
    // Deeper than a real forward: refused or read, never a stack overflow.
    let _ = bounce::parse(&raw);
    let once = {
        let mut outer = b"From: MAILER-DAEMON@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"N\"\r\n\r\n--N\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n--N\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
        outer.extend_from_slice(&inner);
        outer.extend_from_slice(b"\r\n--N--\r\n");
        outer
    };
    let r = bounce::parse(&once).expect("a forwarded NDR is read");
    assert_eq!(r.recipients.len(), 2);
    assert_eq!(r.recipients[1].reason.as_str(), "mailboxfull");
}
