//! Time as the mail server saw it: arrival and queue age from what each log tells, "now"
//! as the last log line, zones (`--tz`), DST, the year across rotated files, and the
//! time window (`--since` / `--until`). Each case runs on a small log written for it,
//! or on real lines from the corpus copies in tests/fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn sendlog(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SENDLOG_DB")
        // The machine's zone must not matter where a test names one.
        .env("TZ", "Asia/Kolkata")
        .output()
        .expect("run sendlog");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(db: &Path, args: &[&str]) -> String {
    let (code, out, err) = sendlog(db, args);
    assert_eq!(code, 0, "sendlog {args:?}: {out}{err}");
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Imports a small log written for a test: its stamps are from 2026, in UTC.
fn import_2026_utc(db: &Path, log: &Path) {
    ok(
        db,
        &[
            "import",
            "--year",
            "2026",
            "--tz",
            "UTC",
            log.to_str().unwrap(),
        ],
    );
}

fn deliveries(db: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["export", "deliveries"];
    args.extend_from_slice(extra);
    ok(db, &args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn report(db: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(db, &args)).unwrap()
}

fn one<'a>(rows: &'a [Value], recipient: &str) -> &'a Value {
    let found: Vec<&Value> = rows
        .iter()
        .filter(|r| r["recipient"] == recipient)
        .collect();
    assert_eq!(found.len(), 1, "one delivery to {recipient}: {rows:?}");
    found[0]
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn unix(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// A log that starts mid-life: the message's first line here says it has been queued
/// 4.6 days (`delay=397440`) in a 5-day queue. Its age, arrival and time left come from
/// that, not from the first line the store holds; "now" is the last log line, and
/// `--now` moves it.
const MID_LIFE: &str = "\
Mar  1 10:00:00 mx1 postfix/smtp[100]: 4A1B2C3D4E: to=<ops@slow.example>, relay=none, delay=397440, delays=397430/0/10/0, dsn=4.4.1, status=deferred (connect to mx.slow.example[192.0.2.9]:25: Connection timed out)
Mar  1 11:00:00 mx1 postfix/qmgr[90]: 5B2C3D4E5F: from=<news@sender.example>, size=900, nrcpt=1 (queue active)
Mar  1 11:59:00 mx1 postfix/smtp[101]: 5B2C3D4E5F: to=<a@fast.example>, relay=mx.fast.example[192.0.2.10]:25, delay=3540, delays=0/0/1/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Mar  1 12:00:00 mx1 postfix/qmgr[90]: 5B2C3D4E5F: removed
";

#[test]
fn queue_age_comes_from_delay_when_the_arrival_line_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(dir.path(), "mail.log", MID_LIFE);
    import_2026_utc(&db, &log);
    let rows = deliveries(&db, &[]);
    let slow = one(&rows, "ops@slow.example");
    let line = unix("2026-03-01T10:00:00Z");
    assert_eq!(slow["arrived_at"], rfc3339(line - 397_440));
    assert_eq!(slow["queue_age"], 397_440);
    assert_eq!(slow["first_attempt"], rfc3339(line));
    // The sent message's arrival line is missing too; its own delay= tells.
    let fast = one(&rows, "a@fast.example");
    assert_eq!(fast["arrived_at"], "2026-03-01T11:00:00Z");
    assert_eq!(fast["queue_age"], 3540);

    // At risk as of the last log line (12:00), not the message's own last attempt
    // (10:00) and not this machine's clock.
    let r = report(&db, &[]);
    assert_eq!(r["as_of"], "2026-03-01T12:00:00Z");
    let risk = &r["at_risk"][0];
    assert_eq!(risk["recipient"], "ops@slow.example");
    assert_eq!(risk["arrival_known"], true);
    assert_eq!(risk["age"], 397_440 + 7200);
    assert_eq!(risk["seconds_left"], 5 * 86_400 - 397_440 - 7200);
    let text = ok(&db, &["report"]);
    assert!(text.contains("as of 2026-03-01T12:00:00Z"), "{text}");
    assert!(text.contains("4d16h old"), "{text}");

    // `--now` judges at another time; a day later the mail is overdue.
    let later = report(&db, &["--now", "2026-03-02T12:00:00Z"]);
    assert_eq!(later["as_of"], "2026-03-02T12:00:00Z");
    assert_eq!(
        later["at_risk"][0]["seconds_left"],
        5 * 86_400 - 397_440 - 7200 - 86_400
    );
    let (code, _, err) = sendlog(&db, &["report", "--now", "yesterday"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a time"), "{err}");
}

/// Where the log tells no arrival (no arrival line, no `delay=`), sendlog does not make
/// one up: `arrived_at` is null, and at-risk counts from the first line as a lower bound.
#[test]
fn an_arrival_the_log_does_not_tell_is_null_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(
        dir.path(),
        "mail.log",
        "Mar  1 10:00:00 mx1 postfix/qmgr[90]: 6C3D4E5F6A: from=<a@sender.example>, size=900, nrcpt=1 (queue active)
Mar  1 10:00:01 mx1 postfix/smtp[1]: 6C3D4E5F6A: to=<b@slow.example>, relay=none, dsn=4.4.1, status=deferred (connect to mx.slow.example[192.0.2.9]:25: Connection timed out)
Mar  4 10:00:00 mx1 postfix/smtp[1]: 6C3D4E5F6A: to=<b@slow.example>, relay=none, dsn=4.4.1, status=deferred (connect to mx.slow.example[192.0.2.9]:25: Connection timed out)
",
    );
    import_2026_utc(&db, &log);
    let rows = deliveries(&db, &[]);
    assert_eq!(rows[0]["arrived_at"], Value::Null);
    assert_eq!(rows[0]["queue_age"], Value::Null);
    let r = report(&db, &[]);
    assert_eq!(r["at_risk"][0]["arrival_known"], false);
    assert!(ok(&db, &["report"]).contains("≥3d0h old"));
}

/// Real Postfix lines (Postfix-Maillog-Dump): A94DF404B38D (a bounce notice) was queued
/// at 15:36:31 by the log; its first delivery line, a minute later, says `delay=60`, and
/// Postfix's own rounding leaves the arrival within a second of it.
#[test]
fn real_postfix_lines_give_the_arrival_from_delay() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/postfix/Postfix-Maillog-Dump__maillog"
    );
    ok(&db, &["import", "--year", "2019", "--tz", "UTC", log]);
    let rows = deliveries(&db, &[]);
    let d = one(&rows, "uacc6a31d@tecadmin.net");
    let first = unix(d["first_attempt"].as_str().unwrap());
    assert!(rfc3339(first).ends_with("-02-25T15:37:32Z"), "{d}");
    let arrived = unix(d["arrived_at"].as_str().unwrap());
    assert!((first - 61..=first - 60).contains(&arrived), "{d}");
    assert_eq!(
        d["queue_age"],
        unix(d["last_attempt"].as_str().unwrap()) - arrived
    );
}

