//! `sendlog check` against a DNS server and an SMTP listener this test starts on the
//! loopback interface (nothing leaves the machine): a dead MX, a vanished domain, a
//! listed sending address, a domain whose lookups fail, SPF/DMARC; `--json`, `--apply`
//! (a resolution like any other: in the history, undoable), the kept check history, and
//! a run with no resolver answering (one line, nothing recorded).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TempStore, fixture};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, MX, TXT};
use hickory_proto::rr::{Name, RData, Record};
use serde_json::Value;

/// A DNS server on 127.0.0.1 answering from a table; a name not in it is NXDOMAIN, and
/// `flaky.example` is SERVFAIL. Stops when dropped.
struct DnsServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Zone = HashMap<String, Vec<RData>>;

impl DnsServer {
    fn start(zone: Zone) -> DnsServer {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind UDP");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !stopping.load(Ordering::Relaxed) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let reply = answer(&zone, &query);
                let _ = socket.send_to(&reply.to_vec().unwrap(), peer);
            }
        });
        DnsServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(zone: &Zone, query: &Message) -> Message {
    let mut reply = Message::response(query.id, query.op_code);
    reply.metadata.recursion_desired = query.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_queries(query.queries.clone());
    let Some(q) = query.queries.first() else {
        reply.metadata.response_code = ResponseCode::FormErr;
        return reply;
    };
    let name = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if name == "flaky.example" {
        reply.metadata.response_code = ResponseCode::ServFail;
        return reply;
    }
    match zone.get(&name) {
        None => reply.metadata.response_code = ResponseCode::NXDomain,
        Some(records) => {
            for r in records.iter().filter(|r| r.record_type() == q.query_type()) {
                reply.add_answer(Record::from_rdata(q.name().clone(), 60, r.clone()));
            }
        }
    }
    reply
}

fn name(s: &str) -> Name {
    Name::from_ascii(format!("{s}.")).unwrap()
}

fn zone() -> Zone {
    let a = |ip: [u8; 4]| RData::A(A(Ipv4Addr::from(ip)));
    let mx = |host: &str| RData::MX(MX::new(10, name(host)));
    let txt = |t: &str| RData::TXT(TXT::new(vec![t.to_string()]));
    HashMap::from([
        // A live MX: the SMTP listener of the test.
        (
            "oldharbor.example".into(),
            vec![mx("mx1.oldharbor.example")],
        ),
        ("mx1.oldharbor.example".into(), vec![a([127, 0, 0, 1])]),
        // A dead MX: an address where nothing listens.
        ("deadport.example".into(), vec![mx("mx.deadport.example")]),
        ("mx.deadport.example".into(), vec![a([127, 0, 0, 2])]),
        // The sending address, listed.
        ("13.113.0.203.bl.test".into(), vec![a([127, 0, 0, 2])]),
        // The sender's domain publishes SPF and DMARC.
        (
            "northwind-sales.example".into(),
            vec![txt("v=spf1 ip4:203.0.113.0/24 -all")],
        ),
        (
            "_dmarc.northwind-sales.example".into(),
            vec![txt(
                "v=DMARC1; p=none; rua=mailto:dmarc@northwind-sales.example",
            )],
        ),
        // A domain one letter from gmx.com that has a mail host of its own.
        ("bmx.com".into(), vec![mx("mx00.bmx.com")]),
        ("mx00.bmx.com".into(), vec![a([127, 0, 0, 3])]),
        // vanished.example and gmial.com are in no table: NXDOMAIN.
    ])
}

/// An SMTP listener on 127.0.0.1 that answers 220, 250 to EHLO, 221 to QUIT and keeps
/// every command it was sent.
fn smtp_listener() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind TCP");
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(b"220 mx1.oldharbor.example ESMTP ready\r\n");
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let command = line.trim().to_string();
                log.lock().unwrap().push(command.clone());
                let reply: &[u8] = match command.split(' ').next().unwrap_or("") {
                    "EHLO" => b"250-mx1.oldharbor.example\r\n250 8BITMIME\r\n",
                    "QUIT" => b"221 2.0.0 bye\r\n",
                    _ => b"502 5.5.2 not here\r\n",
                };
                let _ = stream.write_all(reply);
                if command == "QUIT" {
                    break;
                }
                line.clear();
            }
        }
    });
    (port, seen)
}

