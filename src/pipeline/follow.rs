//! Following live logs as `tail -F` does: what is appended is imported as it is written,
//! through the same import as a one-shot run, so the store's source fingerprints decide
//! what is new and the open messages it keeps carry each message across the steps.
//!
//! The files are watched by a bounded poll (a `stat` per file every `POLL`), which costs
//! nothing measurable while the log is quiet and sees renames, truncation and files that
//! appear later without any notification API. Standard input is spooled to a temporary
//! file that grows as lines arrive, and that file is followed like any other.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crate::pipeline::{FileReport, ImportOptions, Progress, import_files};
use crate::store::{Store, StoreError};

/// How often the files are looked at, and so how long a line waits at most before it is
/// read: also the longest a batch of standard input is held before its commit.
pub const POLL: Duration = Duration::from_millis(250);

/// How often a following screen's at-risk countdown is judged again while nothing is
/// written (its times are in minutes; each tick is one query).
pub const TICK: Duration = Duration::from_secs(15);

/// How long a rotated-away file is still watched for lines its writer adds before it
/// reopens the new one (a syslog daemon writes on until its HUP).
const RETIRED_FOR: Duration = Duration::from_secs(10);

/// What a file looked like at the last look: a change to any of it means something to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Seen {
    fn of(m: &std::fs::Metadata) -> Seen {
        Seen {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }

    fn same_file(&self, other: &Seen) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// One name given on the command line, and the file open under it.
struct Target {
    name: String,
    /// The file last read under `name`, held open so that once it is renamed away (or
    /// deleted) its last lines can still be read.
    open: Option<(File, Seen)>,
}

/// A file that was renamed away from a followed name: finished, then watched a while.
struct Retired {
    file: File,
    seen: Seen,
    /// The name it was followed under, to look for it beside.
    was: String,
    last_change: Instant,
}

/// Standard input, spooled.
struct Spool {
    /// Holds the spool file; it goes when the follower does.
    _dir: tempfile::TempDir,
    path: PathBuf,
    file: File,
    chunks: Receiver<Vec<u8>>,
    ended: bool,
    /// Whether the spool ends with a line end (a last line without one is completed at
    /// the end of input, so that it is read).
    at_line_end: bool,
    dirty: bool,
}

/// What one look found and read.
#[derive(Debug, Default)]
pub struct Step {
    /// One per input read (a followed name, a rotated-away file, the spool).
    pub reports: Vec<FileReport>,
    /// Messages worth saying once: a file not there yet, a file rotated.
    pub notes: Vec<String>,
}

impl Step {
    /// True when something was written to the store.
    pub fn wrote(&self) -> bool {
        self.reports
            .iter()
            .any(|r| r.lines_read > 0 || r.deliveries > 0 || r.deliveries_updated > 0)
    }
}

/// Why following stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("standard input: {0}")]
    Spool(io::Error),
}

pub struct Follower {
    targets: Vec<Target>,
    /// Inputs whose import found the store busy (another writer): read at the next look.
    again: Vec<String>,
    retired: Vec<Retired>,
    spool: Option<Spool>,
    opts: ImportOptions,
    /// Names said to be missing, so it is said once.
    missing_said: Vec<String>,
}

impl Follower {
    /// Follows `names`; `-` is standard input (read on a thread of its own).
    pub fn new(names: &[String], opts: ImportOptions) -> io::Result<Follower> {
        let mut targets = Vec::new();
        let mut spool = None;
        for name in names {
            if name == "-" {
                if spool.is_none() {
                    spool = Some(Spool::start()?);
                }
            } else if !targets.iter().any(|t: &Target| t.name == *name) {
                targets.push(Target {
                    name: name.clone(),
                    open: None,
                });
            }
        }
        Ok(Follower {
            targets,
            again: Vec::new(),
            retired: Vec::new(),
            spool,
            opts,
            missing_said: Vec::new(),
        })
    }

    /// True when only standard input is followed and it has ended: nothing more can come.
    pub fn finished(&self) -> bool {
        self.targets.is_empty() && self.spool.as_ref().is_none_or(|s| s.ended && !s.dirty)
    }

