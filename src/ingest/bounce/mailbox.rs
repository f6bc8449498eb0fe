//! Where bounce emails come from: a single `.eml` file, an mbox (messages after
//! `From ` lines), a Maildir folder (`cur/` and `new/`), or a plain folder of message
//! files, or Amazon SES notifications (one JSON object, a JSON array of them, or JSON
//! lines). Gzip is read transparently (see `ingest::input`). Each message is handed over
//! as bytes with a label naming it, so one bad message never stops the others.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::ingest::input;

/// The container a bounce input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Eml,
    Mbox,
    Maildir,
    Folder,
    /// SES notifications: each JSON value of the file is one message.
    Notifications,
}

/// One message of an input.
#[derive(Debug, Clone)]
pub struct RawMessage {
    /// `file` for a single message, `file#N` for the N-th message of an mbox, the
    /// message's own path inside a Maildir or folder.
    pub label: String,
    pub bytes: Vec<u8>,
}

/// A message that could not be read: its label and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    pub label: String,
    pub error: String,
}

/// Largest single message read (bigger ones are reported, not loaded).
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Whether `head` (the first bytes of an input) looks like an mbox.
pub fn is_mbox(head: &[u8]) -> bool {
    head.starts_with(b"From ")
}

/// Whether `head` starts with an RFC 5322 header block (a single message).
pub fn is_message(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let mut fields = 0;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        match line.split_once(':') {
            Some((name, _))
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':') =>
            {
                fields += 1;
            }
            _ => return false,
        }
    }
    let lower = text.to_ascii_lowercase();
    let names_a_message = lower.starts_with("from:")
        || ["\nfrom:", "\nsubject:", "\nmessage-id:"]
            .iter()
            .any(|h| lower.contains(h));
    fields >= 2 && names_a_message
}

/// Whether `path` is a Maildir (has `cur/` or `new/`).
pub fn is_maildir(path: &Path) -> bool {
    path.join("cur").is_dir() || path.join("new").is_dir()
}

/// Message files of a Maildir (`new/` then `cur/`) or of a plain folder, sorted by name
/// so runs are repeatable.
fn folder_files(path: &Path) -> std::io::Result<(Container, Vec<PathBuf>)> {
    let (container, dirs) = if is_maildir(path) {
        (Container::Maildir, vec![path.join("new"), path.join("cur")])
    } else {
        (Container::Folder, vec![path.to_path_buf()])
    };
    let mut files = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            continue;
        }
        let mut here: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        here.sort();
        files.extend(here);
    }
    Ok((container, files))
}

/// What a folder given to `import` holds, found by walking it and its subfolders: the
/// mail logs, the bounce inputs (a Maildir as a whole, each mbox or email file), and the
/// files that are neither.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FolderScan {
    pub logs: Vec<String>,
    pub bounces: Vec<String>,
    pub maildirs: usize,
    pub folders: usize,
    /// Files read as neither a log nor an email (name order).
    pub skipped: Vec<String>,
    /// Subfolders not entered: symbolic links (a loop would never end) and folders
    /// nested deeper than `MAX_DEPTH`.
    pub not_entered: Vec<String>,
}

/// Folders nested deeper than this are not entered.
const MAX_DEPTH: usize = 32;