fn imported() -> TempStore {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        "--year",
        "2026",
        fixture("check/mail.log").to_str().unwrap(),
    ]);
    store
}

fn check_args<'a>(dns: &'a str, smtp_port: &'a str) -> Vec<&'a str> {
    vec![
        "check",
        "--resolver",
        dns,
        "--smtp-port",
        smtp_port,
        "--timeout",
        "2s",
        "--zone",
        "bl.test",
    ]
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON output")
}

/// The result for `cause` (at `domain`, when given).
fn result<'a>(results: &'a Value, cause: &str, domain: Option<&str>) -> &'a Value {
    results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == cause && domain.is_none_or(|d| r["domain"].as_str() == Some(d)))
        .unwrap_or_else(|| panic!("no result for {cause} {domain:?} in {results:#}"))
}

#[test]
fn every_outcome_with_its_evidence() {
    let store = imported();
    let dns = DnsServer::start(zone());
    let (smtp_port, seen) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.push("--json");
    let results = json(&store.run_ok(&args));

    let live = result(&results, "networkerror", Some("oldharbor.example"));
    assert_eq!(live["result"], "fixed", "{live:#}");
    assert_eq!(live["check"], "smtp");
    assert_eq!(live["host"], "mta1");
    assert_eq!(
        live["evidence"],
        format!(
            "mx1.oldharbor.example (127.0.0.1:{smtp_port}) answers 220 (mx1.oldharbor.example ESMTP ready)"
        )
    );
    assert!(live["checked_at"].as_str().unwrap().ends_with('Z'));

    let dead = result(&results, "networkerror", Some("deadport.example"));
    assert_eq!(dead["result"], "failing", "{dead:#}");
    assert_eq!(
        dead["evidence"],
        format!(
            "no MX of deadport.example answers 220: mx.deadport.example (127.0.0.2:{smtp_port}) refused the connection"
        )
    );

    let gone = result(&results, "hostunknown", Some("vanished.example"));
    assert_eq!(gone["result"], "failing", "{gone:#}");
    assert_eq!(gone["check"], "dns");
    assert_eq!(
        gone["evidence"],
        "vanished.example does not exist (NXDOMAIN)"
    );

    // SERVFAIL is the path to the domain failing, not the domain: it settles nothing.
    let flaky = result(&results, "hostunknown", Some("flaky.example"));
    assert_eq!(flaky["result"], "unknown", "{flaky:#}");
    assert!(
        flaky["evidence"].as_str().unwrap().contains("transient"),
        "{flaky:#}"
    );

    let listed = results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "dnsbl")
        .expect("a blocklist check");
    assert_eq!(listed["result"], "failing", "{listed:#}");
    assert_eq!(listed["destination"], "strictmail.example");
    assert_eq!(
        listed["evidence"],
        "203.0.113.13 is listed in bl.test (127.0.0.2)"
    );

    let auth = result(&results, "authfailure", None);
    assert_eq!(auth["result"], "fixed", "{auth:#}");
    assert_eq!(
        auth["evidence"],
        "northwind-sales.example: SPF parses (2 terms, ends -all), DMARC parses (p=none)"
    );

    let grey = result(&results, "greylisted", None);
    assert_eq!(grey["result"], "unknown");
    assert_eq!(grey["check"], "none");
    let said = grey["evidence"].as_str().unwrap();
    assert!(
        said.starts_with("no lookup can tell whether greylisted is over; the last failure was "),
        "{said}"
    );
    assert!(
        said.contains("postgrey.schweikert.ch/help/tinyco.example.html"),
        "{said}"
    );

    // Every object carries the same fields.
    for r in results.as_array().unwrap() {
        for key in [
            "cause",
            "destination",
            "domain",
            "host",
            "check",
            "result",
            "evidence",
            "checked_at",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r:#}");
        }
    }

    // The listener was greeted and left; nothing was ever sent.
    let commands = seen.lock().unwrap().clone();
    assert!(
        commands.iter().any(|c| c.starts_with("EHLO [127.0.0.1]")),
        "{commands:?}"
    );
    assert!(commands.iter().any(|c| c == "QUIT"), "{commands:?}");
    assert!(
        !commands
            .iter()
            .any(|c| c.to_ascii_uppercase().starts_with("MAIL")
                || c.to_ascii_uppercase().starts_with("RCPT")
                || c.to_ascii_uppercase().starts_with("DATA")),
        "{commands:?}"
    );

    // Kept in the store: the history holds this run, per cause.
    let kept = json(&store.run_ok(&["check", "--history", "--json"]));
    assert_eq!(
        kept.as_array().unwrap().len(),
        results.as_array().unwrap().len()
    );
    let one = json(&store.run_ok(&[
        "check",
        "--history",
        "--json",
        "--cause",
        "networkerror",
        "--domain",
        "deadport.example",
    ]));
    assert_eq!(one.as_array().unwrap().len(), 1, "{one:#}");
    assert_eq!(one[0]["result"], "failing");
}

