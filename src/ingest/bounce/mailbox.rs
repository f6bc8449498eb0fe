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

/// A plain folder (not a Maildir) that holds mail logs and no email: its log files, in
/// name order, to be imported as logs. `None` for a folder of emails, a mixed one, or
/// one sendlog recognises nothing in.
pub fn log_folder(path: &Path) -> Option<Vec<String>> {
    if is_maildir(path) {
        return None;
    }
    let (_, files) = folder_files(path).ok()?;
    let mut logs = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let Ok(mut inp) = input::open(&name) else {
            continue;
        };
        let head = inp
            .reader
            .fill_buf()
            .map(|h| h.to_vec())
            .unwrap_or_default();
        if is_message(&head) || is_mbox(&head) {
            return None;
        }
        if crate::ingest::detect::detect(&head).is_some() {
            logs.push(name);
        }
    }
    (!logs.is_empty()).then_some(logs)
}

fn read_all(name: &str) -> Result<Vec<u8>, String> {
    let inp = input::open(name).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    inp.reader
        .take(MAX_MESSAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(format!(
            "{name}: larger than {} MB, not read as one message",
            MAX_MESSAGE_BYTES / 1_000_000
        ));
    }
    Ok(bytes)
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
        let messages = mail_parser::mailbox::mbox::MessageIterator::new(inp.reader);
        for (i, m) in messages.enumerate() {
            let label = format!("{name}#{}", i + 1);
            match m {
                Ok(m) => each(Ok(RawMessage {
                    label,
                    bytes: m.unwrap_contents(),
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
            error: format!(
                "larger than {} MB, not read as one message",
                MAX_MESSAGE_BYTES / 1_000_000
            ),
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
