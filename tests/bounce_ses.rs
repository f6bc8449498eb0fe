//! Amazon SES notifications (JSON) as a bounce input: the documented SNS examples
//! (`tests/fixtures/bounces-heldout/ses/`, from the SES developer guide), the SNS
//! envelope around them, event-publishing records, and `classify` / `import` reading
//! them beside emails.

mod common;

use std::path::Path;
use std::process::Command;

use sendlog::classify::Reason;
use sendlog::ingest::bounce::{self, ReportKind};

const SES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/bounces-heldout/ses"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(SES).join(name)).expect("fixture")
}

#[test]
fn a_bounce_notification_gives_one_row_per_bounced_recipient() {
    let r = bounce::parse(read("bounce-with-dsn.json").as_bytes()).expect("a report");
    assert_eq!(r.kind, ReportKind::Bounce);
    assert_eq!(r.recipients.len(), 1);
    let j = &r.recipients[0];
    assert_eq!(j.recipient, "jane@example.com");
    assert_eq!(j.status.map(|c| c.to_string()).as_deref(), Some("5.1.1"));
    assert_eq!(j.reason, Reason::UserUnknown);
    assert_eq!(j.reply_code, Some(550));
    assert_eq!(j.diagnostic, "550 5.1.1 <jane@example.com>... User");
    assert_eq!(j.remote_mta.as_deref(), Some("127.0.2.0"));
    // The sender's own Message-ID links the bounce to its delivery, not SES's id.
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("<custom-message-ID>")
    );
    assert_eq!(r.reporting_mta.as_deref(), Some("email.example.com"));
    assert_eq!(r.original_sender.as_deref(), Some("john@example.com"));

    let r = bounce::parse(read("bounce-without-dsn.json").as_bytes()).expect("a report");
    let who: Vec<&str> = r.recipients.iter().map(|x| x.recipient.as_str()).collect();
    assert_eq!(who, ["jane@example.com", "richard@example.com"]);
    for x in &r.recipients {
        // Permanent, but nothing says why: no reason is invented.
        assert_eq!(x.status.map(|c| c.class), Some(5));
        assert_eq!(x.reason, Reason::Undefined);
    }
}

#[test]
fn complaints_and_deliveries_are_not_failures() {
    let c = bounce::parse(read("complaint.json").as_bytes()).expect("a report");
    assert_eq!(c.kind, ReportKind::Feedback);
    assert_eq!(c.recipients[0].recipient, "richard@example.com");
    assert_eq!(c.recipients[0].reason, Reason::Feedback);
    let d = bounce::parse(read("delivery.json").as_bytes()).expect("a report");
    assert_eq!(d.kind, ReportKind::Delivered);
    assert_eq!(d.recipients[0].reason, Reason::Delivered);
    assert_eq!(d.recipients[0].reply_code, Some(250));
}

#[test]
fn the_sns_envelope_and_event_publishing_records_are_read_too() {
    let inner = read("bounce-with-dsn.json");
    // SNS delivers the notification as a JSON string in `Message`.
    let envelope = serde_json::json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-bounces",
        "Message": inner,
    })
    .to_string();
    let r = bounce::parse(envelope.as_bytes()).expect("the envelope is opened");
    assert_eq!(r.recipients[0].reason, Reason::UserUnknown);

    // Event publishing names the type `eventType`, and adds delivery delays.
    let event = inner.replace("\"notificationType\"", "\"eventType\"");
    assert_eq!(
        bounce::parse(event.as_bytes())
            .expect("an event")
            .recipients[0]
            .reason,
        Reason::UserUnknown
    );
    let delay = serde_json::json!({
        "eventType": "DeliveryDelay",
        "mail": {"timestamp": "2020-06-16T00:15:40.641Z", "source": "sender@example.com",
                 "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"},
        "deliveryDelay": {
            "timestamp": "2020-06-16T00:25:40.095Z",
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2020-06-16T00:25:40.914Z",
            "delayedRecipients": [{
                "emailAddress": "recipient@example.com",
                "status": "4.4.1",
                "diagnosticCode": "smtp; 421 4.4.0 Unable to lookup DNS for example.com"
            }]
        }
    })
    .to_string();
    let r = bounce::parse(delay.as_bytes()).expect("a delay");
    assert_eq!(r.recipients[0].action.as_deref(), Some("delayed"));
    assert_eq!(r.recipients[0].status.map(|c| c.class), Some(4));
    assert!(
        !r.recipients[0].expired,
        "a delay is not the end of the queue lifetime"
    );
}

#[test]
fn json_that_is_no_ses_notification_is_refused() {
    for text in [
        "{}",
        "{\"notificationType\":\"Bounce\"}",
        "{\"Message\":\"not json\"}",
        "{ not json",
    ] {
        assert!(bounce::parse(text.as_bytes()).is_err(), "{text}");
    }
}