pub fn scan_folder(path: &Path) -> FolderScan {
    let mut scan = FolderScan::default();
    let mut stack = vec![(path.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if is_maildir(&dir) {
            scan.maildirs += 1;
            scan.bounces.push(dir.display().to_string());
            continue;
        }
        scan.folders += 1;
        let Ok(entries) = std::fs::read_dir(&dir) else {
            scan.skipped.push(format!("{} (unreadable)", dir.display()));
            continue;
        };
        let mut entries: Vec<std::fs::DirEntry> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            // Hidden files are a tool's bookkeeping (.DS_Store, .git), not mail.
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = e.path();
            let is_link = e.file_type().is_ok_and(|t| t.is_symlink());
            if p.is_dir() {
                if is_link || depth + 1 > MAX_DEPTH {
                    scan.not_entered.push(p.display().to_string());
                } else {
                    subdirs.push(p);
                }
                continue;
            }
            let name = p.display().to_string();
            let head = input::open(&name)
                .ok()
                .and_then(|mut inp| inp.reader.fill_buf().ok().map(|h| h.to_vec()))
                .unwrap_or_default();
            if is_message(&head) || is_mbox(&head) {
                scan.bounces.push(name);
            } else if crate::ingest::detect::detect(&head).is_some() {
                scan.logs.push(name);
            } else {
                scan.skipped.push(name);
            }
        }
        // Depth first, in name order.
        stack.extend(subdirs.into_iter().rev().map(|d| (d, depth + 1)));
    }
    scan
}

impl FolderScan {
    /// One line for the import's summary: what was found, what was skipped.
    pub fn describe(&self) -> String {
        use crate::wording::plural;
        let mut found = vec![
            plural(self.logs.len() as u64, "log", "logs"),
            plural(
                self.bounces.len() as u64 - self.maildirs as u64,
                "email file",
                "email files",
            ),
        ];
        if self.maildirs > 0 {
            found.push(plural(self.maildirs as u64, "Maildir", "Maildirs"));
        }
        let mut line = format!(
            "folder ({}): found {}",
            plural(self.folders as u64, "folder", "folders"),
            found.join(", ")
        );
        if !self.skipped.is_empty() {
            let first: Vec<&str> = self.skipped.iter().take(3).map(String::as_str).collect();
            line.push_str(&format!(
                "; skipped {} neither a log nor an email: {}{}",
                plural(self.skipped.len() as u64, "file", "files"),
                first.join(", "),
                if self.skipped.len() > 3 { ", …" } else { "" }
            ));
        }
        if !self.not_entered.is_empty() {
            line.push_str(&format!(
                "; not entered (links or too deep): {}",
                self.not_entered.join(", ")
            ));
        }
        line
    }
}

fn read_all(name: &str) -> Result<Vec<u8>, String> {
    let inp = input::open(name).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    inp.reader
        .take(MAX_MESSAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(format!("{name}: {}", too_big(bytes.len() as u64)));
    }
    Ok(bytes)
}

/// Why a message was skipped for its size (`size` as far as it was read: more than the cap).
fn too_big(size: u64) -> String {
    let mb = |n: u64| n.div_ceil(1 << 20);
    if size > MAX_MESSAGE_BYTES + 1 {
        format!(
            "{} MiB, larger than the {} MiB a message may have: skipped",
            mb(size),
            mb(MAX_MESSAGE_BYTES)
        )
    } else {
        format!(
            "larger than the {} MiB a message may have: skipped",
            mb(MAX_MESSAGE_BYTES)
        )
    }
}

/// One message of an mbox: its bytes, or only its size when it is over the cap.
#[derive(Debug, PartialEq, Eq)]
enum MboxItem {
    Message(Vec<u8>),
    TooBig(u64),
}

/// Splits an mbox into messages at `From ` lines, undoing `>From ` quoting, as
/// `mail_parser`'s reader does (so stored message hashes stay the same), but holding at
/// most `cap` bytes of any message or line: a message over the cap is read through and
/// reported by its size, so one huge (or decompression-bomb) message cannot exhaust memory
/// nor stop the messages after it.
struct Mbox<R> {
    reader: R,
    cap: usize,
    /// The message being read (`None` before the first `From ` line).
    current: Option<Vec<u8>>,
    /// Bytes of the current message, counted on past the cap.
    size: u64,
    line: Vec<u8>,
}

impl<R: BufRead> Mbox<R> {
    fn new(reader: R, cap: usize) -> Self {
        Mbox {
            reader,
            cap,
            current: None,
            size: 0,
            line: Vec::new(),
        }
    }

