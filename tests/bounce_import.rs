//! `sendlog import` of bounce emails: a report joins the delivery the log holds (by queue
//! id + recipient here, as Postfix's own NDR names its queue id), otherwise it stands as
//! a delivery of its own; re-importing adds nothing; bad inputs are reported per file.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn sendlog(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run sendlog");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn deliveries(db: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = sendlog(db, &["export", "deliveries"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The NDR Postfix's bounce daemon writes for queue id DC45E7C3131 of the log fixture.
fn postfix_ndr(dir: &Path) -> PathBuf {
    let ndr = "Return-Path: <>\r\n\
From: MAILER-DAEMON@RHL058 (Mail Delivery System)\r\n\
To: no-reply@grooveshark.com\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Date: Sun, 29 Jun 2014 03:10:53 +0000\r\n\
Message-Id: <20140629031053.272597C3693@RHL058>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain\r\n\
\r\n\
This is the mail system at host RHL058.\r\n\
\r\n\
<ua3b98f19@outllook.com>: connect to outllook.com[65.55.39.10]:25: Connection timed out\r\n\
\r\n\
--B\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; RHL058\r\n\
X-Postfix-Queue-ID: DC45E7C3131\r\n\
\r\n\
Final-Recipient: rfc822; ua3b98f19@outllook.com\r\n\
Action: failed\r\n\
Status: 4.4.1\r\n\
Diagnostic-Code: X-Postfix; connect to outllook.com[65.55.39.10]:25: Connection timed out\r\n\
\r\n\
--B--\r\n";
    let path = dir.join("ndr.eml");
    std::fs::write(&path, ndr).unwrap();
    path
}