/// The Exim id encodes the arrival time (UTC): with the server's zone given, the
/// stamps of the real Debian mainlog agree with it; and a message whose arrival line is
/// in the older file still gets its arrival from the newer file alone.
#[test]
fn exim_ids_give_the_arrival_and_tz_reads_the_stamps_in_the_servers_zone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let newer = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exim/Debian-VM-__mainlog"
    );
    ok(
        &db,
        &["import", "--tz", "America/New_York", "--host", "vm", newer],
    );
    let rows = deliveries(&db, &[]);
    // 1cImAN-0001CD-0m: only "retry time not reached" lines here; queued 2016-12-19
    // 00:50:59 UTC by its id.
    let d = rows
        .iter()
        .find(|r| r["queue_id"] == "1cImAN-0001CD-0m")
        .expect("1cImAN");
    assert_eq!(d["arrived_at"], "2016-12-19T00:50:59Z");
    // The first line of the file, 09:20:55 in New York, is 14:20:55 UTC.
    assert_eq!(d["first_attempt"], "2016-12-19T14:20:55Z");

    // 1cImRR-0001OU-02 logs only "retry time not reached" (not attempts): Exim waits on
    // the domain's retry time, set by 1cImOh-0001OM-8j's real failure to hotmail.com at
    // line 42, and that failure is its cause.
    let find = |id: &str| rows.iter().find(|r| r["queue_id"] == id).expect(id);
    let (waiting, failed) = (find("1cImRR-0001OU-02"), find("1cImOh-0001OM-8j"));
    assert_eq!(waiting["attempts"], 0);
    assert_eq!(failed["attempts"], 1);
    assert_eq!(
        waiting["last_deferral_text"],
        "host lookup did not complete"
    );
    assert_eq!(waiting["cause"], failed["cause"]);
    // Where each cause came from: its own attempt (line 42), or an attempt that was not
    // its own, repeated on its "retry time not reached" line (43).
    let said = |d: &Value| d["cause_source"].as_str().unwrap().to_string();
    assert!(said(failed).starts_with("this message's attempt at 2016-12-19T16:23:35Z"));
    assert!(said(failed).ends_with("__mainlog:42)"), "{}", said(failed));
    assert!(
        said(waiting).starts_with("an earlier attempt, not this message's: it was not tried"),
        "{}",
        said(waiting)
    );
    assert!(said(waiting).contains("__mainlog:43)"), "{}", said(waiting));
    // The report's at-risk list says the same.
    let at_risk = report(&db, &["--queue-lifetime", "2h"])["at_risk"].clone();
    let listed = at_risk
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["queue_id"] == "1cImRR-0001OU-02")
        .expect("1cImRR at risk");
    assert_eq!(listed["cause_source"], waiting["cause_source"]);

    let db2 = dir.path().join("s2.db");
    let older = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exim/Debian-VM-__mainlog.1"
    );
    ok(&db2, &["import", "--tz=-05:00", "--host", "vm", older]);
    let rows = deliveries(&db2, &[]);
    // 1cIm8w-0000yI-6V arrived (`<=`) at 19:49:30 local; its id says 00:49:30 UTC.
    let d = rows
        .iter()
        .find(|r| r["queue_id"] == "1cIm8w-0000yI-6V")
        .expect("1cIm8w");
    assert_eq!(d["arrived_at"], "2016-12-19T00:49:30Z");
    assert_eq!(d["first_attempt"], "2016-12-19T00:49:30Z");
}

