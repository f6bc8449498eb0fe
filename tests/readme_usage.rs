//! The README's usage table and `--help` tell the same story: every command that `--help`
//! lists has a row, a row's flags are exactly the command's flags, and a row's words start
//! with the command's own one-line description, word for word.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Flags every command has, described once in the prose above the table.
const DESCRIBED_ONCE: &[&str] = &["--db", "--help", "--version"];

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sendlog"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "sendlog {path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under "Commands:", without clap's own `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every command a user can run, as its path of subcommand names (the top level is empty).
fn leaf_commands() -> Vec<Vec<String>> {
    let mut leaves = Vec::new();
    let mut pending = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        let children = subcommands(&help(&path));
        // The top level both runs (import + TUI) and has subcommands.
        if children.is_empty() || path.is_empty() {
            leaves.push(path.clone());
        }
        for child in children {
            let mut next = path.clone();
            next.push(child);
            pending.push(next);
        }
    }
    leaves
}

fn flags_in(text: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let mut end = start + 2;
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'-') {
            end += 1;
        }
        if end > start + 2 {
            flags.insert(text[start..end].to_string());
        }
        i = end.max(start + 2);
    }
    flags
}

fn help_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Options:")
        .filter_map(|l| {
            let t = l.trim_start();
            // `-h, --help` as well as `--db <PATH>`.
            let long = match t.strip_prefix('-') {
                Some(rest) if !rest.starts_with('-') => rest.split_once(", ")?.1,
                _ => t,
            };
            long.starts_with("--")
                .then(|| long.split_whitespace().next().unwrap().to_string())
        })
        .filter(|f| !DESCRIBED_ONCE.contains(&f.as_str()))
        .collect()
}

/// Splits a Markdown table row on the pipes that are not escaped.
fn cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    cells
}

struct Row {
    path: Vec<String>,
    signature: String,
    words: String,
}

fn readme_rows() -> Vec<Row> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let usage = readme
        .split("\n## Usage\n")
        .nth(1)
        .expect("README has a Usage section");
    let usage = usage.split("\n## ").next().unwrap();
    usage
        .lines()
        .filter(|l| l.starts_with("| `sendlog"))
        .map(|l| {
            let cells = cells(l);
            let signature = cells[0].trim_matches('`').to_string();
            let path = signature
                .split_whitespace()
                .skip(1)
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
                .map(str::to_string)
                .collect();
            Row {
                path,
                signature,
                words: cells[1].clone(),
            }
        })
        .collect()
}

#[test]
fn every_command_has_a_row_with_its_exact_flags() {
    let rows = readme_rows();
    let mut documented: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        documented
            .entry(row.path.clone())
            .or_default()
            .extend(flags_in(&row.signature));
    }
    let leaves = leaf_commands();
    assert!(leaves.len() >= 10, "found only {leaves:?}");
    for path in &leaves {
        let Some(in_readme) = documented.get(path) else {
            panic!(
                "`sendlog {}` has no row in the README's usage table",
                path.join(" ")
            );
        };
        let in_help = help_flags(&help(path));
        assert_eq!(
            in_readme,
            &in_help,
            "flags of `sendlog {}`: README vs --help",
            path.join(" ")
        );
    }
    for path in documented.keys() {
        assert!(
            leaves.contains(path),
            "the README documents `sendlog {}`, which --help does not list",
            path.join(" ")
        );
    }
}

#[test]
fn a_commands_row_starts_with_its_help_description_word_for_word() {
    let rows = readme_rows();
    for path in leaf_commands().into_iter().filter(|p| !p.is_empty()) {
        let help = help(&path);
        let about = help.lines().next().unwrap().trim();
        assert!(
            rows.iter()
                .any(|r| r.path == path && r.words.starts_with(about)),
            "no README row of `sendlog {}` starts with its --help words: {about:?}",
            path.join(" ")
        );
    }
}
