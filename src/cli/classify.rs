//! `sendlog classify FILE…`: bounce emails classified without a store, one JSON line per
//! recipient of each report, files in the order given, recipients in each report's
//! order. Non-failures are printed too (reason `feedback`, `vacation`, `delivered`) so
//! nothing is dropped silently; a file or message that cannot be read gets one line on
//! stderr naming it, and the rest are still classified.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::ingest::bounce::mailbox;
use crate::ingest::bounce::{self, BounceReport};
use crate::sanitize::for_terminal;

/// The classify record of the command-line contract (README), fields in its order.
#[derive(Debug, Serialize)]
pub struct ClassifyRecord<'a> {
    pub file: &'a str,
    pub recipient: &'a str,
    pub status: Option<String>,
    pub reason: &'static str,
    pub replycode: Option<u16>,
    pub action: Option<&'a str>,
    pub diagnostic: &'a str,
    pub remote_mta: Option<&'a str>,
    pub expired: bool,
    pub original_message_id: Option<&'a str>,
}

/// The records of one report, in its recipients' order.
pub fn records<'a>(file: &'a str, report: &'a BounceReport) -> Vec<ClassifyRecord<'a>> {
    report
        .recipients
        .iter()
        .map(|r| ClassifyRecord {
            file,
            recipient: &r.recipient,
            status: r.status.map(|c| c.to_string()),
            reason: r.reason.as_str(),
            replycode: r.reply_code,
            action: r.action.as_deref(),
            diagnostic: &r.diagnostic,
            remote_mta: r.remote_mta.as_deref(),
            expired: r.expired,
            original_message_id: report.original_message_id.as_deref(),
        })
        .collect()
}

pub fn run(files: &[String]) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_read = true;
    let mut write_error = None;
    for file in files {
        let opened = mailbox::for_each_message(file, |m| {
            let raw = match m {
                Ok(raw) => raw,
                Err(f) => {
                    all_read = false;
                    eprintln!(
                        "sendlog: {}: {}",
                        for_terminal(&f.label),
                        for_terminal(&f.error)
                    );
                    return;
                }
            };
            match bounce::parse(&raw.bytes) {
                Ok(report) => {
                    for rec in records(file, &report) {
                        let line =
                            crate::sanitize::json_line_string(&rec).expect("records serialise");
                        if let Err(e) = writeln!(out, "{line}") {
                            write_error.get_or_insert(e);
                        }
                    }
                }
                Err(e) => {
                    all_read = false;
                    eprintln!("sendlog: {}: {e}", for_terminal(&raw.label));
                }
            }
        });
        if let Err(e) = opened {
            all_read = false;
            eprintln!("sendlog: {}", for_terminal(&e));
        }
    }
    out.flush()?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    Ok(if all_read {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
