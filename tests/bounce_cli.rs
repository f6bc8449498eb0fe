//! `sendlog classify FILE…` as the command-line contract says: JSON lines, files in the order
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

/// Reports whose shape, not only their wording, carries the verdict.
#[test]
fn report_shapes_that_carry_the_verdict() {
    let (code, recs, err) = classify(&[
        "lhost-zoho/lhost-zoho-02.eml",
        "lhost-zoho/lhost-zoho-05.eml",
        "lhost-powermta/lhost-powermta-01.eml",
        "lhost-fml/lhost-fml-02.eml",
        "lhost-fml/lhost-fml-03.eml",
        "arf/arf-26.eml",
        "lhost-postfix/lhost-postfix-64.eml",
    ]);
    assert_eq!(code, 0, "{err}");
    let got: Vec<(String, String, String)> = recs
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["recipient"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        // Zoho lists each recipient on its own line with its own code.
        (
            "lhost-zoho/lhost-zoho-02.eml",
            "mikeneko@example.co.jp",
            "filtered",
        ),
        (
            "lhost-zoho/lhost-zoho-02.eml",
            "sabineko@example.co.jp",
            "mailboxfull",
        ),
        // A transient 421 in a report that calls the failure permanent: it gave up.
        (
            "lhost-zoho/lhost-zoho-05.eml",
            "kijitora@7jo.example.jp",
            "expired",
        ),
        // PowerMTA's Status comment "(mailbox disabled, not accepting messages)".
        (
            "lhost-powermta/lhost-powermta-01.eml",
            "kijitora@example.jp",
            "suspend",
        ),
        // fml refuses a non-member's post, and a message it already distributed.
        (
            "lhost-fml/lhost-fml-02.eml",
            "neko-nyaan@example.org",
            "rejected",
        ),
        (
            "lhost-fml/lhost-fml-03.eml",
            "neko@example.co.jp",
            "systemerror",
        ),
        // Apple Mail's unsubscribe message is the recipient opting out.
        ("arf/arf-26.eml", "example@icloud.com", "feedback"),
        // "Delivery report unavailable": no cause given is undefined, not onhold.
        ("lhost-postfix/lhost-postfix-64.eml", "", "undefined"),
    ];
    for (file, rcpt, reason) in want {
        assert!(
            got.iter()
                .any(|(f, r, why)| f == file && (rcpt.is_empty() || r == rcpt) && why == reason),
            "{file}: expected {rcpt} {reason}, got {got:?}"
        );
    }
}