/// Stamps without a zone are read in `--tz` (an offset or an IANA name), whatever this
/// machine's zone; the zone is remembered for the source, so its grown tail is read in
/// it too.
#[test]
fn tz_reads_zoneless_stamps_and_is_remembered_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let first = "Mar  1 10:00:00 mx1 postfix/smtp[1]: 7D4E5F6A7B: to=<a@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=5, delays=0/0/0/5, dsn=2.0.0, status=sent (250 ok)\n";
    for zone in ["+11:00", "Australia/Sydney"] {
        let db = dir
            .path()
            .join(format!("{}.db", zone.replace(['/', ':', '+'], "_")));
        let log = write(dir.path(), "mail.log", first);
        ok(
            &db,
            &[
                "import",
                "--year",
                "2026",
                "--tz",
                zone,
                log.to_str().unwrap(),
            ],
        );
        let rows = deliveries(&db, &[]);
        assert_eq!(rows[0]["first_attempt"], "2026-02-28T23:00:00Z", "{zone}");
        assert_eq!(rows[0]["arrived_at"], "2026-02-28T22:59:55Z", "{zone}");
    }
    // The grown log, imported again without --tz: its new line is read at +11 too.
    let db = dir.path().join("_11_00.db");
    let log = write(
        dir.path(),
        "mail.log",
        &format!(
            "{first}Mar  1 10:30:00 mx1 postfix/smtp[1]: 8E5F6A7B8C: to=<b@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
        ),
    );
    ok(&db, &["import", "--year", "2026", log.to_str().unwrap()]);
    let rows = deliveries(&db, &[]);
    assert_eq!(
        one(&rows, "b@x.example")["first_attempt"],
        "2026-02-28T23:30:00Z"
    );

    let (code, _, err) = sendlog(&db, &["import", "--tz", "Mars/Olympus", "x.log"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a time zone"), "{err}");
}

/// When clocks go back (New York, 1 Nov 2026, 02:00 EDT → 01:00 EST), 01:10 after
/// 01:30 is the second 01:10: a log is written in order. Read as the first, the success
/// would sort before the deferral it followed.
#[test]
fn a_repeated_dst_hour_is_placed_by_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(
        dir.path(),
        "mail.log",
        "Nov  1 01:30:00 mx1 postfix/smtp[1]: 9F6A7B8C9D: to=<a@x.example>, relay=none, delay=10, delays=0/0/10/0, dsn=4.4.1, status=deferred (connect to mx.x.example[192.0.2.1]:25: Connection timed out)
Nov  1 01:10:00 mx1 postfix/smtp[2]: 9F6A7B8C9D: to=<a@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=2410, delays=2400/0/5/5, dsn=2.0.0, status=sent (250 ok)
",
    );
    ok(
        &db,
        &[
            "import",
            "--year",
            "2026",
            "--tz",
            "America/New_York",
            log.to_str().unwrap(),
        ],
    );
    let rows = deliveries(&db, &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["first_attempt"], "2026-11-01T05:30:00Z");
    assert_eq!(rows[0]["last_attempt"], "2026-11-01T06:10:00Z");
    // Both lines tell the same arrival once read right.
    assert_eq!(rows[0]["arrived_at"], "2026-11-01T05:29:50Z");
}

