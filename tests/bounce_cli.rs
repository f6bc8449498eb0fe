//! `sendlog classify FILE…` as DESIGN.md's contract says: JSON lines, files in the order
//! given, recipients in each report's order, `file` as typed, the contract's fields.

use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces");

fn classify(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .current_dir(FIXTURES)
        .arg("classify")
        .args(args)
        .output()
        .expect("run sendlog");
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn records_follow_the_contract_in_order() {
    let (code, recs, err) = classify(&[
        "lhost-postfix/lhost-postfix-13.eml",
        "arf/arf-01.eml",
        "lhost-qmail/lhost-qmail-01.eml",
    ]);
    assert_eq!(code, 0, "{err}");
    let fields = [
        "file",
        "recipient",
        "status",
        "reason",
        "replycode",
        "action",
        "diagnostic",
        "remote_mta",
        "expired",
        "original_message_id",
    ];
    for r in &recs {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), fields.len(), "{r}");
        for f in fields {
            assert!(r.get(f).is_some(), "{f} missing in {r}");
        }
    }
    let files: Vec<&str> = recs.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        [
            "lhost-postfix/lhost-postfix-13.eml",
            "lhost-postfix/lhost-postfix-13.eml",
            "arf/arf-01.eml",
            "lhost-qmail/lhost-qmail-01.eml"
        ]
    );
    // lhost-postfix-13: two recipients, in the report's order, with different codes.
    assert_eq!(recs[0]["recipient"], "kijitora@example.jp");
    assert_eq!(recs[0]["status"], "5.2.1");
    assert_eq!(recs[1]["status"], "5.2.2");
    assert_eq!(recs[1]["reason"], "mailboxfull");
    assert_eq!(recs[1]["remote_mta"], "mx.example.jp");
    assert_eq!(
        recs[1]["original_message_id"],
        "<20150213024748.CEEDB20C16@2jo.example.jp>"
    );
    // A complaint is not a failure.
    assert_eq!(recs[2]["reason"], "feedback");
    assert!(recs[2]["status"].is_null());
    // qmail: no delivery-status part; code from "(#5.5.0)", the original not read.
    assert_eq!(recs[3]["recipient"], "kijitora@example.ne.jp");
    assert_eq!(recs[3]["status"], "5.5.0");
    assert_eq!(recs[3]["reason"], "userunknown");
    assert_eq!(recs[3]["replycode"], 550);
    assert_eq!(
        recs[3]["original_message_id"],
        "<000000000.9999999999999.JavaMail.postmaster@mailhub>"
    );
    assert!(!recs[3]["diagnostic"].as_str().unwrap().contains("kuroneko"));
}

#[test]
fn a_maildir_and_bad_files_each_get_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Bounces");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::copy(
        format!("{FIXTURES}/lhost-sendmail/lhost-sendmail-01.eml"),
        maildir.join("cur/1.host:2,S"),
    )
    .unwrap();
    std::fs::write(maildir.join("new/2.host"), b"\x00\x01 not mail at all").unwrap();
    let junk = dir.path().join("junk.eml");
    std::fs::write(
        &junk,
        b"Content-Type: multipart/report; boundary=\"x\"\n\n--x\nbroken",
    )
    .unwrap();
    let md = maildir.to_str().unwrap();
    let (code, recs, err) = classify(&[md, junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("new/2.host"), "{err}");
    assert!(err.contains("junk.eml"), "{err}");
    assert!(!recs.is_empty());
    assert!(recs.iter().all(|r| r["file"] == md));
}
