//! `sendlog explain` as a user runs it: the panel, then their own evidence from a store
//! built from a real Postfix log. Every run uses its own `--db` and panel directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postfix/gomaillex__maillog")
}

fn sendlog(db: &Path, knowledge: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("SENDLOG_KNOWLEDGE_DIR", knowledge)
        .env_remove("SENDLOG_DB")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn a_malformed_code_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for bad in ["4.4", "550", "4.4.7.1", "abc", "9.9.9"] {
        let o = sendlog(&db, dir.path(), &["explain", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad}");
        assert!(o.stdout.is_empty(), "{bad}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{bad}: {err}");
        assert!(err.contains("not an enhanced status code"), "{err}");
    }
    assert!(!db.exists(), "a failed explain creates no store");
}

#[test]
fn explain_without_a_store_prints_the_panel_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let o = sendlog(&db, dir.path(), &["explain", "4.4.7"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for heading in sendlog::knowledge::doc::SECTIONS {
        assert!(out.contains(&format!("\n{heading}\n")), "missing {heading}");
    }
    assert!(out.contains("No store at"), "{out}");
    assert!(!db.exists());

    // A code with no panel still explains something.
    let o = sendlog(&db, dir.path(), &["explain", "4.6.42"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("Persistent transient failure"));
}

/// What `export deliveries` says about the fixture: the evidence must agree with it.
struct Expected {
    total: usize,
    causes: BTreeMap<String, usize>,
    typos: BTreeSet<(String, String)>,
    hosts: BTreeSet<String>,
}

fn expected_from_export(db: &Path, dir: &Path, code: &str) -> Expected {
    let o = sendlog(db, dir, &["export", "deliveries", "--format", "jsonl"]);
    assert!(o.status.success());
    let mut e = Expected {
        total: 0,
        causes: BTreeMap::new(),
        typos: BTreeSet::new(),
        hosts: BTreeSet::new(),
    };
    for line in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["code"] != code {
            continue;
        }
        e.total += 1;
        let cause = v["cause"].as_str().unwrap_or("unknown").to_string();
        *e.causes.entry(cause).or_default() += 1;
        if let Some(t) = v["typo_of"].as_str() {
            e.typos
                .insert((v["domain"].as_str().unwrap().to_string(), t.to_string()));
        }
        e.hosts.insert(v["host"].as_str().unwrap().to_string());
    }
    e
}

#[test]
fn explain_shows_the_users_own_evidence_from_a_real_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let fixture = fixture();
    let o = sendlog(
        &db,
        dir.path(),
        &["import", "--year", "2014", fixture.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let want = expected_from_export(&db, dir.path(), "4.4.7");
    assert!(want.total > 0, "the fixture has expiries");
    assert!(
        !want.typos.is_empty(),
        "the fixture has typo domains behind expiries"
    );

    let o = sendlog(&db, dir.path(), &["explain", "4.4.7"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let evidence = &out[out.find("Your evidence").expect("an evidence block")..];
    let deliveries = if want.total == 1 {
        "delivery"
    } else {
        "deliveries"
    };
    assert!(
        evidence.contains(&format!("{} {deliveries} with 4.4.7", want.total)),
        "{evidence}"
    );
    let causes_line = evidence
        .lines()
        .skip_while(|l| !l.contains("Causes behind this code"))
        .nth(1)
        .unwrap();
    for (cause, n) in &want.causes {
        assert!(
            causes_line.contains(&format!("{cause} {n}")),
            "{cause} {n} in {causes_line:?}"
        );
    }
    for (domain, suggestion) in &want.typos {
        assert!(
            evidence.contains(&format!("{domain} → {suggestion}?")),
            "{domain} in {evidence}"
        );
    }
    for host in &want.hosts {
        assert!(evidence.contains(host.as_str()), "{host}");
    }
    assert!(evidence.contains("2014-"), "the time range is the log's");
    // The panel's pointers name the headings the evidence uses.
    for heading in [
        "Causes behind this code",
        "Typo domains and DNS failures",
        "By sending host",
    ] {
        assert!(out.matches(heading).count() >= 2, "{heading}");
    }

    // A code the log does not have says so instead of printing zeros.
    let o = sendlog(&db, dir.path(), &["explain", "5.7.606"]);
    assert!(stdout(&o).contains("No deliveries with 5.7.606 in the store."));
}

#[test]
fn a_users_panel_overrides_and_its_text_is_made_safe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    std::fs::write(
        dir.path().join("4.7.650.toml"),
        "code = \"4.7.650\"\ntitle = \"Call Dana \\u001b]0;pwned\\u0007\"\nmeaning = [\"Ticket MS-42.\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("5.7.1.toml"), "broken = [").unwrap();
    let o = sendlog(&db, dir.path(), &["explain", "4.7.650"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("Ticket MS-42."));
    assert!(out.contains("Call Dana \\x1b]0;pwned\\x07"), "{out}");
    assert!(!out.contains('\u{1b}'));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("warning") && err.contains("5.7.1.toml"),
        "{err}"
    );
}