    fn take(&mut self) -> Option<MboxItem> {
        let size = std::mem::take(&mut self.size);
        self.current.take().map(|m| {
            if size > self.cap as u64 {
                MboxItem::TooBig(size)
            } else {
                MboxItem::Message(m)
            }
        })
    }

    /// Reads one line (with its `\n`) into `self.line`, keeping at most `keep` bytes of
    /// it and consuming the rest; returns the line's whole length (0 at the end).
    fn read_line(&mut self, keep: usize) -> std::io::Result<u64> {
        self.line.clear();
        let mut total = 0u64;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(total);
            }
            let (used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let room = keep.saturating_sub(self.line.len()).min(used);
            self.line.extend_from_slice(&available[..room]);
            self.reader.consume(used);
            total += used as u64;
            if done {
                return Ok(total);
            }
        }
    }

    fn next_message(&mut self) -> std::io::Result<Option<MboxItem>> {
        loop {
            // Enough of the line to tell a separator, and to fill the message to its cap.
            let held = self.current.as_ref().map_or(0, Vec::len);
            let keep = (self.cap + 1).saturating_sub(held).max(8);
            let len = self.read_line(keep)?;
            if len == 0 {
                return Ok(self.take());
            }
            if self.line.starts_with(b"From ") {
                let done = self.take();
                self.current = Some(Vec::new());
                if done.is_some() {
                    return Ok(done);
                }
                continue;
            }
            let Some(message) = self.current.as_mut() else {
                continue;
            };
            let quoted = self.line.first() == Some(&b'>') && {
                let i = self
                    .line
                    .iter()
                    .position(|b| *b != b'>')
                    .unwrap_or(self.line.len());
                self.line[i..].starts_with(b"From ")
            };
            let (line, len) = if quoted {
                (&self.line[1..], len - 1)
            } else {
                (&self.line[..], len)
            };
            self.size += len;
            if self.size > self.cap as u64 {
                // Over the cap: only its size is still counted.
                *message = Vec::new();
            } else {
                message.extend_from_slice(line);
            }
        }
    }
}

/// Hands over the content of one file: each notification of an SES file (a JSON array,
/// JSON lines or objects one after another; `label#N` when there are several), or the
/// file as one message. A value that does not parse ends the file with a failure that
/// names it; the values before it are kept.
fn each_of_file(
    label: String,
    bytes: Vec<u8>,
    each: &mut impl FnMut(Result<RawMessage, ReadFailure>),
) -> bool {
    if !super::ses::looks_like_notification(&bytes) {
        each(Ok(RawMessage { label, bytes }));
        return false;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut values = Vec::new();
    let mut failure = None;
    for v in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
        match v {
            Ok(serde_json::Value::Array(items)) => values.extend(items),
            Ok(v) => values.push(v),
            Err(e) => {
                failure = Some(format!("not JSON after notification {}: {e}", values.len()));
                break;
            }
        }
    }
    if values.len() == 1 && failure.is_none() {
        let bytes = body.to_vec();
        each(Ok(RawMessage { label, bytes }));
        return true;
    }
    for (i, v) in values.iter().enumerate() {
        each(Ok(RawMessage {
            label: format!("{label}#{}", i + 1),
            bytes: serde_json::to_vec(v).expect("a parsed JSON value serialises"),
        }));
    }
    if let Some(error) = failure {
        each(Err(ReadFailure { label, error }));
    }
    true
}

