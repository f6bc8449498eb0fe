//! Shared helpers for integration tests: fixtures and the real binary on a temp store.
#![allow(dead_code)]

pub mod loggen;
pub mod tui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Two real Postfix logs in one file of over 2 MB, written into `dir`: bigger than an
/// empty store by far, so its import is a bulk load (which leaves the search index to the
/// first search).
pub fn bulk_log(dir: &Path) -> PathBuf {
    let mut text = std::fs::read(fixture("postfix/Postfix-Maillog-Dump__maillog")).unwrap();
    text.extend(std::fs::read(fixture("postfix/postfix_log_analysis__mail2.log")).unwrap());
    assert!(text.len() > 2_100_000, "{}", text.len());
    let path = dir.join("maillog");
    std::fs::write(&path, &text).unwrap();
    path
}

/// A generated Postfix log of `messages` messages (`loggen`, classic syslog stamps), written
/// to `dir/name`.
pub fn generated_log(dir: &Path, name: &str, messages: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    let opts = loggen::GenOptions {
        messages,
        seed,
        rfc3339: false,
    };
    loggen::write_postfix_log(opts, file).unwrap();
    path
}

/// A throwaway store in its own temp dir (never the user's real store).
pub struct TempStore {
    pub dir: tempfile::TempDir,
}

impl TempStore {
    pub fn new() -> Self {
        TempStore {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn db(&self) -> String {
        self.dir.path().join("sendlog.db").display().to_string()
    }

    /// Runs `sendlog --db <store> ARGS…` with a fixed time zone, so classic syslog stamps
    /// read the same everywhere.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sendlog"))
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env("TZ", "UTC")
            .env_remove("SENDLOG_DB")
            // The built-in panels only, whatever the developer keeps in their own directory.
            .env("SENDLOG_KNOWLEDGE_DIR", "")
            .output()
            .expect("run sendlog")
    }

    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sendlog {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Whether an import left its follow-up work (typo flags, relinking) owed.
    pub fn owes_follow_up(&self) -> bool {
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        conn.query_row(
            "SELECT count(*) FROM settings WHERE key = 'follow_up_from'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            > 0
    }

    /// Every delivery record, as JSON values.
    pub fn deliveries(&self) -> Vec<serde_json::Value> {
        self.run_ok(&["export", "deliveries", "--format", "jsonl"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("valid JSON line"))
            .collect()
    }
}