/// `--year` is the year of the oldest file's first line; `mail.log.1` (December) and
/// `mail.log` (January) of one import are one year apart, whatever order they are
/// named in, so the message spanning them is one delivery, not a sent one and a
/// phantom deferred one.
#[test]
fn the_year_rolls_over_across_the_files_of_one_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let old = write(
        dir.path(),
        "mail.log.1",
        "Dec 31 23:50:00 mx1 postfix/smtp[1]: AB1C2D3E4F: to=<a@x.example>, relay=none, delay=60, delays=0/0/60/0, dsn=4.4.1, status=deferred (connect to mx.x.example[192.0.2.1]:25: Connection timed out)
",
    );
    let new = write(
        dir.path(),
        "mail.log",
        "Jan  1 00:20:00 mx1 postfix/smtp[2]: AB1C2D3E4F: to=<a@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=1860, delays=1800/0/30/30, dsn=2.0.0, status=sent (250 ok)
Jan  1 00:20:01 mx1 postfix/qmgr[3]: AB1C2D3E4F: removed
",
    );
    ok(
        &db,
        &[
            "import",
            "--year",
            "2025",
            "--tz",
            "UTC",
            new.to_str().unwrap(),
            old.to_str().unwrap(),
        ],
    );
    let rows = deliveries(&db, &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["first_attempt"], "2025-12-31T23:50:00Z");
    assert_eq!(rows[0]["last_attempt"], "2026-01-01T00:20:00Z");
    assert_eq!(rows[0]["arrived_at"], "2025-12-31T23:49:00Z");
}

/// Every line is an event or counted as skipped: `postfix/discard … status=sent` is a
/// delivery; a line with mail facts under an id sendlog cannot read is skipped, not
/// silently dropped; an Exim expiry line keeps the host it names.
#[test]
fn lines_that_used_to_vanish_are_events_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(
        dir.path(),
        "mail.log",
        "Mar  1 10:00:00 mx1 postfix/discard[7]: BC2D3E4F5A: to=<trap@sink.example>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=2.0.0, status=sent (discarded)
Mar  1 10:00:01 mx1 postfix/smtp[8]: not-a-queue-id: to=<lost@x.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to x[192.0.2.1]:25: Connection timed out)
Mar  1 10:00:02 mx1 postfix/smtpd[9]: connect from client.example[192.0.2.50]
Mar  1 10:00:03 mx1 postfix/qmgr[10]: BC2D3E4F5A: removed
",
    );
    import_2026_utc(&db, &log);
    let rows = deliveries(&db, &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["recipient"], "trap@sink.example");
    assert_eq!(rows[0]["status"], "sent");
    let src = &report(&db, &[])["sources"][0];
    assert_eq!(src["lines_read"], 4);
    assert_eq!(src["events"], 2);
    assert_eq!(src["lines_skipped"], 1);
    assert!(
        src["unparsed"][0][1]
            .as_str()
            .unwrap()
            .contains("not-a-queue-id")
    );

    let exim = write(
        dir.path(),
        "mainlog",
        "2026-03-01 10:00:00 1vXyZa-000001-AB <= news@sender.example U=app P=local S=900
2026-03-05 10:00:00 1vXyZa-000001-AB ** a@far.example R=dnslookup T=remote_smtp H=mx.far.example [192.0.2.44]: retry timeout exceeded
2026-03-05 10:00:00 1vXyZa-000001-AB Completed
",
    );
    let db2 = dir.path().join("e.db");
    ok(
        &db2,
        &[
            "import",
            "--tz",
            "UTC",
            "--host",
            "mx2",
            exim.to_str().unwrap(),
        ],
    );
    let rows = deliveries(&db2, &[]);
    assert_eq!(rows[0]["status"], "expired");
    assert_eq!(rows[0]["relay"], "mx.far.example[192.0.2.44]");
}