/// Reads every message of `name`, calling `each` with it (or with why it could not be
/// read). Returns the container, or an error when `name` itself cannot be opened.
pub fn for_each_message(
    name: &str,
    mut each: impl FnMut(Result<RawMessage, ReadFailure>),
) -> Result<Container, String> {
    let path = Path::new(name);
    if name != "-" && path.is_dir() {
        let (container, files) = folder_files(path).map_err(|e| format!("{name}: {e}"))?;
        for file in files {
            let label = file.display().to_string();
            match read_all(&label) {
                Ok(bytes) => {
                    each_of_file(label, bytes, &mut each);
                }
                Err(error) => each(Err(ReadFailure { label, error })),
            }
        }
        return Ok(container);
    }
    let mut inp = input::open(name).map_err(|e| e.to_string())?;
    let head = inp
        .reader
        .fill_buf()
        .map_err(|e| format!("{name}: {e}"))?
        .to_vec();
    if is_mbox(&head) {
        let mut messages = Mbox::new(inp.reader, MAX_MESSAGE_BYTES as usize);
        for i in 1.. {
            let label = format!("{name}#{i}");
            match messages.next_message() {
                Ok(None) => break,
                Ok(Some(MboxItem::Message(bytes))) => each(Ok(RawMessage { label, bytes })),
                Ok(Some(MboxItem::TooBig(size))) => each(Err(ReadFailure {
                    label,
                    error: too_big(size),
                })),
                Err(e) => {
                    each(Err(ReadFailure {
                        label,
                        error: format!("read error: {e}"),
                    }));
                    break;
                }
            }
        }
        return Ok(Container::Mbox);
    }
    let mut bytes = Vec::new();
    match inp
        .reader
        .take(MAX_MESSAGE_BYTES + 1)
        .read_to_end(&mut bytes)
    {
        Ok(_) if bytes.len() as u64 > MAX_MESSAGE_BYTES => each(Err(ReadFailure {
            label: name.to_string(),
            error: too_big(bytes.len() as u64),
        })),
        Ok(_) => {
            if each_of_file(name.to_string(), bytes, &mut each) {
                return Ok(Container::Notifications);
            }
        }
        Err(e) => each(Err(ReadFailure {
            label: name.to_string(),
            error: format!("read error: {e}"),
        })),
    }
    Ok(Container::Eml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], cap: usize) -> Vec<MboxItem> {
        let mut m = Mbox::new(std::io::BufReader::with_capacity(7, data), cap);
        std::iter::from_fn(|| m.next_message().unwrap()).collect()
    }

    #[test]
    fn mbox_split_matches_mail_parser_and_caps_each_message() {
        let data = b"From a@x Thu Apr 29 00:00:00 2010\r\nSubject: one\r\n\r\n>From here\r\n>>From there\r\n>Fromage\r\n\
From b@x Thu Apr 29 00:00:01 2010\nSubject: two\n\nbody\n\
From c@x Thu Apr 29 00:00:02 2010\nSubject: three\n\nno final newline";
        let ours: Vec<Vec<u8>> = split(data, 1 << 20)
            .into_iter()
            .map(|m| match m {
                MboxItem::Message(b) => b,
                MboxItem::TooBig(n) => panic!("{n} bytes is under the cap"),
            })
            .collect();
        let theirs: Vec<Vec<u8>> =
            mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(&data[..]))
                .map(|m| m.unwrap().unwrap_contents())
                .collect();
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 3);

        // The same mbox with a cap the second message exceeds: it alone is skipped.
        let items = split(data, 24);
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], MboxItem::TooBig(_)));
        assert_eq!(
            items[1],
            MboxItem::Message(b"Subject: two\n\nbody\n".to_vec())
        );
        assert_eq!(items[2], MboxItem::TooBig(32));
    }

    #[test]
    fn sniffing_containers() {
        assert!(is_mbox(
            b"From MAILER-DAEMON Thu Apr 29 00:00:00 2010\nFrom: x\n"
        ));
        assert!(is_message(
            b"Return-Path: <>\nFrom: MAILER-DAEMON@x\nSubject: failure\n\nbody"
        ));
        assert!(!is_message(
            b"Oct  1 10:00:00 mx postfix/qmgr[1]: ABC: removed\n"
        ));
        assert!(!is_message(b""));
    }
}
