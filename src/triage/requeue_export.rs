//! What a re-queue batch looks like on disk: CSV or JSON Lines for a sending platform, a
//! shell script of `postqueue -i` for Postfix messages still queued, a PowerShell script
//! for Exchange queues. Pure text generation; recording the batch is the store's job.
//!
//! Scripts are run by an administrator with privileges, and every value in them comes from
//! a log written by strangers: a value is written only if it is made of characters that
//! cannot change the meaning of the script; anything else is refused before the batch is
//! recorded (`Format::accepts`).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::requeue::{Candidate, Resolution};
use crate::ingest::timestamp::format_rfc3339;
use crate::model::{DeliveryStatus, Reason};
use crate::sanitize::{csv_cell, csv_io_error, for_terminal};
use crate::wording::plural;

/// Why a platform batch leaves out a delivery still deferred.
pub const STILL_QUEUED: &str = "still in the MTA's queue, which keeps retrying it (re-queue it with the postfix or exchange format)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    Postfix,
    Exchange,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["csv", "jsonl", "postfix", "exchange"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Postfix => "postfix",
            Format::Exchange => "exchange",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            "postfix" => Some(Format::Postfix),
            "exchange" => Some(Format::Exchange),
            _ => None,
        }
    }

    /// Whether an eligible delivery can go into this format; if not, why not (the
    /// delivery stays eligible for another format). Mail still deferred is still in its
    /// MTA's queue, which keeps retrying it: a sending platform that re-sends it too makes
    /// a duplicate, so a platform batch takes it only with `include_queued`.
    pub fn accepts(self, c: &Candidate, include_queued: bool) -> Result<(), &'static str> {
        match self {
            Format::Csv | Format::Jsonl => {
                if c.status == DeliveryStatus::Deferred && !include_queued {
                    Err(STILL_QUEUED)
                } else {
                    Ok(())
                }
            }
            Format::Postfix => {
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
            Format::Exchange => {
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
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Postfix => "sh",
            Format::Exchange => "ps1",
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
    pub const FIELDS: [&'static str; 15] = [
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
    pub const EXACT: [&'static str; 4] = ["recipient", "sender", "message_id", "queue_id"];

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

/// Whether an export may replace a file already at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// The path was named by the user (`--out`): like the shell's `>`, it is replaced.
    Replace,
    /// The path was chosen for the user: a file already there is theirs, so the batch
    /// goes to the first free `NAME-2.EXT`, `NAME-3.EXT`… beside it.
    NextFree,
}

/// How many numbered names `Existing::NextFree` tries before it gives up: a directory
/// that full of batch files is not one to keep filling.
const MAX_NUMBERED: u32 = 10_000;

/// Puts a rendered batch at `path`, whole or not at all, and returns the path written
/// (another one than `path` only with `Existing::NextFree`). It is written to a temporary
/// file beside `path` and renamed into place. The file gets the mode any new file gets
/// (0666, or 0777 for the Postfix script, less the umask), not a temporary file's private
/// 0600: a batch is a normal file its user hands on to other tools and people.
///
/// An error never names the temporary file: the user knows only the path they gave, and
/// the caller names that.
pub fn write_file(
    format: Format,
    path: &Path,
    bytes: &[u8],
    existing: Existing,
) -> io::Result<std::path::PathBuf> {
    stage_file(format, path, bytes, existing)?.put_in_place()
}

/// A batch written whole to a temporary file beside its path, not yet in place: the
/// caller records the batch, and only once that is committed puts the file where the
/// user will find it. A file the store does not know about would be sent, and its
/// deliveries handed out again by the next export.
pub struct StagedFile {
    tmp: tempfile::NamedTempFile,
    path: std::path::PathBuf,
    existing: Existing,
}

/// A rendered batch waiting for the store to record it.
pub enum Pending {
    /// For standard output: nothing is printed before the batch is on record.
    Stdout(Vec<u8>),
    File(StagedFile),
}

impl Pending {
    /// Where the batch is meant to go: a path, or `-` for standard output.
    pub fn destination(&self) -> String {
        match self {
            Pending::Stdout(_) => "-".into(),
            Pending::File(f) => f.path().display().to_string(),
        }
    }

    /// Prints the batch, or puts its file in place; returns where it went.
    pub fn deliver(self) -> io::Result<String> {
        match self {
            Pending::Stdout(bytes) => {
                let mut out = io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()?;
                Ok("-".into())
            }
            Pending::File(f) => {
                let shown = f.path().display().to_string();
                f.put_in_place()
                    .map(|p| p.display().to_string())
                    .map_err(|e| io::Error::new(e.kind(), format!("{shown}: {e}")))
            }
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` (see `write_file`).
pub fn stage_file(
    format: Format,
    path: &Path,
    bytes: &[u8],
    existing: Existing,
) -> io::Result<StagedFile> {
    if existing == Existing::Replace {
        replaceable(path)?;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // `make_in` hands back our own open error as is; `tempfile_in` and the temporary
    // file's `Write` add its random path to every error.
    let mut tmp = tempfile::Builder::new().make_in(dir, |p| create_new(p, format))?;
    tmp.as_file_mut().write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(StagedFile {
        tmp,
        path: path.to_path_buf(),
        existing,
    })
}

impl StagedFile {
    /// The path the file is meant for (`put_in_place` may pick a numbered one beside it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the file into place and returns where it went. Dropped instead, the
    /// temporary file is removed.
    pub fn put_in_place(self) -> io::Result<std::path::PathBuf> {
        let StagedFile {
            mut tmp,
            path,
            existing,
        } = self;
        let path = path.as_path();
        match existing {
            Existing::Replace => {
                tmp.persist(path).map_err(|e| e.error)?;
                Ok(path.to_path_buf())
            }
            Existing::NextFree => {
                for n in 1..=MAX_NUMBERED {
                    let candidate = numbered(path, n);
                    match tmp.persist_noclobber(&candidate) {
                        Ok(_) => return Ok(candidate),
                        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => tmp = e.file,
                        Err(e) => return Err(e.error),
                    }
                }
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{MAX_NUMBERED} files by that name already exist"),
                ))
            }
        }
    }
}

/// Whether a batch may be renamed over `path`: nothing there, or a regular file. Renaming
/// over a symbolic link replaces the link, not what it points at, and over a device node
/// (`/dev/stdout`, a disk) or a FIFO it replaces the node itself, which for a privileged
/// user breaks the system; a directory cannot hold a batch by that name at all.
fn replaceable(path: &Path) -> io::Result<()> {
    let what = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(m) if m.file_type().is_symlink() => "a symbolic link",
        Ok(m) if m.is_dir() => "a directory",
        Ok(m) if !m.is_file() => "a device, FIFO or socket, not a regular file",
        Ok(_) => return Ok(()),
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}; give a regular file's path, or - for standard output"),
    ))
}

#[cfg(unix)]
fn create_new(path: &Path, format: Format) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if format == Format::Postfix {
        0o777
    } else {
        0o666
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_new(path: &Path, _format: Format) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// `dir/NAME.EXT` for 1, `dir/NAME-n.EXT` after that.
fn numbered(path: &Path, n: u32) -> std::path::PathBuf {
    if n == 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Writes a batch. `created_at` goes into the scripts' headers.
pub fn write(
    format: Format,
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for r in records {
                crate::sanitize::json_line(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => {
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
        Format::Postfix => write_postfix(batch, created_at, records, w),
        Format::Exchange => write_exchange(batch, created_at, records, w),
    }
}

/// Short (`4D2A11C0F3`) or long (`4dKx9Q1Z7vz9sWr`) Postfix queue ids.
fn is_postfix_queue_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A host, instance or server name: letters, digits, `.`, `-`, `_`, not starting with `-`.
fn is_script_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn is_domain(s: &str) -> bool {
    is_script_word(s) && !s.contains('_')
}

/// A Message-ID safe inside a single-quoted PowerShell string inside a double-quoted one.
fn is_message_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 998
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b'`' | b'$'))
}

/// `mta2/postfix-out2` → (`mta2`, Some(`postfix-out2`)), when both parts are safe words.
fn split_host(host: &str) -> Option<(&str, Option<&str>)> {
    let (machine, instance) = match host.split_once('/') {
        Some((m, i)) => (m, Some(i)),
        None => (host, None),
    };
    (is_script_word(machine) && instance.is_none_or(is_script_word)).then_some((machine, instance))
}

/// Recipients for a comment line: never a line break or a control character.
fn comment_list(recipients: &[&str]) -> String {
    let mut s = recipients
        .iter()
        .take(5)
        .map(|r| for_terminal(r).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if recipients.len() > 5 {
        s.push_str(&format!(" and {} more", recipients.len() - 5));
    }
    s
}

/// Per Postfix instance of one machine: queue id → recipients.
type Instances<'a> = BTreeMap<Option<&'a str>, BTreeMap<&'a str, Vec<&'a str>>>;

fn write_postfix(
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    // machine → instance → queue id → recipients; one `postqueue -i` per queue file.
    let mut hosts: BTreeMap<String, Instances<'_>> = BTreeMap::new();
    for r in records {
        let Some((machine, instance)) = split_host(&r.host) else {
            continue;
        };
        if !is_postfix_queue_id(&r.queue_id) {
            continue;
        }
        hosts
            .entry(short_host(machine))
            .or_default()
            .entry(instance)
            .or_default()
            .entry(&r.queue_id)
            .or_default()
            .push(&r.recipient);
    }
    let messages: usize = hosts
        .values()
        .flat_map(|i| i.values())
        .map(BTreeMap::len)
        .sum();
    writeln!(w, "#!/bin/sh")?;
    writeln!(
        w,
        "# sendlog re-queue batch {batch}, {}: {} still in the Postfix queue.",
        format_rfc3339(created_at),
        plural(messages as u64, "message", "messages")
    )?;
    writeln!(
        w,
        "# Run it as root on each sending host: it asks that host's Postfix to deliver its\n\
         # messages now (postqueue -i QUEUEID) and leaves other hosts' messages alone.\n\
         # A message no longer in the Postfix queue (delivered, bounced or expired since)\n\
         # is reported by postqueue and skipped. Hosts are matched by their short name\n\
         # in lower case (mta2.example.net and MTA2 are mta2); on a host the batch does\n\
         # not name, nothing runs and the script says so and exits 2."
    )?;
    writeln!(w, "set -u")?;
    writeln!(
        w,
        "host=$(hostname 2>/dev/null | tr '[:upper:]' '[:lower:]')\nhost=${{host%%.*}}"
    )?;
    writeln!(w, "case \"$host\" in")?;
    for (machine, instances) in &hosts {
        writeln!(w, "{machine})")?;
        for (instance, queue_ids) in instances {
            for (qid, recipients) in queue_ids {
                writeln!(w, "    # {}", comment_list(recipients))?;
                match instance {
                    // A second Postfix instance logs under its own syslog name, which
                    // postmulti knows it by (multi_instance_name).
                    Some(i) => writeln!(w, "    postmulti -i {i} -x postqueue -i {qid}")?,
                    None => writeln!(w, "    postqueue -i {qid}")?,
                }
            }
        }
        writeln!(w, "    ;;")?;
    }
    let names: Vec<&str> = hosts.keys().map(String::as_str).collect();
    writeln!(w, "*)")?;
    writeln!(
        w,
        "    echo \"sendlog batch {batch}: SKIPPED EVERYTHING: this host is '$host', and the batch is only for: {}. Nothing was re-queued; run it on those hosts.\" >&2",
        names.join(" ")
    )?;
    writeln!(w, "    exit 2")?;
    writeln!(w, "    ;;")?;
    writeln!(w, "esac")
}

/// A machine name as the script compares it: the short name (before the first dot), in
/// lower case, since `hostname` prints the FQDN on some systems and host names ignore case.
fn short_host(machine: &str) -> String {
    machine
        .split('.')
        .next()
        .unwrap_or(machine)
        .to_ascii_lowercase()
}

fn write_exchange(
    batch: i64,
    created_at: i64,
    records: &[ExportRecord],
    w: &mut dyn Write,
) -> io::Result<()> {
    // server → next-hop domain → Message-IDs
    let mut servers: BTreeMap<&str, BTreeMap<&str, Vec<Option<&str>>>> = BTreeMap::new();
    for r in records {
        if !is_script_word(&r.host)
            || !is_domain(&r.domain)
            || r.message_id.as_deref().is_some_and(|m| !is_message_id(m))
        {
            continue;
        }
        servers
            .entry(&r.host)
            .or_default()
            .entry(&r.domain)
            .or_default()
            .push(r.message_id.as_deref());
    }
    writeln!(
        w,
        "# sendlog re-queue batch {batch}, {}: {} still in Exchange queues.",
        format_rfc3339(created_at),
        plural(
            servers
                .values()
                .flat_map(|d| d.values())
                .map(Vec::len)
                .sum::<usize>() as u64,
            "delivery",
            "deliveries"
        )
    )?;
    writeln!(
        w,
        "# Run in the Exchange Management Shell. Retry-Queue makes each destination's queue\n\
         # try again now; Resume-Message releases those messages if they were suspended."
    )?;
    writeln!(w, "$ErrorActionPreference = 'Continue'")?;
    for (server, domains) in &servers {
        writeln!(w, "\n# {server}")?;
        for (domain, ids) in domains {
            writeln!(
                w,
                "Retry-Queue -Server '{server}' -Filter \"NextHopDomain -eq '{domain}' -and Status -eq 'Retry'\" -Confirm:$false"
            )?;
            let mut ids: Vec<&str> = ids.iter().flatten().copied().collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let id = if id.starts_with('<') {
                    id.to_string()
                } else {
                    format!("<{id}>")
                };
                writeln!(
                    w,
                    "Resume-Message -Server '{server}' -Filter \"InternetMessageId -eq '{id}' -and Status -eq 'Suspended'\" -Confirm:$false"
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str, qid: &str, rcpt: &str, domain: &str) -> ExportRecord {
        ExportRecord {
            batch: 3,
            recipient: rcpt.into(),
            sender: Some("=HYPERLINK(\"http://x\")".into()),
            message_id: Some("abc.123@mta.example".into()),
            queue_id: qid.into(),
            host: host.into(),
            subject: Some("-2+3".into()),
            status: DeliveryStatus::Deferred,
            code: "4.7.650".into(),
            cause: Some(Reason::BadReputation),
            domain: domain.into(),
            provider: None,
            last_attempt: None,
            resolution_note: "@SUM(A1) delisted".into(),
            resolved_at: "2026-11-25T10:00:00Z".into(),
        }
    }

    fn text(format: Format, records: &[ExportRecord]) -> String {
        let mut out = Vec::new();
        write(format, 3, 1_790_000_000, records, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_free_text_is_neutralised_and_addresses_stay_exact() {
        let out = text(
            Format::Csv,
            &[record("mta1", "ABC", "+1@example.com", "example.com")],
        );
        let mut rd = csv::Reader::from_reader(out.as_bytes());
        assert_eq!(
            rd.headers().unwrap().iter().collect::<Vec<_>>(),
            ExportRecord::FIELDS
        );
        let row = rd.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "+1@example.com");
        assert_eq!(&row[2], "=HYPERLINK(\"http://x\")");
        assert_eq!(&row[6], "'-2+3");
        assert_eq!(&row[13], "'@SUM(A1) delisted");
        assert_eq!(&row[3], "abc.123@mta.example");
    }

    #[test]
    fn postfix_script_has_one_line_per_queue_file_per_host() {
        let out = text(
            Format::Postfix,
            &[
                record(
                    "mta2/postfix-out2",
                    "9C5F661548",
                    "a@x.example",
                    "x.example",
                ),
                record(
                    "mta2/postfix-out2",
                    "9C5F661548",
                    "b\n rm -rf /@x.example",
                    "x.example",
                ),
                record("mta1", "D093AA5982", "c@y.example", "y.example"),
                record("mta1", "BAD;ID", "d@y.example", "y.example"),
            ],
        );
        assert!(out.starts_with("#!/bin/sh\n"));
        assert!(
            out.contains(": 2 messages still in the Postfix queue."),
            "{out}"
        );
        let commands: Vec<&str> = out
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("post"))
            .collect();
        assert_eq!(
            commands,
            [
                "postqueue -i D093AA5982",
                "postmulti -i postfix-out2 -x postqueue -i 9C5F661548"
            ]
        );
        // The hostile recipient stays inside its comment line.
        assert!(
            out.lines()
                .any(|l| l.trim() == "# a@x.example, b\\x0a rm -rf /@x.example"),
            "{out}"
        );
        assert!(out.contains("mta1)\n") && out.contains("mta2)\n"));
        assert!(!out.contains("BAD;ID"));
    }

    /// Runs the Postfix script under `sh` on a machine whose `hostname` prints `name`, with
    /// stand-ins for postqueue and postmulti that log their arguments.
    #[cfg(unix)]
    fn run_postfix_script(script: &str, name: &str) -> (i32, String, String) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("ran");
        for (tool, body) in [
            ("hostname", format!("echo '{name}'")),
            (
                "postqueue",
                format!("echo postqueue \"$@\" >> '{}'", log.display()),
            ),
            (
                "postmulti",
                format!("echo postmulti \"$@\" >> '{}'", log.display()),
            ),
        ] {
            let p = dir.path().join(tool);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap()
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("PATH", path)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            std::fs::read_to_string(&log).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[cfg(unix)]
    #[test]
    fn postfix_script_matches_the_short_name_in_any_case_and_says_when_it_skips() {
        let script = text(
            Format::Postfix,
            &[
                record(
                    "MTA2.Example.NET/postfix-out2",
                    "9C5F661548",
                    "a@x.example",
                    "x.example",
                ),
                record("mta1", "D093AA5982", "c@y.example", "y.example"),
            ],
        );
        for name in ["mta2", "MTA2", "mta2.example.net", "Mta2.Other.Example"] {
            let (code, ran, _) = run_postfix_script(&script, name);
            assert_eq!(code, 0, "{name}");
            assert_eq!(
                ran, "postmulti -i postfix-out2 -x postqueue -i 9C5F661548\n",
                "{name}"
            );
        }
        let (code, ran, _) = run_postfix_script(&script, "MTA1.example.org");
        assert_eq!((code, ran.as_str()), (0, "postqueue -i D093AA5982\n"));
        let (code, ran, said) = run_postfix_script(&script, "mail3.example.org");
        assert_eq!(code, 2);
        assert_eq!(ran, "");
        assert!(
            said.contains("SKIPPED EVERYTHING") && said.contains("'mail3'"),
            "{said}"
        );
        assert!(said.contains("mta1 mta2"), "{said}");
    }

    #[test]
    fn exchange_script_retries_queues_and_resumes_messages() {
        let out = text(
            Format::Exchange,
            &[record(
                "EX01",
                "1234",
                "a@contoso.example",
                "contoso.example",
            )],
        );
        assert!(out.contains(
            "Retry-Queue -Server 'EX01' -Filter \"NextHopDomain -eq 'contoso.example' -and Status -eq 'Retry'\" -Confirm:$false"
        ));
        assert!(out.contains("InternetMessageId -eq '<abc.123@mta.example>'"));
        assert!(
            out.contains(": 1 delivery still in Exchange queues."),
            "{out}"
        );
        let hostile = ExportRecord {
            message_id: Some("x'; Remove-Item C:\\ -Recurse; '".into()),
            ..record("EX01", "1", "a@contoso.example", "contoso.example")
        };
        assert!(!text(Format::Exchange, &[hostile]).contains("Remove-Item"));
    }

    /// The mode a file created the ordinary way gets in `dir` under this process's umask.
    #[cfg(unix)]
    fn ordinary_mode(dir: &Path, executable: bool) -> u32 {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let probe = dir.join("probe");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o777 } else { 0o666 })
            .open(&probe)
            .unwrap();
        let mode = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        std::fs::remove_file(probe).unwrap();
        mode
    }

    #[cfg(unix)]
    #[test]
    fn a_written_batch_has_an_ordinary_files_mode_not_a_temp_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        for (format, existing) in [
            (Format::Csv, Existing::NextFree),
            (Format::Jsonl, Existing::Replace),
            (Format::Exchange, Existing::NextFree),
        ] {
            let path = dir.path().join(format!("b.{}", format.extension()));
            write_file(format, &path, b"x\n", existing).unwrap();
            assert_eq!(mode(&path), ordinary_mode(dir.path(), false), "{format:?}");
        }
        let script = dir.path().join("requeue.sh");
        write_file(Format::Postfix, &script, b"#!/bin/sh\n", Existing::NextFree).unwrap();
        assert_eq!(mode(&script), ordinary_mode(dir.path(), true));
        assert_eq!(mode(&script) & 0o100, 0o100, "the script runs");
    }

    #[test]
    fn a_batch_file_is_whole_and_files_already_there_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sendlog-batch-1.csv");
        std::fs::write(&path, "mine\n").unwrap();
        let second = dir.path().join("sendlog-batch-1-2.csv");
        assert_eq!(
            write_file(Format::Csv, &path, b"new\n", Existing::NextFree).unwrap(),
            second
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "new\n");
        assert_eq!(
            write_file(Format::Csv, &path, b"third\n", Existing::NextFree).unwrap(),
            dir.path().join("sendlog-batch-1-3.csv")
        );
        assert_eq!(
            write_file(Format::Csv, &path, b"new\n", Existing::Replace).unwrap(),
            path
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        // No temporary file is left behind either way.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
        assert_eq!(
            numbered(Path::new("out/requeue"), 2),
            Path::new("out/requeue-2")
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_directories_and_devices_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.csv");
        std::fs::write(&target, "theirs\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        for (path, what) in [
            (link.as_path(), "symbolic link"),
            (sub.as_path(), "directory"),
            (Path::new("/dev/null"), "device"),
        ] {
            let err = write_file(Format::Csv, path, b"batch\n", Existing::Replace).unwrap_err();
            assert!(err.to_string().contains(what), "{path:?}: {err}");
        }
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
        assert!(sub.is_dir());
        // Only the three entries made above: no temporary file was left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_names_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/x.csv");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let under_a_file = file.join("x.csv");
        for (path, existing) in [
            (&missing, Existing::Replace),
            (&missing, Existing::NextFree),
            (&under_a_file, Existing::Replace),
        ] {
            let err = write_file(Format::Csv, path, b"x", existing).unwrap_err();
            let text = err.to_string();
            assert!(
                !text.contains(".tmp") && !text.contains("at path"),
                "{text}"
            );
            assert!(!path.exists());
        }
    }
}