/// Exchange: a row that names no host belongs to the server that wrote the log, not to
/// whichever server the row before it named, so the message stays one message.
#[test]
fn exchange_rows_without_a_host_belong_to_the_logging_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let fields = "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";
    let log = write(
        dir.path(),
        "MSGTRK.LOG",
        &format!(
            "#Software: Microsoft Exchange Server\n#Log-type: Message Tracking Log\n{fields}\n\
2026-11-20T08:00:00.100Z,10.0.0.5,app01.example,10.0.0.10,EX01,,,SMTP,RECEIVE,1001,<m1@contoso.example>,11111111-aaaa-4bbb-8ccc-000000000001,alice@northwind.example,To,5120,1,,,Invoice,billing@contoso.example,billing@contoso.example,,Originating,,,,,Email,,15.02\n\
2026-11-20T08:00:01.000Z,10.0.0.6,app02.example,10.0.0.11,EX02,,,SMTP,RECEIVE,1002,<m2@contoso.example>,22222222-aaaa-4bbb-8ccc-000000000002,bob@fabrikam.example,To,5120,1,,,Invoice,billing@contoso.example,billing@contoso.example,,Originating,,,,,Email,,15.02\n\
2026-11-20T08:05:00.000Z,,,,,,,SMTP,DEFER,1001,<m1@contoso.example>,11111111-aaaa-4bbb-8ccc-000000000001,alice@northwind.example,451 4.4.0 DNS query failed,5120,1,,,Invoice,billing@contoso.example,billing@contoso.example,,Originating,,,,,Email,,15.02\n"
        ),
    );
    ok(
        &db,
        &["import", "--format", "exchange", log.to_str().unwrap()],
    );
    let rows = deliveries(&db, &[]);
    let alice: Vec<&Value> = rows
        .iter()
        .filter(|r| r["recipient"] == "alice@northwind.example")
        .collect();
    assert_eq!(alice.len(), 1, "{rows:?}");
    assert_eq!(alice[0]["host"], "EX01");
    assert_eq!(alice[0]["status"], "deferred");
    // RECEIVE is the arrival.
    assert_eq!(alice[0]["arrived_at"], "2026-11-20T08:00:00Z");
}

