//! Opening inputs: files, `-` for stdin, gzip detected by its magic bytes (so a rotated
//! `mail.log.2.gz` and a gzip without the suffix both read transparently).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

const BUF: usize = 256 * 1024;

/// A named input: what the user typed, for messages and `source` references.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    /// Modification time of the file (unix seconds), for logs whose stamps have no year.
    pub mtime: Option<i64>,
    pub compressed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{name}: {source}")]
    Open { name: String, source: io::Error },
    #[error("{name}: is a directory")]
    Directory { name: String },
}

pub fn open(name: &str) -> Result<Input, InputError> {
    let err = |source| InputError::Open {
        name: name.to_string(),
        source,
    };
    if name == "-" {
        let mut reader = BufReader::with_capacity(BUF, io::stdin());
        let gz = is_gzip(&mut reader).map_err(err)?;
        return Ok(wrap(name, reader, None, gz));
    }
    let path = Path::new(name);
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.is_dir() {
        return Err(InputError::Directory {
            name: name.to_string(),
        });
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let mut reader = BufReader::with_capacity(BUF, File::open(path).map_err(err)?);
    let gz = is_gzip(&mut reader).map_err(err)?;
    Ok(wrap(name, reader, mtime, gz))
}

fn wrap<R: Read + Send + 'static>(
    name: &str,
    reader: BufReader<R>,
    mtime: Option<i64>,
    gz: bool,
) -> Input {
    let reader: Box<dyn BufRead + Send> = if gz {
        Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    Input {
        name: name.to_string(),
        reader,
        mtime,
        compressed: gz,
    }
}

fn is_gzip<R: Read>(reader: &mut BufReader<R>) -> io::Result<bool> {
    let head = reader.fill_buf()?;
    Ok(head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b)
}

/// Reads lines as bytes, so invalid UTF-8 or NUL bytes never stop an import. Lines longer
/// than `max_line` are cut (the rest is consumed and dropped) so a 10 MB junk line cannot
/// balloon memory; the caller learns the line was truncated.
pub struct LineReader<R> {
    inner: R,
    pub max_line: usize,
    /// Bytes consumed so far, including newlines.
    pub offset: u64,
    pub line_no: u64,
}

pub struct Line<'a> {
    pub bytes: &'a [u8],
    pub truncated: bool,
    /// Whether the line ended with a newline (the last line of a file being written may not).
    pub complete: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            max_line: 64 * 1024,
            offset: 0,
            line_no: 0,
        }
    }

    /// The next line without its `\n` (and `\r`), or `None` at the end.
    pub fn next_line<'b>(&mut self, buf: &'b mut Vec<u8>) -> io::Result<Option<Line<'b>>> {
        buf.clear();
        let mut truncated = false;
        let mut complete = false;
        let mut read_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.max_line.saturating_sub(buf.len());
            if chunk.len() > room {
                truncated = true;
            }
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            self.offset += used as u64;
            if done {
                complete = true;
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line_no += 1;
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(Line {
            bytes: buf,
            truncated,
            complete,
        }))
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_crlf_invalid_utf8_and_overlong_content() {
        let data = b"one\r\ntwo \xff\xfe\nthree-is-long\nlast".to_vec();
        let mut r = LineReader::new(io::Cursor::new(data));
        r.max_line = 8;
        let mut buf = Vec::new();
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(l.bytes, b"one");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert_eq!(l.bytes, b"two \xff\xfe");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert!(l.truncated);
        assert_eq!(l.bytes, b"three-is");
        let l = r.next_line(&mut buf).unwrap().unwrap();
        assert!(!l.complete);
        assert_eq!(l.bytes, b"last");
        assert!(r.next_line(&mut buf).unwrap().is_none());
        assert_eq!(r.line_no, 4);
    }
}
