//! Importing bounce emails (`.eml`, mbox, Maildir) into the store, through the same
//! assembler as the logs: a failed recipient becomes a `Bounced` attempt, an expired one
//! a `RecipientExpired` event carrying the report's last error, so the delivery's cause
//! is the reason of that last deferral.
//!
//! A report joins the delivery it reports on when the store has it — by the original
//! Message-ID, else by the queue id the report names together with the recipient, else
//! by the recipient when exactly one unfinished delivery matches — and otherwise stands
//! as a delivery of its own (format `eml`). Every report recipient also gets a `bounces`
//! row, non-failures (feedback, auto-replies, success DSNs) included, never as failures.
//! One transaction per input; a message already imported (same bytes) adds nothing.

use std::sync::Arc;
use std::time::Instant;

use xxhash_rust::xxh3::xxh3_64;

use crate::ingest::bounce::mailbox::{self, RawMessage};
use crate::ingest::bounce::{self, BounceReport, RecipientReport, ReportKind};
use crate::ingest::{AttemptStatus, Event, EventKind, Format, bare_message_id};
use crate::store::links::{BounceRow, Link};
use crate::store::load::Load;
use crate::store::write::MessageWriter;
use crate::store::{Store, StoreError};
use crate::triage::Assembler;

use super::join::{Joined, join_logged};
use super::{FileReport, ImportError, SKIPPED_SAMPLE, SourceState};

/// Whether an input should be read as bounce emails: forced with `--format eml`, or a
/// folder (Maildir), an mbox, a single message with a header block, or an Amazon SES
/// notification (JSON).
pub fn is_bounce_input(name: &str, format: Format, head: &[u8]) -> bool {
    match format {
        Format::Eml => true,
        Format::Auto => {
            (name != "-" && std::path::Path::new(name).is_dir())
                || mailbox::is_mbox(head)
                || mailbox::is_message(head)
                || bounce::ses::looks_like_notification(head)
        }
        _ => false,
    }
}

/// The event a failed report recipient stands for.
pub(super) fn recipient_event(
    r: &RecipientReport,
    ts: i64,
    line: u64,
    host: &str,
    queue_id: &str,
) -> Event<'static> {
    let kind = if r.expired {
        EventKind::RecipientExpired
    } else if r.status.is_some_and(|c| c.class == 4) {
        EventKind::Attempt(AttemptStatus::Deferred)
    } else {
        EventKind::Attempt(AttemptStatus::Bounced)
    };
    let mut e = Event::new(ts, line, host, queue_id.to_string(), kind);
    e.recipient = Some(r.recipient.clone().into());
    e.orig_recipient = r.orig_recipient.clone().map(Into::into);
    e.dsn = r.status.map(|c| c.to_string().into());
    e.reply_code = r.reply_code;
    // The store classifies the event's text again; a command the report named only in
    // its prose ("in reply to RCPT TO command") goes with it, so the delivery's cause is
    // the reason the report was judged to have.
    e.text = (!r.diagnostic.is_empty()).then(|| {
        match r.command {
            Some(c) if crate::classify::rules::smtp_command(&r.diagnostic).is_none() => {
                format!("{} ({})", r.diagnostic, c.phrase())
            }
            _ => r.diagnostic.clone(),
        }
        .into()
    });
    e.relay = r.remote_mta.clone().map(Into::into);
    e
}

struct Counts {
    messages: u64,
    events: u64,
    skipped: u64,
    sample: Vec<(u64, String)>,
    all_known: bool,
    /// Reports whose `Date:` was missing or implausible, dated from the mailbox instead.
    undated: u64,
}

/// Imports one bounce input (file, mbox, Maildir or folder), one message at a time so an
/// mbox of any size is read in bounded memory; a message that cannot be read (too big, a
/// read error) is counted skipped and said, the messages before it are kept.
pub fn import_bounce_input(store: &mut Store, name: &str) -> Result<FileReport, StoreError> {
    let started = Instant::now();
    let load = store.begin_load()?;
    let mut writer = load.writer()?;
    let mut assembler = Assembler::new("eml");
    assembler.source_name = Arc::from(name);
    let mut counts = Counts {
        messages: 0,
        events: 0,
        skipped: 0,
        sample: Vec::new(),
        all_known: true,
        undated: 0,
    };
    let mut store_error = None;
    let opened = mailbox::for_each_message(name, |m| {
        if store_error.is_some() {
            return;
        }
        if let Err(e) = import_message(&load, &mut writer, &mut assembler, &mut counts, name, m) {
            store_error = Some(e);
        }
    });
    if let Some(e) = store_error {
        return Err(e);
    }
    if let Err(e) = opened {
        // Nothing was read: the empty transaction is dropped.
        return Ok(FileReport::failed(name, ImportError::Mailbox(e)));
    }
    assembler.checkpoint(&mut writer)?;
    let deliveries = writer.deliveries_written;
    let deliveries_updated = writer.deliveries_updated;
    drop(writer);
    load.commit()?;
    Ok(FileReport {
        name: name.to_string(),
        format: Some(Format::Eml),
        state: if counts.all_known && counts.messages > 0 {
            SourceState::Unchanged
        } else {
            SourceState::New
        },
        lines_read: counts.messages,
        events: counts.events,
        deliveries,
        deliveries_updated,
        skipped: counts.skipped,
        skipped_sample: counts.sample,
        duplicates: 0,
        seconds: started.elapsed().as_secs_f64(),
        error: None,
        note: (counts.undated > 0).then(|| {
            format!(
                "{} no usable Date: header (missing, before 1990 or in the future): \
                 dated when the mailbox received them instead",
                crate::wording::plural(counts.undated, "report had", "reports had")
            )
        }),
    })
}