/// `--since` / `--until` narrow report and export to the deliveries active in the
/// window: an absolute time, or an age back from the last log line.
#[test]
fn since_and_until_narrow_report_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(
        dir.path(),
        "mail.log",
        "Mar  1 10:00:00 mx1 postfix/smtp[1]: CD3E4F5A6B: to=<early@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Mar  5 10:00:00 mx1 postfix/smtp[1]: DE4F5A6B7C: to=<middle@x.example>, relay=none, delay=1, delays=0/0/1/0, dsn=5.1.1, status=bounced (host mx.x.example[192.0.2.1] said: 550 5.1.1 no such user)
Mar  9 10:00:00 mx1 postfix/smtp[1]: EF5A6B7C8D: to=<late@x.example>, relay=mx.x.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
",
    );
    import_2026_utc(&db, &log);
    // Messages still open at the end of a log are written in no set order.
    let names = |rows: Vec<Value>| -> Vec<String> {
        let mut v: Vec<String> = rows
            .iter()
            .map(|r| r["recipient"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(deliveries(&db, &["--since", "2026-03-04T00:00:00Z"])),
        ["late@x.example", "middle@x.example"]
    );
    assert_eq!(
        names(deliveries(
            &db,
            &["--since", "5d", "--until", "2026-03-06T00:00:00Z"]
        )),
        ["middle@x.example"]
    );
    let r = report(&db, &["--until", "2026-03-02T00:00:00Z"]);
    assert_eq!(r["totals"]["deliveries"], 1);
    assert_eq!(r["totals"]["bounced"], 0);
    assert_eq!(r["until"], "2026-03-02T00:00:00Z");
    let r = report(&db, &["--since", "6d"]);
    assert_eq!(r["totals"]["deliveries"], 2);
    assert_eq!(r["since"], "2026-03-03T10:00:00Z");
    let text = ok(&db, &["report", "--since", "6d"]);
    assert!(
        text.contains("only deliveries active since 2026-03-03T10:00:00Z"),
        "{text}"
    );
    // The window is the view of this run only: the store still holds all three.
    assert_eq!(deliveries(&db, &[]).len(), 3);
    let (code, _, err) = sendlog(
        &db,
        &[
            "report",
            "--since",
            "2026-03-09T00:00:00Z",
            "--until",
            "2026-03-01T00:00:00Z",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("--since is after --until"), "{err}");
}

/// A single-server site sends everything from one host: expiries caused by timeouts
/// at many destinations do not make that host's reputation the suspect. `4.4.3 Host not
/// found, try again` is a lookup that failed for now, told apart from a domain that does
/// not exist.
#[test]
fn evidence_claims_need_sender_side_causes_and_dns_failures_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut log = String::new();
    for (i, d) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        log.push_str(&format!(
            "Mar  1 10:00:0{i} mx1 postfix/smtp[1]: AA{i}B2C3D4E: to=<u@{d}.example>, relay=none, delay=432000, delays=432000/0/0/0, dsn=4.4.1, status=deferred (connect to mx.{d}.example[192.0.2.1]:25: Connection timed out)
Mar  1 10:00:0{i} mx1 postfix/qmgr[2]: AA{i}B2C3D4E: from=<s@sender.example>, status=expired, returned to sender
"
        ));
    }
    // Real line (Postfix-Maillog-Dump): a temporary DNS failure.
    log.push_str("Feb 25 16:00:03 server1 postfix/smtp[28748]: A94DF404B38D: to=<uacc6a31d@tecadmin.net>, relay=none, delay=1412, delays=1392/0.04/19/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=tecadmin.net type=MX: Host not found, try again)\n");
    let log = write(dir.path(), "mail.log", &log);
    import_2026_utc(&db, &log);
    let text = ok(&db, &["explain", "4.4.7"]);
    assert!(text.contains("mx1"), "{text}");
    assert!(!text.contains("come from"), "{text}");
    assert!(!text.contains("below"), "{text}");
    let text = ok(&db, &["explain", "4.4.3"]);
    assert!(text.contains("0 not found, 1 failed for now"), "{text}");
}