#[test]
fn text_output_names_each_cause_and_points_at_apply() {
    let store = imported();
    let dns = DnsServer::start(zone());
    let (smtp_port, _) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.extend(["--cause", "networkerror"]);
    let out = store.run_ok(&args);
    assert!(out.starts_with("Checked at "), "{out}");
    assert!(
        out.contains(&format!("through the resolver at {addr}:")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "fixed    networkerror at oldharbor.example from mta1 — smtp: mx1.oldharbor.example (127.0.0.1:{smtp_port}) answers 220"
        )),
        "{out}"
    );
    assert!(
        out.contains("failing  networkerror at deadport.example from mta1 — smtp: no MX of deadport.example answers 220"),
        "{out}"
    );
    assert!(
        !out.contains("hostunknown"),
        "--cause narrows the run: {out}"
    );
    assert!(
        out.contains("1 cause looks fixed: record it with --apply"),
        "{out}"
    );
    // Nothing was resolved without --apply.
    let history = json(&store.run_ok(&["history", "--json"]));
    assert!(!history.to_string().contains("\"resolve\""), "{history:#}");
}

#[test]
fn apply_records_an_undoable_resolution_with_the_evidence() {
    let store = imported();
    let dns = DnsServer::start(zone());
    let (smtp_port, _) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.extend(["--apply", "--json"]);
    let results = json(&store.run_ok(&args));

    // Fixed causes carry the resolution recorded for them; the others none.
    let live = result(&results, "networkerror", Some("oldharbor.example"));
    let id = live["resolution"]
        .as_i64()
        .expect("a resolution for the fixed MX");
    let auth = result(&results, "authfailure", None);
    assert!(auth["resolution"].as_i64().is_some(), "{auth:#}");
    for failing in [
        result(&results, "networkerror", Some("deadport.example")),
        result(&results, "hostunknown", Some("vanished.example")),
        result(&results, "hostunknown", Some("flaky.example")),
        result(&results, "greylisted", None),
    ] {
        assert!(failing.get("resolution").is_none(), "{failing:#}");
    }

    let history = json(&store.run_ok(&["history", "--json"]));
    let entries = history.as_array().expect("history entries");
    let resolved = entries
        .iter()
        .find(|e| e["action"] == "resolve" && e["ref"] == id)
        .unwrap_or_else(|| panic!("resolution {id} in {history:#}"));
    assert_eq!(
        resolved["scope"],
        "networkerror at oldharbor.example from mta1"
    );
    assert_eq!(
        resolved["note"],
        format!(
            "sendlog check: mx1.oldharbor.example (127.0.0.1:{smtp_port}) answers 220 (mx1.oldharbor.example ESMTP ready)"
        )
    );
    assert_eq!(resolved["count"], 1, "the deferred message is eligible now");

    // The cause is resolved: a second run no longer checks it.
    let again = json(&store.run_ok(&{
        let mut a = check_args(&addr, &port);
        a.extend(["--json", "--cause", "networkerror"]);
        a
    }));
    assert!(
        !again
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["domain"] == "oldharbor.example"),
        "{again:#}"
    );

    // Undone like any resolution.
    let undo = store.run_ok(&["resolve", "--undo", &id.to_string()]);
    assert!(
        undo.starts_with(&format!(
            "Resolution {id} undone: networkerror at oldharbor.example from mta1"
        )),
        "{undo}"
    );
    let history = json(&store.run_ok(&["history", "--json"]));
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "undo" && e["ref"] == id),
        "{history:#}"
    );
}

