//! `sendlog history`: what was resolved, undone, marked, unmarked and exported, and when.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use crate::ingest::timestamp::format_rfc3339;
use crate::sanitize::for_terminal;
use crate::store::requeue::HistoryEntry;
use crate::wording::{cell, plural};

use super::open_read_only_store;

/// What `count` means for each action, in words.
fn counted(e: &HistoryEntry) -> String {
    let n = e.count.max(0) as u64;
    match e.action.as_str() {
        "resolve" => format!("{} made eligible", plural(n, "delivery", "deliveries")),
        "undo" => format!("{} no longer eligible", plural(n, "delivery", "deliveries")),
        "mark" => format!("{} marked", plural(n, "delivery", "deliveries")),
        "unmark" => format!("{} unmarked", plural(n, "delivery", "deliveries")),
        "export" => format!("{} exported", plural(n, "delivery", "deliveries")),
        _ => n.to_string(),
    }
}

fn render(entries: &[HistoryEntry]) -> String {
    let mut o = String::new();
    if entries.is_empty() {
        let _ = writeln!(o, "No resolutions, marks or exports yet.");
        return o;
    }
    for e in entries {
        let what = match (e.action.as_str(), e.reference) {
            ("resolve", Some(id)) => format!("resolution {id}"),
            ("undo", Some(id)) => format!("undo of resolution {id}"),
            ("export", Some(id)) => format!("batch {id}"),
            (a, _) => a.to_string(),
        };
        let _ = write!(
            o,
            "{}  {} {}: {}",
            format_rfc3339(e.at),
            cell(&what, 24),
            for_terminal(&e.scope),
            counted(e)
        );
        if !e.note.is_empty() {
            let _ = write!(o, " — {}", for_terminal(&e.note));
        }
        o.push('\n');
    }
    o
}

pub fn run(db: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_read_only_store(db)?;
    let entries = store.history()?;
    let text = if json {
        crate::sanitize::json_pretty_string(&entries)? + "\n"
    } else {
        render(&entries)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_says_what_its_count_counts() {
        let e = |action: &str, reference, count| HistoryEntry {
            id: 1,
            at: 1_767_225_600,
            action: action.into(),
            reference,
            scope: "badreputation at Microsoft\u{1b}[2J".into(),
            note: "delisted".into(),
            count,
        };
        let text = render(&[
            e("resolve", Some(3), 12),
            e("undo", Some(3), 1),
            e("export", Some(2), 4),
            e("mark", None, 2),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("2026-01-01T00:00:00Z  resolution 3"),
            "{text}"
        );
        assert!(
            lines[0].contains("12 deliveries made eligible — delisted"),
            "{text}"
        );
        assert!(lines[1].contains("undo of resolution 3"), "{text}");
        assert!(lines[1].contains("1 delivery no longer eligible"), "{text}");
        assert!(lines[2].contains("batch 2") && lines[2].contains("4 deliveries exported"));
        assert!(lines[3].contains("2 deliveries marked"));
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
