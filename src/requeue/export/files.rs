//! Putting a rendered batch on disk: whole or not at all, never over what is not a
//! regular file, and only once the store has recorded it.

use std::io::{self, Write};
use std::path::Path;

use super::RequeueFormat;

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
pub(super) const MAX_NUMBERED: u32 = 10_000;

/// Puts a rendered batch at `path`, whole or not at all, and returns the path written
/// (another one than `path` only with `Existing::NextFree`). It is written to a temporary
/// file beside `path` and renamed into place. The file gets the mode any new file gets
/// (0666, or 0777 for the Postfix script, less the umask), not a temporary file's private
/// 0600: a batch is a normal file its user hands on to other tools and people.
///
/// An error never names the temporary file: the user knows only the path they gave, and
/// the caller names that.
pub fn write_file(
    format: RequeueFormat,
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
    format: RequeueFormat,
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
    pub(crate) fn put_in_place(self) -> io::Result<std::path::PathBuf> {
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
pub(super) fn replaceable(path: &Path) -> io::Result<()> {
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
pub(super) fn create_new(path: &Path, format: RequeueFormat) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if format == RequeueFormat::Postfix {
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
pub(super) fn create_new(path: &Path, _format: RequeueFormat) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// `dir/NAME.EXT` for 1, `dir/NAME-n.EXT` after that.
pub(super) fn numbered(path: &Path, n: u32) -> std::path::PathBuf {
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