#[test]
fn classify_names_a_file_that_is_no_bounce_and_still_prints_the_others() {
    let junk = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junk/notes.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .current_dir(SES)
        .args(["classify", "bounce-with-dsn.json", junk, "complaint.json"])
        .output()
        .expect("run sendlog");
    assert_eq!(out.status.code(), Some(1), "a file could not be read");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not an email"),
        "{stderr}"
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let files: Vec<&str> = rows.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["bounce-with-dsn.json", "complaint.json"]);
    assert_eq!(rows[0]["reason"], "userunknown");
    assert_eq!(rows[1]["reason"], "feedback");
}

#[test]
fn import_reads_a_notification_into_the_store() {
    let store = common::TempStore::new();
    let file = Path::new(SES).join("bounce-with-dsn.json");
    store.run_ok(&["import", file.to_str().expect("utf-8 path")]);
    let rows = store.deliveries();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["recipient"], "jane@example.com");
    assert_eq!(rows[0]["cause"], "userunknown");
    // The store keeps Message-IDs bare.
    assert_eq!(rows[0]["message_id"], "custom-message-ID");
}

/// An SES bounce for an address on the suppression list (the documented `Suppressed`
/// subtype with SES's own diagnostic): nothing was sent, whatever the code says.
fn suppressed_notification() -> String {
    serde_json::json!({
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "Suppressed",
            "bouncedRecipients": [{
                "emailAddress": "gone@example.net",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address. For more information about how to remove an address from the suppression list, see the Amazon SES Developer Guide: http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html "
            }],
            "timestamp": "2016-01-27T14:59:38.237Z",
            "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
            "reportingMTA": "dns; amazonses.com"
        },
        "mail": {
            "timestamp": "2016-01-27T14:59:38.237Z",
            "source": "john@example.com",
            "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
            "destination": ["gone@example.net"],
            "commonHeaders": {"messageId": "<suppressed-1@example.com>", "subject": "Hello"}
        }
    })
    .to_string()
}

#[test]
fn a_suppressed_address_is_suppressed_in_classify_and_in_the_store() {
    let r = bounce::parse(suppressed_notification().as_bytes()).expect("a report");
    assert_eq!(r.recipients[0].reason, Reason::Suppressed);
    // The store classifies the diagnostic again: the same reason must come out.
    let store = common::TempStore::new();
    let file = store.dir.path().join("suppressed.json");
    std::fs::write(&file, suppressed_notification()).expect("write");
    store.run_ok(&["import", file.to_str().expect("utf-8 path")]);
    let rows = store.deliveries();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["recipient"], "gone@example.net");
    assert_eq!(rows[0]["cause"], "suppressed");
}

/// The documented notifications, each compacted to one line.
fn one_line(name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&read(name)).expect("JSON fixture");
    v.to_string()
}

const ALL: [&str; 4] = [
    "bounce-with-dsn.json",
    "bounce-without-dsn.json",
    "complaint.json",
    "delivery.json",
];

fn classify_rows(store: &common::TempStore, file: &Path) -> Vec<(String, String, String)> {
    store
        .run_ok(&["classify", file.to_str().expect("utf-8 path")])
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("file"), s("recipient"), s("reason"))
        })
        .collect()
}

#[test]
fn a_file_of_json_lines_or_a_json_array_gives_every_notification() {
    let store = common::TempStore::new();
    let lines = store.dir.path().join("ses.jsonl");
    std::fs::write(&lines, ALL.map(one_line).join("\n") + "\n").expect("write");
    // The same notifications as a pretty-printed array (how an SNS export saves them).
    let array = store.dir.path().join("ses-array.json");
    let values: Vec<serde_json::Value> = ALL
        .iter()
        .map(|n| serde_json::from_str(&read(n)).expect("JSON fixture"))
        .collect();
    std::fs::write(&array, serde_json::to_string_pretty(&values).unwrap()).expect("write");
    let want = [
        ("jane@example.com", "userunknown"),
        ("jane@example.com", "undefined"),
        ("richard@example.com", "undefined"),
        ("richard@example.com", "feedback"),
        ("jane@example.com", "delivered"),
    ];
    for file in [&lines, &array] {
        let got = classify_rows(&store, file);
        let who: Vec<(&str, &str)> = got
            .iter()
            .map(|(_, r, why)| (r.as_str(), why.as_str()))
            .collect();
        assert_eq!(who, want, "{}", file.display());
    }
    // Imported, every bounced recipient is a delivery of its own.
    store.run_ok(&["import", lines.to_str().expect("utf-8 path")]);
    let mut causes: Vec<String> = store
        .deliveries()
        .iter()
        .map(|d| format!("{} {}", d["recipient"], d["cause"]))
        .collect();
    causes.sort();
    assert!(
        causes
            .iter()
            .any(|c| c.contains("jane@example.com") && c.contains("userunknown")),
        "{causes:?}"
    );
}

#[test]
fn a_broken_notification_is_named_and_the_ones_before_it_are_kept() {
    let store = common::TempStore::new();
    let file = store.dir.path().join("ses.jsonl");
    std::fs::write(
        &file,
        one_line("bounce-with-dsn.json") + "\n{\"notificationType\": \n",
    )
    .expect("write");
    let out = store.run(&["classify", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("jane@example.com"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ses.jsonl") && stderr.contains("not JSON after notification 1"),
        "{stderr}"
    );
}