/// A time a mail report can really carry: not before 1990, not later than a day from now.
fn plausible_time(t: i64, now: i64) -> bool {
    (631_152_000..=now + 86_400).contains(&t)
}

/// When the mailbox received a message: a Maildir name's leading stamp
/// (`1700000000.M1.host:2,S`), else the file's modification time (an mbox's for its
/// messages).
fn received_at(input: &str, label: &str) -> Option<i64> {
    let (file, _) = message_place(input, label);
    let path = std::path::Path::new(file);
    let stamp = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split_once('.'))
        .and_then(|(head, _)| head.parse::<i64>().ok());
    stamp.or_else(|| {
        let modified = std::fs::metadata(path).ok()?.modified().ok()?;
        let secs = modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        i64::try_from(secs).ok()
    })
}

/// The file holding a message and its number in that file, from its label (`file#N` for
/// an mbox's N-th message, else the message's own file).
fn message_place<'a>(input: &str, label: &'a str) -> (&'a str, u64) {
    if let Some((file, n)) = label.rsplit_once('#')
        && file == input
        && let Ok(n) = n.parse::<u64>()
    {
        return (file, n);
    }
    (label, 1)
}

/// One message of a bounce input: skipped (and said) when unreadable or not a report on
/// anyone, nothing when already imported, else its report added.
fn import_message(
    load: &Load<'_>,
    writer: &mut MessageWriter<'_>,
    assembler: &mut Assembler,
    counts: &mut Counts,
    name: &str,
    m: Result<RawMessage, mailbox::ReadFailure>,
) -> Result<(), StoreError> {
    counts.messages += 1;
    let number = counts.messages;
    let skip = |counts: &mut Counts, label: &str, why: String| {
        counts.skipped += 1;
        counts.all_known = false;
        if counts.sample.len() < SKIPPED_SAMPLE {
            counts.sample.push((number, format!("{label}: {why}")));
        }
    };
    let raw = match m {
        Ok(raw) => raw,
        Err(f) => {
            skip(counts, &f.label, f.error);
            return Ok(());
        }
    };
    let hash = xxh3_64(&raw.bytes);
    let known = load.email_known(hash, raw.bytes.len() as u64)?;
    if known {
        return Ok(());
    }
    counts.all_known = false;
    let mut report = match bounce::parse(&raw.bytes) {
        Ok(r) => r,
        Err(e) => {
            skip(counts, &raw.label, e.to_string());
            return Ok(());
        }
    };
    // A failure nobody can be named for cannot join a delivery nor stand as one: a
    // row without a recipient would only hide that the report went unread.
    if report.kind == ReportKind::Bounce
        && report
            .recipients
            .iter()
            .all(|r| r.recipient.trim().is_empty())
    {
        // The label comes first: the terminal shows 100 characters of this.
        skip(
            counts,
            &raw.label,
            "no recipient named (no Final-Recipient or Original-Recipient, no address in the text)"
                .to_string(),
        );
        return Ok(());
    }
    // A missing, pre-1990 or future Date: (a broken client, a clock off by a year)
    // would put the delivery in 1970 or next year: the time the mailbox got the
    // report stands in, and the import says so.
    let now = chrono::Utc::now().timestamp();
    if !report.date.is_some_and(|d| plausible_time(d, now)) {
        counts.undated += 1;
        report.date = received_at(name, &raw.label).filter(|t| plausible_time(*t, now));
    }
    for r in &mut report.recipients {
        if !r.last_attempt.is_some_and(|t| plausible_time(t, now)) {
            r.last_attempt = report.date;
        }
    }
    let head_len = raw.bytes.len().min(4096);
    let source_id = load.add_email_source(
        &raw.label,
        (head_len, xxh3_64(&raw.bytes[..head_len])),
        raw.bytes.len() as u64,
        hash,
        report.recipients.len() as u64,
        chrono::Utc::now().timestamp(),
    )?;
    // The delivery's source names the file that holds the report and the report's
    // number in it: `box.mbox:3` for an mbox's third message, `dir/x.eml:1` for a
    // message of a folder, never the folder.
    let (file, in_file) = message_place(name, &raw.label);
    assembler.source_name = Arc::from(file);
    add_report(
        load,
        writer,
        assembler,
        &report,
        &raw.label,
        in_file,
        source_id,
        &mut counts.events,
    )
}

