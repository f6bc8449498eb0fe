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

    /// Every delivery record, as JSON values.
    pub fn deliveries(&self) -> Vec<serde_json::Value> {
        self.run_ok(&["export", "deliveries", "--format", "jsonl"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("valid JSON line"))
            .collect()
    }
}