/// The `first_attempt` of every delivery once `log` is imported with `--tz zone` into a
/// new store, in a stable order.
fn first_attempts_in(dir: &Path, log: &Path, zone: &str) -> Vec<(String, String)> {
    let db = dir.join(format!("{}.db", zone.replace(['/', ':', '+'], "_")));
    let _ = std::fs::remove_file(&db);
    ok(&db, &["import", "--tz", zone, log.to_str().unwrap()]);
    let mut rows: Vec<(String, String)> = deliveries(&db, &[])
        .iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().to_string(),
                r["first_attempt"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn shifted_by(earlier: &[(String, String)], later: &[(String, String)], hours: i64) -> bool {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    earlier.len() == later.len()
        && earlier
            .iter()
            .zip(later)
            .all(|(a, b)| a.0 == b.0 && t(&a.1) - t(&b.1) == hours * 3600)
}

/// `--tz` reads the stamps Exchange, Microsoft 365 and PowerMTA write without a zone
/// (PowerShell's local-time renderings, PowerMTA's `YYYY-MM-DD HH:MM:SS`); the ones that
/// carry a zone (Exchange tracking logs' ISO UTC, PowerMTA's `+0000`) are not moved by it,
/// and `--help` says so.
#[test]
fn tz_applies_to_zoneless_exchange_and_powermta_stamps_only() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");

    // PowerShell's Export-Csv of Get-MessageTrackingLog: "11/20/2026 9:00:00 AM", local.
    let ps = fixtures.join("exchange/get-messagetrackinglog.csv");
    let utc = first_attempts_in(dir.path(), &ps, "UTC");
    let east = first_attempts_in(dir.path(), &ps, "+11:00");
    assert!(!utc.is_empty());
    assert!(shifted_by(&utc, &east, 11), "{utc:?} vs {east:?}");

    // A tracking log's own stamps are UTC: --tz leaves them alone.
    let log = fixtures.join("exchange/MSGTRK20261120-1.LOG");
    let utc = first_attempts_in(dir.path(), &log, "UTC");
    assert!(!utc.is_empty());
    assert_eq!(first_attempts_in(dir.path(), &log, "+11:00"), utc);

    // PowerMTA stamps with an offset keep it; without one they are read in --tz.
    let acct = fixtures.join("powermta/acct-2026-11-20-0000.csv");
    let utc = first_attempts_in(dir.path(), &acct, "UTC");
    assert!(!utc.is_empty());
    assert_eq!(first_attempts_in(dir.path(), &acct, "+11:00"), utc);
    let zoneless = std::fs::read_to_string(&acct).unwrap().replace("+0000", "");
    let zoneless = write(dir.path(), "acct-zoneless.csv", &zoneless);
    let east = first_attempts_in(dir.path(), &zoneless, "+11:00");
    assert!(shifted_by(&utc, &east, 11), "{utc:?} vs {east:?}");

    let help = ok(&dir.path().join("h.db"), &["import", "--help"]);
    assert!(help.contains("Exchange tracking logs"), "{help}");
    assert!(help.contains("PowerMTA stamps without an offset"), "{help}");
}

/// A message Exim keeps frozen for the whole log names no recipient (its arrival line
/// does not, without `+received_recipients`): it is listed as a message, "frozen,
/// recipients unknown", by `report` and `report --json`. Real lines first (the Debian
/// mainlog holds 1cIm8w-0000yI-6V only as "Message is frozen" lines), then a small log.
#[test]
fn exim_mail_frozen_for_the_whole_log_is_listed_as_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let newer = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exim/Debian-VM-__mainlog"
    );
    ok(&db, &["import", "--tz", "UTC", "--host", "vm", newer]);
    let frozen = report(&db, &[])["frozen_recipients_unknown"].clone();
    let frozen = frozen.as_array().unwrap();
    assert_eq!(frozen.len(), 1, "{frozen:?}");
    assert_eq!(frozen[0]["queue_id"], "1cIm8w-0000yI-6V");
    assert_eq!(frozen[0]["recipients"], "unknown");
    assert_eq!(frozen[0]["frozen_since"], "2016-12-19T09:20:53Z");
    assert_eq!(frozen[0]["arrived_at"], "2016-12-19T00:49:30Z");
    let text = ok(&db, &["report"]);
    assert!(text.contains("Frozen, recipients unknown"), "{text}");
    assert!(text.contains("1cIm8w-0000yI-6V"), "{text}");

    // Frozen at arrival with no recipient named: listed, with why. Frozen, thawed and
    // delivered: not. Frozen after a deferral that named its recipient: that delivery
    // stands for it (still deferred), so it is not listed as unknown.
    let log = write(
        dir.path(),
        "mainlog",
        "2026-03-01 10:00:00 1vA0aa-000001-AB <= news@a.example U=news P=local S=900\n\
         2026-03-01 10:00:00 1vA0aa-000001-AB Frozen (delivery error message)\n\
         2026-03-01 10:30:00 1vA0aa-000001-AB Message is frozen\n\
         2026-03-01 10:00:05 1vA0bb-000001-AB <= news@a.example U=news P=local S=900\n\
         2026-03-01 10:00:05 1vA0bb-000001-AB Frozen by the system filter: held for review\n\
         2026-03-01 11:00:00 1vA0bb-000001-AB Unfrozen by forced delivery\n\
         2026-03-01 11:00:01 1vA0bb-000001-AB => x@b.example R=dnslookup T=remote_smtp H=mx.b.example [192.0.2.7]\n\
         2026-03-01 11:00:01 1vA0bb-000001-AB Completed\n\
         2026-03-01 10:00:09 1vA0cc-000001-AB <= news@a.example U=news P=local S=900\n\
         2026-03-01 10:00:10 1vA0cc-000001-AB == y@c.example R=dnslookup T=remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<y@c.example>: 451 4.7.1 try later\n\
         2026-03-01 10:00:11 1vA0cc-000001-AB Frozen\n",
    );
    let db2 = dir.path().join("s2.db");
    ok(
        &db2,
        &[
            "import",
            "--tz",
            "UTC",
            "--host",
            "mx",
            log.to_str().unwrap(),
        ],
    );
    let r = report(&db2, &[]);
    let frozen = r["frozen_recipients_unknown"].as_array().unwrap();
    assert_eq!(frozen.len(), 1, "{frozen:?}");
    assert_eq!(frozen[0]["queue_id"], "1vA0aa-000001-AB");
    assert_eq!(frozen[0]["sender"], "news@a.example");
    assert_eq!(frozen[0]["frozen"], "Frozen (delivery error message)");
    assert_eq!(frozen[0]["frozen_since"], "2026-03-01T10:00:00Z");
    let rows = deliveries(&db2, &[]);
    assert_eq!(one(&rows, "x@b.example")["status"], "sent");
    assert_eq!(one(&rows, "y@c.example")["status"], "deferred");

    // The time window holds for it too: logged until 10:30, it is in a window that ends
    // then and not in one that starts after.
    let listed = |args: &[&str]| -> usize {
        report(&db2, args)["frozen_recipients_unknown"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed(&["--until", "2026-03-01T10:15:00Z"]), 1);
    assert_eq!(listed(&["--since", "2026-03-01T10:45:00Z"]), 0);
    // A window that leaves out the frozen message's deferred neighbour's recipient does not
    // make that neighbour "recipients unknown".
    assert_eq!(listed(&["--since", "2026-03-01T10:00:11Z"]), 1);
}