    /// Looks at every input once and imports what changed, in one import (so a rotated
    /// file is finished before its successor starts: the import orders inputs by their
    /// first stamps).
    pub fn step(
        &mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Step, FollowError> {
        let mut step = Step::default();
        let mut names: Vec<String> = std::mem::take(&mut self.again);
        let now = Instant::now();

        // Rotated-away files that grew since: their writer had not reopened yet.
        self.retired.retain_mut(|r| {
            let Ok(m) = r.file.metadata() else {
                return false;
            };
            let seen = Seen::of(&m);
            if seen != r.seen {
                r.seen = seen;
                r.last_change = now;
                if let Some(name) = name_of(&r.file, &r.seen, &r.was) {
                    names.push(name);
                }
            }
            now.duration_since(r.last_change) < RETIRED_FOR
        });

        for t in &mut self.targets {
            let meta = match std::fs::metadata(&t.name) {
                Ok(m) if m.is_file() => m,
                Ok(_) | Err(_) => {
                    // Gone (renamed or deleted, the new one not there yet) or not there
                    // yet: what was open is finished below, and the name looked at again.
                    if let Some((file, seen)) = t.open.take() {
                        retire(&mut self.retired, file, seen, &t.name, now, &mut names);
                        step.notes.push(format!(
                            "{}: rotated away; waiting for the new file",
                            t.name
                        ));
                        self.missing_said.push(t.name.clone());
                    } else if !self.missing_said.contains(&t.name) {
                        self.missing_said.push(t.name.clone());
                        step.notes.push(format!(
                            "{}: not there yet; it is read when it appears",
                            t.name
                        ));
                    }
                    continue;
                }
            };
            let seen = Seen::of(&meta);
            self.missing_said.retain(|n| *n != t.name);
            match &t.open {
                Some((_, old)) if *old == seen => continue,
                Some((_, old)) if old.same_file(&seen) => {
                    // Grown, or truncated and written again (copy-truncate): either way
                    // the fingerprints tell what is new.
                    if seen.size < old.size {
                        step.notes
                            .push(format!("{}: truncated; read again from the top", t.name));
                    }
                    if let Some((_, s)) = &mut t.open {
                        *s = seen;
                    }
                }
                _ => {
                    // A new file under the name: the old one is finished first.
                    let Ok(file) = File::open(&t.name) else {
                        continue;
                    };
                    // What was stat'ed may not be what was opened if the name moved in
                    // between: take the opened file's own.
                    let seen = file.metadata().map(|m| Seen::of(&m)).unwrap_or(seen);
                    if let Some((old, old_seen)) = t.open.replace((file, seen)) {
                        retire(&mut self.retired, old, old_seen, &t.name, now, &mut names);
                        step.notes
                            .push(format!("{}: rotated; following the new file", t.name));
                    }
                }
            }
            if seen.size > 0 {
                names.push(t.name.clone());
            }
        }

        if let Some(s) = &mut self.spool {
            s.take_in().map_err(FollowError::Spool)?;
            if s.dirty {
                s.dirty = false;
                names.push(s.path.display().to_string());
            }
        }

        if names.is_empty() {
            return Ok(step);
        }
        let mut unique: Vec<String> = Vec::with_capacity(names.len());
        for n in names {
            if !unique.contains(&n) {
                unique.push(n);
            }
        }
        let names = unique;
        let reports = match import_files(store, &names, &self.opts, progress) {
            Ok(r) => r,
            Err(StoreError::Busy { .. }) => {
                // Another sendlog is writing: nothing was committed, so all of it is
                // read at the next look.
                step.notes
                    .push("the store is busy (another sendlog is writing): trying again".into());
                self.again = names;
                return Ok(step);
            }
            Err(e) => return Err(e.into()),
        };
        step.reports = reports
            .into_iter()
            .map(|mut r| {
                if let Some(s) = &self.spool
                    && r.name == s.path.display().to_string()
                {
                    r.name = "-".into();
                }
                r
            })
            .collect();
        Ok(step)
    }
}

fn retire(
    retired: &mut Vec<Retired>,
    file: File,
    seen: Seen,
    was: &str,
    now: Instant,
    names: &mut Vec<String>,
) {
    // Its last lines, up to where it is now.
    let seen = file.metadata().map(|m| Seen::of(&m)).unwrap_or(seen);
    if let Some(name) = name_of(&file, &seen, was) {
        names.push(name);
    }
    retired.push(Retired {
        file,
        seen,
        was: was.to_string(),
        last_change: now,
    });
}

/// A name to read `file` by: where it was renamed to beside its old name (`mail.log.1`),
/// else, deleted or moved elsewhere, its open descriptor.
fn name_of(file: &File, seen: &Seen, was: &str) -> Option<String> {
    let dir = match Path::new(was).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            if let Ok(m) = std::fs::metadata(e.path())
                && m.is_file()
                && Seen::of(&m).same_file(seen)
            {
                return Some(e.path().display().to_string());
            }
        }
    }
    use std::os::fd::AsRawFd;
    let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    fd.exists().then(|| fd.display().to_string())
}

impl Spool {
    fn start() -> io::Result<Spool> {
        let dir = tempfile::Builder::new().prefix("sendlog-stdin").tempdir()?;
        let path = dir.path().join("stdin");
        let file = File::create(&path)?;
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(64);
        std::thread::Builder::new()
            .name("sendlog-stdin".into())
            .spawn(move || {
                let mut stdin = io::stdin().lock();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            })?;
        Ok(Spool {
            _dir: dir,
            path,
            file,
            chunks: rx,
            ended: false,
            at_line_end: true,
            dirty: false,
        })
    }

    /// Appends what arrived on standard input since the last look.
    fn take_in(&mut self) -> io::Result<()> {
        loop {
            match self.chunks.try_recv() {
                Ok(chunk) => {
                    if let Some(last) = chunk.last() {
                        self.at_line_end = *last == b'\n';
                        self.file.write_all(&chunk)?;
                        self.dirty = true;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.ended && !self.at_line_end {
                        // The input ended inside a line: it is whole now.
                        self.file.write_all(b"\n")?;
                        self.at_line_end = true;
                        self.dirty = true;
                    }
                    self.ended = true;
                    break;
                }
            }
        }
        self.file.flush()
    }
}

/// Sleeps until the next look, unless `stop` is already set: one wake-up per look keeps
/// an idle follower at no measurable CPU, and a stop waits at most one `POLL`.
pub fn nap(stop: &std::sync::atomic::AtomicBool) {
    if !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(POLL);
    }
}