#[test]
fn no_resolver_answering_is_one_line_and_records_nothing() {
    let store = imported();
    // A port nothing listens on: taken, then let go.
    let port = {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        s.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let out = store.run(&[
        "check",
        "--resolver",
        &addr,
        "--timeout",
        "200ms",
        "--zone",
        "bl.test",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "sendlog: no answer from the DNS resolver at {addr}: nothing was checked, nothing recorded"
        )
    );
    assert!(out.stdout.is_empty());
    let kept = json(&store.run_ok(&["check", "--history", "--json"]));
    assert_eq!(kept, Value::Array(vec![]));
}

#[test]
fn help_says_public_blocklists_need_your_own_resolver() {
    let store = TempStore::new();
    let help = store.run_ok(&["check", "--help"]);
    assert!(
        help.contains("refuse queries that reach them through large public resolvers"),
        "{help}"
    );
    assert!(help.contains("never MAIL FROM"), "{help}");
    assert!(help.contains("--resolver <IP:PORT>"), "{help}");
}

/// The Causes screen shows a cause's latest kept check with its age, beside its
/// resolution.
#[test]
fn the_causes_screen_shows_the_latest_check() {
    use common::tui::{key, options, press, screen, session_over};
    use sendlog::check::{CheckResult, Outcome};
    use sendlog::store::Store;

    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    let log = fixture("check/mail.log").display().to_string();
    sendlog::pipeline::import_files(&mut store, &[log], &options(), &mut |_| {}).unwrap();
    store
        .record_checks(&[CheckResult {
            cause: "networkerror".into(),
            destination: "oldharbor.example".into(),
            domain: Some("oldharbor.example".into()),
            host: "mta1".into(),
            check: "smtp".into(),
            result: Outcome::Fixed,
            evidence:
                "mx1.oldharbor.example (192.0.2.25) answers 220 (mx1.oldharbor.example ESMTP ready)"
                    .into(),
            // A little over three minutes before the screen reads it.
            checked_at: chrono::Utc::now().timestamp() - 200,
        }])
        .unwrap();
    let mut s = session_over(store, 120, 40);
    press(&mut s, key('c'));
    for _ in 0..10 {
        if s.state
            .causes
            .selected_cause()
            .is_some_and(|c| c.reason == "networkerror" && c.destination == "oldharbor.example")
        {
            break;
        }
        press(&mut s, key('j'));
    }
    let text = screen(&mut s);
    assert!(
        text.contains(
            "Checked      3 min ago: fixed — mx1.oldharbor.example (192.0.2.25) answers 220"
        ),
        "{text}"
    );
    insta::assert_snapshot!("causes_checked_120x40", text);
    // Another cause, never checked, says how to check it.
    press(&mut s, key('k'));
    let text = screen(&mut s);
    assert!(text.contains("never: c checks it"), "{text}");
    s.worker.shutdown(true);
}

/// `c` on the Causes screen of the real binary checks the selected cause in the worker,
/// against this test's DNS server and SMTP listener (named in the environment), and the
/// screen then shows the result.
#[test]
fn the_check_key_in_the_real_binary() {
    use common::tui::{Tmux, have_tmux};
    if !have_tmux() {
        return;
    }
    let dns = DnsServer::start(zone());
    let (smtp_port, seen) = smtp_listener();
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env SENDLOG_RESOLVER={resolver} SENDLOG_SMTP_PORT={smtp_port} TZ=UTC NO_COLOR= HOME={home} {bin} --db {db} --year 2026 {log}; sleep 30",
        resolver = dns.addr(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_sendlog"),
        db = dir.path().join("t.db").display(),
        log = fixture("check/mail.log").display(),
    );
    let t = Tmux::new(&dir, &cmd);
    t.wait_until("the codes", |s| s.contains("▶ "));
    t.keys(&["c"]);
    t.wait_until("the Causes screen", |s| s.contains("Causes ("));
    let mut found = false;
    for _ in 0..10 {
        if t.capture().contains("networkerror at oldharbor.example") {
            found = true;
            break;
        }
        t.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(found, "{}", t.capture());
    assert!(
        t.capture().contains("never: c checks it"),
        "{}",
        t.capture()
    );
    t.keys(&["c"]);
    let text = t.wait_until("the check's result", |s| {
        s.contains("just now: fixed — mx1.oldharbor.example")
    });
    assert!(
        text.contains(&format!("(127.0.0.1:{smtp_port}) answers 220")),
        "{text}"
    );
    assert!(
        text.contains("checked networkerror at oldharbor.example: fixed"),
        "the status line says so too: {text}"
    );
    assert!(seen.lock().unwrap().iter().any(|c| c == "QUIT"));
    t.keys(&["q"]);
    // Kept in the store like a check from the command line.
    std::thread::sleep(Duration::from_millis(300));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .args([
            "--db",
            dir.path().join("t.db").to_str().unwrap(),
            "check",
            "--history",
            "--json",
        ])
        .output()
        .unwrap();
    let kept = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept:#}");
    assert_eq!(kept[0]["result"], "fixed");
}

#[test]
fn a_flagged_typo_domain_with_a_mail_host_is_real() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        "--year",
        "2026",
        fixture("check/typos.log").to_str().unwrap(),
    ]);
    let typo_of = |domain: &str| -> Option<String> {
        store
            .deliveries()
            .into_iter()
            .find(|d| d["domain"] == domain)
            .unwrap_or_else(|| panic!("{domain} imported"))["typo_of"]
            .as_str()
            .map(String::from)
    };
    // Both look like typos to an import, which asks no DNS.
    assert_eq!(typo_of("bmx.com").as_deref(), Some("gmx.com"));
    assert_eq!(typo_of("gmial.com").as_deref(), Some("gmail.com"));

    let dns = DnsServer::start(zone());
    let (smtp_port, _) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.extend(["--cause", "hostunknown"]);
    let out = store.run_ok(&args);
    assert!(
        out.contains("not a typo  bmx.com — dns: bmx.com has MX mx00.bmx.com (127.0.0.3): a real domain, not gmx.com misspelt"),
        "{out}"
    );
    assert!(
        out.contains("typo?       gmial.com — dns: gmial.com does not exist (NXDOMAIN): still flagged as gmail.com misspelt (1 delivery)"),
        "{out}"
    );
    assert_eq!(
        typo_of("bmx.com"),
        None,
        "a domain with a mail host is no typo"
    );
    assert_eq!(typo_of("gmial.com").as_deref(), Some("gmail.com"));

    // The answer is kept: importing more mail to the domain does not flag it again.
    let more = store.dir.path().join("more.log");
    let text = std::fs::read_to_string(fixture("check/typos.log"))
        .unwrap()
        .replace("2B0000A0", "2C0000A0")
        .replace("Dec  1 09:", "Dec  1 10:");
    std::fs::write(&more, text).unwrap();
    store.run_ok(&["import", "--year", "2026", more.to_str().unwrap()]);
    let flagged: Vec<Value> = store
        .deliveries()
        .into_iter()
        .filter(|d| d["domain"] == "bmx.com")
        .collect();
    assert_eq!(flagged.len(), 2, "{flagged:#?}");
    assert!(
        flagged.iter().all(|d| d["typo_of"].is_null()),
        "{flagged:#?}"
    );
}

