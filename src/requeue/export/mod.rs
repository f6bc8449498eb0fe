//! What a re-queue batch looks like on disk: CSV or JSON Lines for a sending platform, a
//! shell script of `postqueue -i` for Postfix messages still queued, a PowerShell script
//! for Exchange queues. Pure text generation; recording the batch is the store's job.
//!
//! Scripts are run by an administrator with privileges, and every value in them comes from
//! a log written by strangers: a value is written only if it is made of characters that
//! cannot change the meaning of the script; anything else is refused before the batch is
//! recorded (`RequeueFormat::accepts`).

mod files;
mod scripts;

use std::io::{self, Write};

use serde::Serialize;

pub use files::{Existing, Pending, StagedFile, stage_file, write_file};
use scripts::{
    is_domain, is_message_id, is_postfix_queue_id, is_script_word, split_host, write_exchange,
    write_postfix,
};

use crate::ingest::timestamp::format_rfc3339;
use crate::model::{Candidate, DeliveryStatus, Reason, Resolution};
use crate::sanitize::{csv_cell, csv_io_error, for_terminal};

/// Why a platform batch leaves out a delivery still deferred.
pub(crate) const STILL_QUEUED: &str = "still in the MTA's queue, which keeps retrying it (re-queue it with the postfix or exchange format)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueFormat {
    Csv,
    Jsonl,
    Postfix,
    Exchange,
}

impl RequeueFormat {
    pub(crate) const NAMES: [&'static str; 4] = ["csv", "jsonl", "postfix", "exchange"];

    pub fn as_str(self) -> &'static str {
        match self {
            RequeueFormat::Csv => "csv",
            RequeueFormat::Jsonl => "jsonl",
            RequeueFormat::Postfix => "postfix",
            RequeueFormat::Exchange => "exchange",
        }
    }

    pub fn parse(s: &str) -> Option<RequeueFormat> {
        match s {
            "csv" => Some(RequeueFormat::Csv),
            "jsonl" => Some(RequeueFormat::Jsonl),
            "postfix" => Some(RequeueFormat::Postfix),
            "exchange" => Some(RequeueFormat::Exchange),
            _ => None,
        }
    }

    /// Whether an eligible delivery can go into this format; if not, why not (the
    /// delivery stays eligible for another format). Mail still deferred is still in its
    /// MTA's queue, which keeps retrying it: a sending platform that re-sends it too makes
    /// a duplicate, so a platform batch takes it only with `include_queued`.
    pub(crate) fn accepts(self, c: &Candidate, include_queued: bool) -> Result<(), &'static str> {
        match self {
            RequeueFormat::Csv | RequeueFormat::Jsonl => {
                if c.status == DeliveryStatus::Deferred && !include_queued {
                    Err(STILL_QUEUED)
                } else {
                    Ok(())
                }
            }
            RequeueFormat::Postfix => {
                if c.format != "postfix" {
                    Err("not from a Postfix log")
                } else if c.status != DeliveryStatus::Deferred {
                    Err("no longer in the Postfix queue (use csv or jsonl to re-send it)")
                } else if !is_postfix_queue_id(&c.queue_id) || split_host(&c.host).is_none() {
                    Err("queue id or host name not safe to put in a script")
                } else {
                    Ok(())
                }
            }
            RequeueFormat::Exchange => {
                if c.format != "exchange" {
                    Err("not from an Exchange server log")
                } else if c.status != DeliveryStatus::Deferred {
                    Err("no longer in the Exchange queue (use csv or jsonl to re-send it)")
                } else if !is_script_word(&c.host)
                    || !is_domain(&c.domain)
                    || c.message_id.as_deref().is_some_and(|m| !is_message_id(m))
                {
                    Err("server, domain or message id not safe to put in a script")
                } else {
                    Ok(())
                }
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            RequeueFormat::Csv => "csv",
            RequeueFormat::Jsonl => "jsonl",
            RequeueFormat::Postfix => "sh",
            RequeueFormat::Exchange => "ps1",
        }
    }
}

/// One exported delivery.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportRecord {
    pub batch: i64,
    pub recipient: String,
    pub sender: Option<String>,
    pub message_id: Option<String>,
    pub queue_id: String,
    pub host: String,
    pub subject: Option<String>,
    pub status: DeliveryStatus,
    pub code: String,
    pub cause: Option<Reason>,
    pub domain: String,
    pub provider: Option<String>,
    pub last_attempt: Option<String>,
    pub resolution_note: String,
    pub resolved_at: String,
}

impl ExportRecord {
    pub(crate) const FIELDS: [&'static str; 15] = [
        "batch",
        "recipient",
        "sender",
        "message_id",
        "queue_id",
        "host",
        "subject",
        "status",
        "code",
        "cause",
        "domain",
        "provider",
        "last_attempt",
        "resolution_note",
        "resolved_at",
    ];

    /// Columns a sending platform matches on (who to send to, which message): written
    /// exactly, since `'+1@example.com` is another address. A valid address or id has no
    /// control character, so only those are made visible. The other text columns, free
    /// text from logs and notes, get the spreadsheet formula guard (`csv_cell`).
    pub(crate) const EXACT: [&'static str; 4] = ["recipient", "sender", "message_id", "queue_id"];

    pub fn new(batch: i64, c: &Candidate, r: &Resolution) -> Self {
        ExportRecord {
            batch,
            recipient: c.recipient.clone(),
            sender: c.sender.clone(),
            message_id: c.message_id.clone(),
            queue_id: c.queue_id.clone(),
            host: c.host.clone(),
            subject: c.subject.clone(),
            status: c.status,
            code: c.code.clone(),
            cause: c.cause,
            domain: c.domain.clone(),
            provider: c.provider.clone(),
            last_attempt: c.last_attempt.map(format_rfc3339),
            resolution_note: r.note.clone(),
            resolved_at: format_rfc3339(r.resolved_at),
        }
    }

    fn values(&self) -> [String; 15] {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.batch.to_string(),
            self.recipient.clone(),
            o(&self.sender),
            o(&self.message_id),
            self.queue_id.clone(),
            self.host.clone(),
            o(&self.subject),
            self.status.as_str().to_string(),
            self.code.clone(),
            self.cause
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            self.domain.clone(),
            o(&self.provider),
            o(&self.last_attempt),
            self.resolution_note.clone(),
            self.resolved_at.clone(),
        ]
    }
}

/// Writes a batch. `created_at` goes into the scripts' headers.
pub fn write(
    format: RequeueFormat,
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        RequeueFormat::Jsonl => {
            for r in records {
                crate::sanitize::json_line(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        }
        RequeueFormat::Csv => {
            let mut out = csv::Writer::from_writer(w);
            out.write_record(ExportRecord::FIELDS)
                .map_err(csv_io_error)?;
            for r in records {
                let cells = ExportRecord::FIELDS.iter().zip(r.values()).map(|(f, v)| {
                    if ExportRecord::EXACT.contains(f) {
                        for_terminal(&v).into_owned()
                    } else {
                        csv_cell(&v).into_owned()
                    }
                });
                out.write_record(cells).map_err(csv_io_error)?;
            }
            out.flush()
        }
        RequeueFormat::Postfix => write_postfix(batch, created_at, records, w),
        RequeueFormat::Exchange => write_exchange(batch, created_at, records, w),
    }
}

#[cfg(test)]
mod tests;