#[test]
fn an_ndr_joins_the_logged_delivery_instead_of_adding_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = format!("{FIXTURES}/bounce-link/postfix-expired.log");
    let ndr = postfix_ndr(dir.path());
    let (code, out, err) = sendlog(&db, &["import", "--year", "2014", &log]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(deliveries(&db).len(), 1);
    let (code, out, err) = sendlog(&db, &["import", ndr.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(": eml: 1 message read"), "{out}");
    // The summary says the delivery was already there.
    assert!(out.contains(", 0 new deliveries, 1 updated,"), "{out}");
    let rows = deliveries(&db);
    assert_eq!(
        rows.len(),
        1,
        "the NDR joined the logged delivery: {rows:?}"
    );
    assert_eq!(rows[0]["status"], "expired");
    assert_eq!(rows[0]["code"], "4.4.7");
    assert_eq!(rows[0]["cause"], "networkerror");
    // The report is not another attempt of ours: the log's one deferral stays the count.
    assert_eq!(rows[0]["attempts"], 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (linked_by, expired, reason): (String, bool, String) = conn
        .query_row(
            "SELECT linked_by, expired, reason FROM bounces WHERE recipient = 'ua3b98f19@outllook.com'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(linked_by, "queue_id");
    assert!(
        expired,
        "a transient code reported as failed means the queue gave up"
    );
    // The report's outcome is the expiry; the delivery keeps the cause behind it.
    assert_eq!(reason, "expired");
    // The same report again adds nothing.
    let (code, out, _) = sendlog(&db, &["import", ndr.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("already imported"), "{out}");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM bounces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

/// A report imported before its log stands alone; when the log comes, the report joins
/// the logged delivery and the store ends as if they had come the other way round, with
/// a mark on the standalone delivery moved to the joined one.
#[test]
fn a_report_imported_before_its_log_joins_it_when_the_log_comes() {
    let dir = tempfile::tempdir().unwrap();
    let log = format!("{FIXTURES}/bounce-link/postfix-expired.log");
    let ndr = postfix_ndr(dir.path());

    let log_first = dir.path().join("log-first.db");
    for input in [&log, ndr.to_str().unwrap()] {
        let (code, out, err) = sendlog(&log_first, &["import", "--year", "2014", input]);
        assert_eq!(code, 0, "{out}{err}");
    }

    let report_first = dir.path().join("report-first.db");
    let (code, out, err) = sendlog(&report_first, &["import", ndr.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(deliveries(&report_first).len(), 1);
    let conn = rusqlite::Connection::open(&report_first).unwrap();
    conn.execute(
        "INSERT INTO marks (message_ref, recipient, marked_at) SELECT message_ref, recipient, 0 FROM deliveries",
        [],
    )
    .unwrap();
    let (code, out, err) = sendlog(&report_first, &["import", "--year", "2014", &log]);
    assert_eq!(code, 0, "{out}{err}");

    assert_eq!(deliveries(&report_first), deliveries(&log_first));
    let (messages, mark_on_log, linked_by): (i64, bool, String) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM messages),
                    (SELECT m.format != 'eml' FROM marks k JOIN messages m ON m.id = k.message_ref),
                    (SELECT linked_by FROM bounces)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(messages, 1, "the standalone message is gone");
    assert!(mark_on_log, "the mark followed the delivery");
    assert_eq!(linked_by, "recipient");
}

/// The logged deferrals say only "450 Temporary failure"; the relay's report for the same
/// Message-ID names the last error. Linked, the report's clearer reason becomes the cause
/// behind the 4.4.7, and the logged attempts stay as counted.
#[test]
fn a_linked_report_with_a_clearer_last_error_refines_a_vague_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = format!("{FIXTURES}/bounce-link/postfix-vague-deferral.log");
    let report = format!("{FIXTURES}/bounce-link/sendmail-447-last-error.eml");
    let (code, out, err) = sendlog(&db, &["import", "--year", "2026", &log]);
    assert_eq!(code, 0, "{out}{err}");
    let before = deliveries(&db);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["status"], "expired");
    let vague = before[0]["cause"].as_str().unwrap().to_string();
    assert_ne!(vague, "requireptr");

    let (code, out, err) = sendlog(&db, &["import", &report]);
    assert_eq!(code, 0, "{out}{err}");
    let after = deliveries(&db);
    assert_eq!(after.len(), 1, "the report joined the logged delivery");
    let d = &after[0];
    assert_eq!(d["status"], "expired");
    assert_eq!(d["code"], "4.4.7");
    assert_eq!(d["cause"], "requireptr", "{d}");
    assert_eq!(d["last_deferral_code"], "4.7.1");
    assert!(
        d["last_deferral_text"]
            .as_str()
            .unwrap()
            .contains("cannot find your reverse hostname")
    );
    assert_eq!(d["attempts"], before[0]["attempts"]);
}

/// An RFC 3464 report from `mta` (dated Fri, 20 Nov 2026 10:00 UTC, as Postfix writes
/// them) on one failed recipient of the message `message_id`.
fn rfc3464_report(
    mta: &str,
    recipient: &str,
    status: &str,
    reply: &str,
    message_id: &str,
) -> String {
    format!(
        "From: MAILER-DAEMON@{mta}\r\n\
To: outreach@northwind-sales.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Date: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain\r\n\
\r\n\
<{recipient}>: {reply}\r\n\
\r\n\
--B\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; {mta}\r\n\
\r\n\
Final-Recipient: rfc822; {recipient}\r\n\
Remote-MTA: dns; {mta}\r\n\
Action: failed\r\n\
Status: {status}\r\n\
Diagnostic-Code: smtp; {reply}\r\n\
Last-Attempt-Date: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
\r\n\
--B\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
Message-ID: <{message_id}>\r\n\
\r\n\
--B--\r\n"
    )
}

/// The log is the authority for what the server did; a report joins by a Message-ID
/// every recipient of the mail can read. Forged reports on anna's logged `status=sent`
/// (a hard bounce, and an expiry blaming reputation) leave her sent and are shown as
/// conflicts (report text and JSON, and on her Delivery screen) instead.
#[test]
fn a_report_never_overturns_a_logged_send_and_the_conflict_is_shown() {
    for (status, reply) in [
        (
            "5.1.1",
            "550 5.1.1 <anna@tinyco.example>: Recipient address rejected: User unknown",
        ),
        (
            "4.4.7",
            "451 4.7.650 The mail server has been temporarily rate limited due to IP reputation",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
        let (code, out, err) = sendlog(&db, &["import", "--year", "2026", log]);
        assert_eq!(code, 0, "{out}{err}");
        let anna = |rows: &[serde_json::Value]| -> serde_json::Value {
            let found: Vec<_> = rows
                .iter()
                .filter(|d| d["recipient"] == "anna@tinyco.example")
                .cloned()
                .collect();
            assert_eq!(found.len(), 1, "{found:?}");
            found[0].clone()
        };
        let all_before = deliveries(&db);
        let before = anna(&all_before);
        assert_eq!(before["status"], "sent");

        let report = rfc3464_report(
            "mx.tinyco.example",
            "anna@tinyco.example",
            status,
            reply,
            "20261120090500.7A3D44F326@northwind-sales.example",
        );
        let path = dir.path().join("forged.eml");
        std::fs::write(&path, report).unwrap();
        let (code, out, err) = sendlog(&db, &["import", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        let rows = deliveries(&db);
        assert_eq!(anna(&rows), before, "the logged delivery is untouched");
        assert_eq!(rows.len(), all_before.len(), "nothing added");

        let (code, text, err) = sendlog(&db, &["report"]);
        assert_eq!(code, 0, "{err}");
        let section = text
            .split("Bounce reports that contradict the log")
            .nth(1)
            .unwrap_or_else(|| panic!("no conflict section: {text}"));
        assert!(section.contains("anna@tinyco.example"), "{section}");
        assert!(
            section.contains("the log has this delivery sent"),
            "{section}"
        );
        let (code, json, err) = sendlog(&db, &["report", "--json"]);
        assert_eq!(code, 0, "{err}");
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let conflicts = json["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0]["recipient"], "anna@tinyco.example");

        // The Delivery screen shows the report beside the log's outcome, as a conflict.
        let store = sendlog::store::Store::open(db.to_str().unwrap()).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let id: i64 = conn
            .query_row(
                "SELECT id FROM deliveries WHERE recipient = 'anna@tinyco.example'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let detail = store.delivery_detail(id).unwrap().unwrap();
        assert_eq!(detail.status, "sent");
        let mut state = sendlog::app::AppState::new(
            sendlog::app::Keymap::embedded().unwrap(),
            std::sync::Arc::new(sendlog::knowledge::Knowledge::builtin().unwrap()),
            false,
            (120, 60),
        );
        sendlog::app::start(&mut state, vec![]);
        state.screen = sendlog::app::state::Screen::Delivery;
        state.delivery.id = Some(id);
        sendlog::app::update(
            &mut state,
            sendlog::app::Msg::Delivery {
                id,
                detail: Some(Box::new(detail)),
            },
        );
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 60)).unwrap();
        term.draw(|f| sendlog::ui::render(f, &state)).unwrap();
        let screen = term.backend().to_string();
        // The sentence wraps where the source's path (which depends on the checkout) ends.
        let words = screen
            .replace(['│', '"'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(words.contains("Conflict"), "{screen}");
        assert!(words.contains("the log's outcome stands"), "{screen}");
    }
}

/// A report naming a recipient the logged message never had adds nobody to that message:
/// it stands apart as a bounce-only delivery, with the contradiction shown — whether the
/// report comes before the log or after it.
#[test]
fn a_report_never_adds_a_recipient_to_a_logged_message() {
    for report_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
        let id = "20261120091000.9C5F661548@northwind-sales.example";
        let path = dir.path().join("forged.eml");
        std::fs::write(
            &path,
            rfc3464_report(
                "relay.example",
                "intruder@elsewhere.example",
                "4.4.7",
                "451 4.7.650 rate limited due to IP reputation",
                id,
            ),
        )
        .unwrap();
        let path = path.to_str().unwrap();
        let order: [&[&str]; 2] = if report_first {
            [&["import", path], &["import", "--year", "2026", log]]
        } else {
            [&["import", "--year", "2026", log], &["import", path]]
        };
        for args in order {
            let (code, out, err) = sendlog(&db, args);
            assert_eq!(code, 0, "{out}{err}");
        }
        let rows = deliveries(&db);
        let on_message: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|d| d["queue_id"] == "9C5F661548")
            .collect();
        assert_eq!(on_message.len(), 2, "{on_message:?}");
        assert!(
            on_message
                .iter()
                .all(|d| d["recipient"] != "intruder@elsewhere.example")
        );
        let apart: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|d| d["recipient"] == "intruder@elsewhere.example")
            .collect();
        assert_eq!(apart.len(), 1, "it stands apart: {apart:?}");
        assert_ne!(apart[0]["queue_id"], "9C5F661548");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (linked_by, conflict): (String, Option<String>) = conn
            .query_row("SELECT linked_by, conflict FROM bounces", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(linked_by, "none", "report first: {report_first}");
        let conflict = conflict.expect("the contradiction is recorded");
        assert!(
            conflict.contains("has no recipient intruder@elsewhere.example"),
            "{conflict}"
        );
        let (_, text, _) = sendlog(&db, &["report"]);
        assert!(text.contains("contradict the log"), "{text}");

        // Resolving the cause the forged report names does not make its recipient a
        // re-send: only the contradicting report says it exists.
        let (code, _, err) = sendlog(&db, &["resolve", "--cause", "badreputation"]);
        assert_eq!(code, 0, "{err}");
        let (code, marked, err) = sendlog(&db, &["requeue", "mark", "--eligible"]);
        assert_eq!(code, 0, "{err}");
        assert!(marked.contains("1 contradicts log"), "{marked}");
        let (_, list, _) = sendlog(&db, &["requeue", "list"]);
        assert!(list.contains("dana.white@contoso-corp.example"), "{list}");
        assert!(!list.contains("intruder@elsewhere.example"), "{list}");
    }
}

/// A report on a delivery the log left unfinished still decides it, but the log's own
/// facts stay: the route is the one the log shows, and the report's remote MTA and date
/// are kept on its own row beside them.
#[test]
fn a_report_refines_an_unfinished_delivery_and_keeps_the_logs_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
    let (code, out, err) = sendlog(&db, &["import", "--year", "2026", log]);
    assert_eq!(code, 0, "{out}{err}");
    let sam = |rows: &[serde_json::Value]| {
        rows.iter()
            .find(|d| d["recipient"] == "treasury@slowbank.example")
            .cloned()
            .unwrap()
    };
    let before = sam(&deliveries(&db));
    assert_eq!(before["status"], "deferred");
    let path = dir.path().join("full.eml");
    std::fs::write(
        &path,
        rfc3464_report(
            "relay.example",
            // A report may spell the address in other case: it is still the same delivery.
            "Treasury@slowbank.example",
            "5.2.2",
            "552 5.2.2 Mailbox full",
            "20261122141000.D093AA5982@northwind-sales.example",
        ),
    )
    .unwrap();
    let (code, out, err) = sendlog(&db, &["import", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let rows = deliveries(&db);
    let after = sam(&rows);
    assert_eq!(after["status"], "bounced", "{after}");
    assert_eq!(after["code"], "5.2.2");
    assert_eq!(after["relay"], before["relay"], "the log's route stays");
    assert_eq!(after["attempts"], before["attempts"]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (remote, conflict): (Option<String>, Option<String>) = conn
        .query_row("SELECT remote_mta, conflict FROM bounces", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(conflict, None);
    assert_eq!(remote.as_deref(), Some("relay.example"), "kept beside");
}

/// A Message-ID is stored bare whether a log (`message-id=<x>`) or a report's headers
/// (`Message-ID: <x>`) gave it; a store from before that (schema 7, brackets kept from
/// reports) is brought in line when opened, and its reports still find their logged
/// message by Message-ID.
#[test]
fn message_ids_are_stored_bare_and_old_stores_still_link_by_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let id = "20261120090500.7A3D44F326@northwind-sales.example";
    let report = rfc3464_report(
        "mx.tinyco.example",
        "anna@tinyco.example",
        "5.2.2",
        "552 5.2.2 Mailbox full",
        id,
    );
    let path = dir.path().join("full.eml");
    std::fs::write(&path, report).unwrap();
    let (code, out, err) = sendlog(&db, &["import", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let alone = deliveries(&db);
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0]["message_id"], id);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let original: String = conn
        .query_row("SELECT original_message_id FROM bounces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(original, id);

    // As a sendlog before schema 8 left it (without what later schemas added, too).
    conn.execute_batch(
        "ALTER TABLE bounces DROP COLUMN conflict;
         DROP INDEX messages_settled;
         UPDATE messages SET message_id = '<' || message_id || '>';
         UPDATE bounces SET original_message_id = '<' || original_message_id || '>';
         ALTER TABLE messages DROP COLUMN arrived_at;
         ALTER TABLE sources DROP COLUMN tz;
         DROP TABLE history;
         DROP INDEX batch_items_recipient;
         DROP INDEX sources_eml_content;
         DROP INDEX messages_queue;
         CREATE INDEX messages_key ON messages(host, queue_id);
         DROP INDEX deliveries_failed_recipient;
         ALTER TABLE resolutions DROP COLUMN undone_at;
         ALTER TABLE sources DROP COLUMN block_hashes;
         DROP TABLE checks;
         ALTER TABLE messages DROP COLUMN frozen_at;
         ALTER TABLE messages DROP COLUMN frozen;
         DROP TABLE line_counts;
         ALTER TABLE messages DROP COLUMN size;
         DROP TABLE search;
         DROP TABLE hosts_seen;
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(conn);
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log");
    let (code, out, err) = sendlog(&db, &["import", "--year", "2026", log]);
    assert_eq!(code, 0, "{out}{err}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (version, bracketed, linked_by): (i64, i64, String) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    (SELECT count(*) FROM messages WHERE message_id LIKE '<%')
                      + (SELECT count(*) FROM bounces WHERE original_message_id LIKE '<%'),
                    (SELECT linked_by FROM bounces)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(version, sendlog::store::schema::CURRENT_VERSION);
    assert_eq!(bracketed, 0);
    assert_eq!(linked_by, "message_id");
    let rows = deliveries(&db);
    let anna: Vec<_> = rows
        .iter()
        .filter(|d| d["recipient"] == "anna@tinyco.example")
        .collect();
    assert_eq!(
        anna.len(),
        1,
        "the report joined the logged delivery: {anna:?}"
    );
    // Joined, and the log's `status=sent` stands (the report is a conflict beside it).
    assert_eq!(anna[0]["status"], "sent");
    assert_eq!(anna[0]["message_id"], id);
}

/// Two reports in one folder on two recipients of the same logged message both land: the
/// second must not reload the message from the store over the first one's update. The
/// log is cut before the message expires, so both deliveries are still unfinished in it.
#[test]
fn reports_on_two_recipients_of_one_message_both_join_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let full =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/mail.log"))
            .unwrap();
    let early: String = full.lines().take(60).map(|l| format!("{l}\n")).collect();
    assert!(!early.contains("9C5F661548: from=<outreach@northwind-sales.example>, status=expired"));
    let log = dir.path().join("early.log");
    std::fs::write(&log, early).unwrap();
    let log = log.to_str().unwrap();
    let (code, out, err) = sendlog(&db, &["import", "--year", "2026", log]);
    assert_eq!(code, 0, "{out}{err}");
    let count = deliveries(&db).len();
    let folder = dir.path().join("reports");
    std::fs::create_dir(&folder).unwrap();
    let id = "20261120091000.9C5F661548@northwind-sales.example";
    for (file, rcpt, status, reply) in [
        (
            "1.eml",
            "dana.white@contoso-corp.example",
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        ),
        (
            "2.eml",
            "sam.ortiz@outlook.com",
            "5.2.2",
            "552 5.2.2 Mailbox full",
        ),
    ] {
        std::fs::write(
            folder.join(file),
            rfc3464_report("relay.example", rcpt, status, reply, id),
        )
        .unwrap();
    }
    let (code, out, err) = sendlog(&db, &["import", folder.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let rows = deliveries(&db);
    assert_eq!(rows.len(), count, "joined, not added");
    for (rcpt, code) in [
        ("dana.white@contoso-corp.example", "5.1.10"),
        ("sam.ortiz@outlook.com", "5.2.2"),
    ] {
        let d = rows.iter().find(|d| d["recipient"] == rcpt).unwrap();
        assert_eq!(d["status"], "bounced", "{d}");
        assert_eq!(d["code"], code, "{d}");
    }
}

#[test]
fn reports_without_a_log_stand_as_deliveries_and_non_failures_never_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let b = format!("{FIXTURES}/bounces");
    let (code, out, err) = sendlog(
        &db,
        &[
            "import",
            &format!("{b}/lhost-postfix/lhost-postfix-13.eml"),
            &format!("{b}/arf/arf-01.eml"),
            &format!("{b}/rfc3834/rfc3834-01.eml"),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let rows = deliveries(&db);
    // lhost-postfix-13 bounced two recipients (5.2.1 and 5.2.2); the complaint and the
    // auto-reply are kept as bounce rows only.
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["5.2.1", "5.2.2"]);
    assert!(rows.iter().all(|r| r["status"] == "bounced"));
    assert!(rows.iter().any(|r| r["reason"] == "mailboxfull"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM bounces ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kinds, ["bounce", "bounce", "feedback", "vacation"]);
}

#[test]
fn bad_inputs_are_named_one_per_file_and_the_rest_still_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let not_a_bounce = dir.path().join("hello.eml");
    std::fs::write(
        &not_a_bounce,
        "From: friend@example.org\nTo: me@example.net\nSubject: lunch?\n\nSee you at noon.\n",
    )
    .unwrap();
    // An mbox cut in the middle of its second message.
    let good = std::fs::read(format!("{FIXTURES}/bounces/lhost-qmail/lhost-qmail-01.eml")).unwrap();
    let mut mbox = b"From MAILER-DAEMON Thu Apr 24 00:00:00 2013\n".to_vec();
    mbox.extend_from_slice(&good);
    mbox.extend_from_slice(b"\nFrom MAILER-DAEMON Thu Apr 24 00:00:01 2013\nFrom: MAILER-D");
    let truncated = dir.path().join("cut.mbox");
    std::fs::write(&truncated, &mbox).unwrap();
    let missing = dir.path().join("missing.eml");
    let (code, out, err) = sendlog(
        &db,
        &[
            "import",
            "--format",
            "eml",
            not_a_bounce.to_str().unwrap(),
            truncated.to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "a missing file is an error: {out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("missing.eml"), "{err}");
    assert!(
        out.contains("hello.eml: eml: 1 message read, 0 events, 0 deliveries, 1 skipped"),
        "{out}"
    );
    assert!(
        out.contains("cut.mbox: eml: 2 messages read, 1 event, 1 delivery, 1 skipped"),
        "{out}"
    );
    assert_eq!(deliveries(&db).len(), 1);
}

/// A message over the size cap inside a compressed mbox (a decompression bomb: 70 MB of
/// body from a few hundred KB of gzip) is skipped and said; the reports before and after
/// it are imported, in one import that succeeds.
#[test]
fn an_oversized_message_in_a_gzipped_mbox_is_skipped_and_the_rest_kept() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let path = dir.path().join("bounces.mbox.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let from = "From MAILER-DAEMON Fri Nov 20 10:00:00 2026\n";
    let report = |rcpt: &str| {
        rfc3464_report(
            "mx.example",
            rcpt,
            "5.1.1",
            "550 5.1.1 User unknown",
            &format!("{rcpt}.1@northwind-sales.example"),
        )
    };
    write!(gz, "{from}{}", report("first@one.example")).unwrap();
    write!(gz, "{from}Subject: huge\nFrom: x@y\n\n").unwrap();
    let line = [b'x'; 1023];
    for _ in 0..70 * 1024 {
        gz.write_all(&line).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    write!(gz, "{from}{}", report("last@two.example")).unwrap();
    gz.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 4_000_000);

    let (code, out, err) = sendlog(&db, &["import", "--format", "eml", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 messages read"), "{out}");
    assert!(out.contains("1 skipped"), "{out}");
    assert!(
        out.contains("#2: 71 MiB, larger than the 64 MiB a message may have: skipped"),
        "{out}{err}"
    );
    let rows = deliveries(&db);
    let recipients: Vec<&str> = rows
        .iter()
        .map(|d| d["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["first@one.example", "last@two.example"]);
}