/// Expired mail whose only lines are suspensions was never tried (`attempts: 0`); its
/// cause is the earlier failure those lines repeat, and `cause_source` says so, where a
/// message that was tried names its own attempt.
#[test]
fn the_cause_of_mail_never_tried_says_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let log = write(
        dir.path(),
        "mail.log",
        "Mar  1 10:00:00 mx1 postfix/smtp[1]: 1A2B3C4D5E: to=<a@x.example>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.x.example[192.0.2.1]:25: Connection timed out)\n\
         Mar  1 10:05:00 mx1 postfix/error[2]: 2B3C4D5E6F: to=<b@x.example>, relay=none, delay=5, delays=5/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.x.example[192.0.2.1]:25: Connection timed out)\n\
         Mar  6 10:05:00 mx1 postfix/qmgr[3]: 2B3C4D5E6F: from=<news@a.example>, status=expired, returned to sender\n\
         Mar  6 10:05:01 mx1 postfix/qmgr[3]: 2B3C4D5E6F: removed\n",
    );
    import_2026_utc(&db, &log);
    let rows = deliveries(&db, &[]);
    let (tried, never) = (one(&rows, "a@x.example"), one(&rows, "b@x.example"));
    assert_eq!(tried["attempts"], 1);
    assert_eq!(never["attempts"], 0);
    assert_eq!(never["status"], "expired");
    assert_eq!(never["cause"], "networkerror");
    assert!(tried["cause_source"].as_str().unwrap().starts_with(
        "this message's attempt to mx.x.example[192.0.2.1] at 2026-03-01T10:00:00Z ("
    ));
    let never_said = never["cause_source"].as_str().unwrap();
    assert!(
        never_said.starts_with(
            "an earlier attempt to mx.x.example[192.0.2.1], not this message's: it was not tried, its line at 2026-03-01T10:05:00Z ("
        ),
        "{never_said}"
    );
    assert!(
        never_said.ends_with("mail.log:2) repeats that error"),
        "{never_said}"
    );
    // CSV carries it as its last column.
    let csv = ok(&db, &["export", "deliveries", "--format", "csv"]);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",source,cause_source")
    );
}