#[test]
fn a_cause_only_time_settles_says_what_its_panel_says_about_waiting() {
    let store = TempStore::new();
    store.run_ok(&[
        "import",
        "--year",
        "2026",
        fixture("check/rate.log").to_str().unwrap(),
        fixture("check/mail.log").to_str().unwrap(),
    ]);
    let dns = DnsServer::start(zone());
    let (smtp_port, _) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.push("--json");
    let results = json(&store.run_ok(&args));
    let rate = results
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["destination"] == "Google")
        .unwrap_or_else(|| panic!("a result for the Gmail deferral in {results:#}"));
    assert_eq!(rate["result"], "unknown", "{rate:#}");
    let said = rate["evidence"].as_str().unwrap();
    // The built-in 4.7.28 panel's answer and the provider page it is drawn from.
    assert!(
        said.contains("the 4.7.28 panel says (How long does it last?): Usually hours"),
        "{said}"
    );
    assert!(
        said.contains("https://support.google.com/a/answer/3726730"),
        "{said}"
    );
    // No built-in panel says how long greylisting lasts: nothing is made up.
    let grey = result(&results, "greylisted", None)["evidence"]
        .as_str()
        .unwrap();
    assert!(
        grey.ends_with("; no panel says how long it lasts"),
        "{grey}"
    );
}