#[allow(clippy::too_many_arguments)]
fn add_report(
    load: &Load<'_>,
    writer: &mut MessageWriter<'_>,
    assembler: &mut Assembler,
    report: &BounceReport,
    label: &str,
    number: u64,
    source_id: i64,
    events: &mut u64,
) -> Result<(), StoreError> {
    let ts = report.date.unwrap_or(0);
    // A report that stands alone is its own message, keyed by the original's
    // Message-ID (so two reports about one message meet) or by the report itself.
    let own_host = report
        .reporting_mta
        .clone()
        .unwrap_or_else(|| "bounce".to_string());
    let original_message_id = report
        .original_message_id
        .as_deref()
        .and_then(bare_message_id)
        .map(str::to_string);
    let own_queue = original_message_id
        .clone()
        .unwrap_or_else(|| label.to_string());
    let mut own_started = false;
    for r in &report.recipients {
        let failure = report.kind == ReportKind::Bounce && !r.reason.is_not_a_failure();
        let (link, message_ref, conflict) = if failure {
            let (link, found) = load.find_message(
                original_message_id.as_deref(),
                report.original_queue_id.as_deref(),
                &r.recipient,
            )?;
            let joined = match found {
                Some(id) => join_logged(
                    load,
                    writer,
                    assembler,
                    r,
                    id,
                    r.last_attempt.unwrap_or(ts),
                    number,
                )?,
                None => Joined::NotOnMessage(None),
            };
            match (joined, found) {
                (Joined::Refined, Some(id)) => {
                    *events += 1;
                    (link, Some(id), None)
                }
                (Joined::Kept(conflict), Some(id)) => (link, Some(id), conflict),
                (outcome, _) => {
                    let conflict = match outcome {
                        Joined::NotOnMessage(conflict) => conflict,
                        _ => None,
                    };
                    if !own_started {
                        let mut info = Event::new(
                            ts,
                            number,
                            own_host.as_str(),
                            own_queue.clone(),
                            EventKind::Info,
                        );
                        info.message_id = original_message_id.clone().map(Into::into);
                        info.sender = report.original_sender.clone().map(Into::into);
                        info.subject = report.original_subject.clone().map(Into::into);
                        assembler.push(info, writer)?;
                        own_started = true;
                    }
                    let e = recipient_event(
                        r,
                        r.last_attempt.unwrap_or(ts),
                        number,
                        &own_host,
                        &own_queue,
                    );
                    assembler.push(e, writer)?;
                    *events += 1;
                    (Link::None, None, conflict)
                }
            }
        } else {
            (Link::None, None, None)
        };
        // Written now so the row ids exist; message_ref of a standalone report is filled
        // in once its message is written below.
        load.add_bounce(&BounceRow {
            source_id,
            report: label,
            kind: report.kind,
            message_ref,
            link,
            recipient: r,
            original_message_id: original_message_id.as_deref(),
            reported_at: r.last_attempt.or(report.date),
            conflict: conflict.as_deref(),
        })?;
    }
    if own_started {
        // The standalone message is complete: write it, then point its rows at it.
        assembler.push(
            Event::new(
                ts,
                number,
                own_host.as_str(),
                own_queue.clone(),
                EventKind::Removed,
            ),
            writer,
        )?;
        load.attach_to_own_message(source_id, &own_host, &own_queue)?;
    }
    Ok(())
}

/// Whether `import` should hand `name` to the bounce importer (peeks at its first bytes;
/// stdin or another stream only when `--format eml` says so, since it cannot be read
/// twice).
pub fn wants(name: &str, format: Format) -> bool {
    use crate::ingest::input::{Kind, kind};
    match format {
        Format::Eml => true,
        Format::Auto => {
            match kind(name) {
                Ok(Kind::Directory) => return true,
                Ok(Kind::File) => {}
                // Read (or refused) once, by the log importer.
                _ => return false,
            }
            let Ok(mut inp) = crate::ingest::input::open(name) else {
                return false;
            };
            let head = std::io::BufRead::fill_buf(&mut inp.reader)
                .map(|h| h.to_vec())
                .unwrap_or_default();
            is_bounce_input(name, format, &head)
        }
        _ => false,
    }
}