#[test]
fn resolver_zones_and_addresses_are_kept_for_the_next_check() {
    let store = imported();
    let dns = DnsServer::start(zone());
    let (smtp_port, _) = smtp_listener();
    let (addr, port) = (dns.addr(), smtp_port.to_string());
    let mut args = check_args(&addr, &port);
    args.extend(["--cause", "blocked", "--ip", "203.0.113.13", "--json"]);
    let first = json(&store.run_ok(&args));
    assert_eq!(
        result(&first, "blocked", None)["result"],
        "failing",
        "{first:#}"
    );

    // Told nothing this time: the resolver, the zone and the address told before are used
    // (this machine's resolver and the public zones would not answer the same).
    let second = store.run_ok(&[
        "check",
        "--cause",
        "blocked",
        "--smtp-port",
        &port,
        "--timeout",
        "2s",
    ]);
    assert!(
        second.contains(&format!("through the resolver at {addr}:")),
        "{second}"
    );
    assert!(second.contains("bl.test"), "{second}");
    assert!(second.contains("203.0.113.13"), "{second}");
}

/// A port on 127.0.0.1 where connections time out: a listener with a zero backlog that never
/// accepts, its queue filled, so the kernel drops every further connection attempt
/// unanswered, as a firewall that blocks the port does.
fn silent_port() -> (u16, socket2::Socket, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .expect("bind");
    socket.listen(0).expect("listen");
    let port = socket
        .local_addr()
        .unwrap()
        .as_socket()
        .expect("an IP socket")
        .port();
    // Fill the queue: connections that complete go into it until it is full; the next one
    // times out.
    let mut held = Vec::new();
    for _ in 0..4 {
        match std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            Duration::from_millis(300),
        ) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    (port, socket, held)
}

#[test]
fn every_mx_silent_at_connect_reads_as_a_blocked_port_not_as_dead_receivers() {
    let store = imported();
    // Both networkerror domains' MX at 127.0.0.1, where the port is silent.
    let mut zone = zone();
    zone.insert(
        "mx.deadport.example".into(),
        vec![RData::A(A(Ipv4Addr::LOCALHOST))],
    );
    let dns = DnsServer::start(zone);
    let (port, _listener, _held) = silent_port();
    let (addr, port) = (dns.addr(), port.to_string());
    let mut args = check_args(&addr, &port);
    let at = args.iter().position(|a| *a == "--timeout").unwrap();
    args[at + 1] = "500ms";
    args.extend(["--cause", "networkerror", "--json"]);
    let results = json(&store.run_ok(&args));
    for domain in ["oldharbor.example", "deadport.example"] {
        let r = result(&results, "networkerror", Some(domain));
        assert_eq!(r["result"], "unknown", "{r:#}");
        let said = r["evidence"].as_str().unwrap();
        assert!(said.contains("did not answer in time"), "{said}");
        assert!(
            said.contains("this network likely blocks outbound port"),
            "{said}"
        );
    }
}
